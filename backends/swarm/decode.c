/* Services, tasks and nodes -> the backend's neutral objects (backend.h). A service's status is
 * what `docker service ls` and `docker service ps` would say together: its replicas, its
 * update, its tasks newest first, and the nodes a task could not start on for want of the
 * image (a built or loaded image exists on the manager alone). A node is known by its
 * hostname, with its short id appended when two nodes share one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docker.h"
#include "swarm.h"

static const cJSON *jobj(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

int swarm_view_read(struct engine *e, struct swarm_view *v, char *err, size_t errlen)
{
	int rc;

	memset(v, 0, sizeof(*v));
	rc = engine_request(e, "GET", "/services?status=true", NULL, &v->services, err, errlen);
	if (rc == 0)
		rc = engine_request(e, "GET", "/tasks", NULL, &v->tasks, err, errlen);
	if (rc == 0)
		rc = engine_request(e, "GET", "/nodes", NULL, &v->nodes, err, errlen);
	if (rc == 0 && (!cJSON_IsArray(v->services) || !cJSON_IsArray(v->tasks) ||
			!cJSON_IsArray(v->nodes))) {
		snprintf(err, errlen, "the engine's swarm lists are not arrays");
		rc = -EIO;
	}
	if (rc < 0)
		swarm_view_free(v);
	return rc;
}

void swarm_view_free(struct swarm_view *v)
{
	cJSON_Delete(v->services);
	cJSON_Delete(v->tasks);
	cJSON_Delete(v->nodes);
	memset(v, 0, sizeof(*v));
}

/* The name a node goes by: its hostname, or hostname-<short id> when another node has it. */
static void node_name(const struct swarm_view *v, const cJSON *node, char *out, size_t len)
{
	const char *host = docker_jstr(jobj(node, "Description"), "Hostname");
	const cJSON *other;
	int same = 0;

	cJSON_ArrayForEach(other, v->nodes) same +=
	    strcmp(docker_jstr(jobj(other, "Description"), "Hostname"), host) == 0;
	if (same > 1 || !*host)
		snprintf(out, len, "%s%s%.12s", host, *host ? "-" : "", docker_jstr(node, "ID"));
	else
		snprintf(out, len, "%s", host);
}

static const cJSON *node_by_id(const struct swarm_view *v, const char *id)
{
	const cJSON *n;

	cJSON_ArrayForEach(n, v->nodes) if (strcmp(docker_jstr(n, "ID"), id) == 0) return n;
	return NULL;
}

void swarm_node_name(const struct swarm_view *v, const char *id, char *out, size_t len)
{
	const cJSON *n = node_by_id(v, id);

	if (n)
		node_name(v, n, out, len);
	else
		snprintf(out, len, "%s", *id ? "?" : "-");
}

const cJSON *swarm_task(const struct swarm_view *v, const char *id)
{
	const cJSON *t;

	cJSON_ArrayForEach(t, v->tasks) if (strcmp(docker_jstr(t, "ID"), id) == 0) return t;
	return NULL;
}

bool swarm_global(const struct swarm_view *v, const char *service_id)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, v->services) if (strcmp(docker_jstr(s, "ID"), service_id) == 0) return jobj(jobj(jobj(s, "Spec"), "Mode"), "Global") != NULL;
	return false;
}

/* Tasks of a service, newest first (by their status timestamp: RFC 3339 sorts as text). */
static int by_time_desc(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	return strcmp(docker_jstr(jobj(y, "Status"), "Timestamp"), docker_jstr(jobj(x, "Status"), "Timestamp"));
}

struct service_tasks {
	const cJSON **v;
	size_t n;
	long running;
	bool failing;	      /* the newest task of some slot failed or was rejected */
	char missing[256];    /* nodes a task failed on for want of the image */
};

static bool no_image(const char *err)
{
	return strstr(err, "No such image") || strstr(err, "No such container: image") ||
	       strstr(err, "not found") || strstr(err, "does not exist");
}

static int gather_tasks(const struct swarm_view *v, const char *service_id,
			struct service_tasks *t)
{
	const cJSON *task;
	size_t cap = (size_t)cJSON_GetArraySize(v->tasks);

	memset(t, 0, sizeof(*t));
	if (cap && !(t->v = calloc(cap, sizeof(*t->v))))
		return -ENOMEM;
	cJSON_ArrayForEach(task, v->tasks)
	{
		if (strcmp(docker_jstr(task, "ServiceID"), service_id) != 0)
			continue;
		t->v[t->n++] = task;
		const cJSON *st = jobj(task, "Status");
		if (strcmp(docker_jstr(st, "State"), "running") == 0 &&
		    strcmp(docker_jstr(task, "DesiredState"), "running") == 0)
			t->running++;
	}
	qsort(t->v, t->n, sizeof(*t->v), by_time_desc);
	/* The newest task of each slot (or node, for a global service) says how it goes. */
	for (size_t i = 0; i < t->n; i++) {
		const cJSON *st = jobj(t->v[i], "Status");
		const char *state = docker_jstr(st, "State");
		bool newest = true;
		for (size_t k = 0; k < i && newest; k++)
			newest = docker_jnum(t->v[k], "Slot") != docker_jnum(t->v[i], "Slot") ||
				 strcmp(docker_jstr(t->v[k], "NodeID"), docker_jstr(t->v[i], "NodeID")) != 0;
		if (!newest || (strcmp(state, "failed") != 0 && strcmp(state, "rejected") != 0))
			continue;
		t->failing = true;
		char node[128];
		swarm_node_name(v, docker_jstr(t->v[i], "NodeID"), node, sizeof(node));
		if (no_image(docker_jstr(st, "Err")) && !strstr(t->missing, node)) {
			size_t used = strlen(t->missing);
			snprintf(t->missing + used, sizeof(t->missing) - used, "%s%s",
				 used ? ", " : "", node);
		}
	}
	return 0;
}

static char *tasks_text(const struct swarm_view *v, const struct service_tasks *t)
{
	char *text = NULL, node[128];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < t->n; i++) {
		const cJSON *task = t->v[i], *st = jobj(task, "Status");
		const char *errs = docker_jstr(st, "Err");
		swarm_node_name(v, docker_jstr(task, "NodeID"), node, sizeof(node));
		fprintf(f, "%.12s %ld %s %s %s%s%s\n", docker_jstr(task, "ID"), docker_jnum(task, "Slot"), node,
			docker_jstr(task, "DesiredState"), docker_jstr(st, "State"), *errs ? " " : "", errs);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* The first line of a service's status. */
static const char *service_state(long desired, const struct service_tasks *t,
				 const char *update)
{
	if (strstr(update, "paused"))
		return "paused";
	if (t->running == desired && strcmp(update, "updating") != 0 &&
	    strcmp(update, "rollback_started") != 0)
		return "running";
	if (t->failing)
		return "failed";
	if (!t->running && !t->n)
		return "pending";
	return "converging";
}

static struct be_obj *service_obj(const struct swarm_view *v, const cJSON *svc)
{
	const cJSON *spec = jobj(svc, "Spec"), *mode = jobj(spec, "Mode");
	const cJSON *status = jobj(svc, "ServiceStatus"), *us = jobj(svc, "UpdateStatus");
	const char *image = docker_jstr(jobj(jobj(spec, "TaskTemplate"), "ContainerSpec"), "Image");
	const char *update = *docker_jstr(us, "State") ? docker_jstr(us, "State") : "completed";
	bool global = jobj(mode, "Global") != NULL;
	struct be_obj *o = calloc(1, sizeof(*o));
	struct service_tasks t;
	char img[256];
	size_t len = 0;

	if (!o || gather_tasks(v, docker_jstr(svc, "ID"), &t) < 0) {
		free(o);
		return NULL;
	}
	long desired = status ? docker_jnum(status, "DesiredTasks")
			      : docker_jnum(jobj(mode, "Replicated"), "Replicas");
	o->kind = BE_SERVICE;
	snprintf(o->id, sizeof(o->id), "%s", docker_jstr(svc, "ID"));
	snprintf(o->name, sizeof(o->name), "%s", docker_jstr(spec, "Name"));
	snprintf(o->state, sizeof(o->state), "%s", service_state(desired, &t, update));
	/* "cutipfs-busybox:latest@sha256:..." as `docker service ls` shows it: without the digest. */
	snprintf(img, sizeof(img), "%s", be_image_short(image));
	img[strcspn(img, "@")] = '\0';
	snprintf(o->image, sizeof(o->image), "%s", img);
	o->created = (time_t)(be_time_ns(docker_jstr(svc, "CreatedAt")) / 1000000000LL);
	FILE *f = open_memstream(&o->details, &len);
	if (f) {
		fprintf(f, "id: %s\nreplicas: %ld/%ld\nimage: %s\nmode: %s\nupdate: %s\n", o->id,
			t.running, desired, img, global ? "global" : "replicated", update);
		if (*docker_jstr(us, "Message"))
			fprintf(f, "update_message: %s\n", docker_jstr(us, "Message"));
		if (t.missing[0])
			fprintf(f, "reason: the image %s is not on %s (built or loaded on one node; "
				   "push it to a registry, or load it on every node)\n",
				img, t.missing);
		if (fclose(f) != 0)
			o->details = NULL;
	}
	bool ok = docker_take_labels(o, jobj(spec, "Labels")) == 0;
	o->tasks = tasks_text(v, &t);
	o->inspect = cJSON_PrintUnformatted(svc);
	free(t.v);
	if (!ok || !o->details || !o->tasks || !o->inspect) {
		be_obj_free(o);
		return NULL;
	}
	return o;
}

static struct be_obj *node_obj(const struct swarm_view *v, const cJSON *node)
{
	const cJSON *spec = jobj(node, "Spec"), *st = jobj(node, "Status");
	const cJSON *ms = jobj(node, "ManagerStatus"), *task;
	struct be_obj *o = calloc(1, sizeof(*o));
	size_t len = 0;
	long running = 0;

	if (!o)
		return NULL;
	cJSON_ArrayForEach(task, v->tasks) running +=
	    strcmp(docker_jstr(task, "NodeID"), docker_jstr(node, "ID")) == 0 &&
	    strcmp(docker_jstr(jobj(task, "Status"), "State"), "running") == 0;
	o->kind = BE_NODE;
	snprintf(o->id, sizeof(o->id), "%s", docker_jstr(node, "ID"));
	node_name(v, node, o->name, sizeof(o->name));
	snprintf(o->state, sizeof(o->state), "%s", *docker_jstr(st, "State") ? docker_jstr(st, "State") : "unknown");
	snprintf(o->health, sizeof(o->health), "%s", docker_jstr(spec, "Availability"));
	o->created = (time_t)(be_time_ns(docker_jstr(node, "CreatedAt")) / 1000000000LL);
	FILE *f = open_memstream(&o->details, &len);
	if (f) {
		fprintf(f, "id: %s\nrole: %s\navailability: %s\nleader: %s\nengine: %s\n"
			   "address: %s\ntasks: %ld running\n",
			o->id, docker_jstr(spec, "Role"), docker_jstr(spec, "Availability"),
			cJSON_IsTrue(jobj(ms, "Leader")) ? "yes" : "no",
			docker_jstr(jobj(jobj(node, "Description"), "Engine"), "EngineVersion"),
			docker_jstr(st, "Addr"), running);
		if (*docker_jstr(st, "Message"))
			fprintf(f, "message: %s\n", docker_jstr(st, "Message"));
		if (fclose(f) != 0)
			o->details = NULL;
	}
	bool ok = docker_take_labels(o, jobj(spec, "Labels")) == 0;
	o->inspect = cJSON_PrintUnformatted(node);
	if (!ok || !o->details || !o->inspect) {
		be_obj_free(o);
		return NULL;
	}
	return o;
}

int swarm_objs(const struct swarm_view *v, enum be_kind kind, struct be_obj ***out, size_t *n)
{
	const cJSON *list = kind == BE_SERVICE ? v->services : v->nodes, *it;

	*n = 0;
	*out = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	cJSON_ArrayForEach(it, list)
	{
		struct be_obj *o = kind == BE_SERVICE ? service_obj(v, it) : node_obj(v, it);
		if (!o) {
			be_objv_free(*out, *n);
			*out = NULL;
			*n = 0;
			return -ENOMEM;
		}
		(*out)[(*n)++] = o;
	}
	return 0;
}
