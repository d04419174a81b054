/* What images/, networks/, containers/ (and a Swarm's services/ and nodes/) show: the engine
 * state (state.c) merged with the cards that have not made theirs yet; their status, inspect and
 * log files; and rmdir. Nothing here asks the engine, except rmdir and the inspect file of an
 * object whose document the state has not read yet (the logs files are logs.c's). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws-int.h"

/* The names collected so far, hashed: a listing of N objects costs O(N), not O(N^2). */
struct collect {
	const char *only; /* one name (lookup), or NULL */
	struct ws_object *items;
	size_t count, cap;
	size_t *slots; /* index + 1 into items, 0 empty */
	size_t nslots;
};

static bool seen(struct collect *c, const char *name, bool insert, size_t index)
{
	if (!c->nslots)
		return false;
	for (size_t i = ws_str_hash(name) % c->nslots;; i = (i + 1) % c->nslots) {
		if (!c->slots[i]) {
			if (insert)
				c->slots[i] = index + 1;
			return false;
		}
		if (strcmp(c->items[c->slots[i] - 1].name, name) == 0)
			return true;
	}
}

static bool grow(struct collect *c)
{
	size_t cap = c->cap ? c->cap * 2 : 64;
	struct ws_object *items = realloc(c->items, cap * sizeof(*items));
	size_t *slots = calloc(cap * 2, sizeof(*slots));

	if (!items || !slots) {
		if (items)
			c->items = items;
		free(slots);
		return false;
	}
	c->items = items;
	c->cap = cap;
	free(c->slots);
	c->slots = slots;
	c->nslots = cap * 2;
	for (size_t i = 0; i < c->count; i++)
		seen(c, c->items[i].name, true, i);
	return true;
}

static struct ws_object *add(struct collect *c, const char *name)
{
	if (c->only && strcmp(c->only, name) != 0)
		return NULL;
	if (seen(c, name, false, 0))
		return NULL; /* two engine objects of one name: the first wins */
	if (c->count == c->cap && !grow(c))
		return NULL;
	struct ws_object *o = &c->items[c->count];
	memset(o, 0, sizeof(*o));
	ws_fmt(o->name, sizeof(o->name), "%s", name);
	seen(c, o->name, true, c->count++);
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
	o->log = e->card && e->card->kind == CARD_IMAGE;
	if (e->changed > o->changed)
		o->changed = e->changed;
}

/* An engine object as containers/ or networks/ shows it (lock and slock held). */
static void add_engine(struct workspace *ws, enum ws_kind kind, struct collect *c,
		       const struct ws_sobj *so)
{
	struct ws_object *o = so->name[0] ? add(c, so->name) : NULL;
	if (!o)
		return;
	struct ws_entry *e = ws_entry_for(ws, ws_card_kind(kind), so->name);
	ws_fmt(o->id, sizeof(o->id), "%s", so->id);
	ws_fmt(o->state, sizeof(o->state), "%s", so->state);
	o->managed = so->managed;
	o->user_net = kind == WS_CONTAINER && ws_adopt_user_net(so->nets, NULL, 0);
	if (e)
		ws_fmt(o->card, sizeof(o->card), "%s", e->relpath);
	else if (so->card)
		ws_fmt(o->card, sizeof(o->card), "%s", so->card);
	o->changed = so->changed;
	if (e && e->changed > o->changed)
		o->changed = e->changed;
}

/* A card's object, unless the engine's of that name came first (lock and slock held). */
static void add_card(struct workspace *ws, enum ws_kind kind, struct collect *c,
		     const struct ws_entry *e)
{
	const struct ws_store *s = &ws->store[kind];
	struct ws_object *o = add(c, e->card->name.s);
	/* Applied, but the engine never gave a list: a container's state is not known. */
	if (o)
		from_card(o, e,
			  !s->listed && e->state == WS_ST_APPLIED && kind == WS_CONTAINER
			      ? "unknown"
			      : card_state(e, !s->listed));
}

/* Containers and networks: the engine's, then the cards' not there (lock and slock held). One
 * name is looked up, not walked to: a read of one file should not cost a pass over thousands. */
static void merge_engine(struct workspace *ws, enum ws_kind kind, struct collect *c)
{
	struct ws_store *s = &ws->store[kind];
	/* On a Swarm the container cards' objects are services. */
	bool cards = !(kind == WS_CONTAINER && ws_swarm(ws));

	if (c->only) {
		const struct ws_sobj *so = ws_store_name(s, c->only);
		const struct ws_entry *e = cards ? ws_entry_for(ws, ws_card_kind(kind), c->only) : NULL;
		if (so)
			add_engine(ws, kind, c, so);
		if (e && e->card)
			add_card(ws, kind, c, e);
		return;
	}
	for (size_t i = 0; i < s->n; i++)
		add_engine(ws, kind, c, s->v[i]);
	for (size_t i = 0; cards && i < ws->nentries; i++) {
		const struct ws_entry *e = ws->entries[i];
		if (e->card && e->card->kind == ws_card_kind(kind))
			add_card(ws, kind, c, e);
	}
}

/* The engine name of an ImageCard's image: "web:latest" (lock held). */
static void image_object(const struct ws_entry *e, char *out, size_t len)
{
	if (e->object[0])
		ws_fmt(out, len, "%s", e->object);
	else
		ws_fmt(out, len, "%s:%s", e->card->name.s, e->card->spec.image.tag);
}

/* Whether an ImageCard names the engine tag (lock held): it shows under the card's name. */
static bool card_tag(struct workspace *ws, const char *tag)
{
	char object[300];
	for (size_t i = 0; i < ws->nentries; i++) {
		const struct ws_entry *e = ws->entries[i];
		if (!e->card || e->card->kind != CARD_IMAGE)
			continue;
		image_object(e, object, sizeof(object));
		if (strcmp(be_image_short(object), be_image_short(tag)) == 0)
			return true;
	}
	return false;
}

/* The newest load that named this images/ name, or NULL (lock held). */
static const struct ws_load *loaded(const struct workspace *ws, const char *name)
{
	char needle[300];

	ws_fmt(needle, sizeof(needle), "\n%s\n", name);
	for (size_t i = 0; i < ws->nloads; i++)
		if (ws->loads[i].names && strstr(ws->loads[i].names, needle))
			return &ws->loads[i];
	return NULL;
}

static void engine_image(struct workspace *ws, struct ws_object *o, const struct ws_sobj *img)
{
	o->log = loaded(ws, o->name) != NULL;
	ws_fmt(o->id, sizeof(o->id), "%s", img->id);
	ws_fmt(o->state, sizeof(o->state), "%s", img->state[0] ? img->state : "present");
	o->managed = img->managed;
	o->changed = img->changed;
}

/* Images: one per ImageCard, under the card's name; then every other image in the engine, one
 * per tag as `docker images` lists them (ws_image_dirname), an untagged one by its short id
 * (lock and slock held). */
static void merge_images(struct workspace *ws, struct collect *c)
{
	struct ws_store *s = &ws->store[WS_IMAGE];
	char object[300], name[300];

	for (size_t i = 0; i < ws->nentries; i++) {
		const struct ws_entry *e = ws->entries[i];
		if (!e->card || e->card->kind != CARD_IMAGE)
			continue;
		struct ws_object *o = add(c, e->card->name.s);
		if (!o)
			continue;
		image_object(e, object, sizeof(object));
		struct ws_sobj *img = ws_store_tag(s, object);
		from_card(o, e, card_state(e, !s->listed || img));
		if (img && e->state == WS_ST_APPLIED)
			ws_fmt(o->id, sizeof(o->id), "%s", img->id);
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct ws_sobj *img = s->v[i];
		bool tagged = false;
		for (const char *p = img->tags ? img->tags + 1 : ""; *p;) {
			const char *nl = strchr(p, '\n');
			if (!nl)
				break;
			char tag[256];
			ws_fmt(tag, sizeof(tag), "%.*s", (int)(nl - p), p);
			p = nl + 1;
			if (strcmp(tag, "<none>:<none>") == 0)
				continue;
			tagged = true;
			ws_image_dirname(tag, name, sizeof(name));
			/* A lookup asks for one name: the cards are scanned for that tag alone. */
			if (c->only && strcmp(c->only, name) != 0)
				continue;
			struct ws_object *o = card_tag(ws, tag) ? NULL : add(c, name);
			if (o)
				engine_image(ws, o, img);
		}
		if (!tagged) {
			ws_image_dirname(img->id, name, sizeof(name));
			struct ws_object *o = add(c, name);
			if (o)
				engine_image(ws, o, img);
		}
	}
}

/* Units and groups: one per card, in the word of its whole (lock and slock held). */
static void merge_groups(struct workspace *ws, enum ws_kind kind, struct collect *c)
{
	for (size_t i = 0; i < ws->nentries; i++) {
		const struct ws_entry *e = ws->entries[i];
		enum ws_word_kind word;
		if (!e->card || e->backup || e->card->kind != ws_card_kind(kind) ||
		    ws_group_word_locked(ws, kind, e->card->name.s, &word) < 0)
			continue;
		struct ws_object *o = add(c, e->card->name.s);
		if (o)
			from_card(o, e, ws_word_name(word));
	}
}

/* Lock and slock held. */
static int collect_locked(struct workspace *ws, enum ws_kind kind, struct collect *c)
{
	if (kind == WS_UNIT || kind == WS_GROUP) {
		merge_groups(ws, kind, c);
		return 0;
	}
	if (kind != WS_IMAGE && kind != WS_NETWORK && kind != WS_CONTAINER &&
	    ((kind != WS_SERVICE && kind != WS_NODE) || !ws_swarm(ws)))
		return -EINVAL;
	if (kind == WS_IMAGE)
		merge_images(ws, c);
	else
		merge_engine(ws, kind, c);
	return 0;
}

static int collect(struct workspace *ws, enum ws_kind kind, struct collect *c)
{
	pthread_mutex_lock(&ws->lock);
	pthread_mutex_lock(&ws->slock);
	int rc = collect_locked(ws, kind, c);
	pthread_mutex_unlock(&ws->slock);
	pthread_mutex_unlock(&ws->lock);
	free(c->slots);
	c->slots = NULL;
	return rc;
}

int ws_list(struct workspace *ws, enum ws_kind kind, struct ws_object **out, size_t *count)
{
	struct collect c = {0};
	int rc = collect(ws, kind, &c);

	*out = c.items;
	*count = c.count;
	return rc;
}

/* One object, as ws_list shows it (lock and slock held). */
static int lookup_locked(struct workspace *ws, enum ws_kind kind, const char *name,
			 struct ws_object *out)
{
	struct collect c = {.only = name};
	int rc = name ? collect_locked(ws, kind, &c) : -ENOENT;

	if (rc == 0 && c.count == 0)
		rc = -ENOENT;
	if (rc == 0)
		*out = c.items[0];
	free(c.items);
	free(c.slots);
	return rc;
}

int ws_lookup(struct workspace *ws, enum ws_kind kind, const char *name, struct ws_object *out)
{
	pthread_mutex_lock(&ws->lock);
	pthread_mutex_lock(&ws->slock);
	int rc = lookup_locked(ws, kind, name, out);
	pthread_mutex_unlock(&ws->slock);
	pthread_mutex_unlock(&ws->lock);
	return rc;
}

/* ---- status and inspect ---- */

static void kv(FILE *f, const char *key, const char *value)
{
	if (value && *value)
		fprintf(f, "%s: %s\n", key, value);
}

/* The engine object behind a listed name (lock and slock held). */
static struct ws_sobj *engine_object(struct workspace *ws, enum ws_kind kind, const char *name,
				     const struct ws_entry *e)
{
	char object[300];

	if (kind != WS_IMAGE)
		return ws_store_name(&ws->store[kind], name);
	if (e)
		image_object(e, object, sizeof(object));
	else
		ws_image_tag(name, object, sizeof(object));
	struct ws_sobj *img = ws_store_tag(&ws->store[WS_IMAGE], object);
	/* An untagged one: its short id. */
	for (size_t i = 0; !img && !e && i < ws->store[WS_IMAGE].n; i++) {
		struct ws_sobj *o = ws->store[WS_IMAGE].v[i];
		char short_id[32];
		ws_image_dirname(o->id, short_id, sizeof(short_id));
		if (strcmp(short_id, name) == 0)
			img = o;
	}
	return img;
}

/* Running containers attached to a network, as the containers' state says (slock held). */
static int network_users(struct workspace *ws, const char *net)
{
	const struct ws_store *s = &ws->store[WS_CONTAINER];
	char needle[140];
	int n = 0;

	ws_fmt(needle, sizeof(needle), "\n%s\n", net);
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i]->nets && strstr(s->v[i]->nets, needle) &&
		    (strcmp(s->v[i]->state, "running") == 0 ||
		     strcmp(s->v[i]->state, "paused") == 0))
			n++;
	return n;
}

/* Lock and slock held. */
static void render_status(struct workspace *ws, FILE *f, enum ws_kind kind, const char *name,
			  const struct ws_object *obj)
{
	struct ws_entry *e = ws_entry_for(ws, ws_card_kind(kind), name);
	struct ws_sobj *so = engine_object(ws, kind, name, e);
	char object[300];

	/* A pull's or build's progress is longer than a state: it comes from the card. */
	if (e && e->state == WS_ST_APPLYING && e->activity && e->progress[0])
		fprintf(f, "%s\n", e->progress);
	else
		fprintf(f, "%s\n", obj->state[0] ? obj->state : "unknown");
	if (kind == WS_UNIT || kind == WS_GROUP) {
		ws_group_status_locked(ws, kind, name, f);
		kv(f, "card", obj->card);
		return;
	}
	if (so && so->lines)
		fputs(so->lines, f);
	if (so && kind == WS_NETWORK)
		fprintf(f, "containers: %d\n", network_users(ws, name));
	if (kind == WS_IMAGE && e) {
		const struct card_image_spec *im = &e->card->spec.image;
		image_object(e, object, sizeof(object));
		kv(f, "image", object);
		if (strcmp(im->source, "pull") == 0)
			fprintf(f, "source: pull %s:%s\n", im->image, im->tag);
		else
			fprintf(f, "source: build %s\n", im->context);
	}
	if (e && e->reason[0])
		kv(f, "reason", e->reason);
	else if (e && !so && strcmp(obj->state, "error") == 0)
		kv(f, "reason",
		   "it is gone (removed outside cutipfs): save the card again to make "
		   "it again");
	kv(f, "card", e ? e->relpath : obj->card);
	/* Served from memory all the same: the last state the engine gave. */
	if (ws->stale)
		fprintf(f, "engine: unreachable (%s)\n", ws->stale_why);
}

struct status_ctx {
	enum ws_kind kind;
	const char *name;
};

static int status_of(struct workspace *ws, FILE *f, void *arg)
{
	const struct status_ctx *c = arg;
	struct ws_object obj;
	int rc = lookup_locked(ws, c->kind, c->name, &obj);

	if (rc == 0)
		render_status(ws, f, c->kind, c->name, &obj);
	return rc;
}

int ws_status(struct workspace *ws, enum ws_kind kind, const char *name, char **text, size_t *len)
{
	struct status_ctx c = {kind, name};
	return ws_render_state(ws, status_of, &c, text, len);
}

/* The inspect document of a listed name (malloc'd, or NULL when there is none); the id of the
 * engine object into @outdated when the state's document is not read yet, or out of date (the
 * last one read is given all the same, should the engine not answer now): a container only
 * listed so far, a network a container joined or left, an image no card names. */
static int inspect_doc(struct workspace *ws, enum ws_kind kind, const char *name, char **raw,
		       char *outdated, size_t len)
{
	struct ws_object obj;
	int rc;

	*raw = NULL;
	outdated[0] = '\0';
	pthread_mutex_lock(&ws->lock);
	pthread_mutex_lock(&ws->slock);
	rc = lookup_locked(ws, kind, name, &obj);
	if (rc == 0) {
		struct ws_entry *e = ws_entry_for(ws, ws_card_kind(kind), name);
		struct ws_sobj *so = engine_object(ws, kind, name, e);
		if (so && so->summary && (kind == WS_CONTAINER || kind == WS_NETWORK))
			ws_fmt(outdated, len, "%s", so->id);
		if (so && so->inspect && !(*raw = strdup(so->inspect)))
			rc = -ENOMEM;
		else if (so && !so->inspect && kind == WS_IMAGE)
			ws_fmt(outdated, len, "%s", so->id);
	}
	pthread_mutex_unlock(&ws->slock);
	pthread_mutex_unlock(&ws->lock);
	return rc;
}

/* An image's inspect document into the state (one request, no lock held). */
static void read_image(struct workspace *ws, const char *id)
{
	struct be_obj *b = NULL;
	unsigned long t = ws_ticket(ws);
	if (ws->be->ops->inspect(ws->be, BE_IMAGE, id, &b, NULL, 0) == 0 && b->inspect) {
		ws_state_image_inspect(ws, id, b->inspect, t);
		b->inspect = NULL;
	}
	be_obj_free(b);
}

int ws_inspect(struct workspace *ws, enum ws_kind kind, const char *name, char **text, size_t *len)
{
	char *raw = NULL, id[BE_ID_SIZE];
	int rc = inspect_doc(ws, kind, name, &raw, id, sizeof(id));

	/* The document is read now (one request, no lock held), once; what it read stays. */
	if (rc == 0 && id[0]) {
		if (kind == WS_CONTAINER)
			ws_refresh_container(ws, id);
		else if (kind == WS_NETWORK)
			ws_refresh_network(ws, id);
		else
			read_image(ws, id);
		char again[BE_ID_SIZE];
		free(raw);
		rc = inspect_doc(ws, kind, name, &raw, again, sizeof(again));
	}
	if (rc < 0)
		return rc;
	/* Formatted outside the locks; a card's object not made yet is an empty document. */
	char *s = raw ? be_json_pretty(raw) : NULL;
	free(raw);
	if (asprintf(text, "%s\n", s ? s : "{}") < 0) {
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
	const struct ws_load *l = !e && name ? loaded(ws, name) : NULL;
	const struct ws_buf *log = e ? &e->log : l ? &l->log : NULL;
	if (log) {
		*text = malloc(log->len + 1);
		rc = *text ? 0 : -ENOMEM;
		if (*text) {
			memcpy(*text, log->data ? log->data : "", log->len);
			(*text)[log->len] = '\0';
			*len = log->len;
		}
	}
	pthread_mutex_unlock(&ws->lock);
	return rc;
}

int ws_image_ref(struct workspace *ws, const char *name, char *out, size_t len)
{
	pthread_mutex_lock(&ws->lock);
	pthread_mutex_lock(&ws->slock);
	struct ws_entry *e = ws_entry_for(ws, CARD_IMAGE, name);
	struct ws_sobj *img = engine_object(ws, WS_IMAGE, name, e);
	/* By its tag, as `docker save web:latest`: the archive then names it, and a load gives
	 * the tag back; an untagged one by its id. */
	if (img && e)
		image_object(e, out, len);
	else if (img && strchr(name, ':'))
		ws_image_tag(name, out, len);
	else if (img)
		ws_fmt(out, len, "%s", img->id);
	pthread_mutex_unlock(&ws->slock);
	pthread_mutex_unlock(&ws->lock);
	return img ? 0 : -ENOENT;
}

/* ---- rmdir ---- */

int ws_do_remove_object(struct workspace *ws, enum ws_kind kind, const char *name)
{
	char err[512] = "", object[300];
	bool have;
	int rc;

	if (kind == WS_NODE)
		return -EPERM; /* a node leaves its cluster from its own engine */
	if (kind == WS_UNIT || kind == WS_GROUP)
		return -EPERM; /* made and removed by their cards; down --rm in ctl removes what
				  they run */
	if (kind == WS_CONTAINER && ws_swarm(ws)) {
		/* On a Swarm no card makes a container: a task's is replaced by the Swarm. */
		rc = ws_container_destroy(ws, name, err, sizeof(err));
		if (rc < 0 && rc != -ENOENT)
			ws_error_add(ws, "containers/%s: cannot remove: %s", name,
				     err[0] ? err : strerror(-rc));
		ws_refresh_container(ws, name);
		return rc;
	}
	char card[512] = "";
	pthread_mutex_lock(&ws->lock);
	struct ws_entry *e = ws_entry_for(ws, ws_card_kind(kind), name);
	have = e != NULL;
	if (e && kind == WS_IMAGE)
		image_object(e, object, sizeof(object));
	else
		ws_fmt(object, sizeof(object), "%s", e && e->object[0] ? e->object : name);
	if (e)
		ws_fmt(card, sizeof(card), "%s", e->relpath);
	pthread_mutex_unlock(&ws->lock);
	/* An engine image no card made: its tag (docker rmi NAME), or the untagged image itself. */
	if (kind == WS_IMAGE && !have) {
		pthread_mutex_lock(&ws->lock);
		pthread_mutex_lock(&ws->slock);
		struct ws_sobj *img = engine_object(ws, kind, name, NULL);
		if (img && strchr(name, ':'))
			ws_image_tag(name, object, sizeof(object));
		else if (img)
			ws_fmt(object, sizeof(object), "%s", img->id);
		pthread_mutex_unlock(&ws->slock);
		pthread_mutex_unlock(&ws->lock);
		if (!img)
			return -ENOENT;
	}
	/* The card goes too: a crash before it does must not bring the object back. */
	if (card[0])
		ws_removal_begin(ws, card);
	/* Whoever made it: the user asked for this one by name. */
	rc = ws_unapply(ws, ws_card_kind(kind), object, true, err, sizeof(err));
	if (rc == -ENOENT && !have)
		return -ENOENT;
	if (rc < 0 && rc != -ENOENT) {
		ws_error_add(ws, "%s/%s: cannot remove: %s", ws_kind_dir(kind), name,
			     err[0] ? err : strerror(-rc));
		if (card[0])
			ws_removal_end(ws, card);
		return rc;
	}
	pthread_mutex_lock(&ws->lock);
	e = ws_entry_for(ws, ws_card_kind(kind), name);
	pthread_mutex_unlock(&ws->lock);
	/* The card goes too, or the next apply would make the object again. */
	if (e)
		ws_entry_delete_file(ws, e);
	if (card[0])
		ws_removal_end(ws, card);
	return 0;
}

int ws_service_tasks(struct workspace *ws, const char *name, char **text, size_t *len)
{
	struct ws_object obj;
	int rc;

	*text = NULL;
	pthread_mutex_lock(&ws->lock);
	pthread_mutex_lock(&ws->slock);
	rc = lookup_locked(ws, WS_SERVICE, name, &obj);
	if (rc == 0) {
		struct ws_sobj *so = ws_store_name(&ws->store[WS_SERVICE], name);
		*text = strdup(so && so->tasks ? so->tasks : "");
		rc = *text ? 0 : -ENOMEM;
	}
	pthread_mutex_unlock(&ws->slock);
	pthread_mutex_unlock(&ws->lock);
	*len = *text ? strlen(*text) : 0;
	return rc;
}
