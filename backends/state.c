/* The engine state: the containers, networks and images the last engine reads showed, which
 * every read of the mount (ws_list, ws_lookup, ws_status, ws_inspect) is served from without an
 * engine request. Any thread may update it (the state thread from events and reconciles, the
 * applier and ctl right after their own changes); each update carries the ticket of the engine
 * read it comes from, taken before the request, so a slow older read never overwrites a newer
 * one, and removed ids are remembered (tombstones) so that an older read cannot bring one back.
 *
 * Changes are published here only where presence is the whole story: a network appearing or
 * going, an image tag appearing, moving or going. Containers' changes come from their events
 * (state-sync.c), which say more than a diff could (kill, stop, restart). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ws-int.h"

void ws_state_init(struct workspace *ws)
{
	pthread_mutex_init(&ws->slock, NULL);
	pthread_cond_init(&ws->scond, NULL);
	atomic_init(&ws->ticket, 0);
	pthread_mutex_init(&ws->wqlock, NULL);
	pthread_cond_init(&ws->wqcond, NULL);
	pthread_cond_init(&ws->wqwarm, NULL);
	pthread_mutex_init(&ws->sublock, NULL);
	pthread_cond_init(&ws->subcond, NULL);
	atomic_init(&ws->ev_stop, false);
}

static void store_clear(struct ws_store *s)
{
	for (size_t i = 0; i < s->n; i++)
		ws_sobj_free(s->v[i]);
	free(s->v);
	ws_store_index_free(s);
	memset(s, 0, sizeof(*s));
}

void ws_state_free(struct workspace *ws)
{
	for (int k = 0; k < WS_KINDS; k++)
		store_clear(&ws->store[k]);
	pthread_cond_destroy(&ws->scond);
	pthread_mutex_destroy(&ws->slock);
	pthread_cond_destroy(&ws->wqcond);
	pthread_cond_destroy(&ws->wqwarm);
	pthread_mutex_destroy(&ws->wqlock);
	pthread_cond_destroy(&ws->subcond);
	pthread_mutex_destroy(&ws->sublock);
}

unsigned long ws_ticket(struct workspace *ws)
{
	return atomic_fetch_add(&ws->ticket, 1) + 1;
}

/* Images: the one carrying this tag ("web:latest", any spelling). */
/* Whether a "\ntag\n..." list holds tag, each compared in its short form (be_image_short):
 * Podman says localhost/web:latest where a card says web:latest. */
static bool has_tag(const char *tags, const char *tag)
{
	const char *want = be_image_short(tag);
	size_t n = strlen(want);
	for (const char *p = tags ? tags + 1 : ""; *p;) {
		const char *nl = strchr(p, '\n');
		if (!nl)
			break;
		char one[300];
		ws_fmt(one, sizeof(one), "%.*s", (int)(nl - p), p);
		if (strlen(be_image_short(one)) == n && strcmp(be_image_short(one), want) == 0)
			return true;
		p = nl + 1;
	}
	return false;
}

struct ws_sobj *ws_store_tag(struct ws_store *s, const char *tag)
{
	for (size_t i = 0; tag && *tag && i < s->n; i++)
		if (has_tag(s->v[i]->tags, tag))
			return s->v[i];
	return NULL;
}

static int store_add(struct ws_store *s, struct ws_sobj *o)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct ws_sobj **v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = o;
	ws_store_changed(s);
	return 0;
}

/* Keeps the order: a directory listing should not shuffle between two reads. */
static void store_del(struct ws_store *s, struct ws_sobj *o)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == o) {
			memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
			s->n--;
			ws_store_changed(s);
			break;
		}
	ws_sobj_free(o);
}

bool ws_tombstoned(struct workspace *ws, const char *id, unsigned long ticket)
{
	for (size_t i = 0; i < WS_TOMBSTONES; i++)
		if (ws->tombs[i].ticket > ticket && strcmp(ws->tombs[i].id, id) == 0)
			return true;
	return false;
}

static void tomb(struct workspace *ws, const char *id, unsigned long ticket)
{
	struct ws_tomb *t = &ws->tombs[ws->tomb_next++ % WS_TOMBSTONES];

	ws_fmt(t->id, sizeof(t->id), "%s", id);
	t->ticket = ticket;
}

static void fill_prev(struct ws_prev *prev, const struct ws_sobj *o)
{
	if (!prev)
		return;
	memset(prev, 0, sizeof(*prev));
	if (!o)
		return;
	prev->had = true;
	ws_fmt(prev->name, sizeof(prev->name), "%s", o->name);
	ws_fmt(prev->state, sizeof(prev->state), "%s", o->state);
	ws_fmt(prev->health, sizeof(prev->health), "%s", o->health);
	ws_fmt(prev->started_at, sizeof(prev->started_at), "%s", o->started_at);
	prev->exit_code = o->exit_code;
	prev->summary = o->summary;
}

/* The networks a container's "\nbridge\nnet1\n" names: their inspect lists the containers
 * attached, out of date once one joins, leaves, starts or stops (slock held). Podman sends no
 * connect event for these. */
static void outdate_nets(struct workspace *ws, const char *nets)
{
	for (const char *p = nets ? nets + 1 : ""; *p;) {
		size_t n = strcspn(p, "\n");
		char name[128];
		ws_fmt(name, sizeof(name), "%.*s", (int)n, p);
		struct ws_sobj *net = ws_store_name(&ws->store[WS_NETWORK], name);
		if (net)
			net->summary = true;
		p += n + (p[n] == '\n');
	}
}

/* A container's change that its networks' inspect shows (slock held). */
static void container_nets_changed(struct workspace *ws, const struct ws_sobj *old,
				   const struct ws_sobj *o)
{
	if (old && strcmp(old->state, o->state) == 0 && old->nets && o->nets &&
	    strcmp(old->nets, o->nets) == 0)
		return;
	outdate_nets(ws, o->nets);
	if (old)
		outdate_nets(ws, old->nets);
}

static void changed_locked(struct workspace *ws)
{
	ws->sgen++;
	pthread_cond_broadcast(&ws->scond);
}

enum ws_put_result ws_state_put(struct workspace *ws, enum ws_kind kind, struct ws_sobj *o,
				unsigned long ticket, struct ws_prev *prev)
{
	struct ws_store *s = &ws->store[kind];
	enum ws_put_result res = WS_PUT_UPDATED;
	/* Asked before slock: the card side's lock comes first. */
	bool membership = kind == WS_NETWORK && !ws_card_named(ws, kind, o->name);

	fill_prev(prev, NULL);
	pthread_mutex_lock(&ws->slock);
	struct ws_sobj *old = ws_store_id(s, o->id);
	if (ws_tombstoned(ws, o->id, ticket) || (old && old->ticket > ticket)) {
		pthread_mutex_unlock(&ws->slock);
		ws_sobj_free(o);
		return WS_PUT_OLDER;
	}
	fill_prev(prev, old);
	o->ticket = ticket;
	if (kind == WS_CONTAINER)
		container_nets_changed(ws, old, o);
	if (old) {
		/* A list's summary has no started_at: its inspect filling it in is no change. */
		bool same = strcmp(old->state, o->state) == 0 && strcmp(old->name, o->name) == 0 &&
			    strcmp(old->health, o->health) == 0 &&
			    (old->summary || strcmp(old->started_at, o->started_at) == 0);
		/* A change seen now (pause has no time of its own in the document); a summary's
		 * time was only its creation's, the inspect's is better. */
		if (same && !old->summary)
			o->changed = old->changed;
		else if (o->changed < time(NULL))
			o->changed = time(NULL);
		for (size_t i = 0; i < s->n; i++)
			if (s->v[i] == old)
				s->v[i] = o;
		ws_store_changed(s);
		ws_sobj_free(old);
	} else if (store_add(s, o) < 0) {
		pthread_mutex_unlock(&ws->slock);
		ws_sobj_free(o);
		return WS_PUT_OLDER;
	} else {
		res = WS_PUT_NEW;
	}
	/* Container names are unique in an engine: another id under this name is gone. */
	for (size_t i = 0; kind == WS_CONTAINER && i < s->n;) {
		struct ws_sobj *x = s->v[i];
		if (x != o && strcmp(x->name, o->name) == 0 && x->ticket < ticket) {
			tomb(ws, x->id, ticket);
			store_del(s, x);
		} else {
			i++;
		}
	}
	changed_locked(ws);
	if (kind == WS_NETWORK && res == WS_PUT_NEW && s->listed)
		ws_emit(ws, WS_NETWORK, o->name, "create", "", membership, NULL);
	pthread_mutex_unlock(&ws->slock);
	return res;
}

bool ws_state_drop(struct workspace *ws, enum ws_kind kind, const char *id, const char *name,
		   unsigned long ticket, struct ws_prev *prev)
{
	struct ws_store *s = &ws->store[kind];
	bool dropped = false, listed;
	char gone[128] = "";

	fill_prev(prev, NULL);
	pthread_mutex_lock(&ws->slock);
	struct ws_sobj *o = id && *id ? ws_store_id(s, id) : ws_store_name(s, name);
	if (o && o->ticket <= ticket) {
		fill_prev(prev, o);
		ws_fmt(gone, sizeof(gone), "%s", o->name);
		tomb(ws, o->id, ticket);
		store_del(s, o);
		changed_locked(ws);
		dropped = true;
	} else if (!o && id && *id) {
		tomb(ws, id, ticket);
	}
	listed = s->listed;
	pthread_mutex_unlock(&ws->slock);
	if (dropped && kind == WS_NETWORK && listed)
		ws_emit(ws, WS_NETWORK, gone, "remove", "", !ws_card_named(ws, kind, gone), NULL);
	return dropped;
}

void ws_state_imply(struct workspace *ws, const char *id, const char *action, time_t when,
		    bool read_follows)
{
	static const struct {
		const char *action, *state;
	} implied[] = {
	    {"start", "running"}, {"unpause", "running"}, {"restart", "running"},
	    {"die", "exited"},	  {"stop", "exited"},	  {"pause", "paused"},
	};

	pthread_mutex_lock(&ws->slock);
	struct ws_sobj *o = ws_store_id(&ws->store[WS_CONTAINER], id);
	const char *state = NULL;
	for (size_t i = 0; i < sizeof(implied) / sizeof(implied[0]); i++)
		if (strcmp(implied[i].action, action) == 0)
			state = implied[i].state;
	if (o && !(read_follows && (!state || strcmp(o->state, state) == 0))) {
		if (state)
			ws_fmt(o->state, sizeof(o->state), "%s", state);
		o->dirty = o->dirty || !read_follows;
		o->changed = when;
		changed_locked(ws);
	}
	pthread_mutex_unlock(&ws->slock);
}

void ws_state_outdated(struct workspace *ws, enum ws_kind kind, const char *id)
{
	pthread_mutex_lock(&ws->slock);
	struct ws_sobj *o = ws_store_id(&ws->store[kind], id);
	if (!o)
		o = ws_store_name(&ws->store[kind], id);
	if (o && kind == WS_NETWORK)
		o->summary = true;
	else if (o)
		o->dirty = true;
	pthread_mutex_unlock(&ws->slock);
}

/* ---- images ---- */

void ws_state_hint(struct workspace *ws, const char *tag, const char *action)
{
	const char *t = be_image_short(tag);

	pthread_mutex_lock(&ws->slock);
	size_t i = 0;
	while (i < ws->nhints && strcmp(ws->hints[i].tag, t) != 0)
		i++;
	/* The applier's word ("built") beats what the engine's events say of it. */
	if (i == ws->nhints && ws->nhints < WS_HINTS) {
		ws_fmt(ws->hints[i].tag, sizeof(ws->hints[i].tag), "%s", t);
		ws_fmt(ws->hints[i].action, sizeof(ws->hints[i].action), "%s", action);
		ws->nhints++;
	}
	pthread_mutex_unlock(&ws->slock);
}

/* The hinted action of a tag, consumed (slock held). */
static const char *take_hint(struct workspace *ws, const char *tag, char *buf, size_t len,
			     const char *fallback)
{
	for (size_t i = 0; i < ws->nhints; i++)
		if (strcmp(ws->hints[i].tag, tag) == 0) {
			ws_fmt(buf, len, "%s", ws->hints[i].action);
			ws->hints[i] = ws->hints[--ws->nhints];
			return buf;
		}
	return fallback;
}

/* The images/ name of a tag: the ImageCard's name when a card makes it ("web:latest" ->
 * "web"), else the tag as images/ names it (ws_image_dirname). */
static void image_name(const char *tag, char *const *refs, char *out, size_t len)
{
	for (size_t i = 0; refs && refs[i]; i++)
		if (strcmp(be_image_short(refs[i]), be_image_short(tag)) == 0) {
			const char *colon = strrchr(refs[i], ':');
			ws_fmt(out, len, "%.*s",
			       colon ? (int)(colon - refs[i]) : (int)strlen(refs[i]), refs[i]);
			return;
		}
	ws_image_dirname(tag, out, len); /* its name under images/ */
}

/* Calls fn for every tag of every image of a store. */
static void each_tag(struct ws_sobj **v, size_t n,
		     void (*fn)(const char *tag, const struct ws_sobj *img, void *ctx), void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		const char *p = v[i]->tags ? v[i]->tags + 1 : "";
		while (*p) {
			const char *nl = strchr(p, '\n');
			char tag[256];
			if (!nl)
				break;
			ws_fmt(tag, sizeof(tag), "%.*s", (int)(nl - p), p);
			fn(tag, v[i], ctx);
			p = nl + 1;
		}
	}
}

struct image_diff {
	struct workspace *ws;
	struct ws_store *other; /* the set to compare with */
	char *const *refs;
	bool gone; /* walking the old set: tags no longer there */
};

static void diff_tag(const char *tag, const struct ws_sobj *img, void *arg)
{
	struct image_diff *d = arg;
	struct ws_sobj *there = ws_store_tag(d->other, tag);
	char name[256], buf[16];
	const char *action;

	if (d->gone) {
		if (there)
			return;
		action = "removed";
	} else if (there && strcmp(there->id, img->id) == 0) {
		return;
	} else {
		action = take_hint(d->ws, tag, buf, sizeof(buf), "tagged");
	}
	image_name(tag, d->refs, name, sizeof(name));
	char attrs[256] = "";
	ws_attr(attrs, sizeof(attrs), "tag", tag);
	ws_emit(d->ws, WS_IMAGE, name, action, attrs, false, NULL);
}

char **ws_state_images(struct workspace *ws, struct be_obj **list, size_t n, unsigned long ticket,
		       char *const *refs)
{
	struct ws_store fresh = {0};
	char **missing = NULL;
	size_t nmissing = 0;

	for (size_t i = 0; i < n; i++) {
		struct ws_sobj *o = ws_sobj_from(ws, list[i]);
		if (o && store_add(&fresh, o) < 0)
			ws_sobj_free(o);
	}
	free(list);

	pthread_mutex_lock(&ws->slock);
	struct ws_store *s = &ws->store[WS_IMAGE];
	if (s->ticket > ticket) {
		pthread_mutex_unlock(&ws->slock);
		store_clear(&fresh);
		return NULL;
	}
	if (s->listed) {
		struct image_diff d = {ws, s, refs, false};
		each_tag(fresh.v, fresh.n, diff_tag, &d);
		d.other = &fresh;
		d.gone = true;
		each_tag(s->v, s->n, diff_tag, &d);
	}
	/* Inspect documents already read stay with their image. */
	for (size_t i = 0; i < fresh.n; i++) {
		struct ws_sobj *old = ws_store_id(s, fresh.v[i]->id);
		if (old && old->inspect) {
			fresh.v[i]->inspect = old->inspect;
			old->inspect = NULL;
		}
		fresh.v[i]->ticket = ticket;
	}
	store_clear(s);
	*s = fresh;
	s->listed = true;
	s->ticket = ticket;
	for (size_t i = 0; refs && refs[i]; i++) {
		struct ws_sobj *img = ws_store_tag(s, refs[i]);
		bool dup = false;
		for (size_t j = 0; img && j < nmissing; j++)
			dup = dup || strcmp(missing[j], img->id) == 0;
		if (!img || img->inspect || dup)
			continue;
		char **m = realloc(missing, (nmissing + 2) * sizeof(*m));
		if (!m)
			break;
		missing = m;
		missing[nmissing] = strdup(img->id);
		if (missing[nmissing])
			missing[++nmissing] = NULL;
	}
	changed_locked(ws);
	pthread_mutex_unlock(&ws->slock);
	return missing;
}

void ws_state_image_inspect(struct workspace *ws, const char *id, char *json, unsigned long ticket)
{
	pthread_mutex_lock(&ws->slock);
	struct ws_sobj *img = ws_store_id(&ws->store[WS_IMAGE], id);
	if (img && ticket >= img->ticket) {
		free(img->inspect);
		img->inspect = json;
		json = NULL;
		changed_locked(ws);
	}
	pthread_mutex_unlock(&ws->slock);
	free(json);
}

void ws_state_stale(struct workspace *ws, const char *why)
{
	pthread_mutex_lock(&ws->slock);
	ws->stale = why != NULL;
	ws_fmt(ws->stale_why, sizeof(ws->stale_why), "%s", why ? why : "");
	changed_locked(ws);
	pthread_mutex_unlock(&ws->slock);
}

bool ws_state_has(struct workspace *ws, enum ws_kind kind, const char *name)
{
	bool has;

	pthread_mutex_lock(&ws->slock);
	has = kind == WS_IMAGE ? ws_store_tag(&ws->store[kind], name) != NULL
			       : ws_store_name(&ws->store[kind], name) != NULL;
	pthread_mutex_unlock(&ws->slock);
	return has;
}
