/*
 * Shared by the engine tests: which engine to test (CUTIPFS_TEST_ENGINE), unique names and labels
 * per run, and a sweep that removes whatever a test created, even when it failed half-way.
 */
#ifndef CUTIPFS_TEST_ENGINE_COMMON_H
#define CUTIPFS_TEST_ENGINE_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine.h"

#define TEST_IMAGE "cutipfs-busybox:latest"

/* CUTIPFS_TEST_ENGINE, default unix:///run/docker.sock; NULL when it is "none". */
const char *test_url(void);

/* Group setup/teardown: open the engine into *state (NULL if "none" or not answering), and at
 * the end sweep and close it. */
int test_group_setup(void **state);
int test_group_teardown(void **state);
/* Per-test teardown: sweep what the test left behind. */
int test_sweep_teardown(void **state);

/* The engine under test; fails the test when the engine does not answer. */
struct engine *test_need_engine(void **state);

/* "cutipfs-test-<pid>-<what>". */
void test_name(char *buf, size_t len, const char *what);
/* "cutipfs.test.run=<pid>", the label every object of this run carries. */
const char *test_run_label(void);
/* {"cutipfs.test":"1","cutipfs.test.run":"<pid>"} */
cJSON *test_labels(void);
/* Remember an image reference to remove in the sweep. */
void test_track_image(const char *ref);
/* Removes this run's containers, networks, volumes and tracked images. */
void test_sweep(struct engine *e);

/* {"Image":TEST_IMAGE,"Cmd":[argv...],"Tty":tty,"Labels":test_labels()} */
cJSON *test_config(bool tty, const char *const *argv);
/* Create (and optionally start) a labelled busybox container; asserts success. */
void test_run(struct engine *e, const char *name, bool tty, bool start, const char *const *argv,
	      char *id, size_t idlen);

/* A log sink collecting the streams separately and in arrival order. */
struct test_logs {
	char out[8192];
	size_t outlen;
	char err[8192];
	size_t errlen;
	char all[16384]; /* interleaved, in the order delivered */
	size_t alllen;
	int stop_after_match; /* stop the stream once @match appears in @all */
	const char *match;
};
int test_logs_sink(enum engine_stream stream, const char *buf, size_t len, void *ctx);

double test_now(void);

/* For main() when CUTIPFS_TEST_ENGINE=none: reports the whole program as skipped. */
int test_skip_all(const char *group);

#endif
