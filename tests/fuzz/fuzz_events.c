/* The events stream (backends/docker/events.c): the body of GET /events in pieces, each event
 * normalised and decoded as the driver's watch decodes it (decode.c). */
#include "docker.h"
#include "engine-int.h"
#include "fuzz.h"

static int on_event(const cJSON *ev, void *ctx)
{
	(void)ctx;
	struct be_event e;
	docker_event(ev, &e);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct engine_events s;
	engine_events_init(&s, on_event, NULL);
	if (fuzz_feed(data, size, engine_events_sink, &s) == 0)
		jsonl_finish(&s.lines);
	jsonl_free(&s.lines);
	return 0;
}
