/* The changes the workspace makes itself: an apply creates and starts a container, then reads
 * it back once (reconcile.c's refresh after an apply). The engine's events about those changes
 * then say nothing the state will not have: the state thread publishes them from their own
 * words (state-sync.c), without reading the container again for each.
 *
 * An expectation is noted before the request and taken by the event it causes; one whose
 * request failed is forgotten, and one whose event never came expires (WS_OWN_MS), so that a
 * later event of someone else is read as usual. */
#include <string.h>

#include "ws-int.h"

static bool is(const struct ws_own *o, const char *key, const char *action)
{
	return o->expires_ms && strcmp(o->key, key) == 0 && strcmp(o->action, action) == 0;
}

void ws_own_expect(struct workspace *ws, const char *key, const char *action)
{
	long now = ws_mono_ms();
	struct ws_own *slot = NULL;

	pthread_mutex_lock(&ws->wqlock);
	/* A free or expired slot, else the oldest: its event is the least likely to come. */
	for (size_t i = 0; i < WS_OWN_MAX; i++) {
		struct ws_own *o = &ws->own[i];
		if (o->expires_ms <= now) {
			slot = o;
			break;
		}
		if (!slot || o->expires_ms < slot->expires_ms)
			slot = o;
	}
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

bool ws_own_take(struct workspace *ws, const struct be_event *ev)
{
	long now = ws_mono_ms();
	bool taken = false;

	pthread_mutex_lock(&ws->wqlock);
	for (size_t i = 0; i < WS_OWN_MAX && !taken; i++) {
		struct ws_own *o = &ws->own[i];
		if (o->expires_ms > now &&
		    (is(o, ev->id, ev->action) ||
		     (strcmp(ev->action, "create") == 0 && is(o, ev->name, ev->action)))) {
			o->expires_ms = 0;
			taken = true;
		}
	}
	pthread_mutex_unlock(&ws->wqlock);
	return taken;
}
