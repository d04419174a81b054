/* Which driver serves an engine kind. Above the drivers: the only file that names them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "docker/ops.h"
#include "swarm/ops.h"

static const struct backend_ops *const drivers[] = {
    &docker_backend_ops,
    &swarm_backend_ops,
};

static const struct backend_ops *driver(const char *kind, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (!kind || strcmp(kind, drivers[i]->name) == 0)
			return drivers[i];
	if (err && errlen)
		snprintf(err, errlen, "no engine kind '%s' (known: docker, swarm)", kind);
	return NULL;
}

int backend_open(const char *kind, const struct be_open *o, struct backend **out, char *err,
		 size_t errlen)
{
	const struct backend_ops *d = driver(kind, err, errlen);

	return d ? d->open(o, out, err, errlen) : -EINVAL;
}

int backend_check(const char *kind, const struct be_open *o, char *err, size_t errlen)
{
	const struct backend_ops *d = driver(kind, err, errlen);

	return d ? d->check(o, err, errlen) : -EINVAL;
}

void backend_close(struct backend *b)
{
	if (b)
		b->ops->close(b);
}
