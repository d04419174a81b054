/* The state's lookups (backends/store-index.c) and the reconcile's made-up lines
 * (backends/madeup.c), no engine needed. Lookups: random changes of a store (objects added,
 * removed, replaced under another name, names shared by two objects), and after each every id
 * and name of the pool looked up and compared with a scan of the array, the first of a name
 * winning. Made-up lines: an event no later than the list is left out once, a later one is
 * shown, another container's or action's is shown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ws-int.h"

#define POOL 40

static struct ws_sobj *scan(const struct ws_store *s, const char *key, bool by_name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(by_name ? s->v[i]->name : s->v[i]->id, key) == 0)
			return s->v[i];
	return NULL;
}

static struct ws_sobj *sobj(unsigned id, unsigned name)
{
	struct ws_sobj *o = calloc(1, sizeof(*o));

	assert_non_null(o);
	snprintf(o->id, sizeof(o->id), "id%u", id);
	snprintf(o->name, sizeof(o->name), "name%u", name);
	return o;
}

static void check_all(struct ws_store *s)
{
	char key[32];

	for (unsigned k = 0; k < POOL * 4; k++) {
		snprintf(key, sizeof(key), "id%u", k);
		assert_ptr_equal(ws_store_id(s, key), scan(s, key, false));
		snprintf(key, sizeof(key), "name%u", k);
		assert_ptr_equal(ws_store_name(s, key), scan(s, key, true));
	}
	assert_null(ws_store_id(s, ""));
	assert_null(ws_store_name(s, NULL));
}

static void test_lookups_match_a_scan(void **state)
{
	(void)state;
	struct ws_store s = {0};
	unsigned next_id = 0;

	srand(7);
	s.cap = POOL * 4;
	s.v = calloc(s.cap, sizeof(*s.v));
	assert_non_null(s.v);
	for (int step = 0; step < 3000; step++) {
		int op = rand() % 4;
		if ((op == 0 || s.n < 3) && s.n < s.cap) {
			/* Names from a small pool: two objects often share one. */
			s.v[s.n++] = sobj(next_id++, (unsigned)rand() % POOL);
		} else if (op == 1 && s.n) {
			size_t i = (size_t)rand() % s.n;
			free(s.v[i]);
			memmove(&s.v[i], &s.v[i + 1], (s.n - i - 1) * sizeof(*s.v));
			s.n--;
		} else if (op == 2 && s.n) {
			size_t i = (size_t)rand() % s.n;
			struct ws_sobj *o = sobj(0, (unsigned)rand() % POOL);
			memcpy(o->id, s.v[i]->id, sizeof(o->id)); /* the same object, renamed */
			free(s.v[i]);
			s.v[i] = o;
		} else {
			check_all(&s); /* no change: the index as it was */
			continue;
		}
		ws_store_changed(&s);
		check_all(&s);
	}
	for (size_t i = 0; i < s.n; i++)
		free(s.v[i]);
	free(s.v);
	ws_store_index_free(&s);
}

static void test_madeup_once_and_only_older(void **state)
{
	(void)state;
	struct workspace *ws = calloc(1, sizeof(*ws));

	assert_non_null(ws);
	ws_madeup_note(ws, "c1", "create", 1000);
	ws_madeup_note(ws, "c1", "start", 1000);
	/* Another container's, another action's: shown. */
	assert_false(ws_madeup_take(ws, "c2", "create", 900));
	assert_false(ws_madeup_take(ws, "c1", "die", 900));
	/* The list showed it: left out, once. */
	assert_true(ws_madeup_take(ws, "c1", "create", 1000));
	assert_false(ws_madeup_take(ws, "c1", "create", 1000));
	/* After the list: a change of its own. */
	assert_false(ws_madeup_take(ws, "c1", "start", 1001));
	assert_false(ws_madeup_take(ws, "c1", "start", 999));
	/* More than the ring holds: the oldest go first, the newest stay. */
	char id[16];
	for (int i = 0; i < WS_MADEUP + 8; i++) {
		snprintf(id, sizeof(id), "x%d", i);
		ws_madeup_note(ws, id, "destroy", 5000);
	}
	assert_false(ws_madeup_take(ws, "x0", "destroy", 10));
	snprintf(id, sizeof(id), "x%d", WS_MADEUP + 7);
	assert_true(ws_madeup_take(ws, id, "destroy", 10));
	/* An event without a time of its own is never taken for one. */
	ws_madeup_note(ws, "c3", "create", 1000);
	assert_false(ws_madeup_take(ws, "c3", "create", 0));
	free(ws);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lookups_match_a_scan),
	    cmocka_unit_test(test_madeup_once_and_only_older),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
