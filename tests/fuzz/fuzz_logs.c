/* The multiplexed log stream (backends/docker/logs.c): the body of GET /containers/ID/logs in
 * pieces, framed (8-byte headers) or raw as the first input byte's low bit says; every byte
 * delivered belongs to the input, on a stream the header named. */
#include <stdbool.h>
#include <stdlib.h>

#include "engine-int.h"
#include "fuzz.h"

struct seen {
	size_t bytes, limit;
};

static int sink(enum engine_stream stream, const char *buf, size_t len, void *ctx)
{
	struct seen *s = ctx;
	(void)buf;
	if (stream > ENGINE_STREAM_SYSERR)
		abort();
	s->bytes += len;
	if (s->bytes > s->limit)
		abort(); /* more out than went in */
	return 0;
}

static int feed(const char *buf, size_t len, void *ctx)
{
	return engine_demux_feed(ctx, buf, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct engine_demux d;
	struct seen s = {.limit = size};
	engine_demux_init(&d, size && (data[0] & 1), sink, &s);
	if (fuzz_feed(data, size, feed, &d) == 0)
		engine_demux_finish(&d);
	return 0;
}
