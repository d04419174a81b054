/* The JSON-lines progress stream of a pull, import or build (backends/docker/jsonl.c): the body
 * in pieces, each message made into the line a person reads (decode.c) and the counts of the
 * pull, build or load (tally.c), then the outcome. */
#include <stdlib.h>

#include "docker.h"
#include "engine-int.h"
#include "fuzz.h"

/* Every message through the driver's tally (tally.c): its line, the counts, a load's names. */
static int on_progress(const char *line, const struct be_progress *p, void *ctx)
{
	(void)line;
	(void)p;
	(void)ctx;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct docker_progress dp;
	struct progress p;
	char err[256];
	docker_progress_init(&dp, on_progress, NULL);
	progress_init(&p, docker_progress_msg, &dp);
	int rc = fuzz_feed(data, size, progress_sink, &p);
	progress_finish(&p, rc, err, sizeof(err));
	docker_progress_free(&dp);
	return 0;
}
