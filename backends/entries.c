/* The workspace's entries: which card file holds which card, looked up by path or by the
 * object a card makes, the generation that marks a change, and the values (paths.yaml,
 * secrets.yaml) cards are read with. Lookups need ws->lock unless said. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws-int.h"

struct ws_entry *ws_entry_find(struct workspace *ws, const char *relpath)
{
	for (size_t i = 0; i < ws->nentries; i++)
		if (strcmp(ws->entries[i]->relpath, relpath) == 0)
			return ws->entries[i];
	return NULL;
}

struct ws_entry *ws_entry_for(struct workspace *ws, enum card_kind kind, const char *name)
{
	for (size_t i = 0; i < ws->nentries; i++) {
		const struct card *c = ws->entries[i]->card;
		if (c && c->kind == kind && c->name.s && strcmp(c->name.s, name) == 0)
			return ws->entries[i];
	}
	return NULL;
}

bool ws_makes_objects(enum card_kind kind)
{
	return kind == CARD_IMAGE || kind == CARD_NETWORK || kind == CARD_VOLUME ||
	       kind == CARD_CONTAINER;
}

void ws_invalidate(struct workspace *ws)
{
	ws->gen++;
}

bool ws_card_named(struct workspace *ws, enum ws_kind kind, const char *name)
{
	bool named;

	if (kind != WS_IMAGE && kind != WS_NETWORK && kind != WS_CONTAINER)
		return false;
	pthread_mutex_lock(&ws->lock);
	named = ws_entry_for(ws, ws_card_kind(kind), name) != NULL;
	pthread_mutex_unlock(&ws->lock);
	return named;
}

/* paths.yaml and secrets.yaml, read again for every commit so that edits take effect. */
void ws_values_load(struct workspace *ws, struct card_values *values)
{
	struct card_diags diags = {0};

	if (card_values_load(values, ws->cutip_dir, ws->root, &diags) < 0)
		ws_error_diags(ws, &diags);
	card_diags_free(&diags);
}
