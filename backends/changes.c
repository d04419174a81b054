/* The change feed: every change, made by cutipfs or seen in the engine's events, queued in the
 * order it happened and delivered to the subscribers by the state thread alone, with no
 * workspace lock held during a callback; and the one-line text of a change (the mount's
 * `events` file). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ws-int.h"

/* ---- text ---- */

static bool needs_quotes(const char *v)
{
	if (!*v)
		return true;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '\\' || *p == '=' || *p == 0x7f)
			return true;
	return false;
}

/* The value as it goes into a line: as it is, or "quoted" with \" \\ \n \t \xHH escapes. */
static size_t quote(char *out, size_t len, const char *v)
{
	size_t n = 0;

#define PUT(c)                                                                                     \
	do {                                                                                       \
		if (n + 1 < len)                                                                   \
			out[n] = (c);                                                              \
		n++;                                                                               \
	} while (0)
	if (!needs_quotes(v)) {
		for (const char *p = v; *p; p++)
			PUT(*p);
	} else {
		PUT('"');
		for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
			if (*p == '"' || *p == '\\') {
				PUT('\\');
				PUT((char)*p);
			} else if (*p == '\n') {
				PUT('\\');
				PUT('n');
			} else if (*p == '\t') {
				PUT('\\');
				PUT('t');
			} else if (*p < ' ' || *p == 0x7f) {
				char hex[5];
				snprintf(hex, sizeof(hex), "\\x%02x", *p);
				for (int i = 0; hex[i]; i++)
					PUT(hex[i]);
			} else {
				PUT((char)*p);
			}
		}
		PUT('"');
	}
#undef PUT
	if (len)
		out[n < len ? n : len - 1] = '\0';
	return n;
}

void ws_attr(char *attrs, size_t len, const char *key, const char *value)
{
	size_t at = strlen(attrs);
	char q[600];

	if (!value)
		return;
	if (quote(q, sizeof(q), value) >= sizeof(q))
		return;
	/* All or nothing: half a value would read as another one. */
	if (at + (at ? 1 : 0) + strlen(key) + 1 + strlen(q) + 1 > len)
		return;
	snprintf(attrs + at, len - at, "%s%s=%s", at ? " " : "", key, q);
}

static const char *kind_word(enum ws_kind kind)
{
	switch (kind) {
	case WS_IMAGE:
		return "image";
	case WS_NETWORK:
		return "network";
	case WS_CONTAINER:
		return "container";
	case WS_SERVICE:
		return "service";
	case WS_NODE:
		return "node";
	case WS_TASK:
		return "task";
	case WS_UNIT:
		return "unit";
	case WS_GROUP:
		return "group";
	default:
		return "card";
	}
}

int ws_change_format(const struct ws_change *c, char *buf, size_t len)
{
	char stamp[48], name[300];
	struct tm tm;
	time_t secs = c->time.tv_sec;

	if (!gmtime_r(&secs, &tm))
		memset(&tm, 0, sizeof(tm));
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	quote(name, sizeof(name), c->name);
	return snprintf(buf, len, "%s.%09ldZ %s %s %s%s%s", stamp, (long)c->time.tv_nsec,
			kind_word(c->obj), name, c->action, c->attrs[0] ? " " : "", c->attrs);
}

/* ---- publishing ---- */

void ws_publish_locked(struct workspace *ws, const struct ws_change *c)
{
	struct ws_chg_item *it;

	if (ws->nchg >= WS_CHANGES_MAX || ws->wstop || !(it = malloc(sizeof(*it))))
		return;
	it->c = *c;
	it->next = NULL;
	if (!it->c.time.tv_sec)
		clock_gettime(CLOCK_REALTIME, &it->c.time);
	if (ws->ctail)
		ws->ctail->next = it;
	else
		ws->chead = it;
	ws->ctail = it;
	ws->nchg++;
	pthread_cond_signal(&ws->wqcond);
}

void ws_publish(struct workspace *ws, const struct ws_change *c)
{
	pthread_mutex_lock(&ws->wqlock);
	ws_publish_locked(ws, c);
	pthread_mutex_unlock(&ws->wqlock);
}

void ws_change_make(struct ws_change *c, enum ws_kind obj, const char *name, const char *action,
		    const char *attrs, bool membership, const struct timespec *when)
{
	memset(c, 0, sizeof(*c));
	if (when)
		c->time = *when;
	c->obj = obj;
	ws_fmt(c->name, sizeof(c->name), "%s", name ? name : "");
	ws_fmt(c->action, sizeof(c->action), "%s", action);
	ws_fmt(c->attrs, sizeof(c->attrs), "%s", attrs ? attrs : "");
	c->membership = membership;
	/* rename: old=NAME is in attrs, and in old_name for the mount's invalidation. */
	const char *old = strstr(c->attrs, "old=");
	if (strcmp(action, "rename") == 0 && old && (old == c->attrs || old[-1] == ' ')) {
		size_t n = strcspn(old + 4, " ");
		ws_fmt(c->old_name, sizeof(c->old_name), "%.*s", (int)n, old + 4);
	}
}

void ws_emit(struct workspace *ws, enum ws_kind obj, const char *name, const char *action,
	     const char *attrs, bool membership, const struct timespec *when)
{
	struct ws_change c;

	ws_change_make(&c, obj, name, action, attrs, membership, when);
	ws_publish(ws, &c);
}

void ws_card_change(struct workspace *ws, const char *relpath, const char *ref, const char *action,
		    const char *key, const char *value, bool membership)
{
	char attrs[512] = "";

	if (ref && *ref)
		ws_attr(attrs, sizeof(attrs), "ref", ref);
	if (key && value)
		ws_attr(attrs, sizeof(attrs), key, value);
	ws_emit(ws, WS_CARD, relpath, action, attrs, membership, NULL);
}

/* ---- subscribers ---- */

int ws_subscribe(struct workspace *ws, ws_change_cb cb, void *ctx)
{
	int id = -ENOSPC;

	if (!cb)
		return -EINVAL;
	pthread_mutex_lock(&ws->sublock);
	if (ws->nsubs < WS_SUBS_MAX) {
		id = ++ws->next_sub;
		ws->subs[ws->nsubs++] = (struct ws_sub){.id = id, .cb = cb, .ctx = ctx};
	}
	pthread_mutex_unlock(&ws->sublock);
	return id;
}

void ws_unsubscribe(struct workspace *ws, int id)
{
	pthread_mutex_lock(&ws->sublock);
	for (size_t i = 0; i < ws->nsubs; i++)
		if (ws->subs[i].id == id) {
			ws->subs[i] = ws->subs[--ws->nsubs];
			break;
		}
	/* After this returns the callback is not running and will not run again (unless this
	 * is the callback itself, on the state thread). */
	bool self = ws->state_started && pthread_equal(pthread_self(), ws->state_thread);
	while (ws->delivering && !self)
		pthread_cond_wait(&ws->subcond, &ws->sublock);
	pthread_mutex_unlock(&ws->sublock);
}

bool ws_deliver(struct workspace *ws, struct ws_chg_item *list)
{
	struct ws_sub subs[WS_SUBS_MAX];
	bool others = false;
	size_t n;

	while (list) {
		struct ws_chg_item *it = list;
		list = it->next;
		others |= it->c.obj != WS_UNIT && it->c.obj != WS_GROUP;
		it->c.seq = ++ws->seq;
		pthread_mutex_lock(&ws->sublock);
		n = ws->nsubs;
		memcpy(subs, ws->subs, n * sizeof(*subs));
		ws->delivering = true;
		pthread_mutex_unlock(&ws->sublock);
		for (size_t i = 0; i < n; i++)
			subs[i].cb(&it->c, subs[i].ctx);
		pthread_mutex_lock(&ws->sublock);
		ws->delivering = false;
		pthread_cond_broadcast(&ws->subcond);
		pthread_mutex_unlock(&ws->sublock);
		free(it);
	}
	return others;
}
