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

	char got[BE_ID_SIZE] = "";

	if (rc == 0) {
		struct ws_sobj *o = ws_sobj_from(ws, b);
		if (o) {
			ws_fmt(got, sizeof(got), "%s", o->id);
			ws_state_put(ws, WS_CONTAINER, o, t, NULL);
		}
	} else if (rc == -ENOENT) {
		bool id = known_id(ws, WS_CONTAINER, name_or_id);
		ws_state_drop(ws, WS_CONTAINER, id ? name_or_id : NULL, id ? NULL : name_or_id, t,
			      NULL);
	}
	/* In the state now (or not to be had): the lines of its own changes may go out. */
	ws_own_read(ws, name_or_id, got);
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
		if (ws_swarm(ws))
			ws_refresh_swarm(ws);
		else
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

/* The change one poll saw in a service or a node, as the events file says it. */
static void swarm_change(struct workspace *ws, enum ws_kind kind, const struct ws_prev *prev,
			 const char *name, const char *state, const char *availability)
{
	char attrs[128] = "";

	if (kind == WS_SERVICE) {
		if (!prev->had)
			ws_emit(ws, kind, name, "create", "", true, NULL);
		if (prev->had && strcmp(prev->state, state) == 0)
			return;
		if (strcmp(state, "running") == 0) {
			if (prev->had)
				ws_emit(ws, kind, name, "converged", "", false, NULL);
		} else {
			ws_attr(attrs, sizeof(attrs), "state", state);
			ws_emit(ws, kind, name, "update", attrs, false, NULL);
		}
		return;
	}
	if (!prev->had || strcmp(prev->state, state) != 0)
		ws_emit(ws, kind, name, state, "", !prev->had, NULL);
	/* A node's availability rides in its health field (backend.h). */
	if (prev->had && strcmp(prev->health, availability) != 0)
		ws_emit(ws, kind, name, availability, "", false, NULL);
}

/* Field @i (from 0) of a tasks line "ID SLOT NODE DESIRED CURRENT [ERROR...]" into out; the
 * error is all that follows CURRENT. */
static void task_field(const char *line, int i, char *out, size_t len)
{
	const char *p = line;

	for (int k = 0; k < i && *p && *p != '\n'; k++) {
		p += strcspn(p, " \n");
		p += *p == ' ';
	}
	size_t n = i == 5 ? strcspn(p, "\n") : strcspn(p, " \n");
	ws_fmt(out, len, "%.*s", (int)n, p);
}

/* The task in @text with this id, or NULL. */
static const char *task_line(const char *text, const char *id)
{
	size_t n = strlen(id);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, id, n) == 0 && p[n] == ' ')
			return p;
	return NULL;
}

/* Tasks new since the last read, or in another state: "task NAME.SLOT STATE node=NODE
 * task=ID [error=...]". */
static void task_changes(struct workspace *ws, const char *service, const char *old,
			 const char *now)
{
	for (const char *p = now; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		char id[32], slot[16], node[128], state[32], was[32] = "", err[256], name[160];
		char attrs[512] = "";
		task_field(p, 0, id, sizeof(id));
		task_field(p, 4, state, sizeof(state));
		const char *before = old ? task_line(old, id) : NULL;
		if (before)
			task_field(before, 4, was, sizeof(was));
		if (!id[0] || (before && strcmp(was, state) == 0))
			continue;
		task_field(p, 1, slot, sizeof(slot));
		task_field(p, 2, node, sizeof(node));
		task_field(p, 5, err, sizeof(err));
		ws_fmt(name, sizeof(name), "%s.%s", service, slot);
		ws_attr(attrs, sizeof(attrs), "node", node);
		ws_attr(attrs, sizeof(attrs), "task", id); /* a slot's tasks follow each other */
		if (err[0])
			ws_attr(attrs, sizeof(attrs), "error", err);
		ws_emit(ws, WS_TASK, name, state, attrs, false, NULL);
	}
}

/* One kind of a Swarm's objects read whole: what is new or changed is put, what is gone is
 * dropped, and each difference is published (the engine sends no event for a task, nor for a
 * node that goes down: polling is how they are seen). */
static int refresh_swarm_kind(struct workspace *ws, enum ws_kind kind, bool baseline)
{
	unsigned long t = ws_ticket(ws);
	struct be_obj **list = NULL;
	size_t n = 0;
	int rc = ws->be->ops->list(ws->be, kind == WS_SERVICE ? BE_SERVICE : BE_NODE, &list, &n,
				   NULL, 0);

	if (rc < 0)
		return rc;
	char **ids = calloc(n + 1, sizeof(*ids));
	for (size_t i = 0; i < n; i++) {
		char name[128], state[16], avail[16];
		struct ws_prev prev;
		if (ids)
			ids[i] = strdup(list[i]->id);
		struct ws_sobj *o = ws_sobj_from(ws, list[i]);
		list[i] = NULL;
		if (!o)
			continue;
		ws_fmt(name, sizeof(name), "%s", o->name);
		ws_fmt(state, sizeof(state), "%s", o->state);
		ws_fmt(avail, sizeof(avail), "%s", o->health);
		/* The tasks as the last read had them, to tell what moved. */
		char *old_tasks = NULL, *new_tasks = o->tasks ? strdup(o->tasks) : NULL;
		pthread_mutex_lock(&ws->slock);
		struct ws_sobj *was = ws_store_id(&ws->store[kind], o->id);
		if (was && was->tasks)
			old_tasks = strdup(was->tasks);
		pthread_mutex_unlock(&ws->slock);
		if (ws_state_put(ws, kind, o, t, &prev) != WS_PUT_OLDER && !baseline) {
			swarm_change(ws, kind, &prev, name, state, avail);
			if (kind == WS_SERVICE)
				task_changes(ws, name, old_tasks, new_tasks);
		}
		free(old_tasks);
		free(new_tasks);
	}
	free(list);
	/* What the list no longer has. */
	char **gone = NULL;
	size_t ngone = 0;
	pthread_mutex_lock(&ws->slock);
	struct ws_store *s = &ws->store[kind];
	gone = calloc(s->n + 1, sizeof(*gone));
	for (size_t i = 0; gone && ids && i < s->n; i++) {
		bool listed = false;
		for (size_t k = 0; ids[k] && !listed; k++)
			listed = strcmp(ids[k], s->v[i]->id) == 0;
		if (!listed && s->v[i]->ticket <= t)
			gone[ngone++] = strdup(s->v[i]->id);
	}
	s->listed = true;
	pthread_mutex_unlock(&ws->slock);
	for (size_t i = 0; i < ngone; i++) {
		struct ws_prev prev;
		if (gone[i] && ws_state_drop(ws, kind, gone[i], NULL, t, &prev) && !baseline)
			ws_emit(ws, kind, prev.name, kind == WS_SERVICE ? "remove" : "down", "",
				true, NULL);
	}
	ws_strv_free(gone);
	ws_strv_free(ids);
	return 0;
}

int ws_refresh_swarm(struct workspace *ws)
{
	if (!ws_swarm(ws))
		return 0;
	pthread_mutex_lock(&ws->slock);
	bool baseline = !ws->store[WS_SERVICE].listed;
	pthread_mutex_unlock(&ws->slock);
	int rc = refresh_swarm_kind(ws, WS_NODE, baseline);
	return rc < 0 ? rc : refresh_swarm_kind(ws, WS_SERVICE, baseline);
}
