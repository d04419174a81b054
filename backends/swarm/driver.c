/* A Docker Swarm as a backend (backend.h): the cluster a manager's Engine API speaks for.
 * Cards become services (service_put), networks attachable overlays; services and nodes are
 * listed, inspected, controlled and removed here. Everything else (the manager node's own
 * containers, images, volumes, events, logs) is the Docker driver's, on the same connection:
 * the Swarm API is that engine's too. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "docker.h"
#include "docker/ops.h"
#include "ops.h"
#include "swarm.h"

struct swarm_backend {
	struct backend base; /* first: the core holds a struct backend * */
	struct backend *docker;
};

static struct backend *D(struct backend *b)
{
	return ((struct swarm_backend *)b)->docker;
}

static struct engine *E(struct backend *b)
{
	return docker_engine(D(b));
}

/* A reachable engine that is no Swarm manager cannot be mounted as one; a named endpoint that
 * does not answer yet is taken as it is (the mount says unreachable until it answers). */
static int check_manager(struct engine *e, char *err, size_t errlen)
{
	cJSON *info = NULL;
	int rc;

	if (!engine_reachable(e))
		return 0;
	if (engine_backend(e) == ENGINE_PODMAN) {
		snprintf(err, errlen, "-o backend=swarm: %s is Podman, which has no Swarm",
			 engine_endpoint(e));
		return -EOPNOTSUPP;
	}
	rc = engine_request(e, "GET", "/info", NULL, &info, err, errlen);
	if (rc < 0)
		return 0; /* it went away meanwhile: as unreachable */
	const cJSON *sw = cJSON_GetObjectItemCaseSensitive(info, "Swarm");
	const char *state = docker_jstr(sw, "LocalNodeState");
	bool manager = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sw, "ControlAvailable"));
	if (!manager)
		snprintf(err, errlen,
			 "-o backend=swarm: %s is not a Swarm manager (swarm: %s); run `docker "
			 "swarm init` there, or mount a manager's endpoint",
			 engine_endpoint(e), *state ? state : "inactive");
	cJSON_Delete(info);
	return manager ? 0 : -EOPNOTSUPP;
}

static int s_check(const struct be_open *o, char *err, size_t errlen)
{
	if (o->flavour && strcmp(o->flavour, "podman") == 0) {
		snprintf(err, errlen, "-o backend=swarm: Podman has no Swarm");
		return -EOPNOTSUPP;
	}
	return docker_backend_ops.check(o, err, errlen);
}

static int s_open(const struct be_open *o, struct backend **out, char *err, size_t errlen)
{
	struct swarm_backend *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return -ENOMEM;
	rc = s_check(o, err, errlen);
	if (rc == 0)
		rc = docker_backend_ops.open(o, &s->docker, err, errlen);
	if (rc == 0)
		rc = check_manager(docker_engine(s->docker), err, errlen);
	if (rc < 0) {
		if (s->docker)
			docker_backend_ops.close(s->docker);
		free(s);
		return rc;
	}
	s->base.ops = &swarm_backend_ops;
	*out = &s->base;
	return 0;
}

static void s_close(struct backend *b)
{
	docker_backend_ops.close(D(b));
	free(b);
}

static int s_ping(struct backend *b, char *err, size_t errlen)
{
	return docker_backend_ops.ping(D(b), err, errlen);
}

static bool s_reachable(struct backend *b)
{
	return docker_backend_ops.reachable(D(b));
}

static int s_info(struct backend *b, char *buf, size_t len)
{
	return docker_info(b, E(b), buf, len);
}

static unsigned long s_requests(struct backend *b)
{
	return docker_backend_ops.requests(D(b));
}

static int s_clock(struct backend *b, long long *ns, char *err, size_t errlen)
{
	return docker_backend_ops.clock(D(b), ns, err, errlen);
}

static int s_list(struct backend *b, enum be_kind kind, struct be_obj ***out, size_t *n,
		  char *err, size_t errlen)
{
	struct swarm_view v;
	int rc;

	if (kind != BE_SERVICE && kind != BE_NODE)
		return docker_backend_ops.list(D(b), kind, out, n, err, errlen);
	*out = NULL;
	*n = 0;
	rc = swarm_view_read(E(b), &v, err, errlen);
	if (rc == 0)
		rc = swarm_objs(&v, kind, out, n);
	swarm_view_free(&v);
	return rc;
}

/* One service or node, by name or id: from a whole view (its status needs the tasks and
 * nodes anyway; three cheap requests). */
static int s_inspect(struct backend *b, enum be_kind kind, const char *ref, struct be_obj **out,
		     char *err, size_t errlen)
{
	struct be_obj **v = NULL;
	size_t n = 0;
	int rc;

	if (kind != BE_SERVICE && kind != BE_NODE)
		return docker_backend_ops.inspect(D(b), kind, ref, out, err, errlen);
	*out = NULL;
	rc = s_list(b, kind, &v, &n, err, errlen);
	for (size_t i = 0; rc == 0 && i < n && !*out; i++)
		if (strcmp(v[i]->name, ref) == 0 || strcmp(v[i]->id, ref) == 0) {
			*out = v[i];
			v[i] = NULL;
		}
	if (rc == 0 && !*out) {
		snprintf(err, errlen, "no such %s: %s", kind == BE_SERVICE ? "service" : "node", ref);
		rc = -ENOENT;
	}
	for (size_t i = 0; i < n; i++)
		be_obj_free(v[i]);
	free(v);
	return rc;
}

static int s_watch(struct backend *b, const char *since, const char *until, be_event_cb cb,
		   void *ctx, const atomic_bool *stop, char *err, size_t errlen)
{
	/* A manager also tells of services and nodes (their changes; a task has no events). */
	static const char *const types[] = {"container", "network", "image", "service", "node"};

	return docker_watch(D(b), types, sizeof(types) / sizeof(types[0]), since, until, cb, ctx,
			    stop, err, errlen);
}

static int s_image_pull(struct backend *b, const char *image, const char *tag, be_progress_cb cb,
			void *ctx, int timeout_s, char *err, size_t errlen)
{
	return docker_backend_ops.image_pull(D(b), image, tag, cb, ctx, timeout_s, err, errlen);
}

static int s_image_tag(struct backend *b, const char *source, const char *repo, const char *tag,
		       char *err, size_t errlen)
{
	return docker_backend_ops.image_tag(D(b), source, repo, tag, err, errlen);
}

static int s_image_build(struct backend *b, const struct be_build *o, be_progress_cb cb,
			 void *ctx, char *id, size_t idlen, char *err, size_t errlen)
{
	return docker_backend_ops.image_build(D(b), o, cb, ctx, id, idlen, err, errlen);
}


/* NetworkCards make attachable overlay networks, the subnet and gateway kept: services
 * attach to them, and so can a plain container on any node. */
static int s_network_create(struct backend *b, const struct be_network *n, char *id, size_t idlen,
			    bool *created, char *err, size_t errlen)
{
	cJSON *body = cJSON_CreateObject(), *resp = NULL;
	int rc;

	if (created)
		*created = false;
	if (!body)
		return -ENOMEM;
	cJSON_AddStringToObject(body, "Name", n->name);
	cJSON_AddStringToObject(body, "Driver", "overlay");
	cJSON_AddTrueToObject(body, "Attachable");
	cJSON_AddTrueToObject(body, "CheckDuplicate");
	if (n->subnet) {
		cJSON *cfg = cJSON_CreateObject();
		cJSON_AddStringToObject(cfg, "Subnet", n->subnet);
		if (n->gateway)
			cJSON_AddStringToObject(cfg, "Gateway", n->gateway);
		cJSON_AddItemToArray(cJSON_AddArrayToObject(cJSON_AddObjectToObject(body, "IPAM"),
							    "Config"),
				     cfg);
	}
	cJSON_AddItemToObject(body, "Labels", docker_labels(&n->labels));
	rc = engine_request(E(b), "POST", "/networks/create", body, &resp, err, errlen);
	if (rc == 0) {
		snprintf(id, idlen, "%s", docker_jstr(resp, "Id"));
		if (created)
			*created = true;
	}
	cJSON_Delete(resp);
	cJSON_Delete(body);
	return rc;
}

static int s_volume_create(struct backend *b, const struct be_volume *v, bool *created, char *err,
			   size_t errlen)
{
	return docker_backend_ops.volume_create(D(b), v, created, err, errlen);
}

static int s_container_create(struct backend *b, const struct be_container *c, char *id,
			      size_t idlen, char *err, size_t errlen)
{
	return docker_backend_ops.container_create(D(b), c, id, idlen, err, errlen);
}

/* GET /KIND/ID: its Version.Index and a copy of its Spec, for an update; and, when @ustate is
 * not NULL, its UpdateStatus.State ("" when it never had an update). */
static int read_spec(struct backend *b, const char *kind, const char *id, long *version,
		     cJSON **spec, char *ustate, size_t ulen, char *err, size_t errlen)
{
	cJSON *doc = NULL;
	int rc = engine_named_call(E(b), "GET", kind, id, NULL, NULL, &doc, err, errlen);

	*spec = NULL;
	if (rc == 0) {
		const cJSON *ver = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(doc, "Version"), "Index");
		*version = cJSON_IsNumber(ver) ? (long)ver->valuedouble : 0;
		*spec = cJSON_DetachItemFromObjectCaseSensitive(doc, "Spec");
		if (ustate)
			snprintf(ustate, ulen, "%s",
				 docker_jstr(cJSON_GetObjectItemCaseSensitive(doc, "UpdateStatus"),
					     "State"));
		if (!*spec)
			rc = -EIO;
	}
	cJSON_Delete(doc);
	return rc;
}

/* POST /KIND/ID/update?version=N[&QUERY] with @spec. */
static int write_spec(struct backend *b, const char *kind, const char *id, long version,
		      const char *query, const cJSON *spec, char *err, size_t errlen)
{
	char tail[160];

	snprintf(tail, sizeof(tail), "/update?version=%ld%s%s", version, query ? "&" : "",
		 query ? query : "");
	return engine_named_call(E(b), "POST", kind, id, tail, spec, NULL, err, errlen);
}

typedef void (*spec_edit)(cJSON *spec, const struct be_ctl *c);

/* Read, edit (or replace with @whole), write: the engine refuses a stale version ("update out
 * of sequence"), so a write that lost a race with another writer is tried again on the newer
 * version. */
static int update(struct backend *b, const char *kind, const char *id, spec_edit edit,
		  const struct be_ctl *c, const cJSON *whole, const char *query, char *err,
		  size_t errlen)
{
	int rc = -EIO;

	for (int attempt = 0; attempt < 3; attempt++) {
		long version = 0;
		cJSON *spec = NULL;
		rc = read_spec(b, kind, id, &version, &spec, NULL, 0, err, errlen);
		if (rc == 0) {
			if (edit)
				edit(spec, c);
			rc = write_spec(b, kind, id, version, query, whole ? whole : spec, err,
					errlen);
		}
		cJSON_Delete(spec);
		if (rc == 0 || !strstr(err ? err : "", "out of sequence"))
			break;
	}
	return rc;
}

static void set_number(cJSON *obj, const char *key, double value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	cJSON_AddNumberToObject(obj, key, value);
}

static cJSON *child(cJSON *obj, const char *key)
{
	cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, key);
	return c ? c : cJSON_AddObjectToObject(obj, key);
}

static void edit_scale(cJSON *spec, const struct be_ctl *c)
{
	set_number(child(child(spec, "Mode"), "Replicated"), "Replicas", c->count);
}

static void edit_redeploy(cJSON *spec, const struct be_ctl *c)
{
	cJSON *tt = child(spec, "TaskTemplate");
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(tt, "ForceUpdate");
	(void)c;
	set_number(tt, "ForceUpdate", (cJSON_IsNumber(f) ? f->valuedouble : 0) + 1);
}

static void edit_availability(cJSON *spec, const struct be_ctl *c)
{
	const char *a = c->op == BE_DRAIN ? "drain" : c->op == BE_NODE_PAUSE ? "pause" : "active";
	cJSON_DeleteItemFromObjectCaseSensitive(spec, "Availability");
	cJSON_AddStringToObject(spec, "Availability", a);
}

static void edit_role(cJSON *spec, const struct be_ctl *c)
{
	cJSON_DeleteItemFromObjectCaseSensitive(spec, "Role");
	cJSON_AddStringToObject(spec, "Role", c->op == BE_PROMOTE ? "manager" : "worker");
}

/* A paused update (the Swarm pauses one whose new tasks fail, update_config's failure_action)
 * goes on when the service is updated again with the same spec, as `docker service update
 * NAME` does. The Engine API has no call that pauses an update in progress. */
static int resume_update(struct backend *b, const char *id, char *err, size_t errlen)
{
	char state[64] = "";
	long version = 0;
	cJSON *spec = NULL;
	int rc = read_spec(b, "services", id, &version, &spec, state, sizeof(state), err, errlen);

	if (rc == 0 && !strstr(state, "paused")) {
		snprintf(err, errlen, "no update of this service is paused (update: %s)",
			 *state ? state : "none");
		rc = -EINVAL;
	}
	if (rc == 0)
		rc = write_spec(b, "services", id, version, NULL, spec, err, errlen);
	cJSON_Delete(spec);
	return rc;
}

static int s_ctl(struct backend *b, enum be_kind kind, const char *id, const struct be_ctl *c,
		 char *err, size_t errlen)
{
	if (kind == BE_CONTAINER)
		return docker_backend_ops.ctl(D(b), kind, id, c, err, errlen);
	if (kind == BE_SERVICE) {
		switch (c->op) {
		case BE_SCALE:
			return update(b, "services", id, edit_scale, c, NULL, NULL, err, errlen);
		case BE_REDEPLOY:
			return update(b, "services", id, edit_redeploy, c, NULL, NULL, err, errlen);
		case BE_ROLLBACK:
			return update(b, "services", id, NULL, c, NULL, "rollback=previous", err, errlen);
		case BE_UPDATE_PAUSE:
			return backend_unsupported(b, "a pause of an update in progress (the Swarm "
						      "pauses one itself when its new tasks fail)",
						   err, errlen);
		case BE_UPDATE_RESUME:
			return resume_update(b, id, err, errlen);
		default:
			return -EINVAL;
		}
	}
	if (kind == BE_NODE) {
		switch (c->op) {
		case BE_DRAIN:
		case BE_NODE_PAUSE:
		case BE_ACTIVATE:
			return update(b, "nodes", id, edit_availability, c, NULL, NULL, err, errlen);
		case BE_PROMOTE:
		case BE_DEMOTE:
			return update(b, "nodes", id, edit_role, c, NULL, NULL, err, errlen);
		default:
			return -EINVAL;
		}
	}
	return -EINVAL;
}

static int s_remove(struct backend *b, enum be_kind kind, const char *id, unsigned flags,
		    char *err, size_t errlen)
{
	if (kind != BE_SERVICE)
		return docker_backend_ops.remove(D(b), kind, id, flags, err, errlen);
	return engine_named_call(E(b), "DELETE", "services", id, NULL, NULL, NULL, err, errlen);
}

static int s_logs(struct backend *b, const char *id, const struct be_logs *o, be_log_sink sink,
		  void *ctx, char *err, size_t errlen)
{
	return docker_backend_ops.logs(D(b), id, o, sink, ctx, err, errlen);
}

static int s_service_put(struct backend *b, const struct be_container *c, unsigned replicas,
			 const char *id, char *out_id, size_t idlen, char *err, size_t errlen)
{
	cJSON *spec = NULL, *resp = NULL;
	int rc = swarm_service_spec(c, replicas, &spec, err, errlen);

	if (rc == 0 && !id) {
		rc = engine_request(E(b), "POST", "/services/create", spec, &resp, err, errlen);
		if (rc == 0)
			snprintf(out_id, idlen, "%s", docker_jstr(resp, "ID"));
	} else if (rc == 0) {
		/* The whole new spec, at the version read just before: a rolling update. */
		rc = update(b, "services", id, NULL, NULL, spec, NULL, err, errlen);
		if (rc == 0)
			snprintf(out_id, idlen, "%s", id);
	}
	cJSON_Delete(resp);
	cJSON_Delete(spec);
	return rc;
}

static int s_service_logs(struct backend *b, const char *id, const struct be_logs *o,
			  be_log_sink sink, void *ctx, char *err, size_t errlen)
{
	return swarm_service_logs(E(b), id, o, sink, ctx, err, errlen);
}

const struct backend_ops swarm_backend_ops = {
    .name = "swarm",
    .caps = BE_CAP_BUILD | BE_CAP_SUBNETS | BE_CAP_VOLUMES | BE_CAP_REPLAY | BE_CAP_HEALTH |
	    BE_CAP_SERVICES,
    .check = s_check,
    .open = s_open,
    .close = s_close,
    .ping = s_ping,
    .reachable = s_reachable,
    .info = s_info,
    .requests = s_requests,
    .clock = s_clock,
    .list = s_list,
    .inspect = s_inspect,
    .watch = s_watch,
    .image_pull = s_image_pull,
    .image_tag = s_image_tag,
    .image_build = s_image_build,
    .network_create = s_network_create,
    .volume_create = s_volume_create,
    .container_create = s_container_create,
    .ctl = s_ctl,
    .remove = s_remove,
    .logs = s_logs,
    .service_put = s_service_put,
    .service_logs = s_service_logs,
};
