/* The events thread: the engine's event stream (GET /events for containers, networks and
 * images), read for the state thread and kept up across engine restarts.
 *
 * At start a reconcile (the baseline) is asked for and the stream opened with since=<now>, so
 * that what happens during the first list is replayed. When the stream ends (the engine went
 * away, restarted, or a proxy dropped it), the state is marked stale and the thread reconnects
 * with back-off (WS_BACKOFF_MIN_MS doubling to WS_BACKOFF_MAX_MS): first a bounded replay of
 * what it missed (since=<last event> until=<now>; Docker keeps only its last 256 events), then
 * a reconcile with full lists for whatever the replay could not give, then the live stream from
 * <until> on. `since` is inclusive, and replays overlap: events are deduplicated by (timeNano,
 * id, action). The engine is on this host (a unix socket): its clock is ours. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ws-int.h"

/* Events remembered for deduplication: more than a replay can overlap. */
#define WS_SEEN 4096
/* A stream that lived this long was healthy: the back-off starts over. */
#define WS_HEALTHY_MS 5000

struct feed {
	struct workspace *ws;
	uint64_t seen[WS_SEEN];
	size_t seen_next;
	long long last; /* timeNano of the newest event */
};

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static bool seen_before(struct feed *f, long long time_nano, const char *id, const char *action)
{
	char t[32];
	uint64_t key;

	snprintf(t, sizeof(t), "%lld", time_nano);
	key = fnv(fnv(fnv(14695981039346656037ULL, t), id), action);
	key += !key; /* 0 marks an empty slot */
	for (size_t i = 0; i < WS_SEEN; i++)
		if (f->seen[i] == key)
			return true;
	f->seen[f->seen_next++ % WS_SEEN] = key;
	return false;
}

static const char *attr(const cJSON *attrs, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(attrs, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static int on_event(const cJSON *ev, void *ctx)
{
	struct feed *f = ctx;
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "Type");
	const cJSON *action = cJSON_GetObjectItemCaseSensitive(ev, "Action");
	const cJSON *actor = cJSON_GetObjectItemCaseSensitive(ev, "Actor");
	const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(actor, "Attributes");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(actor, "ID");
	const cJSON *tn = cJSON_GetObjectItemCaseSensitive(ev, "timeNano");
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(ev, "time");
	struct ws_ev w;

	if (!cJSON_IsString(type) || !cJSON_IsString(action))
		return 0;
	memset(&w, 0, sizeof(w));
	if (strcmp(type->valuestring, "container") == 0)
		w.kind = WS_CONTAINER;
	else if (strcmp(type->valuestring, "network") == 0)
		w.kind = WS_NETWORK;
	else if (strcmp(type->valuestring, "image") == 0)
		w.kind = WS_IMAGE;
	else
		return 0;
	/* timeNano does not fit a double exactly; the same event rounds the same way. */
	w.time_nano = cJSON_IsNumber(tn)   ? (long long)tn->valuedouble
		      : cJSON_IsNumber(ts) ? (long long)ts->valuedouble * 1000000000LL
					   : 0;
	ws_fmt(w.id, sizeof(w.id), "%s", cJSON_IsString(id) ? id->valuestring : "");
	ws_fmt(w.action, sizeof(w.action), "%s", action->valuestring);
	if (seen_before(f, w.time_nano, w.id, w.action))
		return 0;
	if (w.time_nano > f->last)
		f->last = w.time_nano;
	if (!w.time_nano) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		w.time_nano = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
	}
	ws_fmt(w.name, sizeof(w.name), "%s", attr(attrs, "name"));
	const char *old = attr(attrs, "oldName");
	ws_fmt(w.old_name, sizeof(w.old_name), "%s", old + (*old == '/'));
	ws_fmt(w.exit_code, sizeof(w.exit_code), "%s", attr(attrs, "exitCode"));
	ws_fmt(w.signal, sizeof(w.signal), "%s", attr(attrs, "signal"));
	/* Docker: Action "health_status: healthy"; Podman: an attribute. */
	const char *colon = strchr(w.action, ':');
	if (strncmp(w.action, "health_status", 13) == 0 && colon)
		ws_fmt(w.health, sizeof(w.health), "%s", colon + 1 + (colon[1] == ' '));
	else
		ws_fmt(w.health, sizeof(w.health), "%s", attr(attrs, "health_status"));
	ws_post_event(f->ws, &w);
	return 0;
}

static long long now_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static long mono_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec * 1000L + now.tv_nsec / 1000000L;
}

static void fmt_time(long long ns, char *buf, size_t len)
{
	ws_fmt(buf, len, "%lld.%09lld", ns / 1000000000LL, ns % 1000000000LL);
}

/* Sleeps, waking within 100 ms of ws_events_stop(); false when stopping. */
static bool nap(struct workspace *ws, long ms)
{
	while (ms > 0 && !atomic_load(&ws->ev_stop)) {
		long step = ms < 100 ? ms : 100;
		struct timespec ts = {0, step * 1000000L};
		nanosleep(&ts, NULL);
		ms -= step;
	}
	return !atomic_load(&ws->ev_stop);
}

static cJSON *type_filters(void)
{
	static const char *const types[] = {"container", "network", "image"};
	cJSON *f = cJSON_CreateObject();
	cJSON *t = f ? cJSON_AddArrayToObject(f, "type") : NULL;

	for (size_t i = 0; t && i < sizeof(types) / sizeof(types[0]); i++)
		cJSON_AddItemToArray(t, cJSON_CreateString(types[i]));
	return f;
}

static void *events_main(void *arg)
{
	struct workspace *ws = arg;
	struct feed *f = calloc(1, sizeof(*f));
	cJSON *filters = type_filters();
	long backoff = WS_BACKOFF_MIN_MS;
	long long since = now_ns();
	bool replay = false;
	char err[512], s[40], u[40];
	int rc;

	ws_post_reconcile(ws); /* the baseline */
	if (!f || !filters) {
		ws_state_stale(ws, "out of memory for the event stream");
		free(f);
		cJSON_Delete(filters);
		return NULL;
	}
	f->ws = ws;
	while (!atomic_load(&ws->ev_stop)) {
		if (replay) {
			long long until = now_ns();
			fmt_time(since, s, sizeof(s));
			fmt_time(until, u, sizeof(u));
			err[0] = '\0';
			rc = engine_events_stream(ws->engine, s, u, filters, on_event, f,
						  &ws->ev_stop, err, sizeof(err));
			if (atomic_load(&ws->ev_stop))
				break;
			if (rc < 0) {
				ws_state_stale(ws, err[0] ? err : strerror(-rc));
				nap(ws, backoff);
				backoff = backoff * 2 > WS_BACKOFF_MAX_MS ? WS_BACKOFF_MAX_MS
									  : backoff * 2;
				continue;
			}
			replay = false;
			since = until;
			ws_state_stale(ws, NULL);
			ws_post_reconcile(ws); /* what the replay could not give */
		}
		fmt_time(since, s, sizeof(s));
		long t0 = mono_ms();
		err[0] = '\0';
		rc = engine_events_stream(ws->engine, s, NULL, filters, on_event, f, &ws->ev_stop,
					  err, sizeof(err));
		if (atomic_load(&ws->ev_stop))
			break;
		/* Ended without being asked to: the engine went away or restarted. */
		ws_state_stale(ws, err[0] ? err : strerror(rc < 0 ? -rc : EIO));
		if (f->last > since)
			since = f->last;
		replay = true;
		if (mono_ms() - t0 > WS_HEALTHY_MS)
			backoff = WS_BACKOFF_MIN_MS;
		nap(ws, backoff);
		backoff = backoff * 2 > WS_BACKOFF_MAX_MS ? WS_BACKOFF_MAX_MS : backoff * 2;
	}
	cJSON_Delete(filters);
	free(f);
	return NULL;
}

int ws_events_start(struct workspace *ws)
{
	int rc = pthread_create(&ws->events_thread, NULL, events_main, ws);

	if (rc != 0)
		return -rc;
	ws->events_started = true;
	return 0;
}

void ws_events_stop(struct workspace *ws)
{
	atomic_store(&ws->ev_stop, true);
	if (ws->events_started)
		pthread_join(ws->events_thread, NULL);
	ws->events_started = false;
}
