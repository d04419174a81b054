/* The labels that mark what this workspace made: put on every object, read back from it. */
#include <stdlib.h>
#include <string.h>

#include "ws-int.h"

struct be_labels ws_labels(struct workspace *ws, const char *relpath, const char *hash,
			   const struct card_map *extra)
{
	size_t n = extra ? extra->count : 0;
	struct be_label *v = calloc(n + 4, sizeof(*v));
	struct be_labels l = {0, v};
	static const char *const ours[] = {WS_LABEL_MANAGED, WS_LABEL_WORKSPACE, WS_LABEL_CARD,
					   WS_LABEL_HASH};

	if (!v)
		return l;
	for (size_t i = 0; i < n; i++) {
		bool reserved = false;
		for (size_t k = 0; k < sizeof(ours) / sizeof(ours[0]); k++)
			reserved |= strcmp(extra->items[i].key, ours[k]) == 0;
		if (!reserved)
			v[l.n++] = (struct be_label){extra->items[i].key, extra->items[i].value};
	}
	/* Ours last, so that a card's own labels cannot fake or hide them. */
	v[l.n++] = (struct be_label){WS_LABEL_MANAGED, "1"};
	v[l.n++] = (struct be_label){WS_LABEL_WORKSPACE, ws->root};
	if (relpath)
		v[l.n++] = (struct be_label){WS_LABEL_CARD, relpath};
	if (hash)
		v[l.n++] = (struct be_label){WS_LABEL_HASH, hash};
	return l;
}

void ws_labels_free(struct be_labels *l)
{
	free((void *)l->v);
	l->v = NULL;
	l->n = 0;
}

bool ws_labels_ours(struct workspace *ws, const struct be_obj *o)
{
	const char *managed = be_obj_label(o, WS_LABEL_MANAGED);
	const char *root = be_obj_label(o, WS_LABEL_WORKSPACE);
	if (managed && strcmp(managed, "1") == 0 && root && strcmp(root, ws->root) == 0)
		return true;
	/* A container a card took over as it was keeps the labels it had (adopted.c). */
	return o->kind == BE_CONTAINER && ws_adopted(ws, o->id, NULL);
}
