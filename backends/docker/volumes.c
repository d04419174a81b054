/*
 * Volumes: list, inspect, idempotent create, remove.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine-int.h"

int engine_volume_list(struct engine *e, const char *label, cJSON **out, char *err, size_t errlen)
{
	return engine_list(e, "/volumes", label, "Volumes", out, err, errlen);
}

int engine_volume_inspect(struct engine *e, const char *name, cJSON **out, char *err, size_t errlen)
{
	return engine_named_call(e, "GET", "volumes", name, NULL, NULL, out, err, errlen);
}

int engine_volume_remove(struct engine *e, const char *name, bool force, char *err, size_t errlen)
{
	return engine_named_call(e, "DELETE", "volumes", name, force ? "?force=1" : NULL, NULL, NULL, err,
				 errlen);
}

int engine_volume_create(struct engine *e, const char *name, const char *driver,
			 const cJSON *options, const cJSON *labels, bool *created, char *err,
			 size_t errlen)
{
	struct ereq r = {.method = "POST", .path = "/volumes/create", .on_conflict = EEXIST};
	cJSON *body, *vol = NULL;
	int rc;

	/* Nameless volumes are unreliable on Podman (podman#9803) and useless to a filesystem. */
	if (!name || !*name) {
		engine_seterr(err, errlen, "no volume name given");
		return -EINVAL;
	}
	/* Docker returns an existing volume as if created, Podman may refuse: look first so both
	 * say the same thing. */
	rc = engine_volume_inspect(e, name, &vol, err, errlen);
	cJSON_Delete(vol);
	if (rc == 0) {
		if (created)
			*created = false;
		return 0;
	}
	if (rc != -ENOENT)
		return rc;

	body = cJSON_CreateObject();
	if (!body)
		return -ENOMEM;
	cJSON_AddStringToObject(body, "Name", name);
	cJSON_AddStringToObject(body, "Driver", driver ? driver : "local");
	if (options)
		cJSON_AddItemToObject(body, "DriverOpts", cJSON_Duplicate(options, true));
	if (labels)
		cJSON_AddItemToObject(body, "Labels", cJSON_Duplicate(labels, true));
	r.json = body;
	rc = ereq_run(e, &r, err, errlen);
	if (rc == -EEXIST) {
		/* Lost a race with another creator: it exists, which is what was asked. */
		rc = 0;
		if (created)
			*created = false;
	} else if (rc == 0 && created) {
		*created = true;
	}
	cJSON_Delete(body);
	ereq_free(&r);
	return rc;
}
