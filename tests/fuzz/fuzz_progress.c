/* The JSON-lines progress stream of a pull, import or build (backends/docker/jsonl.c): the body
 * in pieces, each message made into the line a person reads (decode.c), then the outcome. */
#include <stdlib.h>

#include "docker.h"
#include "engine-int.h"
#include "fuzz.h"

static int on_message(const cJSON *msg, void *ctx)
{
	(void)ctx;
	free(docker_progress_line(msg));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct progress p;
	char err[256];
	progress_init(&p, on_message, NULL);
	int rc = fuzz_feed(data, size, progress_sink, &p);
	progress_finish(&p, rc, err, sizeof(err));
	return 0;
}
