/* The own changes' lines (backends/own.c), no engine needed: a taken event's line waits for its
 * maker's read, goes out at once when the read came first, keeps each container's order, is
 * sent out first by another event of its container, and is not kept past its time. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ws-int.h"

static struct workspace *ws_new(void)
{
	struct workspace *ws = calloc(1, sizeof(*ws));

	assert_non_null(ws);
	pthread_mutex_init(&ws->wqlock, NULL);
	pthread_cond_init(&ws->wqcond, NULL);
	return ws;
}

/* The queued lines, "NAME ACTION" each, space-separated; the queue emptied. */
static void queued(struct workspace *ws, char *out, size_t len)
{
	size_t at = 0;

	out[0] = '\0';
	pthread_mutex_lock(&ws->wqlock);
	for (struct ws_chg_item *it = ws->chead, *next; it; it = next) {
		next = it->next;
		at += (size_t)snprintf(out + at, len - at, "%s%s %s", at ? " " : "", it->c.name,
				       it->c.action);
		free(it);
	}
	ws->chead = ws->ctail = NULL;
	ws->nchg = 0;
	pthread_mutex_unlock(&ws->wqlock);
}

static void ws_done(struct workspace *ws)
{
	char buf[512];

	queued(ws, buf, sizeof(buf));
	pthread_mutex_destroy(&ws->wqlock);
	pthread_cond_destroy(&ws->wqcond);
	free(ws);
}

static struct be_event event(const char *id, const char *name, const char *action)
{
	struct be_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = BE_CONTAINER;
	snprintf(ev.id, sizeof(ev.id), "%s", id);
	snprintf(ev.name, sizeof(ev.name), "%s", name);
	snprintf(ev.action, sizeof(ev.action), "%s", action);
	return ev;
}

/* The state thread's part for one event: take it, give its line; the slot (-1: not own). */
static int arrive(struct workspace *ws, const char *id, const char *name, const char *action)
{
	struct be_event ev = event(id, name, action);
	struct ws_change c;
	int slot = ws_own_take(ws, &ev);

	if (slot >= 0) {
		ws_change_make(&c, WS_CONTAINER, name, action, "", false, NULL);
		ws_own_line(ws, slot, &c);
	}
	return slot;
}

static void flush(struct workspace *ws, const char *id)
{
	pthread_mutex_lock(&ws->wqlock);
	ws_own_flush_locked(ws, id);
	pthread_mutex_unlock(&ws->wqlock);
}

/* How long until a kept line's time is up (-1: none kept). */
static long due(struct workspace *ws)
{
	pthread_mutex_lock(&ws->wqlock);
	long left = ws_own_due_locked(ws);
	pthread_mutex_unlock(&ws->wqlock);
	return left;
}

static void test_line_waits_for_read(void **state)
{
	struct workspace *ws = ws_new();
	char got[512];

	(void)state;
	ws_own_expect(ws, "web", "create");
	ws_own_expect(ws, "id1", "start");
	assert_true(arrive(ws, "id1", "web", "create") >= 0);
	assert_true(arrive(ws, "id1", "web", "start") >= 0);
	flush(ws, NULL);
	queued(ws, got, sizeof(got));
	assert_string_equal(got, ""); /* both wait for the read */
	long left = due(ws);
	assert_true(left > 0 && left <= WS_OWN_PARK_MS);
	ws_own_read(ws, "web", "id1");
	flush(ws, NULL);
	queued(ws, got, sizeof(got));
	assert_string_equal(got, "web create web start");
	/* Nothing is left: a second event of the same words is someone else's. */
	assert_int_equal(arrive(ws, "id1", "web", "start"), -1);
	assert_int_equal(due(ws), -1);
	ws_done(ws);
}

static void test_read_first(void **state)
{
	struct workspace *ws = ws_new();
	char got[512];

	(void)state;
	ws_own_expect(ws, "id2", "start");
	ws_own_read(ws, "db", "id2");
	assert_true(arrive(ws, "id2", "db", "start") >= 0);
	queued(ws, got, sizeof(got));
	assert_string_equal(got, "db start"); /* out with the event, no wait */
	ws_done(ws);
}

static void test_each_container_in_order(void **state)
{
	struct workspace *ws = ws_new();
	char got[512];

	(void)state;
	ws_own_expect(ws, "a", "create");
	ws_own_expect(ws, "b", "create");
	assert_true(arrive(ws, "ida", "a", "create") >= 0);
	assert_true(arrive(ws, "idb", "b", "create") >= 0);
	/* b's read first: b goes, a waits (another container's line holds nothing back). */
	ws_own_read(ws, "b", "idb");
	flush(ws, NULL);
	queued(ws, got, sizeof(got));
	assert_string_equal(got, "b create");
	/* An event of a that is not an own change's: a's kept line goes out before it. */
	assert_int_equal(
	    ws_own_take(ws, &(struct be_event){.kind = BE_CONTAINER, .id = "ida", .action = "die"}),
	    -1);
	flush(ws, "ida");
	queued(ws, got, sizeof(got));
	assert_string_equal(got, "a create");
	ws_done(ws);
}

static void test_forgotten_and_no_line(void **state)
{
	struct workspace *ws = ws_new();
	char got[512];

	(void)state;
	/* A failed request: its expectation goes, the event (if any) is someone else's. */
	ws_own_expect(ws, "id3", "start");
	ws_own_forget(ws, "id3", "start");
	assert_int_equal(arrive(ws, "id3", "x", "start"), -1);
	/* Taken, but the event makes no line: the slot is freed at once. */
	ws_own_expect(ws, "id4", "start");
	struct be_event ev = event("id4", "y", "start");
	int slot = ws_own_take(ws, &ev);
	assert_true(slot >= 0);
	ws_own_line(ws, slot, NULL);
	queued(ws, got, sizeof(got));
	assert_string_equal(got, "");
	assert_int_equal(due(ws), -1);
	ws_done(ws);
}

static void test_time_up_and_full(void **state)
{
	struct workspace *ws = ws_new();
	char got[4096], name[16];

	(void)state;
	/* A read that never comes: the line is not kept past its time. */
	ws_own_expect(ws, "id5", "start");
	int slot = arrive(ws, "id5", "z", "start");
	assert_true(slot >= 0);
	ws->own[slot].expires_ms = ws_mono_ms() - 1;
	flush(ws, NULL);
	queued(ws, got, sizeof(got));
	assert_string_equal(got, "z start");
	/* Every slot holding a kept line: a new expectation sends the first one out. */
	for (int i = 0; i < WS_OWN_MAX; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		ws_own_expect(ws, name, "create");
		assert_true(arrive(ws, name, name, "create") >= 0);
	}
	ws_own_expect(ws, "late", "create");
	queued(ws, got, sizeof(got));
	assert_string_equal(got, "c0 create");
	ws_done(ws);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_line_waits_for_read),
	    cmocka_unit_test(test_read_first),
	    cmocka_unit_test(test_each_container_in_order),
	    cmocka_unit_test(test_forgotten_and_no_line),
	    cmocka_unit_test(test_time_up_and_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
