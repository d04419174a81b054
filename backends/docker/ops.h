/* What the Docker driver gives the rest of cutipfs (driver.c): its ops table, and to the Swarm
 * driver, which speaks the same API on the same connection, the engine client under it. */
#ifndef CUTIPFS_BACKENDS_DOCKER_OPS_H
#define CUTIPFS_BACKENDS_DOCKER_OPS_H

#include "backend.h"

extern const struct backend_ops docker_backend_ops;

struct engine;
/* The engine client of a backend opened by docker_backend_ops. */
struct engine *docker_engine(struct backend *b);

#endif
