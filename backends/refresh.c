/* Reading one object from the engine into the state right away: after every change the
 * workspace makes (apply, removal, ctl), so that the status read next shows it, and for the
 * state thread's events. The caller's thread makes the request, with no lock held; the ticket
 * taken before it decides against concurrent reads. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws-int.h"

/* Whether the string is (a prefix of) the id of an object the state has (slock taken). */
static bool known_id(struct workspace *ws, enum ws_kind kind, const char *s)
{
	bool known;

	pthread_mutex_lock(&ws->slock);
	known = ws_store_id(&ws->store[kind], s) != NULL;
	pthread_mutex_unlock(&ws->slock);
	return known;
}

int ws_refresh_container(struct workspace *ws, const char *name_or_id)
{
	unsigned long t = ws_ticket(ws);
	struct be_obj *b = NULL;
	int rc = ws->be->ops->inspect(ws->be, BE_CONTAINER, name_or_id, &b, NULL, 0);

	if (rc == 0) {
		struct ws_sobj *o = ws_sobj_from(ws, b);
		if (o)
			ws_state_put(ws, WS_CONTAINER, o, t, NULL);
	} else if (rc == -ENOENT) {
		bool id = known_id(ws, WS_CONTAINER, name_or_id);
		ws_state_drop(ws, WS_CONTAINER, id ? name_or_id : NULL, id ? NULL : name_or_id, t,
			      NULL);
	}
	return rc;
}

int ws_refresh_network(struct workspace *ws, const char *name_or_id)
{
	unsigned long t = ws_ticket(ws);
	struct be_obj *b = NULL;
	int rc = ws->be->ops->inspect(ws->be, BE_NETWORK, name_or_id, &b, NULL, 0);

	if (rc == 0) {
		struct ws_sobj *o = ws_sobj_from(ws, b);
		if (o)
			ws_state_put(ws, WS_NETWORK, o, t, NULL);
	} else if (rc == -ENOENT) {
		bool id = known_id(ws, WS_NETWORK, name_or_id);
		ws_state_drop(ws, WS_NETWORK, id ? name_or_id : NULL, id ? NULL : name_or_id, t,
			      NULL);
	}
	return rc;
}

char **ws_card_image_refs(struct workspace *ws)
{
	char **refs = NULL;
	size_t n = 0;

	pthread_mutex_lock(&ws->lock);
	refs = calloc(ws->nentries + 1, sizeof(*refs));
	for (size_t i = 0; refs && i < ws->nentries; i++) {
		const struct ws_entry *e = ws->entries[i];
		char ref[300];
		if (!e->card || e->card->kind != CARD_IMAGE)
			continue;
		if (e->object[0])
			ws_fmt(ref, sizeof(ref), "%s", e->object);
		else
			ws_fmt(ref, sizeof(ref), "%s:%s", e->card->name.s, e->card->spec.image.tag);
		if ((refs[n] = strdup(ref)))
			n++;
	}
	pthread_mutex_unlock(&ws->lock);
	return refs;
}

int ws_refresh_images(struct workspace *ws)
{
	char **refs = ws_card_image_refs(ws), **missing;
	unsigned long t = ws_ticket(ws);
	struct be_obj **list = NULL;
	size_t n = 0;
	int rc = ws->be->ops->list(ws->be, BE_IMAGE, &list, &n, NULL, 0);

	if (rc < 0) {
		ws_strv_free(refs);
		return rc;
	}
	missing = ws_state_images(ws, list, n, t, refs);
	/* The inspect documents of the images cards name: images/NAME/inspect. */
	for (size_t i = 0; missing && missing[i]; i++) {
		struct be_obj *b = NULL;
		unsigned long ti = ws_ticket(ws);
		if (ws->be->ops->inspect(ws->be, BE_IMAGE, missing[i], &b, NULL, 0) == 0) {
			ws_state_image_inspect(ws, missing[i], b->inspect, ti);
			b->inspect = NULL;
		}
		be_obj_free(b);
	}
	ws_strv_free(missing);
	ws_strv_free(refs);
	return 0;
}

void ws_refresh_kind(struct workspace *ws, enum card_kind kind, const char *object)
{
	switch (kind) {
	case CARD_CONTAINER:
		ws_refresh_container(ws, object);
		break;
	case CARD_NETWORK:
		ws_refresh_network(ws, object);
		break;
	case CARD_IMAGE:
		ws_refresh_images(ws);
		break;
	default:
		break;
	}
}
