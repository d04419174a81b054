/* The Docker driver's decoders of engine documents (backends/docker/decode.c): a JSON array is
 * a list response, each item given to every summary decoder; anything else an inspect document,
 * given to every full decoder, and to the event and progress-message decoders. Any input also
 * goes to the cards of a foreign container (backends/adopt.c), as its container's document and
 * its network's, and the ContainerCard made of it to the card parser, as a take-over reads it
 * (backends/adopted.c). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "docker.h"
#include "fuzz.h"
#include "ws-int.h"

static void as_summary(const cJSON *item)
{
	be_obj_free(docker_container_summary(item));
	be_obj_free(docker_image_summary(item));
	be_obj_free(docker_network_obj(item, true));
	be_obj_free(docker_volume_obj(item, true));
}

static void as_document(const cJSON *doc)
{
	be_obj_free(docker_container_obj(doc));
	be_obj_free(docker_image_obj(doc));
	be_obj_free(docker_network_obj(doc, false));
	be_obj_free(docker_volume_obj(doc, false));
	struct be_event ev;
	docker_event(doc, &ev);
	free(docker_progress_line(doc));
}

static void as_adopted(const uint8_t *data, size_t size)
{
	char *doc = malloc(size + 1);
	if (!doc)
		return;
	memcpy(doc, data, size);
	doc[size] = '\0';
	for (int kind = 0; kind < CARD_KIND_COUNT; kind++) {
		char *text = NULL;
		size_t len = 0;
		if (ws_adopt_generate(doc, doc, (enum card_kind)kind, &text, &len) != 0)
			continue;
		struct card_diags diags = {0};
		struct card *card = NULL;
		if (kind == CARD_CONTAINER && card_parse(text, len, "adopted", &card, &diags) == 0)
			card_free(card);
		card_diags_free(&diags);
		free(text);
	}
	free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	as_adopted(data, size);
	cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
	const cJSON *item;
	if (cJSON_IsArray(doc)) {
		cJSON_ArrayForEach(item, doc) as_summary(item);
	} else if (doc) {
		as_document(doc);
	}
	cJSON_Delete(doc);
	return 0;
}
