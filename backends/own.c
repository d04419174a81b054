/* The changes the workspace makes itself: an apply creates and starts a container, then reads
 * it back once (reconcile.c's refresh after an apply). The engine's events about those changes
 * then say nothing the state will not have: the state thread publishes them from their own
 * words (state-sync.c), without reading the container again for each.
 *
 * An expectation is noted before the request and taken by the event it causes; one whose
 * request failed is forgotten, and one whose event never came expires (WS_OWN_MS), so that a
 * later event of someone else is read as usual.
 *
 * The line of a taken event goes out only once the maker's read is in the state: the event
 * usually comes while the start's answer is on its way, before that read, and a reader who
 * sees "start" must find the started container's details in its status, as after any other
 * event. Until then the line waits in its slot (at most WS_OWN_PARK_MS, should the read never
 * come); the state thread publishes it when the read is done (ws_own_read wakes it), or first
 * when another event of the same container comes, so that each container's lines keep the
 * engine's order. Every slot is guarded by wqlock. */
#include <string.h>

#include "ws-int.h"

static bool is(const struct ws_own *o, const char *key, const char *action)
{
	return o->expires_ms && !o->parked && strcmp(o->key, key) == 0 &&
	       strcmp(o->action, action) == 0;
}

static void publish_slot_locked(struct workspace *ws, struct ws_own *o)
{
	if (o->filled)
		ws_publish_locked(ws, &o->line);
	memset(o, 0, sizeof(*o));
}

/* The kept line that came first (NULL: none); with @id, the first of that container. */
static struct ws_own *first_parked(struct workspace *ws, const char *id)
{
	struct ws_own *first = NULL;

	for (size_t i = 0; i < WS_OWN_MAX; i++) {
		struct ws_own *o = &ws->own[i];
		if (o->parked && (!id || strcmp(o->id, id) == 0) && (!first || o->seq < first->seq))
			first = o;
	}
	return first;
}

void ws_own_expect(struct workspace *ws, const char *key, const char *action)
{
	long now = ws_mono_ms();
	struct ws_own *slot = NULL;

	pthread_mutex_lock(&ws->wqlock);
	/* A free or expired slot, else the oldest awaited one: its event is the least likely to
	 * come. A kept line keeps its slot; were all slots such, the first goes out now. */
	for (size_t i = 0; i < WS_OWN_MAX; i++) {
		struct ws_own *o = &ws->own[i];
		if (o->parked)
			continue;
		if (o->expires_ms <= now) {
			slot = o;
			break;
		}
		if (!slot || o->expires_ms < slot->expires_ms)
			slot = o;
	}
	if (!slot) {
		slot = first_parked(ws, NULL);
		publish_slot_locked(ws, slot);
	}
	memset(slot, 0, sizeof(*slot));
	ws_fmt(slot->key, sizeof(slot->key), "%s", key);
	ws_fmt(slot->action, sizeof(slot->action), "%s", action);
	slot->expires_ms = now + WS_OWN_MS;
	pthread_mutex_unlock(&ws->wqlock);
}

void ws_own_forget(struct workspace *ws, const char *key, const char *action)
{
	pthread_mutex_lock(&ws->wqlock);
	for (size_t i = 0; i < WS_OWN_MAX; i++)
		if (is(&ws->own[i], key, action))
			ws->own[i].expires_ms = 0;
	pthread_mutex_unlock(&ws->wqlock);
}

int ws_own_take(struct workspace *ws, const struct be_event *ev)
{
	long now = ws_mono_ms();
	int slot = -1;

	pthread_mutex_lock(&ws->wqlock);
	for (size_t i = 0; i < WS_OWN_MAX && slot < 0; i++) {
		struct ws_own *o = &ws->own[i];
		if (o->expires_ms > now &&
		    (is(o, ev->id, ev->action) ||
		     (strcmp(ev->action, "create") == 0 && is(o, ev->name, ev->action)))) {
			o->parked = true;
			o->seq = ++ws->own_seq;
			o->expires_ms = now + WS_OWN_PARK_MS;
			ws_fmt(o->id, sizeof(o->id), "%s", ev->id);
			slot = (int)i;
		}
	}
	pthread_mutex_unlock(&ws->wqlock);
	return slot;
}

void ws_own_line(struct workspace *ws, int slot, const struct ws_change *c)
{
	if (slot < 0 || slot >= WS_OWN_MAX)
		return;
	pthread_mutex_lock(&ws->wqlock);
	struct ws_own *o = &ws->own[slot];
	if (c) {
		o->line = *c;
		o->filled = true;
	} else {
		o->read = true; /* nothing to wait for */
	}
	ws_own_flush_locked(ws, NULL);
	pthread_mutex_unlock(&ws->wqlock);
}

/* Whether the slot is about what @a names: the key it was noted with, or its event's id. */
static bool names(const struct ws_own *o, const char *a)
{
	return a && *a && (strcmp(o->key, a) == 0 || (o->parked && strcmp(o->id, a) == 0));
}

void ws_own_read(struct workspace *ws, const char *a, const char *b)
{
	bool wake = false;

	pthread_mutex_lock(&ws->wqlock);
	for (size_t i = 0; i < WS_OWN_MAX; i++) {
		struct ws_own *o = &ws->own[i];
		if (o->expires_ms && (names(o, a) || names(o, b))) {
			o->read = true;
			wake |= o->parked;
		}
	}
	if (wake)
		pthread_cond_signal(&ws->wqcond);
	pthread_mutex_unlock(&ws->wqlock);
}

/* Whether a kept line may go out: its read is done, or its time is up. */
static bool ready(const struct ws_own *o, long now)
{
	return o->read || o->expires_ms <= now;
}

/* Whether a line of the same container came before @o and must wait still. */
static bool held_back(struct workspace *ws, const struct ws_own *o, long now)
{
	for (size_t i = 0; i < WS_OWN_MAX; i++) {
		const struct ws_own *p = &ws->own[i];
		if (p->parked && p->seq < o->seq && strcmp(p->id, o->id) == 0 && !ready(p, now))
			return true;
	}
	return false;
}

void ws_own_flush_locked(struct workspace *ws, const char *id)
{
	long now = ws_mono_ms();
	struct ws_own *o;
	bool again = true;

	if (id)
		while ((o = first_parked(ws, id)))
			publish_slot_locked(ws, o);
	/* The ready ones in the order their events came, each container's in its order. */
	while (again) {
		again = false;
		struct ws_own *first = NULL;
		for (size_t i = 0; i < WS_OWN_MAX; i++) {
			o = &ws->own[i];
			if (o->parked && ready(o, now) && !held_back(ws, o, now) &&
			    (!first || o->seq < first->seq))
				first = o;
		}
		if (first) {
			publish_slot_locked(ws, first);
			again = true;
		}
	}
}

long ws_own_due_locked(struct workspace *ws)
{
	long now = ws_mono_ms(), left = -1;

	for (size_t i = 0; i < WS_OWN_MAX; i++) {
		const struct ws_own *o = &ws->own[i];
		long l = o->expires_ms - now;
		if (o->parked && (left < 0 || l < left))
			left = l > 0 ? l : 0;
	}
	return left;
}
