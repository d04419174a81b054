/* What images/, networks/ and containers/ show: the engine's objects (one list request, kept
 * for WS_LIST_TTL_MS) merged with the cards that have not made theirs yet; their status,
 * inspect and log files; and rmdir. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws-int.h"

void ws_invalidate(struct workspace *ws)
{
	ws->gen++;
}

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

/* "Created": seconds for containers, RFC 3339 text for networks. */
static time_t created(const cJSON *obj)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "Created");
	struct tm tm = {0};

	if (cJSON_IsNumber(v))
		return (time_t)v->valuedouble;
	if (cJSON_IsString(v) && strptime(v->valuestring, "%Y-%m-%dT%H:%M:%S", &tm))
		return timegm(&tm);
	return 0;
}

static long ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000L + (now.tv_nsec - t->tv_nsec) / 1000000L;
}

static const enum card_kind card_kinds[] = {
    [WS_IMAGE] = CARD_IMAGE, [WS_NETWORK] = CARD_NETWORK, [WS_CONTAINER] = CARD_CONTAINER};

static int fetch(struct workspace *ws, enum ws_kind kind, cJSON **out)
{
	switch (kind) {
	case WS_CONTAINER:
		return engine_container_list(ws->engine, NULL, out, NULL, 0);
	case WS_NETWORK:
		return engine_network_list(ws->engine, NULL, out, NULL, 0);
	default:
		return engine_request(ws->engine, "GET", "/images/json", NULL, out, NULL, 0);
	}
}

/* Makes the cached list of a kind fresh when it is older than the TTL or than our last
 * change. When the engine does not answer, the last list it gave is served (the mount shows
 * the last known state; status files fail with the engine's errno). */
static void refresh(struct workspace *ws, enum ws_kind kind)
{
	struct ws_cache *c = &ws->cache[kind];
	unsigned long gen;
	cJSON *raw = NULL;

	pthread_mutex_lock(&ws->lock);
	gen = ws->gen;
	/* A failed fetch counts too: a dead engine is asked once per TTL, not per lookup. */
	bool fresh = c->tried && c->gen == gen && ms_since(&c->fetched) < WS_LIST_TTL_MS;
	pthread_mutex_unlock(&ws->lock);
	if (fresh)
		return;
	int rc = fetch(ws, kind, &raw);
	pthread_mutex_lock(&ws->lock);
	if (rc == 0) {
		cJSON_Delete(c->raw);
		c->raw = raw;
	}
	c->tried = true;
	c->gen = gen;
	clock_gettime(CLOCK_MONOTONIC, &c->fetched);
	pthread_mutex_unlock(&ws->lock);
}

struct collect {
	const char *only; /* one name (lookup), or NULL */
	struct ws_object *items;
	size_t count, cap;
};

static struct ws_object *add(struct collect *c, const char *name)
{
	if (c->only && strcmp(c->only, name) != 0)
		return NULL;
	for (size_t i = 0; i < c->count; i++)
		if (strcmp(c->items[i].name, name) == 0)
			return NULL; /* two engine objects of one name: the first wins */
	if (c->count == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct ws_object *items = realloc(c->items, cap * sizeof(*items));
		if (!items)
			return NULL;
		c->items = items;
		c->cap = cap;
	}
	struct ws_object *o = &c->items[c->count++];
	memset(o, 0, sizeof(*o));
	ws_fmt(o->name, sizeof(o->name), "%s", name);
	return o;
}

/* A card's object that the engine does not show (lock held). */
static const char *card_state(const struct ws_entry *e, bool engine_has_it)
{
	switch (e->state) {
	case WS_ST_PENDING:
		return "pending";
	case WS_ST_APPLYING:
		return e->activity ? e->activity : "pending";
	case WS_ST_ERROR:
		return "error";
	default:
		/* Applied, and gone since: removed outside cutipfs. */
		return engine_has_it ? "present" : "error";
	}
}

static void from_card(struct ws_object *o, const struct ws_entry *e, const char *state)
{
	ws_fmt(o->state, sizeof(o->state), "%s", state);
	ws_fmt(o->card, sizeof(o->card), "%s", e->relpath);
	ws_fmt(o->id, sizeof(o->id), "%s", e->id);
	o->managed = true;
	if (e->changed > o->changed)
		o->changed = e->changed;
}

/* Containers and networks: the engine's, then the cards' not there (lock held). */
static void merge_engine(struct workspace *ws, enum ws_kind kind, struct collect *c)
{
	const cJSON *raw = ws->cache[kind].raw, *it;

	cJSON_ArrayForEach(it, raw)
	{
		const char *name = jstr(it, "Name");
		if (kind == WS_CONTAINER) {
			const cJSON *names = cJSON_GetObjectItemCaseSensitive(it, "Names");
			name = cJSON_IsArray(names) && cJSON_IsString(names->child)
				   ? names->child->valuestring
				   : "";
			name += *name == '/';
		}
		struct ws_object *o = *name ? add(c, name) : NULL;
		if (!o)
			continue;
		const cJSON *labels = cJSON_GetObjectItemCaseSensitive(it, "Labels");
		struct ws_entry *e = ws_entry_for(ws, card_kinds[kind], name);
		ws_fmt(o->id, sizeof(o->id), "%s", jstr(it, "Id"));
		ws_fmt(o->state, sizeof(o->state), "%s",
		       kind == WS_CONTAINER ? jstr(it, "State") : "present");
		o->managed = ws_labels_ours(ws, labels);
		if (e)
			ws_fmt(o->card, sizeof(o->card), "%s", e->relpath);
		else if (o->managed)
			ws_fmt(o->card, sizeof(o->card), "%s", jstr(labels, WS_LABEL_CARD));
		o->changed = created(it);
		if (e && e->changed > o->changed)
			o->changed = e->changed;
	}
	for (size_t i = 0; i < ws->nentries; i++) {
		const struct ws_entry *e = ws->entries[i];
		if (!e->card || e->card->kind != card_kinds[kind])
			continue;
		struct ws_object *o = add(c, e->card->name.s);
		/* Applied, but the engine never gave a list: a container's state is not known. */
		if (o)
			from_card(o, e,
				  !raw && e->state == WS_ST_APPLIED && kind == WS_CONTAINER
				      ? "unknown"
				      : card_state(e, !raw));
	}
}

/* Whether the engine's image list has this name under any of its spellings. */
static bool image_listed(const cJSON *raw, const char *name)
{
	const cJSON *img, *tag;

	cJSON_ArrayForEach(img, raw)
	{
		cJSON_ArrayForEach(tag, cJSON_GetObjectItemCaseSensitive(img, "RepoTags"))
		{
			if (cJSON_IsString(tag) &&
			    strcmp(ws_image_short(tag->valuestring), ws_image_short(name)) == 0)
				return true;
		}
	}
	return false;
}

/* Images: one per ImageCard (lock held). */
static void merge_images(struct workspace *ws, struct collect *c)
{
	const cJSON *raw = ws->cache[WS_IMAGE].raw;

	for (size_t i = 0; i < ws->nentries; i++) {
		const struct ws_entry *e = ws->entries[i];
		if (!e->card || e->card->kind != CARD_IMAGE)
			continue;
		struct ws_object *o = add(c, e->card->name.s);
		if (o)
			from_card(o, e, card_state(e, !raw || image_listed(raw, e->object)));
	}
}

static int collect(struct workspace *ws, enum ws_kind kind, struct collect *c)
{
	if (kind != WS_IMAGE && kind != WS_NETWORK && kind != WS_CONTAINER)
		return -EINVAL;
	refresh(ws, kind);
	pthread_mutex_lock(&ws->lock);
	if (kind == WS_IMAGE)
		merge_images(ws, c);
	else
		merge_engine(ws, kind, c);
	pthread_mutex_unlock(&ws->lock);
	return 0;
}

int ws_list(struct workspace *ws, enum ws_kind kind, struct ws_object **out, size_t *count)
{
	struct collect c = {0};
	int rc = collect(ws, kind, &c);

	*out = c.items;
	*count = c.count;
	return rc;
}

int ws_lookup(struct workspace *ws, enum ws_kind kind, const char *name, struct ws_object *out)
{
	struct collect c = {.only = name};
	int rc = name ? collect(ws, kind, &c) : -ENOENT;

	if (rc == 0 && c.count == 0)
		rc = -ENOENT;
	if (rc == 0)
		*out = c.items[0];
	free(c.items);
	return rc;
}

/* ---- status ---- */

/* What the card side knows of an object (copied under the lock). */
struct card_info {
	bool have;
	char relpath[512];
	char state[16];
	char reason[512];
	char object[256];
	char source[600];
};

static void card_info(struct workspace *ws, enum ws_kind kind, const char *name,
		      struct card_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	pthread_mutex_lock(&ws->lock);
	struct ws_entry *e = ws_entry_for(ws, card_kinds[kind], name);
	if (e) {
		ci->have = true;
		ws_fmt(ci->relpath, sizeof(ci->relpath), "%s", e->relpath);
		ws_fmt(ci->state, sizeof(ci->state), "%s", card_state(e, true));
		ws_fmt(ci->reason, sizeof(ci->reason), "%s", e->reason);
		if (e->object[0])
			ws_fmt(ci->object, sizeof(ci->object), "%s", e->object);
		else if (kind == WS_IMAGE)
			ws_fmt(ci->object, sizeof(ci->object), "%s:%s", name,
			       e->card->spec.image.tag);
		else
			ws_fmt(ci->object, sizeof(ci->object), "%s", name);
		const struct card_image_spec *im = &e->card->spec.image;
		if (kind == WS_IMAGE && strcmp(im->source, "pull") == 0)
			ws_fmt(ci->source, sizeof(ci->source), "pull %s:%s", im->image, im->tag);
		else if (kind == WS_IMAGE)
			ws_fmt(ci->source, sizeof(ci->source), "build %s", im->context);
	}
	pthread_mutex_unlock(&ws->lock);
}

static void kv(FILE *f, const char *key, const char *value)
{
	if (value && *value)
		fprintf(f, "%s: %s\n", key, value);
}

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
	fprintf(f, "containers: %d\n",
		cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(net, "Containers")));
}

static void image_lines(FILE *f, const cJSON *img)
{
	kv(f, "id", jstr(img, "Id"));
	kv(f, "created", jstr(img, "Created"));
	fprintf(f, "size: %ld\n", jnum(img, "Size"));
}

static int inspect(struct workspace *ws, enum ws_kind kind, const char *name, cJSON **out)
{
	switch (kind) {
	case WS_CONTAINER:
		return engine_container_inspect(ws->engine, name, out, NULL, 0);
	case WS_NETWORK:
		return engine_network_inspect(ws->engine, name, out, NULL, 0);
	default:
		return engine_image_inspect(ws->engine, name, out, NULL, 0);
	}
}

int ws_status(struct workspace *ws, enum ws_kind kind, const char *name, char **text, size_t *len)
{
	struct ws_object obj;
	struct card_info ci;
	cJSON *doc = NULL;
	const char *state;
	int rc = ws_lookup(ws, kind, name, &obj);

	if (rc < 0)
		return rc;
	card_info(ws, kind, name, &ci);
	/* The engine's object, if there is one: a pending or failed card may have none. */
	if (kind == WS_IMAGE ? strcmp(obj.state, "present") == 0 : obj.id[0] != '\0') {
		rc = inspect(ws, kind, kind == WS_IMAGE ? ci.object : name, &doc);
		if (rc < 0 && rc != -ENOENT)
			return rc;
		if (rc == -ENOENT && !ci.have)
			return -ENOENT;
	}
	if (doc && kind == WS_CONTAINER)
		state = jstr(cJSON_GetObjectItemCaseSensitive(doc, "State"), "Status");
	else if (doc)
		state = "present";
	else if (obj.id[0] && ci.have && strcmp(ci.state, "present") == 0)
		state = "error"; /* listed a moment ago, gone now */
	else
		state = obj.state;

	FILE *f = open_memstream(text, len);
	if (!f) {
		cJSON_Delete(doc);
		return -ENOMEM;
	}
	fprintf(f, "%s\n", *state ? state : "unknown");
	if (doc && kind == WS_CONTAINER)
		container_lines(f, doc);
	else if (doc && kind == WS_NETWORK)
		network_lines(f, doc);
	else if (doc)
		image_lines(f, doc);
	if (kind == WS_IMAGE) {
		kv(f, "image", ci.object);
		kv(f, "source", ci.source);
	}
	if (ci.have && ci.reason[0])
		kv(f, "reason", ci.reason);
	else if (ci.have && !doc && strcmp(state, "error") == 0)
		kv(f, "reason",
		   "it is gone (removed outside cutipfs): save the card again to make "
		   "it again");
	kv(f, "card", ci.have ? ci.relpath : obj.card);
	fclose(f);
	cJSON_Delete(doc);
	return 0;
}

int ws_inspect(struct workspace *ws, enum ws_kind kind, const char *name, char **text, size_t *len)
{
	struct ws_object obj;
	struct card_info ci;
	cJSON *doc = NULL;
	int rc = ws_lookup(ws, kind, name, &obj);

	if (rc < 0)
		return rc;
	card_info(ws, kind, name, &ci);
	rc = inspect(ws, kind, kind == WS_IMAGE ? ci.object : name, &doc);
	if (rc == -ENOENT && ci.have) {
		/* A card's object not made yet: an empty document, not a missing file. */
		*text = strdup("{}\n");
		*len = 3;
		return *text ? 0 : -ENOMEM;
	}
	if (rc < 0)
		return rc;
	char *s = cJSON_Print(doc);
	cJSON_Delete(doc);
	if (!s || asprintf(text, "%s\n", s) < 0) {
		free(s);
		return -ENOMEM;
	}
	free(s);
	*len = strlen(*text);
	return 0;
}

int ws_image_log(struct workspace *ws, const char *name, char **text, size_t *len)
{
	int rc = -ENOENT;

	pthread_mutex_lock(&ws->lock);
	struct ws_entry *e = name ? ws_entry_for(ws, CARD_IMAGE, name) : NULL;
	if (e) {
		*text = malloc(e->log.len + 1);
		rc = *text ? 0 : -ENOMEM;
		if (*text) {
			memcpy(*text, e->log.data ? e->log.data : "", e->log.len);
			(*text)[e->log.len] = '\0';
			*len = e->log.len;
		}
	}
	pthread_mutex_unlock(&ws->lock);
	return rc;
}

/* ---- container logs ---- */

/* Keeps the newest WS_CONTAINER_LOGS_MAX bytes; drops the oldest in big steps, so that a huge
 * log costs O(size), not O(size^2). */
static int logs_sink(enum engine_stream stream, const char *buf, size_t n, void *ctx)
{
	struct ws_buf *b = ctx;

	(void)stream;
	if (b->len + n > 2 * (size_t)WS_CONTAINER_LOGS_MAX && b->len > WS_CONTAINER_LOGS_MAX) {
		size_t drop = b->len - WS_CONTAINER_LOGS_MAX;
		memmove(b->data, b->data + drop, b->len - drop);
		b->len -= drop;
	}
	return ws_buf_append(b, buf, n, 4 * (size_t)WS_CONTAINER_LOGS_MAX);
}

int ws_container_logs(struct workspace *ws, const char *name, char **text, size_t *len)
{
	struct ws_object obj;
	struct ws_buf b = {0};
	cJSON *ctr = NULL;
	int rc = ws_lookup(ws, WS_CONTAINER, name, &obj);

	if (rc < 0)
		return rc;
	if (obj.id[0]) {
		rc = engine_container_inspect(ws->engine, name, &ctr, NULL, 0);
		if (rc == 0) {
			const cJSON *tty = cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(ctr, "Config"), "Tty");
			rc = engine_container_logs(ws->engine, jstr(ctr, "Id"), cJSON_IsTrue(tty),
						   logs_sink, &b, NULL, 0);
		}
		cJSON_Delete(ctr);
		if (rc == -ENOENT)
			rc = 0; /* removed meanwhile: nothing to show */
	}
	if (rc < 0) {
		ws_buf_free(&b);
		return rc;
	}
	if (b.len > WS_CONTAINER_LOGS_MAX) {
		size_t drop = b.len - WS_CONTAINER_LOGS_MAX;
		memmove(b.data, b.data + drop, b.len - drop);
		b.len -= drop;
	}
	*text = b.data ? b.data : strdup("");
	*len = b.len;
	return *text ? 0 : -ENOMEM;
}

/* ---- rmdir ---- */

int ws_do_remove_object(struct workspace *ws, enum ws_kind kind, const char *name)
{
	struct card_info ci;
	char err[512] = "";
	int rc;

	card_info(ws, kind, name, &ci);
	if (kind == WS_IMAGE && !ci.have)
		return -ENOENT; /* images/ shows ImageCards only */
	/* Whoever made it: the user asked for this one by name. */
	rc = ws_unapply(ws, card_kinds[kind], ci.have ? ci.object : name, true, err, sizeof(err));
	if (rc == -ENOENT && !ci.have)
		return -ENOENT;
	if (rc < 0 && rc != -ENOENT) {
		ws_error_add(ws, "%s/%s: cannot remove: %s",
			     kind == WS_IMAGE	  ? "images"
			     : kind == WS_NETWORK ? "networks"
						  : "containers",
			     name, err[0] ? err : strerror(-rc));
		return rc;
	}
	pthread_mutex_lock(&ws->lock);
	struct ws_entry *e = ws_entry_for(ws, card_kinds[kind], name);
	ws_invalidate(ws);
	pthread_mutex_unlock(&ws->lock);
	/* The card goes too, or the next apply would make the object again. */
	if (e)
		ws_entry_delete_file(ws, e);
	return 0;
}
