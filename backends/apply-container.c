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

/* What the existing container is to the card: 1 the same, 0 to be replaced, or -EEXIST. A
 * container someone else made is the same when it is what the card makes (it is adopted then,
 * adopted.c: CUTIP's adopt writes cards that take over a running container as it is). */
static int compare(struct workspace *ws, const struct be_obj *ctr, const char *relpath,
		   const char *hash, const struct ws_deps *deps, const char *name,
		   struct ws_result *res)
{
	struct ws_adoption adopted;
	bool was_adopted = ws_adopted(ws, ctr->id, &adopted);
	const char *h = was_adopted ? adopted.hash : be_obj_label(ctr, WS_LABEL_HASH);

	if (!ws_labels_ours(ws, ctr)) {
		int rc = ws_adopt_take(ws, ctr, relpath, hash, deps, res->err, sizeof(res->err));
		if (rc != 0)
			return rc;
		ws_fmt(res->err, sizeof(res->err),
		       "container '%s' exists and was not made by this workspace: it is left "
		       "alone (remove or rename it, or rename the card; containers/%s/card is "
		       "the card that takes it over as it is)",
		       name, name);
		return -EEXIST;
	}
	if (!h || strcmp(h, hash) != 0)
		return 0;
	/* An adopted container keeps the image name it was made with: its image is its id. */
	if (!was_adopted && strcmp(ctr->image, be_image_short(deps->image)) != 0)
		return 0;
	/* The image under that name was rebuilt or re-tagged since. */
	if (deps->image_id[0] && ctr->image_id[0] &&
	    strcmp(ws_id_short(ctr->image_id), ws_id_short(deps->image_id)) != 0)
		return 0;
	/* Taken over by a card renamed since: the record follows it. */
	int rc = was_adopted && strcmp(adopted.card, relpath) != 0
		     ? ws_adopt_take(ws, ctr, relpath, hash, deps, res->err, sizeof(res->err))
		     : 0;
	return rc < 0 ? rc : 1;
}

/* Whether the state has read the engine's containers and knows none of that name: the read
 * before the create is not needed then (one made meanwhile fails the create with EEXIST, and
 * the apply looks at it then). */
static bool known_absent(struct workspace *ws, const char *name)
{
	pthread_mutex_lock(&ws->slock);
	struct ws_store *s = &ws->store[WS_CONTAINER];
	bool absent = s->listed && !ws_store_name(s, name);
	pthread_mutex_unlock(&ws->slock);
	return absent;
}

/* A start, noted as the workspace's own: the apply's refresh reads its result (own.c). */
static int start_own(struct workspace *ws, struct ws_result *res)
{
	const struct be_ctl start = {.op = BE_START};

	ws_own_expect(ws, res->id, "start");
	int rc =
	    ws->be->ops->ctl(ws->be, BE_CONTAINER, res->id, &start, res->err, sizeof(res->err));
	if (rc < 0)
		ws_own_forget(ws, res->id, "start");
	return rc;
}

static int create_own(struct workspace *ws, const char *name, const struct be_container *req,
		      struct ws_result *res)
{
	ws_own_expect(ws, name, "create");
	int rc = ws->be->ops->container_create(ws->be, req, res->id, sizeof(res->id), res->err,
					       sizeof(res->err));
	if (rc < 0)
		ws_own_forget(ws, name, "create");
	return rc;
}

/* @look: read the container of that name first; without, an existing one is -EEXIST. */
static int apply(struct workspace *ws, const char *relpath, const struct card *card,
		 const char *hash, const struct ws_deps *deps, struct ws_result *res, bool look)
{
	const char *name = card->name.s;
	struct be_obj *ctr = NULL;
	int rc = look ? ws->be->ops->inspect(ws->be, BE_CONTAINER, name, &ctr, res->err,
					     sizeof(res->err))
		      : -ENOENT;

	if (rc < 0 && rc != -ENOENT)
		return rc;
	if (rc == 0) {
		int same = compare(ws, ctr, relpath, hash, deps, name, res);
		bool never_started = strcmp(ctr->state, "created") == 0;
		ws_fmt(res->id, sizeof(res->id), "%s", ctr->id);
		be_obj_free(ctr);
		if (same < 0)
			return same;
		if (same) {
			/* Left as it is, running or not (a stopped container is the user's
			 * business); one that never started (a failed start) gets its start. */
			return never_started ? start_own(ws, res) : 0;
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
		rc = create_own(ws, name, &req, res);
	ws_labels_free(&req.labels);
	if (rc == -EEXIST && !look)
		return rc;
	if (rc == -EEXIST)
		ws_fmt(res->err, sizeof(res->err),
		       "container '%s' appeared while cutipfs created it; save the card again",
		       name);
	if (rc < 0)
		return rc == -EEXIST ? -EIO : rc;
	/* Made as the card says: the state shows it now, from the create's own answer (no read:
	 * the one after the start fills it in), and the commit need not wait for the start
	 * (pool.c), but where the card publishes host ports: a taken port shows only at the
	 * start, and its writer is told (EADDRINUSE). */
	ws_state_created(ws, res->id, name, time(NULL), true);
	if (!card->spec.container.ports.count)
		ws_pool_decided(ws);
	rc = start_own(ws, res);
	if (rc < 0) {
		char why[600];
		ws_fmt(why, sizeof(why), "created, but start failed: %s", res->err);
		ws_fmt(res->err, sizeof(res->err), "%s", why);
	}
	return rc;
}

int ws_apply_container(struct workspace *ws, const char *relpath, const struct card *card,
		       const char *hash, const struct ws_deps *deps, struct ws_result *res)
{
	ws_fmt(res->object, sizeof(res->object), "%s", card->name.s);
	/* A start from a card costs its create, its start and the read after (reconcile.c). */
	bool look = !known_absent(ws, card->name.s);
	int rc = apply(ws, relpath, card, hash, deps, res, look);

	if (rc == -EEXIST && !look) {
		res->err[0] = '\0';
		rc = apply(ws, relpath, card, hash, deps, res, true);
	}
	return rc;
}
