/* Engine documents -> the state's objects: the fields the listings need, the status lines
 * rendered once per engine read, and the inspect document kept as unformatted JSON (the only
 * big part; a cJSON tree of it would weigh several times more). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ws-int.h"

static const char *jstr(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static long jnum(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
}

/* "2026-11-23T15:54:12.2114627Z" -> seconds; 0 for "0001-01-01..." or garbage. */
static time_t rfc3339(const char *s)
{
	struct tm tm = {0};

	if (!s || !*s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) || tm.tm_year < 70)
		return 0;
	return timegm(&tm);
}

static const char *label(const cJSON *labels, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(labels, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

void ws_sobj_free(struct ws_sobj *o)
{
	if (!o)
		return;
	free(o->card);
	free(o->tags);
	free(o->nets);
	free(o->lines);
	free(o->inspect);
	free(o);
}

static void kv(FILE *f, const char *key, const char *value)
{
	if (value && *value)
		fprintf(f, "%s: %s\n", key, value);
}

/* The status lines of a container after its state (objects.c adds reason and card). */
static void container_lines(FILE *f, const cJSON *ctr)
{
	const cJSON *state = cJSON_GetObjectItemCaseSensitive(ctr, "State");
	const cJSON *health = cJSON_GetObjectItemCaseSensitive(state, "Health");

	kv(f, "id", jstr(ctr, "Id"));
	kv(f, "image",
	   ws_image_short(jstr(cJSON_GetObjectItemCaseSensitive(ctr, "Config"), "Image")));
	fprintf(f, "exit_code: %ld\n", jnum(state, "ExitCode"));
	kv(f, "started_at", jstr(state, "StartedAt"));
	kv(f, "finished_at", jstr(state, "FinishedAt"));
	kv(f, "health", jstr(health, "Status"));
	fprintf(f, "pid: %ld\n", jnum(state, "Pid"));
	fprintf(f, "restart_count: %ld\n", jnum(ctr, "RestartCount"));
	kv(f, "error", jstr(state, "Error"));
}

/* "containers: N" is added at read time, from the containers' state. */
static void network_lines(FILE *f, const cJSON *net)
{
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(net, "IPAM"), "Config");

	kv(f, "id", jstr(net, "Id"));
	kv(f, "driver", jstr(net, "Driver"));
	if (cJSON_IsArray(cfg) && cfg->child) {
		kv(f, "subnet", jstr(cfg->child, "Subnet"));
		kv(f, "gateway", jstr(cfg->child, "Gateway"));
	}
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

static void set_ownership(struct workspace *ws, struct ws_sobj *o, const cJSON *labels)
{
	const char *card = label(labels, WS_LABEL_CARD);

	o->managed = ws_labels_ours(ws, labels);
	if (o->managed && card)
		o->card = strdup(card);
}

/* Keys of an object, "\n"-joined with a leading and trailing "\n" (for strstr("\nname\n")). */
static char *keys_joined(const cJSON *obj)
{
	const cJSON *it;
	size_t len = 2;
	char *out;

	cJSON_ArrayForEach(it, obj) len += strlen(it->string ? it->string : "") + 1;
	out = malloc(len);
	if (!out)
		return NULL;
	strcpy(out, "\n");
	cJSON_ArrayForEach(it, obj)
	{
		if (!it->string)
			continue;
		strcat(out, it->string);
		strcat(out, "\n");
	}
	return out;
}

/* The newest of a container's times: when it last changed, as far as the engine says. */
static time_t last_change(const struct ws_sobj *o)
{
	time_t t = o->created, s = rfc3339(o->started_at), f = rfc3339(o->finished_at);

	if (s > t)
		t = s;
	if (f > t)
		t = f;
	return t;
}

const char *ws_state_word(const char *s)
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

struct ws_sobj *ws_sobj_container(struct workspace *ws, const cJSON *doc)
{
	const cJSON *state = cJSON_GetObjectItemCaseSensitive(doc, "State");
	const cJSON *config = cJSON_GetObjectItemCaseSensitive(doc, "Config");
	const cJSON *nets = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(doc, "NetworkSettings"), "Networks");
	struct ws_sobj *o = calloc(1, sizeof(*o));
	const char *name = jstr(doc, "Name");

	if (!o)
		return NULL;
	ws_fmt(o->id, sizeof(o->id), "%s", jstr(doc, "Id"));
	ws_fmt(o->name, sizeof(o->name), "%s", name + (*name == '/'));
	ws_fmt(o->state, sizeof(o->state), "%s", ws_state_word(jstr(state, "Status")));
	ws_fmt(o->health, sizeof(o->health), "%s",
	       jstr(cJSON_GetObjectItemCaseSensitive(state, "Health"), "Status"));
	ws_fmt(o->started_at, sizeof(o->started_at), "%s", jstr(state, "StartedAt"));
	ws_fmt(o->finished_at, sizeof(o->finished_at), "%s", jstr(state, "FinishedAt"));
	o->exit_code = (int)jnum(state, "ExitCode");
	o->tty = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(config, "Tty"));
	set_ownership(ws, o, cJSON_GetObjectItemCaseSensitive(config, "Labels"));
	o->created = rfc3339(jstr(doc, "Created"));
	o->changed = last_change(o);
	o->nets = keys_joined(nets);
	o->lines = render(container_lines, doc);
	o->inspect = cJSON_PrintUnformatted(doc);
	if (!o->lines || !o->inspect || !o->nets) {
		ws_sobj_free(o);
		return NULL;
	}
	return o;
}

struct ws_sobj *ws_sobj_network(struct workspace *ws, const cJSON *doc)
{
	struct ws_sobj *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	ws_fmt(o->id, sizeof(o->id), "%s", jstr(doc, "Id"));
	ws_fmt(o->name, sizeof(o->name), "%s", jstr(doc, "Name"));
	ws_fmt(o->state, sizeof(o->state), "present");
	set_ownership(ws, o, cJSON_GetObjectItemCaseSensitive(doc, "Labels"));
	o->created = rfc3339(jstr(doc, "Created"));
	o->changed = o->created;
	o->lines = render(network_lines, doc);
	o->inspect = cJSON_PrintUnformatted(doc);
	if (!o->lines || !o->inspect) {
		ws_sobj_free(o);
		return NULL;
	}
	return o;
}

/* One item of GET /images/json: its tags (short names) and the status lines. */
struct ws_sobj *ws_sobj_image(const cJSON *item)
{
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(item, "RepoTags"), *t;
	struct ws_sobj *o = calloc(1, sizeof(*o));
	size_t len = 2;
	char stamp[32] = "";
	struct tm tm;

	if (!o)
		return NULL;
	ws_fmt(o->id, sizeof(o->id), "%s", jstr(item, "Id"));
	ws_fmt(o->state, sizeof(o->state), "present");
	o->created = (time_t)jnum(item, "Created");
	o->changed = o->created;
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(item, "Size");
	o->size = cJSON_IsNumber(size) ? (long long)size->valuedouble : 0;
	cJSON_ArrayForEach(t, tags) len += cJSON_IsString(t) ? strlen(t->valuestring) + 1 : 0;
	o->tags = malloc(len);
	if (o->tags) {
		strcpy(o->tags, "\n");
		cJSON_ArrayForEach(t, tags)
		{
			if (!cJSON_IsString(t) || strcmp(t->valuestring, "<none>:<none>") == 0)
				continue;
			strcat(o->tags, ws_image_short(t->valuestring));
			strcat(o->tags, "\n");
		}
	}
	if (o->created && gmtime_r(&o->created, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!o->tags ||
	    asprintf(&o->lines, "id: %s\n%s%s%ssize: %lld\n", o->id, stamp[0] ? "created: " : "",
		     stamp, stamp[0] ? "\n" : "", o->size) < 0) {
		o->lines = NULL;
		ws_sobj_free(o);
		return NULL;
	}
	return o;
}
