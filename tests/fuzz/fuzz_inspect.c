/* The Docker driver's decoders of engine documents (backends/docker/decode.c): a JSON array is
 * a list response, each item given to every summary decoder; anything else an inspect document,
 * given to every full decoder, and to the event and progress-message decoders. */
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "docker.h"
#include "fuzz.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
