/*
 * The event stream: a container's lifecycle as events (Podman's names normalised), and stopping
 * the stream from another thread, by callback, or by "until".
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

struct watch {
	struct engine *e;
	char since[32];
	cJSON *filters;
	atomic_bool stop;
	pthread_mutex_t lock;
	char id[ENGINE_ID_SIZE]; /* guarded by lock */
	char actions[512];	 /* guarded by lock: "create start die destroy " for id */
	int events;		 /* guarded by lock */
	int rc;
	char err[512];
};

static int on_event(const cJSON *ev, void *ctx)
{
	struct watch *w = ctx;
	const char *action = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "Action"));
	const char *id =
	    cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "Actor"), "ID"));

	pthread_mutex_lock(&w->lock);
	w->events++;
	if (action && id && w->id[0] && !strcmp(id, w->id) &&
	    strlen(w->actions) + strlen(action) + 2 < sizeof(w->actions)) {
		strcat(w->actions, action);
		strcat(w->actions, " ");
	}
	pthread_mutex_unlock(&w->lock);
	return 0;
}

static void *watch_thread(void *arg)
{
	struct watch *w = arg;

	w->rc = engine_events_stream(w->e, w->since, NULL, w->filters, on_event, w, &w->stop,
				     w->err, sizeof(w->err));
	return NULL;
}

static cJSON *run_filters(void)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddItemToArray(cJSON_AddArrayToObject(f, "type"), cJSON_CreateString("container"));
	cJSON_AddItemToArray(cJSON_AddArrayToObject(f, "label"),
			     cJSON_CreateString(test_run_label()));
	return f;
}

static bool has_all(struct watch *w)
{
	bool ok;

	pthread_mutex_lock(&w->lock);
	ok = strstr(w->actions, "create ") && strstr(w->actions, "start ") &&
	     strstr(w->actions, "die ") && strstr(w->actions, "destroy ");
	pthread_mutex_unlock(&w->lock);
	return ok;
}

static void test_lifecycle_events(void **state)
{
	static const char *const argv[] = {"sh", "-c", "exit 0", NULL};
	struct engine *e = test_need_engine(state);
	char name[96], id[ENGINE_ID_SIZE], err[512] = "";
	struct watch w = {.e = e};
	struct timespec ts;
	cJSON *c = test_config(false, argv);
	pthread_t t;
	double t0;
	int i, code;

	/* Replay from a little before now, so events from before the stream is up still come. */
	snprintf(w.since, sizeof(w.since), "%ld", (long)time(NULL) - 2);
	w.filters = run_filters();
	atomic_init(&w.stop, false);
	pthread_mutex_init(&w.lock, NULL);

	test_name(name, sizeof(name), "events");
	assert_int_equal(engine_container_create(e, name, c, id, sizeof(id), err, sizeof(err)), 0);
	cJSON_Delete(c);
	pthread_mutex_lock(&w.lock);
	snprintf(w.id, sizeof(w.id), "%s", id);
	pthread_mutex_unlock(&w.lock);
	assert_int_equal(pthread_create(&t, NULL, watch_thread, &w), 0);

	/* No assertion until the thread is stopped: it uses w, which lives in this frame. */
	int rc = engine_container_start(e, id, err, sizeof(err));
	if (rc == 0)
		rc = engine_container_wait(e, id, NULL, 20, &code, err, sizeof(err));
	int rm = engine_container_remove(e, id, rc != 0, false, err, sizeof(err));
	for (i = 0; rc == 0 && rm == 0 && i < 200 && !has_all(&w); i++)
		usleep(100 * 1000);
	fprintf(stderr, "# actions: %s\n", w.actions);

	t0 = test_now();
	atomic_store(&w.stop, true);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	if (pthread_timedjoin_np(t, NULL, &ts) != 0) {
		/* it must not outlive w: end the program here rather than return */
		fprintf(stderr, "event stream did not stop within 5 s\n");
		abort();
	}
	fprintf(stderr, "# stopped in %.3f s\n", test_now() - t0);
	if (rc != 0 || rm != 0)
		fail_msg("container: %d, remove: %d: %s", rc, rm, err);
	assert_true(test_now() - t0 < 1.0);
	assert_int_equal(w.rc, 0);
	assert_true(has_all(&w));
	cJSON_Delete(w.filters);
	pthread_mutex_destroy(&w.lock);
}

static int stop_at_first(const cJSON *ev, void *ctx)
{
	(void)ev;
	(*(int *)ctx)++;
	return 1;
}

static void test_stop_by_callback_and_until(void **state)
{
	static const char *const argv[] = {"true", NULL};
	struct engine *e = test_need_engine(state);
	char name[96], id[ENGINE_ID_SIZE], since[32], until[32], err[512] = "";
	cJSON *f = run_filters();
	atomic_bool stop = false;
	double t0;
	int n = 0;

	snprintf(since, sizeof(since), "%ld", (long)time(NULL) - 2);
	test_name(name, sizeof(name), "evcb");
	test_run(e, name, false, false, argv, id, sizeof(id));

	/* The callback's non-zero return ends the stream after the first (replayed) event. */
	t0 = test_now();
	assert_int_equal(
	    engine_events_stream(e, since, NULL, f, stop_at_first, &n, &stop, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_true(test_now() - t0 < 5.0);

	/* With "until" in the past the engine replays and closes: a normal end. */
	n = 0;
	snprintf(until, sizeof(until), "%ld", (long)time(NULL));
	sleep(1);
	t0 = test_now();
	assert_int_equal(
	    engine_events_stream(e, since, until, f, stop_at_first, &n, NULL, err, sizeof(err)), 0);
	assert_true(test_now() - t0 < 5.0);
	cJSON_Delete(f);
}

#define T(f) cmocka_unit_test_teardown(f, test_sweep_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_lifecycle_events),
	    T(test_stop_by_callback_and_until),
	};

	if (!test_url())
		return test_skip_all("engine_events");

	return cmocka_run_group_tests_name("engine_events", tests, test_group_setup,
					   test_group_teardown);
}
