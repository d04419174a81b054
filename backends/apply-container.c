/* A ContainerCard in the engine: what it needs first (volumes, bind sources), and the
 * idempotent apply (same hash: left alone; another hash: replaced; someone else's container of
 * that name: refused). No lock is held here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws-int.h"

/* Bind sources are relative to the workspace root; create_host_path makes them first. */
static int make_bind_sources(struct workspace *ws, const struct card_container_spec *c, char *err,
			     size_t errlen)
{
	for (size_t i = 0; i < c->mount_count; i++) {
		const struct card_mount *m = &c->mounts[i];
		if (strcmp(m->type, "bind") != 0 || !m->create_host_path)
			continue;
		char *source = card_path_join(ws->root, m->source.s);
		if (!source)
			return -ENOMEM;
		int rc = ws_mkdirs(source);
		if (rc < 0)
			ws_fmt(err, errlen, "cannot create the bind source %s: %s", source,
			       strerror(-rc));
		free(source);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The named volumes of spec.volumes exist before the container names them. */
static int ensure_volumes(struct workspace *ws, const char *relpath,
			  const struct card_container_spec *c, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->volumes.count; i++) {
		struct be_volume v = {.name = c->volumes.items[i].key,
				      .labels = ws_labels(ws, relpath, NULL, NULL)};
		int rc = ws->be->ops->volume_create(ws->be, &v, NULL, err, errlen);
		ws_labels_free(&v.labels);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* What the existing container is to the card: 1 the same, 0 to be replaced, or -EEXIST. */
static int compare(struct workspace *ws, const struct be_obj *ctr, const char *hash,
		   const struct ws_deps *deps, const char *name, struct ws_result *res)
{
	const char *h = be_obj_label(ctr, WS_LABEL_HASH);

	if (!ws_labels_ours(ws, ctr)) {
		ws_fmt(res->err, sizeof(res->err),
		       "container '%s' exists and was not made by this workspace: it is left "
		       "alone (remove or rename it, or rename the card)",
		       name);
		return -EEXIST;
	}
	if (!h || strcmp(h, hash) != 0)
		return 0;
	if (strcmp(ctr->image, be_image_short(deps->image)) != 0)
		return 0;
	/* The image under that name was rebuilt or re-tagged since. */
	if (deps->image_id[0] && ctr->image_id[0] &&
	    strcmp(ws_id_short(ctr->image_id), ws_id_short(deps->image_id)) != 0)
		return 0;
	return 1;
}

int ws_apply_container(struct workspace *ws, const char *relpath, const struct card *card,
		       const char *hash, const struct ws_deps *deps, struct ws_result *res)
{
	const char *name = card->name.s;
	const struct be_ctl start = {.op = BE_START};
	struct be_obj *ctr = NULL;
	int rc;

	ws_fmt(res->object, sizeof(res->object), "%s", name);
	rc = ws->be->ops->inspect(ws->be, BE_CONTAINER, name, &ctr, res->err, sizeof(res->err));
	if (rc < 0 && rc != -ENOENT)
		return rc;
	if (rc == 0) {
		int same = compare(ws, ctr, hash, deps, name, res);
		bool never_started = strcmp(ctr->state, "created") == 0;
		ws_fmt(res->id, sizeof(res->id), "%s", ctr->id);
		be_obj_free(ctr);
		if (same < 0)
			return same;
		if (same) {
			/* Left as it is, running or not (a stopped container is the user's
			 * business); one that never started (a failed start) gets its start. */
			if (never_started)
				return ws->be->ops->ctl(ws->be, BE_CONTAINER, res->id, &start,
							res->err, sizeof(res->err));
			return 0;
		}
		rc = ws_container_destroy(ws, res->id, res->err, sizeof(res->err));
		if (rc < 0 && rc != -ENOENT)
			return rc;
		res->id[0] = '\0';
	}

	struct be_container req = {
	    .card = card,
	    .root = ws->root,
	    .image = deps->image,
	    .network = deps->network[0] ? deps->network : NULL,
	    .labels = ws_labels(ws, relpath, hash, &card->spec.container.labels),
	};
	rc = ensure_volumes(ws, relpath, &card->spec.container, res->err, sizeof(res->err));
	if (rc == 0)
		rc = make_bind_sources(ws, &card->spec.container, res->err, sizeof(res->err));
	if (rc == 0)
		rc = ws->be->ops->container_create(ws->be, &req, res->id, sizeof(res->id), res->err,
						   sizeof(res->err));
	ws_labels_free(&req.labels);
	if (rc == -EEXIST)
		ws_fmt(res->err, sizeof(res->err),
		       "container '%s' appeared while cutipfs created it; save the card again",
		       name);
	if (rc < 0)
		return rc == -EEXIST ? -EIO : rc;
	/* Made as the card says: the state shows it now (a read after the commit finds it), and
	 * the commit need not wait for the start (pool.c). */
	ws_refresh_container(ws, res->id);
	ws_pool_decided(ws);
	rc = ws->be->ops->ctl(ws->be, BE_CONTAINER, res->id, &start, res->err, sizeof(res->err));
	if (rc < 0) {
		char why[600];
		ws_fmt(why, sizeof(why), "created, but start failed: %s", res->err);
		ws_fmt(res->err, sizeof(res->err), "%s", why);
	}
	return rc;
}
