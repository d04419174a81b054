/* The Docker Engine API as a backend (backend.h): Docker, and Podman's Docker-compatible
 * service. Each operation is the engine client's call (engine.h) with its documents decoded
 * into neutral objects (decode.c) or its body built from the card (spec.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docker.h"
#include "engine-int.h" /* engine_list */

struct docker_backend {
	struct backend base; /* first: the core holds a struct backend * */
	struct engine *e;
};

static struct engine *E(struct backend *b)
{
	return ((struct docker_backend *)b)->e;
}

struct engine *docker_engine(struct backend *b)
{
	return E(b);
}

static struct engine_open_opts engine_opts(const struct be_open *o)
{
	return (struct engine_open_opts){.engine = o->engine,
					 .context = o->context,
					 .backend = o->flavour,
					 .tlsverify = o->tlsverify,
					 .tlscacert = o->tlscacert,
					 .tlscert = o->tlscert,
					 .tlskey = o->tlskey,
					 .wait_default = o->wait_default};
}

static int d_check(const struct be_open *o, char *err, size_t errlen)
{
	struct engine_open_opts eo = engine_opts(o);

	return engine_check_opts(&eo, err, errlen);
}

static int d_open(const struct be_open *o, struct backend **out, char *err, size_t errlen)
{
	struct engine_open_opts eo = engine_opts(o);
	struct docker_backend *d = calloc(1, sizeof(*d));
	char why[512] = "";
	int rc;

	if (!d)
		return -ENOMEM;
	rc = engine_open_ex(&eo, &d->e, why, sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "%s", why[0] ? why : strerror(-rc));
		free(d);
		return rc;
	}
	/* Open but not answering: one line that says which endpoint, whence, and why. */
	if (!engine_reachable(d->e) && err && errlen) {
		if (!strcmp(engine_source(d->e), "discovered"))
			snprintf(err, errlen, "no engine answered (%s); waiting on %s", why,
				 engine_endpoint(d->e));
		else
			snprintf(err, errlen, "engine %s (%s) is unreachable: %s",
				 engine_endpoint(d->e), engine_source(d->e), why);
	}
	d->base.ops = &docker_backend_ops;
	*out = &d->base;
	return 0;
}

static void d_close(struct backend *b)
{
	engine_close(E(b));
	free(b);
}

static int d_ping(struct backend *b, char *err, size_t errlen)
{
	return engine_ping(E(b), err, errlen);
}

static bool d_reachable(struct backend *b)
{
	return engine_reachable(E(b));
}

int docker_info(struct backend *b, struct engine *e, char *buf, size_t len)
{
	char caps[160];
	int n = engine_info(e, buf, len);

	backend_caps_text(b->ops->caps, caps, sizeof(caps));
	if (n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, "driver: %s\ncapabilities: %s\n",
			      b->ops->name, caps);
	return n < (int)len ? n : (int)len - 1;
}

static int d_info(struct backend *b, char *buf, size_t len)
{
	return docker_info(b, E(b), buf, len);
}

static unsigned long d_requests(struct backend *b)
{
	return engine_requests(E(b));
}

/* The engine's own clock (GET /info SystemTime), never ours: a remote engine's may be off. */
static int d_clock(struct backend *b, long long *ns, char *err, size_t errlen)
{
	cJSON *info = NULL;
	int rc = engine_request(E(b), "GET", "/info", NULL, &info, err, errlen);

	if (rc == 0 && (*ns = be_time_ns(docker_jstr(info, "SystemTime"))) <= 0) {
		snprintf(err, errlen, "the engine's /info has no SystemTime");
		rc = -EIO;
	}
	cJSON_Delete(info);
	return rc;
}

typedef struct be_obj *(*decode_fn)(const cJSON *item);

static struct be_obj *network_summary(const cJSON *doc)
{
	return docker_network_obj(doc, true);
}

static struct be_obj *volume_summary(const cJSON *doc)
{
	return docker_volume_obj(doc, true);
}

static int d_list(struct backend *b, enum be_kind kind, struct be_obj ***out, size_t *n, char *err,
		  size_t errlen)
{
	cJSON *list = NULL;
	const cJSON *it;
	decode_fn decode;
	int rc;

	switch (kind) {
	case BE_CONTAINER:
		rc = engine_container_list(E(b), NULL, &list, err, errlen);
		decode = docker_container_summary;
		break;
	case BE_NETWORK:
		rc = engine_network_list(E(b), NULL, &list, err, errlen);
		decode = network_summary;
		break;
	case BE_IMAGE:
		rc = engine_list(E(b), "/images/json", NULL, NULL, &list, err, errlen);
		decode = docker_image_summary;
		break;
	case BE_VOLUME:
		rc = engine_volume_list(E(b), NULL, &list, err, errlen);
		decode = volume_summary;
		break;
	default:
		*out = NULL;
		*n = 0;
		return backend_unsupported(b, "services and nodes (a Swarm: -o backend=swarm)", err,
					   errlen);
	}
	*out = NULL;
	*n = 0;
	if (rc == 0 && !(*out = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(**out))))
		rc = -ENOMEM;
	for (it = rc == 0 ? list->child : NULL; it; it = it->next) {
		struct be_obj *o = decode(it);
		if (!o) {
			be_objv_free(*out, *n);
			*out = NULL;
			*n = 0;
			rc = -ENOMEM;
			break;
		}
		(*out)[(*n)++] = o;
	}
	cJSON_Delete(list);
	return rc;
}

static struct be_obj *network_full(const cJSON *doc)
{
	return docker_network_obj(doc, false);
}

static struct be_obj *volume_full(const cJSON *doc)
{
	return docker_volume_obj(doc, false);
}

static int d_inspect(struct backend *b, enum be_kind kind, const char *ref, struct be_obj **out,
		     char *err, size_t errlen)
{
	cJSON *doc = NULL;
	decode_fn decode;
	int rc;

	switch (kind) {
	case BE_CONTAINER:
		rc = engine_container_inspect(E(b), ref, &doc, err, errlen);
		decode = docker_container_obj;
		break;
	case BE_NETWORK:
		rc = engine_network_inspect(E(b), ref, &doc, err, errlen);
		decode = network_full;
		break;
	case BE_IMAGE:
		rc = engine_image_inspect(E(b), ref, &doc, err, errlen);
		decode = docker_image_obj;
		break;
	case BE_VOLUME:
		rc = engine_volume_inspect(E(b), ref, &doc, err, errlen);
		decode = volume_full;
		break;
	default:
		*out = NULL;
		return backend_unsupported(b, "services and nodes (a Swarm: -o backend=swarm)", err,
					   errlen);
	}
	*out = NULL;
	if (rc == 0 && !(*out = decode(doc)))
		rc = -ENOMEM;
	cJSON_Delete(doc);
	return rc;
}

struct watch_ctx {
	be_event_cb cb;
	void *ctx;
};

static int on_event(const cJSON *ev, void *arg)
{
	struct watch_ctx *w = arg;
	struct be_event e;

	return docker_event(ev, &e) ? w->cb(&e, w->ctx) : 0;
}

int docker_watch(struct backend *b, const char *const *types, size_t ntypes, const char *since,
		 const char *until, be_event_cb cb, void *ctx, const atomic_bool *stop, char *err,
		 size_t errlen)
{
	struct watch_ctx w = {cb, ctx};
	cJSON *f = cJSON_CreateObject();
	cJSON *t = f ? cJSON_AddArrayToObject(f, "type") : NULL;
	int rc;

	for (size_t i = 0; t && i < ntypes; i++)
		cJSON_AddItemToArray(t, cJSON_CreateString(types[i]));
	if (!t) {
		cJSON_Delete(f);
		return -ENOMEM;
	}
	rc = engine_events_stream(E(b), since, until, f, on_event, &w, stop, err, errlen);
	cJSON_Delete(f);
	return rc;
}

static int d_watch(struct backend *b, const char *since, const char *until, be_event_cb cb,
		   void *ctx, const atomic_bool *stop, char *err, size_t errlen)
{
	static const char *const types[] = {"container", "network", "image"};

	return docker_watch(b, types, sizeof(types) / sizeof(types[0]), since, until, cb, ctx,
			    stop, err, errlen);
}

static int d_image_pull(struct backend *b, const char *image, const char *tag, be_progress_cb cb,
			void *ctx, int timeout_s, char *err, size_t errlen)
{
	struct docker_progress p;

	docker_progress_init(&p, cb, ctx);
	int rc = engine_image_pull(E(b), image, tag, docker_progress_msg, &p, timeout_s, err,
				   errlen);
	docker_progress_free(&p);
	return rc;
}

static int d_image_tag(struct backend *b, const char *source, const char *repo, const char *tag,
		       char *err, size_t errlen)
{
	return engine_image_tag(E(b), source, repo, tag, err, errlen);
}

static int d_image_build(struct backend *b, const struct be_build *o, be_progress_cb cb,
			 void *ctx, char *id, size_t idlen, char *err, size_t errlen)
{
	struct docker_progress p;
	cJSON *labels = docker_labels(&o->labels);
	cJSON *args = o->build_args && o->build_args->count ? docker_map(o->build_args) : NULL;
	struct engine_build_opts eo = {
	    .context_dir = o->context_dir,
	    .dockerfile = o->dockerfile,
	    .tag = o->tag,
	    .buildargs = args,
	    .labels = labels,
	    .networkmode = o->network_mode,
	    .timeout_s = o->timeout_s,
	};
	docker_progress_init(&p, cb, ctx);
	int rc = engine_image_build(E(b), &eo, docker_progress_msg, &p, id, idlen, err, errlen);

	docker_progress_free(&p);
	cJSON_Delete(labels);
	cJSON_Delete(args);
	return rc;
}

static int d_image_save(struct backend *b, const char *ref, be_bytes_sink sink, void *ctx,
			const atomic_bool *stop, char *err, size_t errlen)
{
	return engine_image_save(E(b), ref, sink, ctx, stop, err, errlen);
}

static int d_image_load(struct backend *b, int fd, be_progress_cb cb, void *ctx, char **loaded,
			char *err, size_t errlen)
{
	struct docker_progress p;

	docker_progress_init(&p, cb, ctx);
	int rc = engine_image_load(E(b), fd, docker_progress_msg, &p, err, errlen);
	if (rc == 0 && !p.loaded) {
		/* A 200 that named nothing loaded nothing the mount could show. */
		engine_seterr(err, errlen, "the engine loaded no image from the archive");
		rc = -EIO;
	}
	*loaded = rc == 0 ? p.loaded : NULL;
	if (rc == 0)
		p.loaded = NULL;
	docker_progress_free(&p);
	return rc;
}

static int d_network_create(struct backend *b, const struct be_network *n, char *id, size_t idlen,
			    bool *created, char *err, size_t errlen)
{
	cJSON *labels = docker_labels(&n->labels);
	int rc = engine_network_create(E(b), n->name, n->driver, n->subnet, n->gateway, labels, id,
				       idlen, created, err, errlen);

	cJSON_Delete(labels);
	return rc;
}

static int d_volume_create(struct backend *b, const struct be_volume *v, bool *created, char *err,
			   size_t errlen)
{
	cJSON *options = v->options && v->options->count ? docker_map(v->options) : NULL;
	cJSON *labels = docker_labels(&v->labels);
	int rc = engine_volume_create(E(b), v->name, v->driver, options, labels, created, err,
				      errlen);

	cJSON_Delete(options);
	cJSON_Delete(labels);
	return rc;
}

static int d_container_create(struct backend *b, const struct be_container *c, char *id,
			      size_t idlen, char *err, size_t errlen)
{
	cJSON *body = NULL;
	int rc = docker_container_body(c, &body, err, errlen);

	if (rc == 0)
		rc = engine_container_create(E(b), c->card->name.s, body, id, idlen, err, errlen);
	cJSON_Delete(body);
	return rc;
}

static int d_ctl(struct backend *b, enum be_kind kind, const char *id, const struct be_ctl *c,
		 char *err, size_t errlen)
{
	if (kind != BE_CONTAINER)
		return backend_unsupported(b, "control of anything but containers", err, errlen);
	switch (c->op) {
	case BE_START:
		return engine_container_start(E(b), id, err, errlen);
	case BE_STOP:
		return engine_container_stop(E(b), id, c->timeout_s, err, errlen);
	case BE_RESTART:
		return engine_container_restart(E(b), id, c->timeout_s, err, errlen);
	case BE_KILL:
		return engine_container_kill(E(b), id, c->signal, err, errlen);
	case BE_PAUSE:
		return engine_container_pause(E(b), id, err, errlen);
	case BE_UNPAUSE:
		return engine_container_unpause(E(b), id, err, errlen);
	default:
		return -EINVAL;
	}
}

static int d_remove(struct backend *b, enum be_kind kind, const char *id, unsigned flags, char *err,
		    size_t errlen)
{
	bool force = flags & BE_RM_FORCE;

	switch (kind) {
	case BE_CONTAINER:
		return engine_container_remove(E(b), id, force, flags & BE_RM_VOLUMES, err, errlen);
	case BE_IMAGE:
		return engine_image_remove(E(b), id, force, err, errlen);
	case BE_NETWORK:
		return engine_network_remove(E(b), id, err, errlen);
	case BE_VOLUME:
		return engine_volume_remove(E(b), id, force, err, errlen);
	default:
		return backend_unsupported(b, "services and nodes (a Swarm: -o backend=swarm)", err,
					   errlen);
	}
}

struct logs_ctx {
	be_log_sink sink;
	void *ctx;
};

static int on_log(enum engine_stream stream, const char *buf, size_t len, void *arg)
{
	struct logs_ctx *l = arg;

	return l->sink(stream == ENGINE_STREAM_STDERR ? BE_STDERR : BE_STDOUT, buf, len, l->ctx);
}

static int d_logs(struct backend *b, const char *id, const struct be_logs *o, be_log_sink sink,
		  void *ctx, char *err, size_t errlen)
{
	struct logs_ctx l = {sink, ctx};

	if (o->follow)
		return engine_container_logs_follow(E(b), id, o->tty, o->since, on_log, &l,
						    o->stop, err, errlen);
	return engine_container_logs(E(b), id, o->tty, on_log, &l, err, errlen);
}

const struct backend_ops docker_backend_ops = {
    .name = "docker",
    .caps = BE_CAP_BUILD | BE_CAP_PAUSE | BE_CAP_SUBNETS | BE_CAP_VOLUMES | BE_CAP_REPLAY |
	    BE_CAP_HEALTH,
    .check = d_check,
    .open = d_open,
    .close = d_close,
    .ping = d_ping,
    .reachable = d_reachable,
    .info = d_info,
    .requests = d_requests,
    .clock = d_clock,
    .list = d_list,
    .inspect = d_inspect,
    .watch = d_watch,
    .image_pull = d_image_pull,
    .image_tag = d_image_tag,
    .image_build = d_image_build,
    .image_save = d_image_save,
    .image_load = d_image_load,
    .network_create = d_network_create,
    .volume_create = d_volume_create,
    .container_create = d_container_create,
    .ctl = d_ctl,
    .remove = d_remove,
    .logs = d_logs,
};
