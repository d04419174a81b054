/* The Swarm driver's internals: the ops table (driver.c) over the Docker driver and its engine
 * client, the decoders of services, tasks and nodes (decode.c), service specs built from
 * cards (spec.c) and service logs (logs.c). Nothing outside backends/swarm/ includes this. */
#ifndef CUTIPFS_BACKENDS_SWARM_SWARM_H
#define CUTIPFS_BACKENDS_SWARM_SWARM_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "backend.h"
#include "engine.h"

/* ---- services, tasks and nodes -> neutral objects (decode.c) ---- */

/* One read of the cluster: the three lists a service's or a node's status is made of. */
struct swarm_view {
	cJSON *services; /* GET /services?status=true */
	cJSON *tasks;	 /* GET /tasks */
	cJSON *nodes;	 /* GET /nodes */
};
int swarm_view_read(struct engine *e, struct swarm_view *v, char *err, size_t errlen);
void swarm_view_free(struct swarm_view *v);
/* Every service (BE_SERVICE) or node (BE_NODE) of the view, in full; malloc'd array. */
int swarm_objs(const struct swarm_view *v, enum be_kind kind, struct be_obj ***out, size_t *n);
/* The name nodes/ gives the node with this id ("?" unknown, "-" none). */
void swarm_node_name(const struct swarm_view *v, const char *id, char *out, size_t len);
/* The task with this id, or NULL. */
const cJSON *swarm_task(const struct swarm_view *v, const char *id);
/* Whether the service with this id is global (a task per node, no slots). */
bool swarm_global(const struct swarm_view *v, const char *service_id);

/* ---- service logs (logs.c) ---- */

/* ops->service_logs (backend.h) on the manager's engine. */
int swarm_service_logs(struct engine *e, const char *id, const struct be_logs *o,
		       be_log_sink sink, void *ctx, char *err, size_t errlen);

/* ---- cards -> service specs (spec.c) ---- */

/* The ServiceSpec of a ContainerCard with @replicas; -EINVAL with err for a command that
 * cannot be split. */
int swarm_service_spec(const struct be_container *c, unsigned replicas, cJSON **out, char *err,
		       size_t errlen);

#endif
