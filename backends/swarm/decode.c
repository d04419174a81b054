/* Services, tasks and nodes -> the backend's neutral objects (backend.h). A service's status is
 * what `docker service ls` and `docker service ps` would say together: its replicas, its
 * update, its tasks newest first, and the nodes a task could not start on for want of the
 * image (a built or loaded image exists on the manager alone). A node is known by its
 * hostname, with its short id appended when two nodes share one. Each call of swarm_objs
 * indexes the view once (nodes by id, tasks by service or node), so that it costs O(n log n). */
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
	if (rc == 0 &&
	    (!cJSON_IsArray(v->services) || !cJSON_IsArray(v->tasks) || !cJSON_IsArray(v->nodes))) {
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

/* The name a node goes by: its hostname, or hostname-<short id> when another node has it
 * (@shared) or it has none. */
static void name_node(const char *host, const char *id, bool shared, char *out, size_t len)
{
	if (shared || !*host)
		snprintf(out, len, "%s%s%.12s", host, *host ? "-" : "", id);
	else
		snprintf(out, len, "%s", host);
}

static void node_name(const struct swarm_view *v, const cJSON *node, char *out, size_t len)
{
	const char *host = docker_jstr(jobj(node, "Description"), "Hostname");
	const cJSON *other;
	int same = 0;

	cJSON_ArrayForEach(other, v->nodes)
	{
		same += strcmp(docker_jstr(jobj(other, "Description"), "Hostname"), host) == 0;
	}
	name_node(host, docker_jstr(node, "ID"), same > 1, out, len);
}

static const cJSON *node_by_id(const struct swarm_view *v, const char *id)
{
	const cJSON *n;

	cJSON_ArrayForEach(n, v->nodes)
	{
		if (strcmp(docker_jstr(n, "ID"), id) == 0)
			return n;
	}
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

	cJSON_ArrayForEach(t, v->tasks)
	{
		if (strcmp(docker_jstr(t, "ID"), id) == 0)
			return t;
	}
	return NULL;
}

bool swarm_global(const struct swarm_view *v, const char *service_id)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, v->services)
	{
		if (strcmp(docker_jstr(s, "ID"), service_id) == 0)
			return jobj(jobj(jobj(s, "Spec"), "Mode"), "Global") != NULL;
	}
	return false;
}

/* One call of swarm_objs looks nodes and tasks up through this index, built once, so that a
 * view of n services, tasks and nodes costs O(n log n) rather than a scan of a list for each
 * object or task. Its strings are borrowed from the view. */
#define NODE_NAME_LEN 128 /* be_obj's name, and the node of a task's line */

/* A node or a task under a key: a node's Hostname while names are worked out, then its ID; a
 * task's ServiceID, or NodeID for nodes. */
struct ref {
	const char *key;
	const cJSON *obj;
	size_t at; /* its place in v->nodes or v->tasks */
};

/* What a service's status takes from its tasks, worked out once for each service id (a view
 * may give several services one id). */
struct service_tasks {
	size_t n;
	long running;
	bool failing;	   /* the newest task of some slot failed or was rejected */
	char missing[256]; /* nodes a task failed on for want of the image */
	char *text;	   /* one line per task, newest first: be_obj's tasks */
};

/* The tasks of one key: consecutive in swarm_index.tasks, in the order of v->tasks. */
struct task_group {
	const char *key;
	size_t first, n;
	long running; /* for nodes: those whose state is running */
	bool done;    /* for services: st is worked out */
	struct service_tasks st;
};

struct swarm_index {
	char (*names)[NODE_NAME_LEN]; /* the name of each node, by its place in v->nodes */
	struct ref *ids;	      /* the first node of each id, by id */
	size_t nids;
	struct ref *tasks;	   /* by key, then place */
	struct task_group *groups; /* one per key, by key */
	size_t ngroups;
};

/* Ties keep the order of the list, so that the first of equal keys is the one a scan finds. */
static int ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : (x->at > y->at) - (x->at < y->at);
}

static int ref_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct ref *)elem)->key);
}

static int group_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct task_group *)elem)->key);
}

static void index_free(struct swarm_index *x)
{
	for (size_t i = 0; i < x->ngroups; i++)
		free(x->groups[i].st.text);
	free(x->names);
	free(x->ids);
	free(x->tasks);
	free(x->groups);
	memset(x, 0, sizeof(*x));
}

/* Every node's name, as node_name gives it, and the first node of each id. */
static int index_nodes(const struct swarm_view *v, struct swarm_index *x)
{
	size_t n = (size_t)cJSON_GetArraySize(v->nodes);
	const cJSON *node;

	if (!n)
		return 0;
	x->names = calloc(n, sizeof(*x->names));
	x->ids = calloc(n, sizeof(*x->ids));
	if (!x->names || !x->ids)
		return -ENOMEM;
	n = 0;
	cJSON_ArrayForEach(node, v->nodes)
	{
		x->ids[n].key = docker_jstr(jobj(node, "Description"), "Hostname");
		x->ids[n].obj = node;
		x->ids[n].at = n;
		n++;
	}
	/* Sorted by hostname, the nodes sharing one are a run. */
	qsort(x->ids, n, sizeof(*x->ids), ref_cmp);
	for (size_t run = 0, end; run < n; run = end) {
		const char *host = x->ids[run].key;
		for (end = run + 1; end < n && strcmp(x->ids[end].key, host) == 0; end++)
			;
		for (size_t k = run; k < end; k++) {
			const char *id = docker_jstr(x->ids[k].obj, "ID");
			name_node(host, id, end - run > 1, x->names[x->ids[k].at], NODE_NAME_LEN);
			x->ids[k].key = id;
		}
	}
	/* Sorted by id, the first of each run is the node node_by_id finds. */
	qsort(x->ids, n, sizeof(*x->ids), ref_cmp);
	x->nids = 0;
	for (size_t k = 0; k < n; k++)
		if (!x->nids || strcmp(x->ids[k].key, x->ids[x->nids - 1].key) != 0)
			x->ids[x->nids++] = x->ids[k];
	return 0;
}

/* The tasks grouped by @key (ServiceID or NodeID); for nodes, how many of each run. */
static int index_tasks(const struct swarm_view *v, const char *key, struct swarm_index *x)
{
	size_t n = (size_t)cJSON_GetArraySize(v->tasks);
	const cJSON *task;

	if (!n)
		return 0;
	x->tasks = calloc(n, sizeof(*x->tasks));
	x->groups = calloc(n, sizeof(*x->groups));
	if (!x->tasks || !x->groups)
		return -ENOMEM;
	n = 0;
	cJSON_ArrayForEach(task, v->tasks)
	{
		x->tasks[n].key = docker_jstr(task, key);
		x->tasks[n].obj = task;
		x->tasks[n].at = n;
		n++;
	}
	qsort(x->tasks, n, sizeof(*x->tasks), ref_cmp);
	for (size_t k = 0; k < n; k++) {
		struct task_group *g = &x->groups[x->ngroups];
		if (!x->ngroups || strcmp(x->tasks[k].key, g[-1].key) != 0) {
			g->key = x->tasks[k].key;
			g->first = k;
			x->ngroups++;
		}
		g = &x->groups[x->ngroups - 1];
		g->n++;
		g->running +=
		    strcmp(docker_jstr(jobj(x->tasks[k].obj, "Status"), "State"), "running") == 0;
	}
	return 0;
}

static struct task_group *group_of(const struct swarm_index *x, const char *key)
{
	return x->ngroups ? bsearch(key, x->groups, x->ngroups, sizeof(*x->groups), group_key_cmp)
			  : NULL;
}

/* swarm_node_name through the index. */
static const char *index_node_name(const struct swarm_index *x, const char *id)
{
	const struct ref *r =
	    x->nids ? bsearch(id, x->ids, x->nids, sizeof(*x->ids), ref_key_cmp) : NULL;

	if (r)
		return x->names[r->at];
	return *id ? "?" : "-";
}

/* A task of the service being decoded, with what its ordering reads (looked up once). */
struct stask {
	const cJSON *task;
	const char *time; /* Status.Timestamp */
	const char *node; /* NodeID */
	long slot;
	size_t at;   /* its place among the service's tasks in v->tasks */
	bool newest; /* the newest task of its slot (or node, for a global service) */
};

/* Tasks of a service, newest first (by their status timestamp: RFC 3339 sorts as text); tasks
 * of one timestamp in the order of v->tasks, whichever qsort the libc has. */
static int by_time_desc(const void *a, const void *b)
{
	const struct stask *x = a, *y = b;
	int c = strcmp(y->time, x->time);

	return c ? c : (x->at > y->at) - (x->at < y->at);
}

/* By slot and node, and newest first within one: the first of each run is its newest. */
static int by_slot(const void *a, const void *b)
{
	const struct stask *x = *(const struct stask *const *)a;
	const struct stask *y = *(const struct stask *const *)b;
	int c = (x->slot > y->slot) - (x->slot < y->slot);

	if (!c)
		c = strcmp(x->node, y->node);
	return c ? c : (x > y) - (x < y);
}

static bool no_image(const char *err)
{
	return strstr(err, "No such image") || strstr(err, "No such container: image") ||
	       strstr(err, "not found") || strstr(err, "does not exist");
}

static char *tasks_text(const struct swarm_index *x, const struct stask *v, size_t n)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const cJSON *task = v[i].task, *st = jobj(task, "Status");
		const char *errs = docker_jstr(st, "Err");
		fprintf(f, "%.12s %ld %s %s %s%s%s\n", docker_jstr(task, "ID"), v[i].slot,
			index_node_name(x, v[i].node), docker_jstr(task, "DesiredState"),
			docker_jstr(st, "State"), *errs ? " " : "", errs);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* The tasks of group @g (tasks by ServiceID) into t; -ENOMEM. */
static int gather_tasks(const struct swarm_index *x, const struct task_group *g,
			struct service_tasks *t)
{
	struct stask *v = NULL, **by = NULL;
	int rc = -ENOMEM;

	memset(t, 0, sizeof(*t));
	if (g && (!(v = calloc(g->n, sizeof(*v))) || !(by = calloc(g->n, sizeof(*by)))))
		goto out;
	for (size_t i = 0; g && i < g->n; i++) {
		const cJSON *task = x->tasks[g->first + i].obj, *st = jobj(task, "Status");
		v[t->n++] = (struct stask){.task = task,
					   .time = docker_jstr(st, "Timestamp"),
					   .node = docker_jstr(task, "NodeID"),
					   .slot = docker_jnum(task, "Slot"),
					   .at = i};
		if (strcmp(docker_jstr(st, "State"), "running") == 0 &&
		    strcmp(docker_jstr(task, "DesiredState"), "running") == 0)
			t->running++;
	}
	if (t->n)
		qsort(v, t->n, sizeof(*v), by_time_desc);
	for (size_t i = 0; i < t->n; i++)
		by[i] = &v[i];
	if (t->n)
		qsort(by, t->n, sizeof(*by), by_slot);
	for (size_t i = 0; i < t->n; i++)
		by[i]->newest = i == 0 || by[i - 1]->slot != by[i]->slot ||
				strcmp(by[i - 1]->node, by[i]->node) != 0;
	/* The newest task of each slot (or node, for a global service) says how it goes. */
	for (size_t i = 0; i < t->n; i++) {
		const cJSON *st = jobj(v[i].task, "Status");
		const char *state = docker_jstr(st, "State");
		if (!v[i].newest ||
		    (strcmp(state, "failed") != 0 && strcmp(state, "rejected") != 0))
			continue;
		t->failing = true;
		const char *node = index_node_name(x, v[i].node);
		if (no_image(docker_jstr(st, "Err")) && !strstr(t->missing, node)) {
			size_t used = strlen(t->missing);
			snprintf(t->missing + used, sizeof(t->missing) - used, "%s%s",
				 used ? ", " : "", node);
		}
	}
	if ((t->text = tasks_text(x, v, t->n)))
		rc = 0;
out:
	free(v);
	free(by);
	return rc;
}

/* The first line of a service's status. */
static const char *service_state(long desired, const struct service_tasks *t, const char *update)
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

/* The tasks of the service with this id, worked out on its first service. */
static const struct service_tasks *service_tasks(struct swarm_index *x, const char *id,
						 struct service_tasks *none)
{
	struct task_group *g = group_of(x, id);

	if (!g) {
		if (!none->text && gather_tasks(x, NULL, none) < 0)
			return NULL;
		return none;
	}
	if (!g->done) {
		if (gather_tasks(x, g, &g->st) < 0)
			return NULL;
		g->done = true;
	}
	return &g->st;
}

static struct be_obj *service_obj(struct swarm_index *x, struct service_tasks *none,
				  const cJSON *svc)
{
	const cJSON *spec = jobj(svc, "Spec"), *mode = jobj(spec, "Mode");
	const cJSON *status = jobj(svc, "ServiceStatus"), *us = jobj(svc, "UpdateStatus");
	const char *image = docker_jstr(jobj(jobj(spec, "TaskTemplate"), "ContainerSpec"), "Image");
	const char *ustate = docker_jstr(us, "State"), *umsg = docker_jstr(us, "Message");
	const char *update = *ustate ? ustate : "completed";
	bool global = jobj(mode, "Global") != NULL;
	struct be_obj *o = calloc(1, sizeof(*o));
	const struct service_tasks *t;
	char img[256];
	size_t len = 0;

	if (!o || !(t = service_tasks(x, docker_jstr(svc, "ID"), none))) {
		free(o);
		return NULL;
	}
	long desired = status ? docker_jnum(status, "DesiredTasks")
			      : docker_jnum(jobj(mode, "Replicated"), "Replicas");
	o->kind = BE_SERVICE;
	snprintf(o->id, sizeof(o->id), "%s", docker_jstr(svc, "ID"));
	snprintf(o->name, sizeof(o->name), "%s", docker_jstr(spec, "Name"));
	snprintf(o->state, sizeof(o->state), "%s", service_state(desired, t, update));
	/* "cutipfs-busybox:latest@sha256:..." as `docker service ls` shows it: without the
	 * digest. */
	snprintf(img, sizeof(img), "%s", be_image_short(image));
	img[strcspn(img, "@")] = '\0';
	snprintf(o->image, sizeof(o->image), "%s", img);
	o->created = (time_t)(be_time_ns(docker_jstr(svc, "CreatedAt")) / 1000000000LL);
	FILE *f = open_memstream(&o->details, &len);
	if (f) {
		fprintf(f, "id: %s\nreplicas: %ld/%ld\nimage: %s\nmode: %s\nupdate: %s\n", o->id,
			t->running, desired, img, global ? "global" : "replicated", update);
		if (*umsg)
			fprintf(f, "update_message: %s\n", umsg);
		if (t->missing[0])
			fprintf(f,
				"reason: the image %s is not on %s (built or loaded on one node; "
				"push it to a registry, or load it on every node)\n",
				img, t->missing);
		if (fclose(f) != 0)
			o->details = NULL;
	}
	bool ok = docker_take_labels(o, jobj(spec, "Labels")) == 0;
	o->tasks = strdup(t->text);
	o->inspect = cJSON_PrintUnformatted(svc);
	if (!ok || !o->details || !o->tasks || !o->inspect) {
		be_obj_free(o);
		return NULL;
	}
	return o;
}

/* The node at place @at of v->nodes. */
static struct be_obj *node_obj(const struct swarm_index *x, const cJSON *node, size_t at)
{
	const cJSON *spec = jobj(node, "Spec"), *st = jobj(node, "Status");
	const cJSON *ms = jobj(node, "ManagerStatus");
	const struct task_group *g = group_of(x, docker_jstr(node, "ID"));
	const char *state = docker_jstr(st, "State"), *msg = docker_jstr(st, "Message");
	const char *avail = docker_jstr(spec, "Availability");
	struct be_obj *o = calloc(1, sizeof(*o));
	size_t len = 0;

	if (!o)
		return NULL;
	o->kind = BE_NODE;
	snprintf(o->id, sizeof(o->id), "%s", docker_jstr(node, "ID"));
	snprintf(o->name, sizeof(o->name), "%s", x->names[at]);
	snprintf(o->state, sizeof(o->state), "%s", *state ? state : "unknown");
	snprintf(o->health, sizeof(o->health), "%s", avail);
	o->created = (time_t)(be_time_ns(docker_jstr(node, "CreatedAt")) / 1000000000LL);
	FILE *f = open_memstream(&o->details, &len);
	if (f) {
		fprintf(f,
			"id: %s\nrole: %s\navailability: %s\nleader: %s\nengine: %s\n"
			"address: %s\ntasks: %ld running\n",
			o->id, docker_jstr(spec, "Role"), avail,
			cJSON_IsTrue(jobj(ms, "Leader")) ? "yes" : "no",
			docker_jstr(jobj(jobj(node, "Description"), "Engine"), "EngineVersion"),
			docker_jstr(st, "Addr"), g ? g->running : 0);
		if (*msg)
			fprintf(f, "message: %s\n", msg);
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
	struct swarm_index x = {0};
	struct service_tasks none = {0};
	size_t at = 0;
	int rc = -ENOMEM;

	*n = 0;
	*out = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(**out));
	if (!*out || index_nodes(v, &x) < 0 ||
	    index_tasks(v, kind == BE_SERVICE ? "ServiceID" : "NodeID", &x) < 0)
		goto out;
	cJSON_ArrayForEach(it, list)
	{
		struct be_obj *o =
		    kind == BE_SERVICE ? service_obj(&x, &none, it) : node_obj(&x, it, at++);
		if (!o)
			goto out;
		(*out)[(*n)++] = o;
	}
	rc = 0;
out:
	index_free(&x);
	free(none.text);
	if (rc < 0) {
		be_objv_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}
