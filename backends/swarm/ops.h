/* The one name the Swarm driver gives the rest of cutipfs: its ops table (driver.c). */
#ifndef CUTIPFS_BACKENDS_SWARM_OPS_H
#define CUTIPFS_BACKENDS_SWARM_OPS_H

#include "backend.h"

extern const struct backend_ops swarm_backend_ops;

#endif
