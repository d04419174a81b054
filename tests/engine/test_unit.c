/*
 * The engine client's pure parts, no engine needed: errno mapping, version negotiation, log
 * demultiplexing, JSON-lines splitting, progress error detection, event normalisation.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "card.h"
#include "docker.h"
#include "engine-int.h"
#include "swarm.h"

#define EP "unix:///run/x.sock"

static int map(CURLcode cc, long status, const char *body, int on_conflict, char *err,
	       size_t errlen)
{
	return engine_errno(cc, status, body, body ? strlen(body) : 0, on_conflict, false, EP, "",
			    err, errlen);
}

static void test_errno_http(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(map(CURLE_OK, 200, "", 0, err, sizeof(err)), 0);
	assert_int_equal(map(CURLE_OK, 204, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(
	    map(CURLE_OK, 404, "{\"message\":\"No such container: x\"}", 0, err, sizeof(err)),
	    -ENOENT);
	assert_string_equal(err, "No such container: x");
	assert_int_equal(
	    map(CURLE_OK, 409, "{\"message\":\"Conflict.\"}", EEXIST, err, sizeof(err)), -EEXIST);
	assert_int_equal(map(CURLE_OK, 409, "{\"message\":\"in use\"}", 0, err, sizeof(err)),
			 -EBUSY);
	assert_int_equal(map(CURLE_OK, 400, "{\"message\":\"bad\"}", 0, err, sizeof(err)), -EINVAL);
	assert_int_equal(map(CURLE_OK, 401, "{}", 0, err, sizeof(err)), -EACCES);
	assert_int_equal(map(CURLE_OK, 403,
			     "{\"message\":\"error while removing network: network n id x has "
			     "active endpoints\"}",
			     0, err, sizeof(err)),
			 -EBUSY);
	assert_int_equal(map(CURLE_OK, 403,
			     "{\"message\":\"bridge is a pre-defined network and cannot be "
			     "removed\"}",
			     0, err, sizeof(err)),
			 -EACCES);
	assert_int_equal(map(CURLE_OK, 500, "{\"message\":\"boom\"}", 0, err, sizeof(err)), -EIO);
	assert_string_equal(err, "boom");
	/* Not JSON: the first line of the text. */
	assert_int_equal(map(CURLE_OK, 502, "Bad gateway\nmore", 0, err, sizeof(err)), -EIO);
	assert_string_equal(err, "Bad gateway");
	/* 304 is success only where the call says so. */
	assert_int_equal(engine_errno(CURLE_OK, 304, "", 0, 0, true, EP, "", err, sizeof(err)), 0);
	assert_int_equal(engine_errno(CURLE_OK, 304, "", 0, 0, false, EP, "", err, sizeof(err)),
			 -EIO);
}

static void test_errno_podman_causes(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(
	    map(CURLE_OK, 500,
		"{\"cause\":\"that name is already in use\",\"message\":\"container create: "
		"the container name \\\"x\\\" is already in use\",\"response\":500}",
		EEXIST, err, sizeof(err)),
	    -EEXIST);
	assert_non_null(strstr(err, "already in use"));
	assert_int_equal(map(CURLE_OK, 500,
			     "{\"cause\":\"container state improper\",\"message\":\"can only "
			     "kill running containers\",\"response\":500}",
			     EBUSY, err, sizeof(err)),
			 -EBUSY);
	assert_int_equal(map(CURLE_OK, 500,
			     "{\"cause\":\"network is being used\",\"message\":\"x has associated "
			     "containers\",\"response\":500}",
			     0, err, sizeof(err)),
			 -EBUSY);
	assert_int_equal(map(CURLE_OK, 500,
			     "{\"cause\":\"network already exists\",\"message\":\"m\","
			     "\"response\":500}",
			     0, err, sizeof(err)),
			 -EEXIST);
	assert_int_equal(map(CURLE_OK, 500,
			     "{\"cause\":\"default network podman cannot be removed\","
			     "\"message\":\"m\",\"response\":500}",
			     0, err, sizeof(err)),
			 -EACCES);
	assert_int_equal(map(CURLE_OK, 500,
			     "{\"cause\":\"something else\",\"message\":\"m\",\"response\":500}", 0,
			     err, sizeof(err)),
			 -EIO);
}

static void test_errno_transport(void **state)
{
	char err[256];
	int cc, rc;

	(void)state;
	assert_int_equal(map(CURLE_COULDNT_CONNECT, 0, NULL, 0, err, sizeof(err)), -ECONNREFUSED);
	assert_non_null(strstr(err, EP));
	assert_int_equal(map(CURLE_OPERATION_TIMEDOUT, 0, NULL, 0, err, sizeof(err)), -ETIMEDOUT);
	assert_int_equal(map(CURLE_GOT_NOTHING, 0, NULL, 0, err, sizeof(err)), -ECONNREFUSED);
	/* A stream that broke after a 200 is an I/O error, not an unreachable engine. */
	assert_int_equal(map(CURLE_RECV_ERROR, 200, NULL, 0, err, sizeof(err)), -EIO);
	assert_int_equal(map(CURLE_OPERATION_TIMEDOUT, 200, NULL, 0, err, sizeof(err)), -ETIMEDOUT);
	/* Whatever libcurl says, never ENOTCONN: the kernel would blame the mount. */
	for (cc = 1; cc < CURL_LAST; cc++) {
		rc = map((CURLcode)cc, 0, NULL, 0, err, sizeof(err));
		assert_int_not_equal(rc, -ENOTCONN);
		assert_true(rc == -ECONNREFUSED || rc == -ETIMEDOUT || rc == -EIO);
		rc = map((CURLcode)cc, 200, NULL, 0, err, sizeof(err));
		assert_int_not_equal(rc, -ENOTCONN);
	}
}

static void test_negotiate(void **state)
{
	char v[16], err[256];

	(void)state;
	assert_int_equal(engine_api_num("1.41"), 1041);
	assert_int_equal(engine_api_num("1.4x"), -1);
	assert_int_equal(engine_api_num(""), -1);
	assert_int_equal(engine_negotiate("1.41", "1.12", v, sizeof(v), err, sizeof(err)), 0);
	assert_string_equal(v, "1.41");
	assert_int_equal(engine_negotiate("1.43", "1.24", v, sizeof(v), err, sizeof(err)), 0);
	assert_string_equal(v, "1.43");
	assert_int_equal(engine_negotiate("1.52", "1.24", v, sizeof(v), err, sizeof(err)), 0);
	assert_string_equal(v, "1.47");
	/* Docker 29.0: speaks up to 1.52 but refuses below 1.44. */
	assert_int_equal(engine_negotiate("1.52", "1.44", v, sizeof(v), err, sizeof(err)), 0);
	assert_string_equal(v, "1.47");
	assert_int_equal(engine_negotiate("1.45", "1.44", v, sizeof(v), err, sizeof(err)), 0);
	assert_string_equal(v, "1.45");
	assert_int_equal(engine_negotiate("1.41", NULL, v, sizeof(v), err, sizeof(err)), 0);
	assert_string_equal(v, "1.41");
	assert_int_equal(engine_negotiate("1.40", "1.12", v, sizeof(v), err, sizeof(err)),
			 -EPROTONOSUPPORT);
	assert_non_null(strstr(err, "1.40"));
	assert_int_equal(engine_negotiate("1.60", "1.50", v, sizeof(v), err, sizeof(err)),
			 -EPROTONOSUPPORT);
	assert_non_null(strstr(err, "1.50"));
	assert_int_equal(engine_negotiate("", NULL, v, sizeof(v), err, sizeof(err)),
			 -EPROTONOSUPPORT);
}

/* ---- demux ---- */

struct collect {
	char out[4096];
	size_t outlen;
	char err[4096];
	size_t errlen;
	char order[8192]; /* stream digit per byte delivered */
	size_t n;
	int stop_at; /* stop once this many bytes arrived (0: never) */
};

static int collect(enum engine_stream s, const char *buf, size_t len, void *ctx)
{
	struct collect *c = ctx;
	size_t i;

	for (i = 0; i < len; i++) {
		if (s == ENGINE_STREAM_STDERR)
			c->err[c->errlen++] = buf[i];
		else
			c->out[c->outlen++] = buf[i];
		c->order[c->n++] = (char)('0' + s);
	}
	if (c->stop_at && c->n >= (size_t)c->stop_at)
		return 1;
	return 0;
}

static size_t frame(unsigned char *dst, int stream, const char *payload)
{
	size_t n = strlen(payload);

	dst[0] = (unsigned char)stream;
	dst[1] = dst[2] = dst[3] = 0;
	dst[4] = (unsigned char)(n >> 24);
	dst[5] = (unsigned char)(n >> 16);
	dst[6] = (unsigned char)(n >> 8);
	dst[7] = (unsigned char)n;
	memcpy(dst + 8, payload, n);
	return n + 8;
}

static void test_demux_split_everywhere(void **state)
{
	unsigned char buf[256];
	size_t len = 0, a, b;

	(void)state;
	len += frame(buf + len, 1, "out\n");
	len += frame(buf + len, 2, "err\n");
	len += frame(buf + len, 1, "");
	len += frame(buf + len, 1, "more out\n");
	/* Every way of cutting the body into three pieces gives the same result. */
	for (a = 0; a <= len; a++) {
		for (b = a; b <= len; b++) {
			struct collect c = {0};
			struct engine_demux d;

			engine_demux_init(&d, false, collect, &c);
			assert_int_equal(engine_demux_feed(&d, (char *)buf, a), 0);
			assert_int_equal(engine_demux_feed(&d, (char *)buf + a, b - a), 0);
			assert_int_equal(engine_demux_feed(&d, (char *)buf + b, len - b), 0);
			assert_int_equal(engine_demux_finish(&d), 0);
			c.out[c.outlen] = c.err[c.errlen] = c.order[c.n] = '\0';
			assert_string_equal(c.out, "out\nmore out\n");
			assert_string_equal(c.err, "err\n");
			assert_string_equal(c.order, "11112222111111111");
		}
	}
}

static void test_demux_raw(void **state)
{
	struct collect c = {0};
	struct engine_demux d;
	const char *tty = "hello from a tty\r\n";

	(void)state;
	/* Told it is a TTY. */
	engine_demux_init(&d, true, collect, &c);
	engine_demux_feed(&d, tty, 5);
	engine_demux_feed(&d, tty + 5, strlen(tty) - 5);
	c.out[c.outlen] = '\0';
	assert_string_equal(c.out, tty);
	assert_int_equal(c.errlen, 0);

	/* Not told, but the first bytes are no frame header: passed through. */
	memset(&c, 0, sizeof(c));
	engine_demux_init(&d, false, collect, &c);
	engine_demux_feed(&d, tty, 3);
	engine_demux_feed(&d, tty + 3, strlen(tty) - 3);
	engine_demux_finish(&d);
	c.out[c.outlen] = '\0';
	assert_string_equal(c.out, tty);

	/* Shorter than a header. */
	memset(&c, 0, sizeof(c));
	engine_demux_init(&d, false, collect, &c);
	engine_demux_feed(&d, "hi\n", 3);
	engine_demux_finish(&d);
	c.out[c.outlen] = '\0';
	assert_string_equal(c.out, "hi\n");
}

static void test_demux_stop(void **state)
{
	unsigned char buf[64];
	struct collect c = {.stop_at = 2};
	struct engine_demux d;
	size_t len = frame(buf, 1, "abcdef");

	(void)state;
	engine_demux_init(&d, false, collect, &c);
	assert_int_equal(engine_demux_feed(&d, (char *)buf, 9), 0);
	assert_int_equal(engine_demux_feed(&d, (char *)buf + 9, len - 9), 1);
}

/* ---- JSON lines ---- */

struct seen {
	char keys[64];
	int n;
	int stop_at;
};

static int on_obj(cJSON *obj, void *ctx)
{
	struct seen *s = ctx;

	s->keys[s->n++] = obj->child ? obj->child->string[0] : '?';
	return s->stop_at && s->n >= s->stop_at;
}

static void test_jsonl(void **state)
{
	const char *body =
	    "{\"a\":1}\n{\"b\":\"x\\ny\"}\r\n\n{\"c\":[1,2]}{\"d\":{}}\nnot json\n{\"e\":5}";
	size_t len = strlen(body), cut;
	struct seen s;
	struct jsonl j;

	(void)state;
	for (cut = 0; cut <= len; cut++) {
		memset(&s, 0, sizeof(s));
		jsonl_init(&j, on_obj, &s);
		assert_int_equal(jsonl_feed(&j, body, cut), 0);
		assert_int_equal(jsonl_feed(&j, body + cut, len - cut), 0);
		assert_int_equal(jsonl_finish(&j), 0);
		/* The line that is not JSON is skipped, and noted for the caller. */
		assert_int_equal(j.nbad, 1);
		assert_string_equal(j.bad, "not json");
		jsonl_free(&j);
		s.keys[s.n] = '\0';
		assert_string_equal(s.keys, "abcde");
	}
	/* One byte at a time: each look starts where the last one ended. */
	memset(&s, 0, sizeof(s));
	jsonl_init(&j, on_obj, &s);
	for (cut = 0; cut < len; cut++)
		assert_int_equal(jsonl_feed(&j, body + cut, 1), 0);
	assert_int_equal(jsonl_finish(&j), 0);
	jsonl_free(&j);
	s.keys[s.n] = '\0';
	assert_string_equal(s.keys, "abcde");
	/* A callback's non-zero return stops the feed. */
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	jsonl_init(&j, on_obj, &s);
	assert_int_equal(jsonl_feed(&j, body, len), 1);
	jsonl_free(&j);
	assert_int_equal(s.n, 2);
}

static int count_msgs(const cJSON *msg, void *ctx)
{
	(void)msg;
	(*(int *)ctx)++;
	return 0;
}

static void test_progress_errors(void **state)
{
	const char *ok = "{\"stream\":\"Step 1/2\\n\"}\n{\"aux\":{\"ID\":\"sha256:abc\"}}\n"
			 "{\"stream\":\"Successfully built abc\\n\"}\n";
	const char *bad = "{\"status\":\"Pulling\"}\n{\"progressDetail\":{},\"errorDetail\":{"
			  "\"message\":\"manifest unknown\"},\"error\":\"manifest unknown\"}\n"
			  "{\"error\":\"later\"}\n";
	char err[256] = "";
	struct progress p;
	int n = 0;

	(void)state;
	progress_init(&p, count_msgs, &n);
	assert_int_equal(progress_sink(ok, strlen(ok), &p), 0);
	assert_int_equal(progress_finish(&p, 0, err, sizeof(err)), 0);
	assert_string_equal(p.id, "sha256:abc");
	assert_int_equal(n, 3);

	progress_init(&p, NULL, NULL);
	assert_int_equal(progress_sink(bad, strlen(bad), &p), 0);
	assert_int_equal(progress_finish(&p, 0, err, sizeof(err)), -EIO);
	assert_string_equal(err, "manifest unknown");
}

static void test_event_normalize(void **state)
{
	const char *in[][2] = {
	    {"{\"Type\":\"container\",\"Action\":\"remove\",\"status\":\"remove\"}", "destroy"},
	    {"{\"Type\":\"container\",\"Action\":\"died\"}", "die"},
	    {"{\"Type\":\"container\",\"Action\":\"start\"}", "start"},
	    {"{\"Type\":\"network\",\"Action\":\"remove\"}", "remove"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		cJSON *ev = cJSON_Parse(in[i][0]);
		const cJSON *st;

		engine_event_normalize(ev);
		assert_string_equal(cJSON_GetObjectItem(ev, "Action")->valuestring, in[i][1]);
		st = cJSON_GetObjectItem(ev, "status");
		if (st)
			assert_string_equal(st->valuestring, in[i][1]);
		cJSON_Delete(ev);
	}
}

/* Numbers and times an engine document may hold that no integer holds (found by fuzz_inspect
 * and fuzz_events): read as "none", never cast out of range. */
static void test_numbers_out_of_range(void **state)
{
	static const char *const events[] = {
	    "{\"Type\":\"network\",\"Action\":\"create\",\"time\":1e300}",
	    "{\"Type\":\"network\",\"Action\":\"create\",\"timeNano\":-1e300}",
	    "{\"Type\":\"network\",\"Action\":\"create\",\"time\":1e10}",
	};
	struct be_event ev;

	(void)state;
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		cJSON *doc = cJSON_Parse(events[i]);
		assert_true(docker_event(doc, &ev));
		assert_int_equal(ev.time_nano, 0);
		cJSON_Delete(doc);
	}
	cJSON *doc = cJSON_Parse("{\"Id\":\"x\",\"Size\":1e300,\"Created\":-1e300}");
	struct be_obj *o = docker_image_summary(doc);
	assert_non_null(o);
	assert_int_equal(o->size, 0);
	assert_int_equal(docker_jnum(doc, "Created"), 0);
	be_obj_free(o);
	cJSON_Delete(doc);
	/* the last nanosecond a long long holds is in 2262; 4048 is garbage, as is a bad string */
	assert_int_equal(be_time_ns("2262-04-11T23:47:16.854775807Z"), 9223372036854775807LL);
	assert_int_equal(be_time_ns("2262-04-11T23:47:17Z"), -1);
	assert_int_equal(be_time_ns("4048-01-01T00:00:00Z"), -1);
	assert_int_equal(be_time_ns("1970-01-01T00:00:01.5Z"), 1500000000LL);
}

static void test_refs_and_escape(void **state)
{
	char *s;

	(void)state;
	assert_true(engine_ref_ok("cutipfs-busybox:latest"));
	assert_true(engine_ref_ok("docker.io/library/alpine@sha256:0123abcd"));
	assert_true(engine_ref_ok("localhost:5000/a/b:c"));
	assert_false(engine_ref_ok("a b"));
	assert_false(engine_ref_ok("a?b"));
	assert_false(engine_ref_ok("../x#"));
	assert_false(engine_ref_ok(""));
	assert_false(engine_ref_ok(NULL));
	s = engine_escape("a b/{\"x\"}");
	assert_non_null(s);
	assert_string_equal(s, "a%20b%2F%7B%22x%22%7D");
	curl_free(s);
	s = engine_label_filter("cutipfs.test=1");
	assert_string_equal(s, "%7B%22label%22%3A%5B%22cutipfs.test%3D1%22%5D%7D");
	curl_free(s);
}

/* ---- cutipfs's container limits in a create body and in a service's spec ---- */

static struct card *limits_card(const char *extra)
{
	char text[1024];
	snprintf(text, sizeof(text),
		 "apiVersion: cutip/v1\nkind: ContainerCard\nmetadata: {name: lim}\n"
		 "spec:\n  imageRef: {ref: images/bb}\n%s",
		 extra);
	struct card_diags d = {0};
	struct card *c = NULL;
	if (card_parse(text, strlen(text), "lim.yaml", &c, &d) != 0) {
		card_diags_print(&d, stderr);
		fail_msg("the card was refused");
	}
	card_diags_free(&d);
	return c;
}

static double num_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, a), b);
	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v =
	    b ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, a), b)
	      : cJSON_GetObjectItemCaseSensitive(o, a);
	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static void test_limits_specs(void **state)
{
	(void)state;
	static const char limits[] =
	    "  resources: {memory: 64m, cpus: 0.5, pids: 50}\n"
	    "  healthcheck: {test: \"true\", interval: 1s, retries: 2}\n"
	    "  user: \"1000:1000\"\n  stop_signal: SIGINT\n  stop_timeout: 3\n"
	    "  labels: {tier: test}\n";
	struct card *c = limits_card(limits);
	struct be_label own[] = {{"cutipfs.workspace", "/w"}};
	struct be_container b = {.card = c, .root = "/w", .image = "bb:latest",
				 .labels = {.v = own, .n = 1}};
	char err[256] = "";
	cJSON *body = NULL;
	assert_int_equal(docker_container_body(&b, &body, err, sizeof(err)), 0);
	assert_true(num_at(body, "HostConfig", "Memory") == 67108864);
	assert_true(num_at(body, "HostConfig", "NanoCpus") == 5e8);
	assert_true(num_at(body, "HostConfig", "PidsLimit") == 50);
	assert_null(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(body, "HostConfig"), "MemorySwap"));
	assert_string_equal(str_at(body, "User", NULL), "1000:1000");
	assert_string_equal(str_at(body, "StopSignal", NULL), "SIGINT");
	assert_true(cJSON_GetObjectItemCaseSensitive(body, "StopTimeout")->valuedouble == 3);
	assert_string_equal(str_at(body, "Labels", "tier"), "test");
	assert_string_equal(str_at(body, "Labels", "cutipfs.workspace"), "/w");
	assert_true(num_at(body, "Healthcheck", "Interval") == 1e9);
	assert_true(num_at(body, "Healthcheck", "Retries") == 2);
	const cJSON *test = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(body, "Healthcheck"), "Test");
	assert_int_equal(cJSON_GetArraySize(test), 2);
	assert_string_equal(cJSON_GetArrayItem(test, 0)->valuestring, "CMD-SHELL");
	cJSON_Delete(body);

	/* The same on a Swarm: the task's limits, the container's health, user and stop. */
	cJSON *spec = NULL;
	assert_int_equal(swarm_service_spec(&b, 1, &spec, err, sizeof(err)), 0);
	cJSON *tt = cJSON_GetObjectItemCaseSensitive(spec, "TaskTemplate");
	assert_true(num_at(cJSON_GetObjectItemCaseSensitive(tt, "Resources"), "Limits",
			   "MemoryBytes") == 67108864);
	assert_true(num_at(cJSON_GetObjectItemCaseSensitive(tt, "Resources"), "Limits",
			   "NanoCPUs") == 5e8);
	cJSON *cs = cJSON_GetObjectItemCaseSensitive(tt, "ContainerSpec");
	assert_string_equal(str_at(cs, "User", NULL), "1000:1000");
	assert_true(cJSON_GetObjectItemCaseSensitive(cs, "StopGracePeriod")->valuedouble == 3e9);
	assert_string_equal(str_at(cs, "Labels", "tier"), "test");
	assert_non_null(cJSON_GetObjectItemCaseSensitive(cs, "Healthcheck"));
	cJSON_Delete(spec);
	card_free(c);

	/* memory+swap: a Swarm has none; refused with the reason. */
	c = limits_card("  resources: {memory: 64m, memory_swap: 128m}\n");
	b.card = c;
	spec = NULL;
	assert_int_equal(swarm_service_spec(&b, 1, &spec, err, sizeof(err)), -EOPNOTSUPP);
	assert_null(spec);
	assert_non_null(strstr(err, "memory_swap"));
	card_free(c);

	/* Without limits: none of them in the body, the engine's defaults stay. */
	c = limits_card("");
	b.card = c;
	assert_int_equal(docker_container_body(&b, &body, err, sizeof(err)), 0);
	assert_null(cJSON_GetObjectItemCaseSensitive(body, "Healthcheck"));
	assert_null(cJSON_GetObjectItemCaseSensitive(body, "User"));
	assert_null(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(body, "HostConfig"), "Memory"));
	cJSON_Delete(body);
	card_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_errno_http),
	    cmocka_unit_test(test_errno_podman_causes),
	    cmocka_unit_test(test_errno_transport),
	    cmocka_unit_test(test_negotiate),
	    cmocka_unit_test(test_demux_split_everywhere),
	    cmocka_unit_test(test_demux_raw),
	    cmocka_unit_test(test_demux_stop),
	    cmocka_unit_test(test_jsonl),
	    cmocka_unit_test(test_progress_errors),
	    cmocka_unit_test(test_event_normalize),
	    cmocka_unit_test(test_refs_and_escape),
	    cmocka_unit_test(test_numbers_out_of_range),
	    cmocka_unit_test(test_limits_specs),
	};

	return cmocka_run_group_tests_name("engine_unit", tests, NULL, NULL);
}
