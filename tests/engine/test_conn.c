/*
 * Opening, discovery, ping and backend detection, the engine file's text, and behaviour while the
 * engine is down (no socket; a socket that accepts connections but never answers), recovery, and
 * concurrent use of one handle.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common.h"
#include "engine-int.h"

/* The socket path behind a "unix://" URL. */
static const char *url_path(const char *url)
{
	return strncmp(url, "unix://", 7) ? url : url + 7;
}

static void test_open_ping_backend(void **state)
{
	struct engine *e = test_need_engine(state);
	const char *want = getenv("CUTIPFS_TEST_BACKEND");
	char err[512] = "", info[1024], api[16], *line, *save = NULL;
	enum engine_backend b;

	assert_int_equal(engine_ping(e, err, sizeof(err)), 0);
	assert_true(engine_reachable(e));
	b = engine_backend(e);
	assert_true(b == ENGINE_DOCKER || b == ENGINE_PODMAN);
	if (want && *want)
		assert_string_equal(engine_backend_name(b), want);
	engine_api_version(e, api, sizeof(api));
	assert_in_range(engine_api_num(api), engine_api_num(ENGINE_API_MIN),
			engine_api_num(ENGINE_API_MAX));

	assert_true(engine_info(e, info, sizeof(info)) > 0);
	for (line = strtok_r(info, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		fprintf(stderr, "# %s\n", line);
	engine_info(e, info, sizeof(info));
	assert_non_null(strstr(info, engine_backend_name(b)));
	assert_non_null(strstr(info, url_path(test_url())));
	assert_non_null(strstr(info, "state: reachable"));
	assert_null(strstr(info, "engine-version: unknown"));

	/* The request counter: a ping is two requests (/_ping, /version), shown in the file. */
	unsigned long before = engine_requests(e);
	assert_int_equal(engine_ping(e, err, sizeof(err)), 0);
	assert_int_equal(engine_requests(e) - before, 2);
	char want_line[64];
	snprintf(want_line, sizeof(want_line), "requests: %lu\n", engine_requests(e));
	engine_info(e, info, sizeof(info));
	assert_non_null(strstr(info, want_line));
}

static void test_version(void **state)
{
	struct engine *e = test_need_engine(state);
	char err[512] = "";
	cJSON *v = NULL;

	assert_int_equal(engine_version(e, &v, err, sizeof(err)), 0);
	assert_true(cJSON_IsString(cJSON_GetObjectItem(v, "ApiVersion")));
	cJSON_Delete(v);
	/* The escape hatch, unwrapped endpoint. */
	assert_int_equal(engine_request(e, "GET", "/info", NULL, &v, err, sizeof(err)), 0);
	assert_true(cJSON_IsObject(v));
	cJSON_Delete(v);
	assert_int_equal(engine_request(e, "GET", "/containers/cutipfs-no-such-thing/json", NULL,
					&v, err, sizeof(err)),
			 -ENOENT);
	assert_null(v);
}

static void test_forced_backend(void **state)
{
	struct engine *e = test_need_engine(state), *f = NULL;
	enum engine_backend other =
	    engine_backend(e) == ENGINE_DOCKER ? ENGINE_PODMAN : ENGINE_DOCKER;
	char err[512] = "", info[1024];

	assert_int_equal(engine_open(test_url(), engine_backend_name(other), &f, err, sizeof(err)),
			 0);
	assert_int_equal(engine_backend(f), other);
	engine_info(f, info, sizeof(info));
	assert_non_null(strstr(info, "(forced)"));
	engine_close(f);

	assert_int_equal(engine_open(test_url(), "lxc", &f, err, sizeof(err)), -EINVAL);
	assert_null(f);
	assert_non_null(strstr(err, "lxc"));
}

static void test_bad_urls(void **state)
{
	struct engine *f = NULL;
	char err[512] = "";

	(void)state;
	/* tcp:// and ssh:// are endpoints now (test_endpoint.c); Windows pipes never are. */
	assert_int_equal(engine_open("npipe:////./pipe/docker_engine", NULL, &f, err, sizeof(err)),
			 -EPROTONOSUPPORT);
	assert_null(f);
	assert_non_null(strstr(err, "unix://"));
	assert_int_equal(engine_open("unix://relative.sock", NULL, &f, err, sizeof(err)), -EINVAL);
	assert_int_equal(
	    engine_open("unix:///tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock",
			NULL, &f, err, sizeof(err)),
	    -EINVAL);
}

/* Runs engine_open(NULL) with only @var set to the test URL. */
static void open_from_env(const char *var)
{
	char *dh = getenv("DOCKER_HOST") ? strdup(getenv("DOCKER_HOST")) : NULL;
	char *ch = getenv("CONTAINER_HOST") ? strdup(getenv("CONTAINER_HOST")) : NULL;
	struct engine *f = NULL;
	char err[512] = "";
	int rc;

	unsetenv("DOCKER_HOST");
	unsetenv("CONTAINER_HOST");
	setenv(var, test_url(), 1);
	rc = engine_open(NULL, NULL, &f, err, sizeof(err));
	unsetenv(var);
	if (dh)
		setenv("DOCKER_HOST", dh, 1);
	if (ch)
		setenv("CONTAINER_HOST", ch, 1);
	free(dh);
	free(ch);
	assert_int_equal(rc, 0);
	assert_string_equal(url_path(engine_endpoint(f)), url_path(test_url()));
	assert_true(engine_reachable(f));
	engine_close(f);
}

static void test_discovery_env(void **state)
{
	test_need_engine(state);
	open_from_env("DOCKER_HOST");
	open_from_env("CONTAINER_HOST");
}

/* A unix socket that accepts connections (the kernel queues them) but never answers. */
static int hung_socket(char *path, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	snprintf(path, len, "/tmp/cutipfs-test-%ld-hung.sock", (long)getpid());
	unlink(path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 128), 0);
	return fd;
}

static void test_discovery_nothing_answers(void **state)
{
	char hung[108], missing[108], err[1024] = "";
	const char *cands[4];
	struct engine *f = NULL;
	double t0;
	int fd;

	(void)state;
	fd = hung_socket(hung, sizeof(hung));
	snprintf(missing, sizeof(missing), "/tmp/cutipfs-test-%ld-missing.sock", (long)getpid());
	cands[0] = missing;
	cands[1] = hung;
	cands[2] = "/etc/passwd"; /* not a socket */
	cands[3] = NULL;
	t0 = test_now();
	assert_int_equal(engine_discover(cands, ENGINE_UNKNOWN, &f, err, sizeof(err)),
			 -ECONNREFUSED);
	assert_true(test_now() - t0 < 3.0);
	assert_null(f);
	fprintf(stderr, "# %s\n", err);
	assert_non_null(strstr(err, "no container engine answered"));
	assert_non_null(strstr(err, hung));
	close(fd);
	unlink(hung);
}

static int no_event(const cJSON *ev, void *ctx)
{
	(void)ev;
	(void)ctx;
	return 1;
}

/* Every call on @f must fail with @want within two seconds. */
static void expect_down(struct engine *f, int want)
{
	atomic_bool stop = false;
	struct test_logs logs = {0};
	char err[512], id[ENGINE_ID_SIZE];
	cJSON *j = NULL, *cfg = test_config(false, (const char *const[]){"true", NULL});
	double t0;
	int rc;

#define DOWN(call)                                                                                 \
	do {                                                                                       \
		err[0] = '\0';                                                                     \
		t0 = test_now();                                                                   \
		rc = (call);                                                                       \
		if (rc != want || test_now() - t0 > 2.0)                                           \
			fail_msg("%s: %d (%s) after %.2fs, want %d", #call, rc, err,               \
				 test_now() - t0, want);                                           \
		assert_int_not_equal(rc, -ENOTCONN);                                               \
		assert_true(err[0] != '\0');                                                       \
	} while (0)

	DOWN(engine_ping(f, err, sizeof(err)));
	DOWN(engine_container_inspect(f, "x", &j, err, sizeof(err)));
	DOWN(engine_container_list(f, NULL, &j, err, sizeof(err)));
	DOWN(engine_container_start(f, "x", err, sizeof(err)));
	DOWN(engine_container_create(f, "x", cfg, id, sizeof(id), err, sizeof(err)));
	DOWN(engine_container_logs_follow(f, "x", false, NULL, test_logs_sink, &logs, &stop, err,
					  sizeof(err)));
	DOWN(engine_events_stream(f, NULL, NULL, NULL, no_event, NULL, &stop, err, sizeof(err)));
	DOWN(engine_network_remove(f, "x", err, sizeof(err)));
	DOWN(engine_image_pull(f, "cutipfs-nope", NULL, NULL, NULL, 0, err, sizeof(err)));
	assert_false(engine_reachable(f));
	cJSON_Delete(cfg);
#undef DOWN
}

static void test_unreachable_no_socket(void **state)
{
	struct engine *f = NULL;
	char url[128], err[512] = "", info[1024];

	(void)state;
	snprintf(url, sizeof(url), "unix:///tmp/cutipfs-test-%ld-nope.sock", (long)getpid());
	/* An explicit URL opens although nothing is there: the mount stays usable. */
	assert_int_equal(engine_open(url, NULL, &f, err, sizeof(err)), 0);
	assert_false(engine_reachable(f));
	engine_info(f, info, sizeof(info));
	assert_non_null(strstr(info, "state: unreachable ("));
	expect_down(f, -ECONNREFUSED);
	engine_close(f);
}

static void test_unreachable_hung(void **state)
{
	struct engine *f = NULL;
	char path[108], url[128], err[512] = "";
	double t0;
	int fd;

	(void)state;
	fd = hung_socket(path, sizeof(path));
	snprintf(url, sizeof(url), "unix://%s", path);
	t0 = test_now();
	assert_int_equal(engine_open(url, NULL, &f, err, sizeof(err)), 0);
	assert_true(test_now() - t0 < 2.0);
	assert_false(engine_reachable(f));
	expect_down(f, -ETIMEDOUT);
	engine_close(f);
	close(fd);
	unlink(path);
}

/* Down at open, then the socket appears: the next call finds it without a reopen. */
static void test_recovery(void **state)
{
	struct engine *e = test_need_engine(state), *f = NULL;
	char link[108], url[128], err[512] = "";
	cJSON *img = NULL;

	(void)e;
	snprintf(link, sizeof(link), "/tmp/cutipfs-test-%ld-late.sock", (long)getpid());
	unlink(link);
	snprintf(url, sizeof(url), "unix://%s", link);
	assert_int_equal(engine_open(url, NULL, &f, err, sizeof(err)), 0);
	assert_false(engine_reachable(f));
	assert_int_equal(engine_image_inspect(f, TEST_IMAGE, &img, err, sizeof(err)),
			 -ECONNREFUSED);
	assert_int_equal(symlink(url_path(test_url()), link), 0);
	assert_int_equal(engine_image_inspect(f, TEST_IMAGE, &img, err, sizeof(err)), 0);
	assert_true(engine_reachable(f));
	assert_int_equal(engine_backend(f), engine_backend(e));
	cJSON_Delete(img);
	engine_close(f);
	unlink(link);
}

struct hammer {
	struct engine *e;
	int failures;
	char err[512];
};

static void *hammer_thread(void *arg)
{
	struct hammer *h = arg;
	cJSON *j;
	int i;

	for (i = 0; i < 25; i++) {
		j = NULL;
		if (engine_image_inspect(h->e, TEST_IMAGE, &j, h->err, sizeof(h->err)) != 0)
			h->failures++;
		cJSON_Delete(j);
		j = NULL;
		if (engine_container_list(h->e, test_run_label(), &j, h->err, sizeof(h->err)) != 0)
			h->failures++;
		cJSON_Delete(j);
	}
	return NULL;
}

static void test_concurrent_calls(void **state)
{
	struct engine *e = test_need_engine(state);
	struct hammer h[8];
	pthread_t t[8];
	int i;

	for (i = 0; i < 8; i++) {
		memset(&h[i], 0, sizeof(h[i]));
		h[i].e = e;
		assert_int_equal(pthread_create(&t[i], NULL, hammer_thread, &h[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		if (h[i].failures)
			fail_msg("thread %d: %d failures, last: %s", i, h[i].failures, h[i].err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_ping_backend),
	    cmocka_unit_test(test_version),
	    cmocka_unit_test(test_forced_backend),
	    cmocka_unit_test(test_bad_urls),
	    cmocka_unit_test(test_discovery_env),
	    cmocka_unit_test(test_discovery_nothing_answers),
	    cmocka_unit_test(test_unreachable_no_socket),
	    cmocka_unit_test(test_unreachable_hung),
	    cmocka_unit_test(test_recovery),
	    cmocka_unit_test(test_concurrent_calls),
	};
	/* These need no engine at all. */
	const struct CMUnitTest offline[] = {
	    cmocka_unit_test(test_bad_urls),
	    cmocka_unit_test(test_discovery_nothing_answers),
	    cmocka_unit_test(test_unreachable_no_socket),
	    cmocka_unit_test(test_unreachable_hung),
	};

	if (!test_url())
		return cmocka_run_group_tests_name("engine_conn_offline", offline, NULL, NULL);

	return cmocka_run_group_tests_name("engine_conn", tests, test_group_setup,
					   test_group_teardown);
}
