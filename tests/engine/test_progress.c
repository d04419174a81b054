/*
 * Progress of pulls, builds and loads, from recorded JSON-lines streams (tests/fixtures/progress):
 * the counts the driver makes of them (backends/docker/tally.c) and the words of the status
 * (ws_progress_text), the stream cut into pieces of every size up to a few bytes, as libcurl
 * may hand it over. No engine needed.
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

#include "docker.h"
#include "engine-int.h"
#include "ws-int.h"

/* What the callback saw: every status text in order (distinct from the one before), and the
 * lines. */
struct seen {
	const char *activity;
	char texts[64][64];
	size_t ntexts;
	char lines[8192];
};

static int on_progress(const char *line, const struct be_progress *p, void *ctx)
{
	struct seen *s = ctx;
	char text[64];

	if (line)
		strncat(s->lines, line, sizeof(s->lines) - strlen(s->lines) - 1);
	ws_progress_text(s->activity, p, text, sizeof(text));
	if ((!s->ntexts || strcmp(s->texts[s->ntexts - 1], text) != 0) && s->ntexts < 64)
		snprintf(s->texts[s->ntexts++], sizeof(s->texts[0]), "%s", text);
	return 0;
}

static char *fixture(const char *name, size_t *len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/progress/%s", FIXTURES, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(1 << 16);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 16) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* The stream @name in pieces of @piece bytes through the driver; the outcome's rc. */
static int replay(const char *name, size_t piece, const char *activity, struct seen *s,
		  char **loaded)
{
	struct docker_progress dp;
	struct progress p;
	size_t len;
	char *body = fixture(name, &len), err[256] = "";
	int rc = 0;

	memset(s, 0, sizeof(*s));
	s->activity = activity;
	docker_progress_init(&dp, on_progress, s);
	progress_init(&p, docker_progress_msg, &dp);
	for (size_t off = 0; rc == 0 && off < len; off += piece)
		rc = progress_sink(body + off, len - off < piece ? len - off : piece, &p);
	rc = progress_finish(&p, rc, err, sizeof(err));
	if (loaded) {
		*loaded = dp.loaded;
		dp.loaded = NULL;
	}
	docker_progress_free(&dp);
	free(body);
	return rc;
}

static bool saw(const struct seen *s, const char *text)
{
	for (size_t i = 0; i < s->ntexts; i++)
		if (strcmp(s->texts[i], text) == 0)
			return true;
	return false;
}

/* The status texts were exactly @want, in order (NULL-terminated). */
static void assert_texts(const struct seen *s, const char *const *want)
{
	size_t n = 0;
	while (want[n])
		n++;
	bool same = s->ntexts == n;
	for (size_t i = 0; same && i < n; i++)
		same = strcmp(s->texts[i], want[i]) == 0;
	for (size_t i = 0; !same && i < s->ntexts; i++)
		print_message("# seen: %s\n", s->texts[i]);
	assert_int_equal(s->ntexts, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(s->texts[i], want[i]);
}

static void test_pull(void **state)
{
	/* Two layers of 20 and 6.9 MB, each counted once its size is said (the one already here
	 * has none); extracting, whose counts start again from 0, moves nothing. */
	static const char *const want[] = {"pulling",
					   "pulling 25% (5.0/20.0 MB)",
					   "pulling 23% (6.2/26.9 MB)",
					   "pulling 44% (11.9/26.9 MB)",
					   "pulling 45% (12.1/26.9 MB)",
					   "pulling 100% (26.9/26.9 MB)",
					   NULL};
	(void)state;
	for (size_t piece = 1; piece <= 4096; piece = piece * 3 + 1) {
		struct seen s;
		assert_int_equal(replay("docker-pull.jsonl", piece, "pulling", &s, NULL), 0);
		assert_texts(&s, want);
		/* The lines without the bars. */
		assert_non_null(strstr(s.lines, "3f4d90098f5b: Pull complete\n"));
		assert_null(strstr(s.lines, "Downloading"));
	}
}

static void test_build_docker(void **state)
{
	/* Each step once, in order; step 4's output that looks like a step is not one. */
	static const char *const want[] = {"building step 1/4", "building step 2/4",
					   "building step 3/4", "building step 4/4", NULL};
	(void)state;
	for (size_t piece = 1; piece <= 4096; piece = piece * 3 + 1) {
		struct seen s;
		assert_int_equal(replay("docker-build.jsonl", piece, "building", &s, NULL), 0);
		assert_texts(&s, want);
		assert_false(saw(&s, "building step 9/9"));
		assert_non_null(strstr(s.lines, "Step 3/4 : RUN sleep 3"));
	}
}

static void test_build_podman(void **state)
{
	static const char *const want[] = {"building step 1/3", "building step 2/3",
					   "building step 3/3", NULL};
	struct seen s;
	(void)state;
	assert_int_equal(replay("podman-build.jsonl", 5, "building", &s, NULL), 0);
	assert_texts(&s, want);
}

static void test_load(void **state)
{
	static const char *const want[] = {"loading 2% (0.0/2.1 MB)", "loading 50% (1.1/2.1 MB)",
					   "loading 100% (2.1/2.1 MB)", NULL};
	struct seen s;
	char *loaded = NULL;
	(void)state;
	assert_int_equal(replay("docker-load.jsonl", 7, "loading", &s, &loaded), 0);
	assert_texts(&s, want);
	assert_non_null(loaded);
	assert_string_equal(loaded, "h2x:v1\nsha256:a2c7aedda76098d1056ede90eb2639af486d794fd83148"
				    "4a0870395903f5eb65\n");
	free(loaded);
	/* Podman's names, several in one line, with no newline after them. */
	assert_int_equal(replay("podman-load.jsonl", 3, "loading", &s, &loaded), 0);
	assert_non_null(loaded);
	assert_string_equal(loaded, "localhost/h2x:v1\nlocalhost/h2y:v2\n");
	free(loaded);
}

/* What the status says with nothing counted yet, or nothing running. */
static void test_words(void **state)
{
	(void)state;
	struct be_progress none = {0}, almost = {.current = 999, .total = 1000};
	char text[64];
	ws_progress_text("pulling", &none, text, sizeof(text));
	assert_string_equal(text, "pulling");
	ws_progress_text(NULL, &none, text, sizeof(text));
	assert_string_equal(text, "");
	ws_progress_text("pulling", &almost, text, sizeof(text));
	assert_string_equal(text, "pulling 99% (0.0/0.0 MB)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pull),	 cmocka_unit_test(test_build_docker),
	    cmocka_unit_test(test_build_podman), cmocka_unit_test(test_load),
	    cmocka_unit_test(test_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
