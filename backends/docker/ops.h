/* What the Docker driver gives the rest of cutipfs (driver.c): its ops table, and to the Swarm
 * driver, which speaks the same API on the same connection, the engine client under it. */
#ifndef CUTIPFS_BACKENDS_DOCKER_OPS_H
#define CUTIPFS_BACKENDS_DOCKER_OPS_H

#include "backend.h"

extern const struct backend_ops docker_backend_ops;

struct engine;
/* The engine client of a backend opened by docker_backend_ops. */
struct engine *docker_engine(struct backend *b);
/* ops->watch over the event types named (the Engine API's "type" filter). */
int docker_watch(struct backend *b, const char *const *types, size_t ntypes, const char *since,
		 const char *until, be_event_cb cb, void *ctx, const atomic_bool *stop, char *err,
		 size_t errlen);

#endif
