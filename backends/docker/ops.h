/* The one name the Docker driver gives the rest of cutipfs: its ops table (driver.c). */
#ifndef CUTIPFS_BACKENDS_DOCKER_OPS_H
#define CUTIPFS_BACKENDS_DOCKER_OPS_H

#include "backend.h"

extern const struct backend_ops docker_backend_ops;

#endif
