/* A ContainerCard on a Swarm: a replicated service instead of a container, idempotent by spec
 * hash as a container is (same hash: left alone; another: a rolling update, never a remove and
 * create; someone else's service of that name: refused). No lock is held here. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ws-int.h"

/* The card's replicas: the cutipfs extension, 1 when not given. */
static unsigned replicas_of(const struct card *card)
{
	return card_container_replicas(&card->spec.container);
}

int ws_apply_service(struct workspace *ws, const char *relpath, const struct card *card,
		     const char *hash, const struct ws_deps *deps, struct ws_result *res)
{
	const char *name = card->name.s;
	struct be_obj *svc = NULL;
	char id[BE_ID_SIZE] = "";
	int rc;

	ws_fmt(res->object, sizeof(res->object), "%s", name);
	rc = ws->be->ops->inspect(ws->be, BE_SERVICE, name, &svc, res->err, sizeof(res->err));
	if (rc < 0 && rc != -ENOENT)
		return rc;
	if (rc == 0) {
		const char *have = be_obj_label(svc, WS_LABEL_HASH);
		bool ours = ws_labels_ours(ws, svc), same = ours && have && !strcmp(have, hash);
		ws_fmt(id, sizeof(id), "%s", svc->id);
		be_obj_free(svc);
		if (!ours) {
			ws_fmt(res->err, sizeof(res->err),
			       "service '%s' exists and was not made by this workspace: it is left "
			       "alone (remove or rename it, or rename the card)",
			       name);
			return -EEXIST;
		}
		ws_fmt(res->id, sizeof(res->id), "%s", id);
		if (same)
			return 0;
	}
	res->err[0] = '\0';
	struct be_container req = {
	    .card = card,
	    .root = ws->root,
	    /* Each node pulls (or has) the registry's image; the card's own tag exists on the
	     * manager alone. A built image has only that: status names the nodes lacking it. */
	    .image = deps->pulled[0] ? deps->pulled : deps->image,
	    .network = deps->network[0] ? deps->network : NULL,
	    .labels = ws_labels(ws, relpath, hash, &card->spec.container.labels),
	};
	rc = ws->be->ops->service_put(ws->be, &req, replicas_of(card), id[0] ? id : NULL, res->id,
				      sizeof(res->id), res->err, sizeof(res->err));
	ws_labels_free(&req.labels);
	return rc;
}
