/* The Swarm driver's decoders (backends/swarm/decode.c): the input is {"services": [...],
 * "tasks": [...], "nodes": [...]}, the three lists swarm_view_read reads (and, like it, takes
 * only when all three are arrays); every service and node is decoded. */
#include <cjson/cJSON.h>

#include "fuzz.h"
#include "swarm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
	struct swarm_view v = {
	    .services = cJSON_DetachItemFromObjectCaseSensitive(doc, "services"),
	    .tasks = cJSON_DetachItemFromObjectCaseSensitive(doc, "tasks"),
	    .nodes = cJSON_DetachItemFromObjectCaseSensitive(doc, "nodes"),
	};
	cJSON_Delete(doc);
	if (cJSON_IsArray(v.services) && cJSON_IsArray(v.tasks) && cJSON_IsArray(v.nodes)) {
		static const enum be_kind kinds[] = {BE_SERVICE, BE_NODE};
		for (size_t i = 0; i < 2; i++) {
			struct be_obj **objs = NULL;
			size_t n = 0;
			if (swarm_objs(&v, kinds[i], &objs, &n) == 0)
				be_objv_free(objs, n);
		}
	}
	swarm_view_free(&v);
	return 0;
}
