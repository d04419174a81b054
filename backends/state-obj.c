/* Backend objects -> the state's objects: what the listings, status and inspect files show,
 * plus what only this workspace knows of them (whether it made them, and from which card). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ws-int.h"

void ws_sobj_free(struct ws_sobj *o)
{
	if (!o)
		return;
	free(o->card);
	free(o->tags);
	free(o->nets);
	free(o->lines);
	free(o->tasks);
	free(o->inspect);
	free(o);
}

/* The newest of a container's times: when it last changed, as far as the engine says. */
static time_t last_change(const struct ws_sobj *o)
{
	time_t t = o->created, s = (time_t)(be_time_ns(o->started_at) / 1000000000LL);
	time_t f = (time_t)(be_time_ns(o->finished_at) / 1000000000LL);

	if (s > t)
		t = s;
	if (f > t)
		t = f;
	return t;
}

struct ws_sobj *ws_sobj_from(struct workspace *ws, struct be_obj *b)
{
	struct ws_sobj *o = b ? calloc(1, sizeof(*o)) : NULL;
	const char *card = be_obj_label(b, WS_LABEL_CARD);
	const char *hash = be_obj_label(b, WS_LABEL_HASH);
	struct ws_adoption adopted;

	if (!o) {
		be_obj_free(b);
		return NULL;
	}
	if (b->kind == BE_CONTAINER && ws_adopted(ws, b->id, &adopted)) {
		card = adopted.card;
		hash = adopted.hash;
	}
	ws_fmt(o->id, sizeof(o->id), "%s", b->id);
	ws_fmt(o->name, sizeof(o->name), "%s", b->name);
	ws_fmt(o->state, sizeof(o->state), "%s", b->state);
	ws_fmt(o->health, sizeof(o->health), "%s", b->health);
	ws_fmt(o->started_at, sizeof(o->started_at), "%s", b->started_at);
	ws_fmt(o->finished_at, sizeof(o->finished_at), "%s", b->finished_at);
	o->exit_code = b->exit_code;
	o->tty = b->tty;
	o->managed = ws_labels_ours(ws, b);
	o->card = o->managed && card ? strdup(card) : NULL;
	if (o->managed && hash)
		ws_fmt(o->hash, sizeof(o->hash), "%s", hash);
	o->created = b->created;
	o->size = b->size;
	o->changed = b->kind == BE_CONTAINER ? last_change(o) : o->created;
	/* A container from a list: its inspect is read later (state-sync.c). */
	o->summary = b->kind == BE_CONTAINER && b->summary;
	/* The strings move over as they are. */
	o->tags = b->tags;
	o->nets = b->nets;
	o->lines = b->details;
	o->tasks = b->tasks;
	o->inspect = b->inspect;
	b->tags = b->nets = b->details = b->tasks = b->inspect = NULL;
	be_obj_free(b);
	if (o->managed && card && !o->card) {
		ws_sobj_free(o);
		return NULL;
	}
	return o;
}
