/* The events thread: the engine's event stream (GET /events for containers, networks and
 * images), read for the state thread and kept up across engine restarts.
 *
 * At start a reconcile (the baseline) is asked for and the stream opened from the moment the
 * thread was started, so that what happens during the first list is replayed. When the stream
 * ends (the engine went away or restarted, a proxy dropped it, or the engine just closed it:
 * Podman 4.3 does each time it rotates its events log file), the thread reconnects: first a
 * bounded replay of what it missed (since=<last event> until=<now>; Docker keeps only its last
 * 256 events), then a reconcile with full lists for whatever the replay could not give, then
 * the live stream from <until> on. A stream cut or failed marks the state stale at once; one
 * the engine ended itself, only when the replay fails: an engine that answers it was never out
 * of reach, and a `wait` or a status read must not say otherwise. The replay goes at once;
 * further tries back off (WS_BACKOFF_MIN_MS doubling to WS_BACKOFF_MAX_MS), and so does a new
 * stream after one the engine ended within WS_HEALTHY_MS, or after the second in a row that
 * failed within WS_REFUSED_MS: an engine, or a proxy before it, that answers a replay but ends
 * or refuses every live stream at once must not be asked in a loop, with a reconcile's full
 * lists each time. One stream cut soon after it began is reconnected at once, as any cut.
 * `since` is inclusive, and replays overlap: events are deduplicated by (timeNano, id,
 * action). Every time here is the engine's: its events' own times, and for now and until ours
 * corrected by the engine's skew (ws_engine_skew): a remote engine's clock may be minutes off
 * ours, and a since= from our clock would then miss events or replay too many. */
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
/* Live streams that failed this soon after they were asked for, twice in a row, are refused. */
#define WS_REFUSED_MS 1000

struct feed {
	struct workspace *ws;
	uint64_t seen[WS_SEEN];
	size_t seen_next;
	long long last;	 /* the engine's time of the newest event */
	char cursor[40]; /* where to resume after it */
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

static int on_event(const struct be_event *ev, void *ctx)
{
	struct feed *f = ctx;
	struct be_event w = *ev;

	if (seen_before(f, w.time_nano, w.id, w.action))
		return 0;
	if (w.time_nano > f->last) {
		f->last = w.time_nano;
		ws_fmt(f->cursor, sizeof(f->cursor), "%s", w.cursor);
	}
	if (!w.time_nano) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		w.time_nano = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
	}
	ws_post_event(f->ws, &w);
	return 0;
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

static void back_off(struct workspace *ws, long *backoff)
{
	nap(ws, *backoff);
	*backoff = *backoff * 2 > WS_BACKOFF_MAX_MS ? WS_BACKOFF_MAX_MS : *backoff * 2;
}

/* The engine's clock at @ours (our clock), as a cursor. The skew is read after @ours was: it
 * costs a request, which over ssh on a loaded host can take a second or more. Not @measure:
 * the skew last measured (the engine stayed; a replay goes at once). */
static void engine_at(struct workspace *ws, long long ours, bool measure, char *cursor,
		      size_t len)
{
	long long ns = ours + (measure ? ws_engine_skew(ws) : atomic_load(&ws->skew_ns));

	ws_fmt(cursor, len, "%lld.%09lld", ns / 1000000000LL, ns % 1000000000LL);
}

static void *events_main(void *arg)
{
	struct workspace *ws = arg;
	struct feed *f = calloc(1, sizeof(*f));
	long backoff = WS_BACKOFF_MIN_MS;
	char since[40] = "", until[40], err[512], ended[512] = "";
	bool replay = false, brief = false, away = false;
	int rc, refused = 0;

	ws_post_reconcile(ws); /* the baseline */
	if (!f) {
		ws_state_stale(ws, "out of memory for the event stream");
		return NULL;
	}
	f->ws = ws;
	/* From when the workspace started the thread, so that what happens during the first
	 * list, and while the first request is on its way, is replayed: the mount serves cards/
	 * meanwhile, and an apply's own create must reach `events` too. */
	engine_at(ws, ws->ev_from_ns, true, since, sizeof(since));
	while (!atomic_load(&ws->ev_stop)) {
		if (replay) {
			err[0] = '\0';
			/* An engine that was away may be another (restarted, elsewhere). */
			engine_at(ws, ws_now_ns(), away, until, sizeof(until));
			rc = ws->be->ops->watch(ws->be, since, until, on_event, f, &ws->ev_stop,
						err, sizeof(err));
			if (atomic_load(&ws->ev_stop))
				break;
			if (rc < 0) {
				ws_state_stale(ws, err[0] ? err : ended);
				away = true;
				back_off(ws, &backoff);
				continue;
			}
			replay = away = false;
			ws_fmt(since, sizeof(since), "%s", until);
			ws_state_stale(ws, NULL);
			ws_post_reconcile(ws); /* what the replay could not give */
			/* A stream that keeps ending at once is not asked for in a loop. */
			if (brief)
				back_off(ws, &backoff);
		}
		long t0 = ws_mono_ms();
		err[0] = '\0';
		rc = ws->be->ops->watch(ws->be, since, NULL, on_event, f, &ws->ev_stop, err,
					sizeof(err));
		if (atomic_load(&ws->ev_stop))
			break;
		/* Ended without being asked to. Cut, or failed: the way to the engine broke, and
		 * readers are told at once. Ended by the engine itself: the replay tells whether
		 * it is still there. */
		ws_fmt(ended, sizeof(ended), "%s", err[0] ? err : strerror(rc < 0 ? -rc : EIO));
		if (rc != -ENODATA)
			ws_state_stale(ws, ended);
		if (f->cursor[0])
			ws_fmt(since, sizeof(since), "%s", f->cursor);
		replay = true;
		long lived = ws_mono_ms() - t0;
		bool healthy = lived > WS_HEALTHY_MS;
		refused = rc != -ENODATA && lived < WS_REFUSED_MS ? refused + 1 : 0;
		brief = (rc == -ENODATA && !healthy) || refused >= 2;
		if (healthy)
			backoff = WS_BACKOFF_MIN_MS;
	}
	free(f);
	return NULL;
}

int ws_events_start(struct workspace *ws)
{
	ws->ev_from_ns = ws_now_ns();
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
