/*
 * Image builds: the context directory streamed as a tar, progress and failure reporting.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#define BIG_SIZE 300000

struct ctx {
	char dir[64];
};

static void put(const char *dir, const char *name, const char *data, size_t len)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* A context: Dockerfile, a subdirectory, a symlink and a file bigger than any single read. */
static int setup_ctx(void **state)
{
	static struct ctx c;
	char sub[128], *big;
	size_t i;

	snprintf(c.dir, sizeof(c.dir), "/tmp/cutipfs-test-build-XXXXXX");
	if (!mkdtemp(c.dir))
		return -1;
	snprintf(sub, sizeof(sub), "%s/sub", c.dir);
	mkdir(sub, 0755);
	put(c.dir, "sub/hello.txt", "hi there\n", 9);
	big = malloc(BIG_SIZE);
	for (i = 0; i < BIG_SIZE; i++)
		big[i] = (char)('a' + i % 26);
	put(c.dir, "big.bin", big, BIG_SIZE);
	free(big);
	snprintf(sub, sizeof(sub), "%s/link", c.dir);
	if (symlink("sub/hello.txt", sub) < 0)
		return -1;
	state[1] = &c;
	return 0;
}

static struct ctx *ctx_of(void **state)
{
	return state[1];
}

static int group_setup(void **state)
{
	static void *slots[2];

	test_group_setup(&slots[0]);
	if (setup_ctx(slots) < 0)
		return -1;
	*state = slots;
	return 0;
}

static int group_teardown(void **state)
{
	void **slots = *state;

	nftw(ctx_of(slots)->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return test_group_teardown(&slots[0]);
}

static int sweep(void **state)
{
	void **slots = *state;

	return test_sweep_teardown(&slots[0]);
}

static struct engine *need(void **state)
{
	void **slots = *state;

	return test_need_engine(&slots[0]);
}

struct progress_text {
	char text[16384];
	size_t len;
};

static int collect(const cJSON *msg, void *ctx)
{
	struct progress_text *p = ctx;
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(msg, "stream"));
	size_t n;

	if (!s)
		return 0;
	n = strlen(s);
	if (n > sizeof(p->text) - 1 - p->len)
		n = sizeof(p->text) - 1 - p->len;
	memcpy(p->text + p->len, s, n);
	p->len += n;
	p->text[p->len] = '\0';
	return 0;
}

static void test_build_ok(void **state)
{
	static const char dockerfile[] =
	    "FROM " TEST_IMAGE "\n"
	    "ARG GREETING=unset\n"
	    "COPY sub/hello.txt /hello.txt\n"
	    "COPY big.bin /big.bin\n"
	    "COPY link /link\n"
	    "RUN test \"$(wc -c < /big.bin)\" -eq 300000 && grep -q 'hi there' /hello.txt && "
	    "test -L /link || test -f /link\n"
	    "RUN echo built-$GREETING > /built\n"
	    "CMD [\"cat\", \"/built\"]\n";
	struct engine *e = need(state);
	struct ctx *c = ctx_of(*state);
	char repo[96], tag[128], image_id[ENGINE_ID_SIZE] = "", name[96], id[ENGINE_ID_SIZE];
	char err[512] = "";
	struct progress_text p = {.len = 0};
	struct test_logs l = {0};
	cJSON *args = cJSON_CreateObject(), *labels = test_labels(), *img = NULL, *cfg;
	struct engine_build_opts o = {.context_dir = c->dir,
				      .dockerfile = "Dockerfile.ok",
				      .buildargs = args,
				      .labels = labels,
				      .timeout_s = 120};
	int code = -1;

	put(c->dir, "Dockerfile.ok", dockerfile, sizeof(dockerfile) - 1);
	test_name(repo, sizeof(repo), "build");
	snprintf(tag, sizeof(tag), "%s:1", repo);
	test_track_image(tag);
	o.tag = tag;
	cJSON_AddStringToObject(args, "GREETING", "hello");

	if (engine_image_build(e, &o, collect, &p, image_id, sizeof(image_id), err, sizeof(err)))
		fail_msg("build: %s\n%s", err, p.text);
	cJSON_Delete(args);
	cJSON_Delete(labels);
	assert_non_null(strstr(p.text, "uccessfully"));
	assert_true(strlen(image_id) > 12);
	assert_int_equal(engine_image_inspect(e, tag, &img, err, sizeof(err)), 0);
	assert_string_equal(
	    cJSON_GetStringValue(cJSON_GetObjectItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(img, "Config"), "Labels"), "cutipfs.test")),
	    "1");
	cJSON_Delete(img);

	/* Run what was built. */
	test_name(name, sizeof(name), "built");
	cfg = cJSON_CreateObject();
	cJSON_AddStringToObject(cfg, "Image", tag);
	cJSON_AddItemToObject(cfg, "Labels", test_labels());
	assert_int_equal(engine_container_create(e, name, cfg, id, sizeof(id), err, sizeof(err)),
			 0);
	cJSON_Delete(cfg);
	assert_int_equal(engine_container_start(e, id, err, sizeof(err)), 0);
	assert_int_equal(engine_container_wait(e, id, NULL, 30, &code, err, sizeof(err)), 0);
	assert_int_equal(code, 0);
	assert_int_equal(engine_container_logs(e, id, false, test_logs_sink, &l, err, sizeof(err)),
			 0);
	assert_string_equal(l.out, "built-hello\n");

	/* In use by that container: removing the image needs force. */
	assert_int_equal(engine_image_remove(e, tag, false, err, sizeof(err)), -EBUSY);
	assert_true(err[0] != '\0');
	assert_int_equal(engine_container_remove(e, id, true, false, err, sizeof(err)), 0);
	assert_int_equal(engine_image_remove(e, tag, false, err, sizeof(err)), 0);
}

static void test_build_fails(void **state)
{
	static const char dockerfile[] = "FROM " TEST_IMAGE "\n"
					 "RUN echo failing-step; exit 3\n";
	struct engine *e = need(state);
	struct ctx *c = ctx_of(*state);
	char tag[128], err[512] = "";
	struct progress_text p = {.len = 0};
	struct engine_build_opts o = {.context_dir = c->dir, .dockerfile = "Dockerfile.bad"};

	put(c->dir, "Dockerfile.bad", dockerfile, sizeof(dockerfile) - 1);
	test_name(tag, sizeof(tag), "badbuild");
	test_track_image(tag);
	o.tag = tag;
	/* The engine reports the failed step inside a 200 stream. */
	assert_int_equal(engine_image_build(e, &o, collect, &p, NULL, 0, err, sizeof(err)), -EIO);
	fprintf(stderr, "# %s\n", err);
	assert_non_null(strstr(err, "3"));
	assert_non_null(strstr(p.text, "failing-step"));
}

static void test_build_bad_input(void **state)
{
	struct engine *e = need(state);
	struct ctx *c = ctx_of(*state);
	char err[512] = "";
	struct engine_build_opts o = {.context_dir = "/nonexistent/cutipfs-ctx"};

	assert_int_equal(engine_image_build(e, &o, NULL, NULL, NULL, 0, err, sizeof(err)), -ENOENT);
	o.context_dir = c->dir;
	o.dockerfile = "No.Such.Dockerfile";
	assert_true(engine_image_build(e, &o, NULL, NULL, NULL, 0, err, sizeof(err)) < 0);
	fprintf(stderr, "# %s\n", err);
	assert_true(err[0] != '\0');
	o.dockerfile = NULL;
	o.tag = "bad tag";
	assert_int_equal(engine_image_build(e, &o, NULL, NULL, NULL, 0, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_build_ok, sweep),
	    cmocka_unit_test_teardown(test_build_fails, sweep),
	    cmocka_unit_test_teardown(test_build_bad_input, sweep),
	};

	if (!test_url())
		return test_skip_all("engine_build");

	return cmocka_run_group_tests_name("engine_build", tests, group_setup, group_teardown);
}
