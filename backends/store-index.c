/* The state's lookups by id and by name (slock held), through a hash index of each store.
 *
 * Every read of the mount finds its object by name, and the state thread its events' objects
 * by id: with thousands of containers a scan of the store in each was most of the cost of a
 * `cat containers/NAME/status` (several lookups per open). The index is the store's array
 * hashed twice (open addressing, slots holding index + 1), built at the first lookup after any
 * change of the array (state.c calls ws_store_changed): a burst of changes costs one build,
 * not one per change, and a lookup between changes is O(1). Names are not unique in a store
 * (a list may show two objects of one name for a moment): the first in the array wins, as the
 * scan it replaces gave. */
#include <stdlib.h>
#include <string.h>

#include "ws-int.h"

static void slot_put(size_t *slots, size_t nslots, const char *key, size_t index)
{
	for (size_t i = ws_str_hash(key) % nslots;; i = (i + 1) % nslots)
		if (!slots[i]) {
			slots[i] = index + 1;
			return;
		}
}

/* False when out of memory: the lookups then scan. */
static bool build(struct ws_store *s)
{
	size_t nslots = s->n * 2 + 16;

	if (nslots > s->nslots) {
		size_t *by_id = calloc(nslots, sizeof(*by_id));
		size_t *by_name = calloc(nslots, sizeof(*by_name));
		if (!by_id || !by_name) {
			free(by_id);
			free(by_name);
			return false;
		}
		ws_store_index_free(s);
		s->by_id = by_id;
		s->by_name = by_name;
		s->nslots = nslots;
	} else {
		memset(s->by_id, 0, s->nslots * sizeof(*s->by_id));
		memset(s->by_name, 0, s->nslots * sizeof(*s->by_name));
	}
	/* In order: of two equal keys the first in the array comes first in its chain. */
	for (size_t i = 0; i < s->n; i++) {
		slot_put(s->by_id, s->nslots, s->v[i]->id, i);
		if (s->v[i]->name[0])
			slot_put(s->by_name, s->nslots, s->v[i]->name, i);
	}
	s->indexed = true;
	return true;
}

static struct ws_sobj *find(struct ws_store *s, const char *key, bool by_name)
{
	if (!key || !*key)
		return NULL;
	if (!s->indexed && !build(s)) {
		for (size_t i = 0; i < s->n; i++)
			if (strcmp(by_name ? s->v[i]->name : s->v[i]->id, key) == 0)
				return s->v[i];
		return NULL;
	}
	const size_t *slots = by_name ? s->by_name : s->by_id;
	for (size_t i = ws_str_hash(key) % s->nslots; slots[i]; i = (i + 1) % s->nslots) {
		struct ws_sobj *o = s->v[slots[i] - 1];
		if (strcmp(by_name ? o->name : o->id, key) == 0)
			return o;
	}
	return NULL;
}

struct ws_sobj *ws_store_id(struct ws_store *s, const char *id)
{
	return find(s, id, false);
}

struct ws_sobj *ws_store_name(struct ws_store *s, const char *name)
{
	return find(s, name, true);
}

void ws_store_changed(struct ws_store *s)
{
	s->indexed = false;
}

void ws_store_index_free(struct ws_store *s)
{
	free(s->by_id);
	free(s->by_name);
	s->by_id = s->by_name = NULL;
	s->nslots = 0;
	s->indexed = false;
}
