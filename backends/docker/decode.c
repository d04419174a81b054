/* Engine documents -> the backend's neutral objects and events (backend.h): the fields the
 * state and the listings need, the status lines rendered once per read, and the inspect
 * document kept as unformatted JSON (the only big part; a cJSON tree of it would weigh several
 * times more). Podman's words become Docker's here, so nothing above knows there are two. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "docker.h"

const char *docker_jstr(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

long docker_jnum(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return (long)be_json_int(v);
}

static void copy(char *out, size_t len, const char *s)
{
	snprintf(out, len, "%s", s ? s : "");
}

/* Seconds; 0 for "0001-01-01..." or garbage. */
static time_t rfc3339(const char *s)
{
	long long ns = be_time_ns(s);

	return ns > 0 ? (time_t)(ns / 1000000000LL) : 0;
}

/* A container state in Docker's words: Podman's "stopped" is "exited", "configured" and
 * "initialized" are "created", "stopping" is still "running". */
static const char *state_word(const char *s)
{
	static const struct {
		const char *from, *to;
	} words[] = {{"stopped", "exited"},
		     {"configured", "created"},
		     {"initialized", "created"},
		     {"stopping", "running"}};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(s, words[i].from) == 0)
			return words[i].to;
	return s;
}

int docker_take_labels(struct be_obj *o, const cJSON *labels)
{
	const cJSON *it;
	size_t n = 0;

	cJSON_ArrayForEach(it, labels) n += cJSON_IsString(it) && it->string;
	if (!n)
		return 0;
	o->labels = calloc(n, sizeof(*o->labels));
	if (!o->labels)
		return -ENOMEM;
	cJSON_ArrayForEach(it, labels)
	{
		if (!cJSON_IsString(it) || !it->string)
			continue;
		struct be_kv *kv = &o->labels[o->nlabels++];
		kv->key = strdup(it->string);
		kv->value = strdup(it->valuestring);
		if (!kv->key || !kv->value)
			return -ENOMEM;
	}
	return 0;
}

/* Strings "\n"-joined with a leading and trailing "\n" (for strstr("\nname\n")). */
struct joined {
	char *text;
	size_t len;
	FILE *f;
};

static bool join_start(struct joined *j)
{
	j->text = NULL;
	j->f = open_memstream(&j->text, &j->len);
	if (j->f)
		fputc('\n', j->f);
	return j->f != NULL;
}

static void join_add(struct joined *j, const char *s)
{
	if (j->f && s && *s)
		fprintf(j->f, "%s\n", s);
}

static char *join_end(struct joined *j)
{
	if (!j->f || fclose(j->f) != 0) {
		free(j->text);
		return NULL;
	}
	return j->text;
}

static char *keys_joined(const cJSON *obj)
{
	struct joined j;
	const cJSON *it;

	if (!join_start(&j))
		return NULL;
	cJSON_ArrayForEach(it, obj) join_add(&j, it->string);
	return join_end(&j);
}

static char *tags_joined(const cJSON *tags)
{
	struct joined j;
	const cJSON *t;

	if (!join_start(&j))
		return NULL;
	cJSON_ArrayForEach(t, tags)
	{
		if (cJSON_IsString(t) && strcmp(t->valuestring, "<none>:<none>") != 0)
			join_add(&j, t->valuestring); /* as the engine names it: images/ shows that */
	}
	return join_end(&j);
}

static void kv(FILE *f, const char *key, const char *value)
{
	if (value && *value)
		fprintf(f, "%s: %s\n", key, value);
}

typedef void (*render_fn)(FILE *f, const cJSON *doc);

static char *render(render_fn fn, const cJSON *doc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fn(f, doc);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* A Swarm task's container says whose it is: "service: web" and "slot: 2" (its task name is
 * "web.2.<task id>"; a global service's has the node id where the slot would be). */
static void swarm_task_lines(FILE *f, const cJSON *labels)
{
	const char *svc = docker_jstr(labels, "com.docker.swarm.service.name");
	const char *task = docker_jstr(labels, "com.docker.swarm.task.name");
	size_t n = strlen(svc);

	if (!*svc)
		return;
	kv(f, "service", svc);
	if (strncmp(task, svc, n) == 0 && task[n] == '.')
		fprintf(f, "slot: %.*s\n", (int)strcspn(task + n + 1, "."), task + n + 1);
}

/* A size as a card writes it: 512m, 1g, or bytes. */
static void size_line(FILE *f, const char *key, double bytes)
{
	static const char units[] = "kmgt";
	long long v = (long long)bytes;
	int u = -1;
	if (v <= 0)
		return;
	while (u < 3 && v % 1024 == 0) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		fprintf(f, "%s: %lld\n", key, v);
	else
		fprintf(f, "%s: %lld%c\n", key, v, units[u]);
}

/* The limits the container runs with, as its card's resources and user say them. */
static void limit_lines(FILE *f, const cJSON *ctr)
{
	const cJSON *host = cJSON_GetObjectItemCaseSensitive(ctr, "HostConfig");
	size_line(f, "memory", (double)docker_jnum(host, "Memory"));
	long swap = docker_jnum(host, "MemorySwap");
	if (swap == -1)
		fprintf(f, "memory_swap: -1\n");
	else
		size_line(f, "memory_swap", (double)swap);
	long nano = docker_jnum(host, "NanoCpus");
	if (nano > 0)
		fprintf(f, "cpus: %g\n", (double)nano / 1e9);
	long pids = docker_jnum(host, "PidsLimit");
	if (pids > 0)
		fprintf(f, "pids: %ld\n", pids);
	kv(f, "user", docker_jstr(cJSON_GetObjectItemCaseSensitive(ctr, "Config"), "User"));
}

/* The status lines of a container after its state (the core adds reason and card). */
static void container_lines(FILE *f, const cJSON *ctr)
{
	const cJSON *state = cJSON_GetObjectItemCaseSensitive(ctr, "State");
	const cJSON *health = cJSON_GetObjectItemCaseSensitive(state, "Health");

	kv(f, "id", docker_jstr(ctr, "Id"));
	kv(f, "image",
	   be_image_short(docker_jstr(cJSON_GetObjectItemCaseSensitive(ctr, "Config"), "Image")));
	fprintf(f, "exit_code: %ld\n", docker_jnum(state, "ExitCode"));
	kv(f, "started_at", docker_jstr(state, "StartedAt"));
	kv(f, "finished_at", docker_jstr(state, "FinishedAt"));
	kv(f, "health", docker_jstr(health, "Status"));
	fprintf(f, "pid: %ld\n", docker_jnum(state, "Pid"));
	fprintf(f, "restart_count: %ld\n", docker_jnum(ctr, "RestartCount"));
	limit_lines(f, ctr);
	kv(f, "error", docker_jstr(state, "Error"));
	swarm_task_lines(f, cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(ctr, "Config"), "Labels"));
}

/* The status lines a list item gives (GET /containers/json): the rest comes with the inspect. */
static void summary_lines(FILE *f, const cJSON *item)
{
	kv(f, "id", docker_jstr(item, "Id"));
	kv(f, "image", be_image_short(docker_jstr(item, "Image")));
	swarm_task_lines(f, cJSON_GetObjectItemCaseSensitive(item, "Labels"));
}

/* "containers: N" is added at read time, from the containers' state. */
static void network_lines(FILE *f, const cJSON *net)
{
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(net, "IPAM"), "Config");

	kv(f, "id", docker_jstr(net, "Id"));
	kv(f, "driver", docker_jstr(net, "Driver"));
	if (cJSON_IsArray(cfg) && cfg->child) {
		kv(f, "subnet", docker_jstr(cfg->child, "Subnet"));
		kv(f, "gateway", docker_jstr(cfg->child, "Gateway"));
	}
}

static struct be_obj *obj_new(enum be_kind kind, bool summary, const char *id)
{
	struct be_obj *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->kind = kind;
	o->summary = summary;
	copy(o->id, sizeof(o->id), id);
	copy(o->state, sizeof(o->state), "present");
	return o;
}

/* Frees an object whose decoding ran out of memory. */
static struct be_obj *obj_done(struct be_obj *o, bool ok)
{
	if (ok)
		return o;
	be_obj_free(o);
	return NULL;
}

struct be_obj *docker_container_obj(const cJSON *doc)
{
	const cJSON *state = cJSON_GetObjectItemCaseSensitive(doc, "State");
	const cJSON *config = cJSON_GetObjectItemCaseSensitive(doc, "Config");
	const cJSON *nets = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(doc, "NetworkSettings"), "Networks");
	struct be_obj *o = obj_new(BE_CONTAINER, false, docker_jstr(doc, "Id"));
	const char *name = docker_jstr(doc, "Name");

	if (!o)
		return NULL;
	copy(o->name, sizeof(o->name), name + (*name == '/'));
	copy(o->state, sizeof(o->state), state_word(docker_jstr(state, "Status")));
	copy(o->health, sizeof(o->health),
	     docker_jstr(cJSON_GetObjectItemCaseSensitive(state, "Health"), "Status"));
	copy(o->started_at, sizeof(o->started_at), docker_jstr(state, "StartedAt"));
	copy(o->finished_at, sizeof(o->finished_at), docker_jstr(state, "FinishedAt"));
	o->exit_code = (int)docker_jnum(state, "ExitCode");
	o->tty = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(config, "Tty"));
	copy(o->image, sizeof(o->image), be_image_short(docker_jstr(config, "Image")));
	copy(o->image_id, sizeof(o->image_id), docker_jstr(doc, "Image"));
	o->created = rfc3339(docker_jstr(doc, "Created"));
	bool ok = docker_take_labels(o, cJSON_GetObjectItemCaseSensitive(config, "Labels")) == 0;
	o->nets = keys_joined(nets);
	o->details = render(container_lines, doc);
	o->inspect = cJSON_PrintUnformatted(doc);
	return obj_done(o, ok && o->nets && o->details && o->inspect);
}

/* Docker's list says health only inside the status text: "Up 5 seconds (healthy)". */
static void list_health(const char *status, char *out, size_t len)
{
	const char *p = strchr(status, '(');

	out[0] = '\0';
	if (!p)
		return;
	if (strncmp(p, "(health: starting)", 18) == 0)
		copy(out, len, "starting");
	else if (strncmp(p, "(healthy)", 9) == 0)
		copy(out, len, "healthy");
	else if (strncmp(p, "(unhealthy)", 11) == 0)
		copy(out, len, "unhealthy");
}

struct be_obj *docker_container_summary(const cJSON *item)
{
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(item, "Names");
	const char *name =
	    cJSON_IsArray(names) && cJSON_IsString(names->child) ? names->child->valuestring : "";
	struct be_obj *o = obj_new(BE_CONTAINER, true, docker_jstr(item, "Id"));

	if (!o)
		return NULL;
	copy(o->name, sizeof(o->name), name + (*name == '/'));
	copy(o->state, sizeof(o->state), state_word(docker_jstr(item, "State")));
	list_health(docker_jstr(item, "Status"), o->health, sizeof(o->health));
	copy(o->image, sizeof(o->image), be_image_short(docker_jstr(item, "Image")));
	copy(o->image_id, sizeof(o->image_id), docker_jstr(item, "ImageID"));
	o->created = (time_t)docker_jnum(item, "Created");
	bool ok = docker_take_labels(o, cJSON_GetObjectItemCaseSensitive(item, "Labels")) == 0;
	/* What a status can say before the container's inspect is read: the state reads from a
	 * list first and fills the details in later. */
	o->nets = keys_joined(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(item, "NetworkSettings"), "Networks"));
	o->details = render(summary_lines, item);
	return obj_done(o, ok && o->nets && o->details);
}

static char *subnets_joined(const cJSON *net)
{
	const cJSON *cfg, *configs = cJSON_GetObjectItemCaseSensitive(
			      cJSON_GetObjectItemCaseSensitive(net, "IPAM"), "Config");
	struct joined j;

	if (!join_start(&j))
		return NULL;
	cJSON_ArrayForEach(cfg, configs) join_add(&j, docker_jstr(cfg, "Subnet"));
	return join_end(&j);
}

struct be_obj *docker_network_obj(const cJSON *doc, bool summary)
{
	struct be_obj *o = obj_new(BE_NETWORK, summary, docker_jstr(doc, "Id"));

	if (!o)
		return NULL;
	copy(o->name, sizeof(o->name), docker_jstr(doc, "Name"));
	o->created = rfc3339(docker_jstr(doc, "Created"));
	bool ok = docker_take_labels(o, cJSON_GetObjectItemCaseSensitive(doc, "Labels")) == 0;
	o->subnets = subnets_joined(doc);
	ok = ok && o->subnets;
	if (!summary) {
		o->details = render(network_lines, doc);
		o->inspect = cJSON_PrintUnformatted(doc);
		ok = ok && o->details && o->inspect;
	}
	return obj_done(o, ok);
}

static char *image_lines(const struct be_obj *o)
{
	char stamp[32] = "", *lines = NULL;
	struct tm tm;

	if (o->created && gmtime_r(&o->created, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (asprintf(&lines, "id: %s\n%s%s%ssize: %lld\n", o->id, stamp[0] ? "created: " : "",
		     stamp, stamp[0] ? "\n" : "", o->size) < 0)
		return NULL;
	return lines;
}

/* One item of GET /images/json: its tags and the status lines (complete for the view: only the
 * inspect document is read on its own). */
struct be_obj *docker_image_summary(const cJSON *item)
{
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(item, "Size");
	struct be_obj *o = obj_new(BE_IMAGE, true, docker_jstr(item, "Id"));

	if (!o)
		return NULL;
	o->created = (time_t)docker_jnum(item, "Created");
	o->size = be_json_int(size);
	bool ok = docker_take_labels(o, cJSON_GetObjectItemCaseSensitive(item, "Labels")) == 0;
	o->tags = tags_joined(cJSON_GetObjectItemCaseSensitive(item, "RepoTags"));
	o->details = image_lines(o);
	return obj_done(o, ok && o->tags && o->details);
}

struct be_obj *docker_image_obj(const cJSON *doc)
{
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(doc, "Size");
	const cJSON *config = cJSON_GetObjectItemCaseSensitive(doc, "Config");
	struct be_obj *o = obj_new(BE_IMAGE, false, docker_jstr(doc, "Id"));

	if (!o)
		return NULL;
	o->created = rfc3339(docker_jstr(doc, "Created"));
	o->size = be_json_int(size);
	bool ok = docker_take_labels(o, cJSON_GetObjectItemCaseSensitive(config, "Labels")) == 0;
	o->tags = tags_joined(cJSON_GetObjectItemCaseSensitive(doc, "RepoTags"));
	o->details = image_lines(o);
	o->inspect = cJSON_PrintUnformatted(doc);
	return obj_done(o, ok && o->tags && o->details && o->inspect);
}

struct be_obj *docker_volume_obj(const cJSON *doc, bool summary)
{
	struct be_obj *o = obj_new(BE_VOLUME, summary, docker_jstr(doc, "Name"));

	if (!o)
		return NULL;
	copy(o->name, sizeof(o->name), docker_jstr(doc, "Name"));
	o->created = rfc3339(docker_jstr(doc, "CreatedAt"));
	bool ok = docker_take_labels(o, cJSON_GetObjectItemCaseSensitive(doc, "Labels")) == 0;
	if (!summary) {
		o->inspect = cJSON_PrintUnformatted(doc);
		ok = ok && o->inspect;
	}
	return obj_done(o, ok);
}

/* ---- events ---- */

static const char *attr(const cJSON *attrs, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(attrs, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* timeNano, else time in seconds; 0 without either, or past what nanoseconds hold (2262).
 * timeNano does not fit a double exactly; the same event rounds the same way. */
static long long event_ns(const cJSON *time_nano, const cJSON *time_s)
{
	if (cJSON_IsNumber(time_nano))
		return be_json_int(time_nano);
	long long secs = be_json_int(time_s);
	if (secs > LLONG_MAX / 1000000000LL || secs < LLONG_MIN / 1000000000LL)
		return 0;
	return secs * 1000000000LL;
}

bool docker_event(const cJSON *ev, struct be_event *w)
{
	const char *type = docker_jstr(ev, "Type"), *action = docker_jstr(ev, "Action");
	const cJSON *actor = cJSON_GetObjectItemCaseSensitive(ev, "Actor");
	const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(actor, "Attributes");
	const cJSON *tn = cJSON_GetObjectItemCaseSensitive(ev, "timeNano");
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(ev, "time");

	memset(w, 0, sizeof(*w));
	if (strcmp(type, "container") == 0)
		w->kind = BE_CONTAINER;
	else if (strcmp(type, "network") == 0)
		w->kind = BE_NETWORK;
	else if (strcmp(type, "image") == 0)
		w->kind = BE_IMAGE;
	else if (strcmp(type, "service") == 0)
		w->kind = BE_SERVICE; /* a Swarm manager's: create, update, remove */
	else if (strcmp(type, "node") == 0)
		w->kind = BE_NODE;
	else
		return false;
	if (!*action)
		return false;
	w->time_nano = event_ns(tn, ts);
	docker_cursor(w->time_nano, w->cursor, sizeof(w->cursor));
	copy(w->id, sizeof(w->id), docker_jstr(actor, "ID"));
	copy(w->action, sizeof(w->action), action);
	const char *name = attr(attrs, "name");
	copy(w->name, sizeof(w->name), w->kind == BE_IMAGE ? be_image_short(name) : name);
	const char *old = attr(attrs, "oldName");
	copy(w->old_name, sizeof(w->old_name), old + (*old == '/'));
	copy(w->exit_code, sizeof(w->exit_code), attr(attrs, "exitCode"));
	copy(w->signal, sizeof(w->signal), attr(attrs, "signal"));
	/* Docker: Action "health_status: healthy"; Podman: an attribute. */
	const char *colon = strchr(w->action, ':');
	if (strncmp(w->action, "health_status", 13) == 0 && colon)
		copy(w->health, sizeof(w->health), colon + 1 + (colon[1] == ' '));
	else
		copy(w->health, sizeof(w->health), attr(attrs, "health_status"));
	return true;
}

void docker_cursor(long long ns, char *buf, size_t len)
{
	snprintf(buf, len, "%lld.%09lld", ns / 1000000000LL, ns % 1000000000LL);
}

/* ---- progress ---- */

char *docker_progress_line(const cJSON *msg)
{
	const cJSON *detail = cJSON_GetObjectItemCaseSensitive(msg, "progressDetail");
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(msg, "errorDetail");
	char *line = NULL;

	if (*docker_jstr(msg, "stream"))
		return strdup(docker_jstr(msg, "stream"));
	if (error || *docker_jstr(msg, "error")) {
		const char *m = *docker_jstr(error, "message") ? docker_jstr(error, "message")
							       : docker_jstr(msg, "error");
		if (asprintf(&line, "error: %s\n", m) < 0)
			line = NULL;
	} else if (*docker_jstr(msg, "status") &&
		   !cJSON_GetObjectItemCaseSensitive(detail, "current")) {
		/* Download and extract progress bars would bury the lines that matter. */
		const char *id = docker_jstr(msg, "id");
		if (asprintf(&line, "%s%s%s\n", id, *id ? ": " : "", docker_jstr(msg, "status")) <
		    0)
			line = NULL;
	}
	return line;
}
