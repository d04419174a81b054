/* containers/NAME/follow: the container's new output as it comes, like `docker logs -f`, but
 * across stops and starts: when the container stops, the follower waits (on the state's
 * condition variable, woken by every change the events bring) and follows again when it
 * starts, until the container is removed, *stop becomes true, or the sink says enough.
 *
 * No output is shown twice or skipped across a restart: `since` moves to the time the last
 * byte came (the engine stamps a line before we read it, so everything older was read), and
 * down to the new run's StartedAt when that is earlier (a restart faster than our reading).
 * Every time given to the engine is on its own clock (ours plus the skew measured at the start
 * with ops->clock): a remote engine's clock may be minutes off. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ws-int.h"

/* How long a stream's end may wait for the state to say why (the container stopped). */
#define WS_FOLLOW_SETTLE_MS 2000
/* Back-off when the engine does not answer. */
#define WS_FOLLOW_RETRY_MS 1000
/* How often *stop is looked at while waiting. */
#define WS_FOLLOW_POLL_MS 100

/* "secs[.nanos]" -> ns; -1 when malformed. */
static long long parse_since(const char *s)
{
	char *end;
	long long secs = strtoll(s, &end, 10), ns = 0;

	if (end == s || secs < 0)
		return -1;
	if (*end == '.') {
		const char *p = end + 1;
		int digits = 0;
		for (; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 9)
				ns = ns * 10 + (*p - '0');
		for (; digits < 9; digits++)
			ns *= 10;
		end = (char *)p;
	}
	return *end ? -1 : secs * 1000000000LL + ns;
}

struct fsink {
	be_log_sink sink;
	void *ctx;
	int rc;		   /* the caller's sink's non-zero return */
	long long last_ns; /* when the last byte came, on the engine's clock */
	long long skew;	   /* the engine's clock minus ours */
};

static int forward(enum be_stream stream, const char *buf, size_t len, void *arg)
{
	struct fsink *f = arg;
	int rc = f->sink(stream, buf, len, f->ctx);

	f->last_ns = ws_now_ns() + f->skew;
	if (rc)
		f->rc = rc;
	return rc;
}

/* The followed container as the state has it. */
struct snap {
	bool exists;
	bool up; /* running, paused or restarting: a follow stream has something to follow */
	bool tty;
	char started_at[40];
	unsigned long gen;
};

static void snapshot(struct workspace *ws, const char *id, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&ws->slock);
	struct ws_sobj *o = ws_store_id(&ws->store[WS_CONTAINER], id);
	if (o) {
		s->exists = true;
		s->up = strcmp(o->state, "running") == 0 || strcmp(o->state, "paused") == 0 ||
			strcmp(o->state, "restarting") == 0;
		s->tty = o->tty;
		ws_fmt(s->started_at, sizeof(s->started_at), "%s", o->started_at);
	}
	s->gen = ws->sgen;
	pthread_mutex_unlock(&ws->slock);
}

static bool stopped(const atomic_bool *stop)
{
	return stop && atomic_load(stop);
}

void ws_state_wait_change(struct workspace *ws, unsigned long gen, long ms,
			  const atomic_bool *stop)
{
	struct timespec now, until;

	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&ws->slock);
	while (ws->sgen == gen && ms > 0 && !stopped(stop)) {
		long step = ms < WS_FOLLOW_POLL_MS ? ms : WS_FOLLOW_POLL_MS;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += step * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&ws->scond, &ws->slock, &until);
		ms -= step;
	}
	pthread_mutex_unlock(&ws->slock);
}

static bool transport(int rc)
{
	return rc == -ECONNREFUSED || rc == -ETIMEDOUT || rc == -EIO;
}

/* One follow request of a container's or service's output from *from on, moving *from past
 * what came. 1: go on (the stream ended, or, *down, the engine did not answer); 0 or -errno:
 * the follow's result. */
static int follow_once(struct workspace *ws, enum ws_kind kind, const char *id, bool tty,
		       long long *from, struct fsink *fs, const atomic_bool *stop, bool *down)
{
	char at[40], err[512] = "";

	ws_fmt(at, sizeof(at), "%lld.%09lld", *from / 1000000000LL, *from % 1000000000LL);
	fs->last_ns = 0;
	struct be_logs lo = {.tty = tty, .follow = true, .since = at, .stop = stop};
	int rc = kind == WS_SERVICE
		     ? ws->be->ops->service_logs(ws->be, id, &lo, forward, fs, err, sizeof(err))
		     : ws->be->ops->logs(ws->be, id, &lo, forward, fs, err, sizeof(err));
	if (fs->last_ns && fs->last_ns + 1 > *from)
		*from = fs->last_ns + 1;
	if (fs->rc)
		return fs->rc < 0 ? fs->rc : 0;
	if (stopped(stop) || rc == -ENOENT)
		return 0;
	if (rc < 0 && !transport(rc))
		return rc;
	*down = rc < 0;
	return 1;
}

int ws_container_follow(struct workspace *ws, const char *name, const char *since,
			be_log_sink sink, void *ctx, const atomic_bool *stop)
{
	struct fsink fs = {.sink = sink, .ctx = ctx};
	char id[BE_ID_SIZE], run[40] = "";
	long long skew = ws_engine_skew(ws);
	struct snap s;

	fs.skew = skew;
	long long from = since ? parse_since(since) : ws_now_ns() + skew;

	if (!name || !sink)
		return -EINVAL;
	if (from < 0)
		return -EINVAL;
	pthread_mutex_lock(&ws->slock);
	struct ws_sobj *o = ws_store_name(&ws->store[WS_CONTAINER], name);
	if (o)
		ws_fmt(id, sizeof(id), "%s", o->id);
	pthread_mutex_unlock(&ws->slock);
	if (!o)
		return -ENOENT;

	for (;;) {
		if (stopped(stop))
			return 0;
		snapshot(ws, id, &s);
		if (!s.exists)
			return 0; /* removed */
		if (!s.up) {
			/* Stopped: wait for a start, or the removal. */
			ws_state_wait_change(ws, s.gen, 1000, stop);
			continue;
		}
		if (strcmp(run, s.started_at) != 0) {
			/* A new run: what it printed from its start on. */
			long long started = be_time_ns(s.started_at);
			if (run[0] && started > 0 && started < from)
				from = started;
			ws_fmt(run, sizeof(run), "%s", s.started_at);
		}
		bool down = false;
		int rc = follow_once(ws, WS_CONTAINER, id, s.tty, &from, &fs, stop, &down);
		if (rc <= 0)
			return rc;
		if (down) {
			/* The engine: try again, the state says when it is back. */
			ws_state_wait_change(ws, s.gen, WS_FOLLOW_RETRY_MS, stop);
			continue;
		}
		/* Ended by the engine: the container stopped, and the state hears of it within
		 * moments. Still the same run after that: the stream dropped; follow again. */
		for (int i = 0; i < WS_FOLLOW_SETTLE_MS / WS_FOLLOW_POLL_MS && !stopped(stop);
		     i++) {
			struct snap t;
			snapshot(ws, id, &t);
			if (!t.exists || !t.up || strcmp(t.started_at, run) != 0)
				break;
			ws_state_wait_change(ws, t.gen, WS_FOLLOW_POLL_MS, stop);
		}
	}
}

/* services/NAME/follow: the engine's follow of a service takes in the tasks that start while
 * it runs; when it ends with the service still there (the stream dropped, the manager
 * restarted) it is asked again from the time of the last byte. */
int ws_service_follow(struct workspace *ws, const char *name, const char *since, be_log_sink sink,
		      void *ctx, const atomic_bool *stop)
{
	struct fsink fs = {.sink = sink, .ctx = ctx, .skew = ws_engine_skew(ws)};
	long long from = since ? parse_since(since) : ws_now_ns() + fs.skew;
	char id[BE_ID_SIZE] = "";

	if (!name || !sink || from < 0)
		return -EINVAL;
	if (!ws_swarm(ws) || !ws->be->ops->service_logs)
		return -ENOENT;
	pthread_mutex_lock(&ws->slock);
	struct ws_sobj *o = ws_store_name(&ws->store[WS_SERVICE], name);
	if (o)
		ws_fmt(id, sizeof(id), "%s", o->id);
	pthread_mutex_unlock(&ws->slock);
	if (!id[0])
		return -ENOENT;
	while (!stopped(stop)) {
		bool down = false;
		int rc = follow_once(ws, WS_SERVICE, id, false, &from, &fs, stop, &down);
		if (rc <= 0)
			return rc;
		pthread_mutex_lock(&ws->slock);
		bool there = ws_store_id(&ws->store[WS_SERVICE], id) != NULL;
		unsigned long gen = ws->sgen;
		pthread_mutex_unlock(&ws->slock);
		if (!there)
			return 0; /* removed */
		ws_state_wait_change(ws, gen, WS_FOLLOW_RETRY_MS, stop);
	}
	return 0;
}
