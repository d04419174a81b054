/*
 * Container lifecycle and logs against the real engine.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common.h"

static const char *const out_err_sleep[] = {"sh", "-c", "echo out; echo err >&2; sleep 30", NULL};

static const cJSON *path(const cJSON *j, const char *a, const char *b)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, a);

	return b ? cJSON_GetObjectItemCaseSensitive(x, b) : x;
}

static bool running(struct engine *e, const char *id)
{
	cJSON *j = NULL;
	bool r;

	assert_int_equal(engine_container_inspect(e, id, &j, NULL, 0), 0);
	r = cJSON_IsTrue(path(j, "State", "Running"));
	cJSON_Delete(j);
	return r;
}

/* Snapshot logs until @want appears in the combined text (the container writes them soon after
 * starting), up to 10 s. */
static void logs_until(struct engine *e, const char *id, bool tty, const char *want,
		       struct test_logs *l)
{
	char err[512] = "";
	int i;

	for (i = 0; i < 100; i++) {
		memset(l, 0, sizeof(*l));
		assert_int_equal(
		    engine_container_logs(e, id, tty, test_logs_sink, l, err, sizeof(err)), 0);
		if (strstr(l->all, want))
			return;
		usleep(100 * 1000);
	}
	fail_msg("logs of %s never showed \"%s\": \"%s\"", id, want, l->all);
}

static void test_lifecycle(void **state)
{
	struct engine *e = test_need_engine(state);
	char name[96], id[ENGINE_ID_SIZE], err[512] = "", want[128];
	const cJSON *c;
	struct test_logs l;
	bool listed = false;
	cJSON *j = NULL;
	int code = -1;

	test_name(name, sizeof(name), "life");
	test_run(e, name, false, true, out_err_sleep, id, sizeof(id));
	assert_int_equal(strlen(id), 64);

	assert_int_equal(engine_container_inspect(e, name, &j, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "/%s", name);
	assert_string_equal(cJSON_GetStringValue(path(j, "Name", NULL)), want);
	assert_string_equal(cJSON_GetStringValue(path(j, "Id", NULL)), id);
	assert_true(cJSON_IsTrue(path(j, "State", "Running")));
	cJSON_Delete(j);

	assert_int_equal(engine_container_list(e, test_run_label(), &j, err, sizeof(err)), 0);
	cJSON_ArrayForEach(c, j)
	{
		if (!strcmp(cJSON_GetStringValue(path(c, "Id", NULL)), id))
			listed = true;
	}
	cJSON_Delete(j);
	assert_true(listed);

	/* Demultiplexed: each line on its own stream. */
	logs_until(e, id, false, "err", &l);
	logs_until(e, id, false, "out", &l);
	assert_string_equal(l.out, "out\n");
	assert_string_equal(l.err, "err\n");

	/* Twice: the second answers 304, which is success. */
	assert_int_equal(engine_container_start(e, id, err, sizeof(err)), 0);
	assert_int_equal(engine_container_stop(e, id, 1, err, sizeof(err)), 0);
	assert_false(running(e, id));
	assert_int_equal(engine_container_stop(e, id, 1, err, sizeof(err)), 0);
	assert_int_equal(engine_container_kill(e, id, NULL, err, sizeof(err)), -EBUSY);
	assert_true(err[0] != '\0');

	assert_int_equal(engine_container_restart(e, id, 1, err, sizeof(err)), 0);
	assert_true(running(e, id));
	assert_int_equal(engine_container_kill(e, id, "SIGKILL", err, sizeof(err)), 0);
	assert_int_equal(engine_container_wait(e, id, NULL, 20, &code, err, sizeof(err)), 0);
	assert_int_equal(code, 137);

	assert_int_equal(engine_container_remove(e, id, false, true, err, sizeof(err)), 0);
	assert_int_equal(engine_container_inspect(e, id, &j, err, sizeof(err)), -ENOENT);
	assert_null(j);
	assert_non_null(strcasestr(err, "no such container"));
	assert_int_equal(engine_container_remove(e, id, false, false, err, sizeof(err)), -ENOENT);
}

static void test_tty_logs(void **state)
{
	static const char *const argv[] = {"sh", "-c", "echo ttyout; echo ttyerr >&2; sleep 30",
					   NULL};
	struct engine *e = test_need_engine(state);
	char name[96], id[ENGINE_ID_SIZE];
	struct test_logs l;

	test_name(name, sizeof(name), "tty");
	test_run(e, name, true, true, argv, id, sizeof(id));
	logs_until(e, id, true, "ttyerr", &l);
	/* One raw stream, terminal line endings and all. */
	assert_non_null(strstr(l.out, "ttyout\r\n"));
	assert_non_null(strstr(l.out, "ttyerr\r\n"));
	assert_int_equal(l.errlen, 0);
	assert_int_equal(engine_container_remove(e, id, true, false, NULL, 0), 0);
}

static void test_follow_until_exit(void **state)
{
	static const char *const argv[] = {"sh", "-c", "echo a; sleep 1; echo b >&2; sleep 1",
					   NULL};
	struct engine *e = test_need_engine(state);
	char name[96], id[ENGINE_ID_SIZE], err[512] = "";
	struct test_logs l = {0};
	double t0;

	test_name(name, sizeof(name), "follow");
	test_run(e, name, false, true, argv, id, sizeof(id));
	t0 = test_now();
	assert_int_equal(engine_container_logs_follow(e, id, false, NULL, test_logs_sink, &l, NULL,
						      err, sizeof(err)),
			 0);
	/* Returned because the container stopped, not before. */
	assert_true(test_now() - t0 < 15.0);
	assert_string_equal(l.out, "a\n");
	assert_string_equal(l.err, "b\n");
	assert_false(running(e, id));
}

struct follower {
	struct engine *e;
	const char *id;
	atomic_bool stop;
	atomic_bool ready; /* the main thread may look at logs only after the join */
	struct test_logs logs;
	int rc;
	char err[512];
};

static int follower_sink(enum engine_stream stream, const char *buf, size_t len, void *ctx)
{
	struct follower *f = ctx;
	int rc = test_logs_sink(stream, buf, len, &f->logs);

	if (strstr(f->logs.all, "ready"))
		atomic_store(&f->ready, true);
	return rc;
}

static void *follow_thread(void *arg)
{
	struct follower *f = arg;

	f->rc = engine_container_logs_follow(f->e, f->id, false, NULL, follower_sink, f, &f->stop,
					     f->err, sizeof(f->err));
	return NULL;
}

static void test_follow_cancel(void **state)
{
	static const char *const argv[] = {"sh", "-c", "echo ready; sleep 60", NULL};
	struct engine *e = test_need_engine(state);
	char name[96], id[ENGINE_ID_SIZE], err[512] = "";
	struct test_logs l = {.match = "ready", .stop_after_match = 1};
	struct follower f = {.e = e};
	struct timespec ts;
	pthread_t t;
	double t0;
	int i;

	test_name(name, sizeof(name), "cancel");
	test_run(e, name, false, true, argv, id, sizeof(id));

	/* By the sink's return value. */
	t0 = test_now();
	assert_int_equal(engine_container_logs_follow(e, id, false, NULL, test_logs_sink, &l, NULL,
						      err, sizeof(err)),
			 0);
	assert_true(test_now() - t0 < 10.0);
	assert_string_equal(l.out, "ready\n");

	/* By the stop flag, from another thread, while nothing is being written. */
	f.id = id;
	atomic_init(&f.stop, false);
	atomic_init(&f.ready, false);
	assert_int_equal(pthread_create(&t, NULL, follow_thread, &f), 0);
	for (i = 0; i < 100 && !atomic_load(&f.ready); i++)
		usleep(50 * 1000);
	usleep(300 * 1000);
	t0 = test_now();
	atomic_store(&f.stop, true);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	if (pthread_timedjoin_np(t, NULL, &ts) != 0)
		fail_msg("follow did not stop within 5 s");
	assert_true(test_now() - t0 < 1.0);
	assert_int_equal(f.rc, 0);
	assert_string_equal(f.logs.out, "ready\n");
}

static void test_not_found(void **state)
{
	struct engine *e = test_need_engine(state);
	char name[96], err[512] = "";
	struct test_logs l = {0};
	cJSON *j = NULL;

	test_name(name, sizeof(name), "ghost");
	assert_int_equal(engine_container_inspect(e, name, &j, err, sizeof(err)), -ENOENT);
	assert_int_equal(engine_container_start(e, name, err, sizeof(err)), -ENOENT);
	assert_int_equal(engine_container_stop(e, name, 0, err, sizeof(err)), -ENOENT);
	assert_int_equal(engine_container_kill(e, name, NULL, err, sizeof(err)), -ENOENT);
	assert_int_equal(engine_container_remove(e, name, true, false, err, sizeof(err)), -ENOENT);
	assert_int_equal(
	    engine_container_logs(e, name, false, test_logs_sink, &l, err, sizeof(err)), -ENOENT);
	assert_int_equal(engine_container_inspect(e, "", &j, err, sizeof(err)), -EINVAL);
}

static void test_name_conflict(void **state)
{
	struct engine *e = test_need_engine(state);
	char name[96], id[ENGINE_ID_SIZE], id2[ENGINE_ID_SIZE] = "", err[512] = "";
	cJSON *c = test_config(false, out_err_sleep);

	test_name(name, sizeof(name), "twin");
	test_run(e, name, false, false, out_err_sleep, id, sizeof(id));
	assert_int_equal(engine_container_create(e, name, c, id2, sizeof(id2), err, sizeof(err)),
			 -EEXIST);
	assert_non_null(strstr(err, name));
	cJSON_Delete(c);
}

static void test_missing_image(void **state)
{
	struct engine *e = test_need_engine(state);
	char name[96], id[ENGINE_ID_SIZE], err[512] = "";
	cJSON *c = test_config(false, out_err_sleep);

	test_name(name, sizeof(name), "noimg");
	cJSON_ReplaceItemInObject(c, "Image", cJSON_CreateString("localhost:1/cutipfs-nope:x"));
	assert_int_equal(engine_container_create(e, name, c, id, sizeof(id), err, sizeof(err)),
			 -ENOENT);
	cJSON_Delete(c);
}

static void test_remove_running(void **state)
{
	struct engine *e = test_need_engine(state);
	char name[96], id[ENGINE_ID_SIZE], err[512] = "";

	test_name(name, sizeof(name), "busy");
	test_run(e, name, false, true, out_err_sleep, id, sizeof(id));
	assert_int_equal(engine_container_remove(e, id, false, false, err, sizeof(err)), -EBUSY);
	assert_true(err[0] != '\0');
	assert_int_equal(engine_container_remove(e, id, true, false, err, sizeof(err)), 0);
}

static void test_pause(void **state)
{
	struct engine *e = test_need_engine(state);
	char name[96], id[ENGINE_ID_SIZE], err[512] = "";
	cJSON *j = NULL;

	test_name(name, sizeof(name), "pause");
	test_run(e, name, false, true, out_err_sleep, id, sizeof(id));
	assert_int_equal(engine_container_pause(e, id, err, sizeof(err)), 0);
	assert_int_equal(engine_container_inspect(e, id, &j, err, sizeof(err)), 0);
	assert_true(cJSON_IsTrue(path(j, "State", "Paused")));
	cJSON_Delete(j);
	assert_int_equal(engine_container_unpause(e, id, err, sizeof(err)), 0);
	assert_true(running(e, id));
}

static void test_wait_exit_code(void **state)
{
	static const char *const argv[] = {"sh", "-c", "exit 3", NULL};
	struct engine *e = test_need_engine(state);
	char name[96], id[ENGINE_ID_SIZE], err[512] = "";
	int code = -1;

	test_name(name, sizeof(name), "exit3");
	test_run(e, name, false, true, argv, id, sizeof(id));
	assert_int_equal(engine_container_wait(e, id, "not-running", 20, &code, err, sizeof(err)),
			 0);
	assert_int_equal(code, 3);
	assert_int_equal(engine_container_wait(e, id, "bad condition", 20, &code, err, sizeof(err)),
			 -EINVAL);
}

#define T(f) cmocka_unit_test_teardown(f, test_sweep_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_lifecycle),	    T(test_tty_logs),	    T(test_follow_until_exit),
	    T(test_follow_cancel),  T(test_not_found),	    T(test_name_conflict),
	    T(test_missing_image),  T(test_remove_running), T(test_pause),
	    T(test_wait_exit_code),
	};

	if (!test_url())
		return test_skip_all("engine_containers");

	return cmocka_run_group_tests_name("engine_containers", tests, test_group_setup,
					   test_group_teardown);
}
