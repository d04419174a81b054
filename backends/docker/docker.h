/* The Docker driver's own internals: the backend ops table (driver.c) on top of the engine
 * client (engine.h), the decoders of engine documents (decode.c) and the create bodies built
 * from cards (spec.c). Nothing outside backends/docker/ includes this. */
#ifndef CUTIPFS_BACKENDS_DOCKER_DOCKER_H
#define CUTIPFS_BACKENDS_DOCKER_DOCKER_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "backend.h"
#include "engine.h"
#include "ops.h"

/* ---- engine documents -> neutral objects (decode.c); NULL on ENOMEM ---- */
/* A string member, or "" (never NULL). */
const char *docker_jstr(const cJSON *obj, const char *key);
/* A number member, truncated; 0 when absent or out of range (be_json_int). */
long docker_jnum(const cJSON *obj, const char *key);
struct be_obj *docker_container_obj(const cJSON *inspect);
struct be_obj *docker_container_summary(const cJSON *list_item);
struct be_obj *docker_network_obj(const cJSON *doc, bool summary);
struct be_obj *docker_image_obj(const cJSON *inspect);
struct be_obj *docker_image_summary(const cJSON *list_item);
struct be_obj *docker_volume_obj(const cJSON *doc, bool summary);
/* One event of GET /events; false for kinds the state does not follow. */
bool docker_event(const cJSON *ev, struct be_event *out);
/* A watch cursor: the engine's "secs.nanos". */
void docker_cursor(long long ns, char *buf, size_t len);
/* A progress message as a line a person reads (malloc'd), or NULL for one not worth it. */
char *docker_progress_line(const cJSON *msg);

/* ---- progress streams -> lines and counts (tally.c) ---- */
struct docker_layer;
struct docker_progress {
	be_progress_cb cb; /* may be NULL */
	void *ctx;
	struct be_progress now;	     /* the counts so far */
	struct docker_layer *layers; /* every layer the stream named */
	size_t nlayers, cap;
	char *loaded; /* a load's: "web:latest\n..." as its stream named them, or NULL */
};
void docker_progress_init(struct docker_progress *p, be_progress_cb cb, void *ctx);
/* An engine_msg_cb: the message's line and the counts to p->cb, when either is news. */
int docker_progress_msg(const cJSON *msg, void *p);
void docker_progress_free(struct docker_progress *p);

/* The labels of an engine document into o->labels; -ENOMEM. */
int docker_take_labels(struct be_obj *o, const cJSON *labels);
/* The engine file of backend @b on engine @e: the client's lines, then the driver's name and
 * capabilities (b->ops), as the Swarm driver shows them too. */
int docker_info(struct backend *b, struct engine *e, char *buf, size_t len);

/* ---- cards -> request bodies (spec.c) ---- */
/* {"k":"v",...} of labels. */
cJSON *docker_labels(const struct be_labels *l);
/* {"k":"v",...} of a card map. */
cJSON *docker_map(const struct card_map *m);
/* A container's labels: the card's, then cutipfs's own over them (a card cannot set those). */
cJSON *docker_card_labels(const struct card_container_spec *c, const struct be_labels *own);
/* A card's healthcheck as the Engine API's HealthConfig (durations in ns). */
cJSON *docker_healthcheck(const struct card_healthcheck *h);
/* A card's command split as a shell would, as the array @key of @obj ("Cmd"; a service's
 * "Args"); -EINVAL with err when it cannot be split. */
int docker_add_argv(cJSON *obj, const char *key, const char *command, char *err, size_t errlen);
/* The environment as "Env": ["K=V", ...]. */
int docker_add_env(cJSON *obj, const struct card_map *environment);
/* One {"Type","Source","Target","ReadOnly"} into @mounts. */
void docker_add_mount(cJSON *mounts, const char *type, const char *source, const char *target,
		      bool read_only);
/* The card's mounts and volumes as "Mounts" in @obj (a HostConfig, or a service's
 * ContainerSpec: the same shape); -ENOMEM. */
int docker_add_mounts(cJSON *obj, const struct be_container *b);
/* The create body: Config + HostConfig + NetworkingConfig; -EINVAL with err for a command
 * that cannot be split. */
int docker_container_body(const struct be_container *c, cJSON **out, char *err, size_t errlen);

#endif
