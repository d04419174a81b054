/* The state thread: takes the engine's events from the events thread, reads each object an
 * event is about again (one request) before publishing the change, reconciles the state with
 * full lists (at start, after every reconnect of the event stream, every WS_RECONCILE_MS, and
 * when events were dropped), and delivers every change to the subscribers in order.
 *
 * A reconcile publishes what the events did not say: a container or network that came or went
 * while the stream was down, a state that moved. The first full list of a kind is the baseline
 * and publishes nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ws-int.h"

/* ---- queue ---- */

static void push_locked(struct workspace *ws, struct ws_work *w)
{
	w->next = NULL;
	if (ws->wtail)
		ws->wtail->next = w;
	else
		ws->whead = w;
	ws->wtail = w;
	ws->nwork++;
	pthread_cond_signal(&ws->wqcond);
}

void ws_post_event(struct workspace *ws, const struct be_event *ev)
{
	struct ws_work *w = malloc(sizeof(*w));

	pthread_mutex_lock(&ws->wqlock);
	if (!w || ws->nwork >= WS_QUEUE_MAX) {
		/* Lost, like the engine loses them: the reconcile will make up for it. */
		ws->want_reconcile = true;
		pthread_cond_signal(&ws->wqcond);
		pthread_mutex_unlock(&ws->wqlock);
		free(w);
		return;
	}
	w->type = WS_WORK_EVENT;
	w->ev = *ev;
	push_locked(ws, w);
	pthread_mutex_unlock(&ws->wqlock);
}

void ws_post_reconcile(struct workspace *ws)
{
	struct ws_work *w = calloc(1, sizeof(*w));

	pthread_mutex_lock(&ws->wqlock);
	if (w) {
		w->type = WS_WORK_RECONCILE;
		push_locked(ws, w);
	} else {
		ws->want_reconcile = true;
		pthread_cond_signal(&ws->wqcond);
	}
	pthread_mutex_unlock(&ws->wqlock);
}

int ws_state_wait_warm(struct workspace *ws, int timeout_ms)
{
	struct timespec until;
	int rc = 0;

	ws_deadline_in(&until, timeout_ms > 0 ? timeout_ms : 0);
	pthread_mutex_lock(&ws->wqlock);
	while (!ws->warm && !ws->wstop && rc == 0)
		rc = timeout_ms > 0 ? pthread_cond_timedwait(&ws->wqwarm, &ws->wqlock, &until)
				    : pthread_cond_wait(&ws->wqwarm, &ws->wqlock);
	pthread_mutex_unlock(&ws->wqlock);
	return rc ? -ETIMEDOUT : 0;
}

/* ---- events ---- */

static void ev_time(const struct be_event *ev, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ev->time_nano / 1000000000LL);
	ts->tv_nsec = (long)(ev->time_nano % 1000000000LL);
}

/* Docker sends numbers ("15"); a name reads better in the events file. */
static const char *signal_name(const char *s, char *buf, size_t len)
{
	static const char *const names[] = {
	    NULL,     "HUP",  "INT",	"QUIT", "ILL",	 "TRAP", "ABRT", "BUS",
	    "FPE",    "KILL", "USR1",	"SEGV", "USR2",	 "PIPE", "ALRM", "TERM",
	    "STKFLT", "CHLD", "CONT",	"STOP", "TSTP",	 "TTIN", "TTOU", "URG",
	    "XCPU",   "XFSZ", "VTALRM", "PROF", "WINCH", "IO",	 "PWR",	 "SYS"};
	char *end;
	long n = strtol(s, &end, 10);

	if (*s && !*end && n > 0 && n < (long)(sizeof(names) / sizeof(names[0])))
		return names[n];
	ws_fmt(buf, len, "%s", strncmp(s, "SIG", 3) == 0 ? s + 3 : s);
	return buf;
}

/* What a container event means to the state: 0 ignored, 1 read again, 2 read and published. */
static int container_action(const char *action)
{
	static const char *const published[] = {"create", "start", "die",     "stop",	 "destroy",
						"rename", "pause", "unpause", "restart", "kill"};
	static const char *const reread[] = {"oom", "update"};

	for (size_t i = 0; i < sizeof(published) / sizeof(published[0]); i++)
		if (strcmp(action, published[i]) == 0)
			return 2;
	if (strncmp(action, "health_status", 13) == 0)
		return 2;
	for (size_t i = 0; i < sizeof(reread) / sizeof(reread[0]); i++)
		if (strcmp(action, reread[i]) == 0)
			return 1;
	return 0; /* exec_*, attach, top, resize, Podman's init, cleanup, mount, ... */
}

/* ---- health read again (state thread only) ---- */

static void recheck(struct workspace *ws, const char *id, const char *health)
{
	struct ws_recheck *r = NULL;

	for (size_t i = 0; i < ws->nrechecks && !r; i++)
		if (strcmp(ws->rechecks[i].id, id) == 0)
			r = &ws->rechecks[i];
	if (!r && ws->nrechecks < WS_RECHECKS)
		r = &ws->rechecks[ws->nrechecks++];
	if (!r)
		return;
	ws_fmt(r->id, sizeof(r->id), "%s", id);
	ws_fmt(r->health, sizeof(r->health), "%s", health);
	ws_deadline_in(&r->due, WS_RECHECK_MS);
	r->tries = WS_RECHECK_TRIES;
}

static bool due_at(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static bool recheck_due(struct workspace *ws)
{
	for (size_t i = 0; i < ws->nrechecks; i++)
		if (due_at(&ws->rechecks[i].due))
			return true;
	return false;
}

/* The earliest of @next and the rechecks' times. */
static struct timespec earlier(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec) ? a : b;
}

static struct timespec wake_at(struct workspace *ws, struct timespec next)
{
	for (size_t i = 0; i < ws->nrechecks; i++) {
		const struct timespec *d = &ws->rechecks[i].due;
		if (d->tv_sec < next.tv_sec ||
		    (d->tv_sec == next.tv_sec && d->tv_nsec < next.tv_nsec))
			next = *d;
	}
	return next;
}

static void run_rechecks(struct workspace *ws)
{
	for (size_t i = 0; i < ws->nrechecks;) {
		struct ws_recheck *r = &ws->rechecks[i];
		if (!due_at(&r->due)) {
			i++;
			continue;
		}
		unsigned long t = ws_ticket(ws);
		struct be_obj *b = NULL;
		struct ws_sobj *o = NULL;
		char name[128] = "", health[16] = "";
		if (ws->be->ops->inspect(ws->be, BE_CONTAINER, r->id, &b, NULL, 0) == 0 &&
		    (o = ws_sobj_from(ws, b))) {
			ws_fmt(name, sizeof(name), "%s", o->name);
			ws_fmt(health, sizeof(health), "%s", o->health);
			ws_state_put(ws, WS_CONTAINER, o, t, NULL);
		}
		if (health[0] && strcmp(health, r->health) != 0) {
			char attrs[64] = "";
			ws_attr(attrs, sizeof(attrs), "health", health);
			ws_emit(ws, WS_CONTAINER, name, "health", attrs, false, NULL);
		}
		if (name[0] && strcmp(health, "starting") == 0 && --r->tries > 0) {
			ws_deadline_in(&r->due, WS_RECHECK_MS);
			i++;
		} else {
			*r = ws->rechecks[--ws->nrechecks];
		}
	}
}

void ws_state_created(struct workspace *ws, const char *id, const char *name, time_t when, bool own)
{
	struct ws_sobj *o;

	pthread_mutex_lock(&ws->slock);
	bool known = ws_store_id(&ws->store[WS_CONTAINER], id) != NULL;
	pthread_mutex_unlock(&ws->slock);
	if (known || !(o = calloc(1, sizeof(*o))))
		return;
	ws_fmt(o->id, sizeof(o->id), "%s", id);
	ws_fmt(o->name, sizeof(o->name), "%s", name);
	ws_fmt(o->state, sizeof(o->state), "%s", "created");
	o->managed = own;
	o->summary = true;
	o->dirty = true; /* read by the next reconcile, should no other read come */
	o->created = o->changed = when;
	/* Ticket 0: older than every read, the apply's own included. */
	ws_state_put(ws, WS_CONTAINER, o, 0, NULL);
}

/* The state after an own change's event: what the event says, the rest from the read its
 * maker makes (ws_own_take). -1: not an own change's; else the slot its line goes to. Another
 * event of a container first sends out the lines of it that wait (own.c). */
static int own_event(struct workspace *ws, const struct be_event *ev, time_t when)
{
	int slot = ws_own_take(ws, ev);

	if (slot < 0) {
		pthread_mutex_lock(&ws->wqlock);
		ws_own_flush_locked(ws, ev->id);
		pthread_mutex_unlock(&ws->wqlock);
	} else if (strcmp(ev->action, "create") == 0) {
		ws_state_created(ws, ev->id, ev->name, when, true);
	} else {
		ws_state_imply(ws, ev->id, ev->action, when, true);
	}
	return slot;
}

/* A container's line; an own change's waits for its maker's read (own.c). */
static void container_line(struct workspace *ws, int own, const char *name, const char *action,
			   const char *attrs, bool membership, const struct timespec *when)
{
	struct ws_change c;

	ws_change_make(&c, WS_CONTAINER, name, action, attrs, membership, when);
	if (own >= 0)
		ws_own_line(ws, own, &c);
	else
		ws_publish(ws, &c);
}

/* Queues a container for a read while nothing else waits (state thread). */
static void fill_push(struct workspace *ws, const char *id)
{
	if (ws->nfill == ws->capfill) {
		size_t cap = ws->capfill ? ws->capfill * 2 : 64;
		char **v = realloc(ws->fill, cap * sizeof(*v));
		if (!v)
			return; /* marked dirty: the next reconcile reads it */
		ws->fill = v;
		ws->capfill = cap;
	}
	if ((ws->fill[ws->nfill] = strdup(id)))
		ws->nfill++;
}

/* Whether the queue is so long that events go without a read each (WS_QUEUE_BEHIND). */
static bool behind(struct workspace *ws)
{
	pthread_mutex_lock(&ws->wqlock);
	bool b = ws->nwork > WS_QUEUE_BEHIND;
	pthread_mutex_unlock(&ws->wqlock);
	return b;
}

/* An event published from its own words while the queue is behind; the container is read
 * when the queue is short again (fill_one). Whether it was. */
static bool behind_event(struct workspace *ws, const struct be_event *ev, time_t when)
{
	if (!behind(ws))
		return false;
	if (strcmp(ev->action, "create") == 0)
		ws_state_created(ws, ev->id, ev->name, when, false);
	else
		ws_state_imply(ws, ev->id, ev->action, when, false);
	fill_push(ws, ev->id);
	return true;
}

static void container_event(struct workspace *ws, const struct be_event *ev)
{
	struct ws_prev prev = {0};
	struct timespec when;
	char attrs[512] = "", name[128], buf[16];
	const char *action = ev->action;
	int what = container_action(action);

	if (!what || !ev->id[0])
		return;
	ev_time(ev, &when);
	ws_fmt(name, sizeof(name), "%s", ev->name);
	int own = own_event(ws, ev, when.tv_sec);
	if (strcmp(action, "destroy") == 0) {
		ws_state_drop(ws, WS_CONTAINER, ev->id, NULL, ws_ticket(ws), &prev);
		if (prev.had)
			ws_fmt(name, sizeof(name), "%s", prev.name);
		if (own < 0 && ws_madeup_take(ws, ev->id, "destroy", ev->time_nano))
			return;
		container_line(ws, own, name, "destroy", "", !ws_card_named(ws, WS_CONTAINER, name),
			       &when);
		return;
	}
	int exit_code = 0, rc = 1;
	char health[16] = "";
	/* One request, so that the state a reader sees is never older than the last event;
	 * none for an own change, which its maker reads itself. */
	unsigned long t = ws_ticket(ws);
	struct be_obj *b = NULL;
	if (own < 0 && !behind_event(ws, ev, when.tv_sec))
		rc = ws->be->ops->inspect(ws->be, BE_CONTAINER, ev->id, &b, NULL, 0);
	if (rc == 0) {
		struct ws_sobj *o = ws_sobj_from(ws, b);
		if (o) {
			ws_fmt(name, sizeof(name), "%s", o->name);
			exit_code = o->exit_code;
			ws_fmt(health, sizeof(health), "%s", o->health);
			/* First seen through another event: its create was lost (a replay holds
			 * only the engine's last events). */
			if (ws_state_put(ws, WS_CONTAINER, o, t, &prev) == WS_PUT_NEW &&
			    strcmp(action, "create") != 0 && what == 2)
				ws_emit(ws, WS_CONTAINER, name, "create", "",
					!ws_card_named(ws, WS_CONTAINER, name), &when);
		}
	} else if (rc < 0 && rc != -ENOENT) {
		/* The engine went away meanwhile: the event's word, read again later. */
		ws_state_imply(ws, ev->id, action, when.tv_sec, false);
	}
	/* -ENOENT: removed since; its destroy event follows. */
	if (what < 2) {
		ws_own_line(ws, own, NULL);
		return;
	}

	bool membership = false;
	if (strcmp(action, "create") == 0) {
		membership = !ws_card_named(ws, WS_CONTAINER, name);
	} else if (strcmp(action, "die") == 0) {
		char code[16];
		ws_fmt(code, sizeof(code), "%d", exit_code);
		ws_attr(attrs, sizeof(attrs), "exit_code", ev->exit_code[0] ? ev->exit_code : code);
	} else if (strcmp(action, "kill") == 0) {
		if (ev->signal[0])
			ws_attr(attrs, sizeof(attrs), "signal",
				signal_name(ev->signal, buf, sizeof(buf)));
	} else if (strcmp(action, "rename") == 0) {
		const char *old =
		    prev.had && strcmp(prev.name, name) != 0 ? prev.name : ev->old_name;
		ws_attr(attrs, sizeof(attrs), "old", old);
		membership = true;
	} else if (strncmp(action, "health_status", 13) == 0) {
		action = "health";
		/* Docker says the new state in the action; Podman sends the event as the check
		 * starts, so the state read now may still be the one before: read it again. */
		const char *h = ev->health[0] ? ev->health : health;
		ws_attr(attrs, sizeof(attrs), "health", h);
		if (strcmp(h, "starting") == 0)
			recheck(ws, ev->id, h);
	}
	if (own < 0 && ws_madeup_take(ws, ev->id, action, ev->time_nano))
		return;
	container_line(ws, own, name, action, attrs, membership, &when);
}

static void network_event(struct workspace *ws, const struct be_event *ev)
{
	const char *a = ev->action;

	if (strcmp(a, "destroy") == 0 || strcmp(a, "remove") == 0)
		ws_state_drop(ws, WS_NETWORK, ev->id, ev->name, ws_ticket(ws), NULL);
	/* A container joining or leaving changes only the network's inspect (its status counts
	 * from the containers' state): read when it is asked for, not for every start. */
	else if (strcmp(a, "connect") == 0 || strcmp(a, "disconnect") == 0)
		ws_state_outdated(ws, WS_NETWORK, ev->id[0] ? ev->id : ev->name);
	else if (strcmp(a, "create") == 0 || strcmp(a, "update") == 0)
		ws_refresh_network(ws, ev->id[0] ? ev->id : ev->name);
}

/* Whether the next queued work is another image event (slock not held). */
static bool image_event_next(struct workspace *ws)
{
	bool next;

	pthread_mutex_lock(&ws->wqlock);
	next = ws->whead && ws->whead->type == WS_WORK_EVENT && ws->whead->ev.kind == BE_IMAGE;
	pthread_mutex_unlock(&ws->wqlock);
	return next;
}

static void image_event(struct workspace *ws, const struct be_event *ev)
{
	/* pull: Actor.ID is the reference ("busybox:latest"); build: the name attribute. */
	if (strcmp(ev->action, "pull") == 0)
		ws_state_hint(ws, strchr(ev->id, ':') ? ev->id : ev->name, "pulled");
	else if (strcmp(ev->action, "build") == 0 && ev->name[0])
		ws_state_hint(ws, ev->name, "built");
	/* A pull or build is a burst of events: one list for the burst. */
	if (!image_event_next(ws))
		ws_refresh_images(ws);
}

static void process_event(struct workspace *ws, const struct be_event *ev)
{
	switch (ev->kind) {
	case BE_CONTAINER:
		/* A commit makes an image, and neither engine sends an image event for it. */
		if (strcmp(ev->action, "commit") == 0)
			ws_refresh_images(ws);
		else
			container_event(ws, ev);
		break;
	case BE_NETWORK:
		network_event(ws, ev);
		break;
	case BE_IMAGE:
		image_event(ws, ev);
		break;
	case BE_SERVICE:
	case BE_NODE:
		/* The event names what changed, not how: the cluster is read once the queue is
		 * empty (a rolling update sends a burst), and the difference published. */
		pthread_mutex_lock(&ws->wqlock);
		ws->swarm_kick = true;
		pthread_mutex_unlock(&ws->wqlock);
		break;
	default:
		break;
	}
}

/* ---- reconcile ---- */

/* Works queued meanwhile, processed before a list is compared with the state: events the list
 * already shows update the state first, so that they are not published twice. Only what was
 * queued when the list came: a flood of newer events cannot hold the reconcile up. Returns
 * whether a reconcile was asked for meanwhile. */
static bool drain(struct workspace *ws)
{
	bool again = false;

	pthread_mutex_lock(&ws->wqlock);
	size_t n = ws->nwork;
	pthread_mutex_unlock(&ws->wqlock);
	while (n--) {
		pthread_mutex_lock(&ws->wqlock);
		struct ws_work *w = ws->whead;
		if (w) {
			ws->whead = w->next;
			if (!ws->whead)
				ws->wtail = NULL;
			ws->nwork--;
		}
		pthread_mutex_unlock(&ws->wqlock);
		if (!w)
			break;
		if (w->type == WS_WORK_EVENT)
			process_event(ws, &w->ev);
		else
			again = true;
		free(w);
	}
	return again;
}

/* A line a reconcile made up for container @id, from a list answered at @list_ns. */
static void made_up(struct workspace *ws, const char *id, long long list_ns, const char *name,
		    const char *action, const char *attrs, bool membership)
{
	ws_emit(ws, WS_CONTAINER, name, action, attrs, membership, NULL);
	ws_madeup_note(ws, id, action, list_ns);
}

/* The change a container's move from prev to now stands for. */
static void synthesize(struct workspace *ws, const struct ws_prev *prev, const struct ws_sobj *now,
		       long long list_ns)
{
	const char *name = now->name, *id = now->id;
	char attrs[256] = "", code[16];

	if (strcmp(prev->name, name) != 0) {
		ws_attr(attrs, sizeof(attrs), "old", prev->name);
		made_up(ws, id, list_ns, name, "rename", attrs, true);
		attrs[0] = '\0';
	}
	bool was_up = strcmp(prev->state, "running") == 0 || strcmp(prev->state, "paused") == 0;
	/* A summary did not know when it started: only its state tells. */
	if (strcmp(prev->state, now->state) != 0 ||
	    (strcmp(now->state, "running") == 0 && !prev->summary &&
	     strcmp(prev->started_at, now->started_at) != 0)) {
		if (strcmp(now->state, "running") == 0)
			made_up(ws, id, list_ns, name,
				strcmp(prev->state, "paused") == 0 ? "unpause"
				: was_up			   ? "restart"
								   : "start",
				"", false);
		else if (strcmp(now->state, "paused") == 0)
			made_up(ws, id, list_ns, name, "pause", "", false);
		else if (was_up &&
			 (strcmp(now->state, "exited") == 0 || strcmp(now->state, "dead") == 0)) {
			ws_fmt(code, sizeof(code), "%d", now->exit_code);
			ws_attr(attrs, sizeof(attrs), "exit_code", code);
			made_up(ws, id, list_ns, name, "die", attrs, false);
			attrs[0] = '\0';
		}
	}
	if (strcmp(prev->health, now->health) != 0 && now->health[0]) {
		ws_attr(attrs, sizeof(attrs), "health", now->health);
		made_up(ws, id, list_ns, name, "health", attrs, false);
	}
}

/* Reads one container again for a reconcile; publishes what it missed unless baseline. */
static void reconcile_one(struct workspace *ws, const char *id, bool baseline, long long list_ns)
{
	unsigned long t = ws_ticket(ws);
	struct be_obj *b = NULL;
	struct ws_prev prev;

	if (ws->be->ops->inspect(ws->be, BE_CONTAINER, id, &b, NULL, 0) < 0)
		return; /* gone meanwhile, or the engine: the next reconcile */
	struct ws_sobj *o = ws_sobj_from(ws, b);
	if (!o)
		return;
	struct ws_sobj now = *o; /* the scalar fields, for synthesize() after the put */
	now.card = now.tags = now.nets = now.lines = now.inspect = NULL;
	if (ws_state_put(ws, WS_CONTAINER, o, t, &prev) == WS_PUT_OLDER || baseline)
		return;
	if (!prev.had) {
		made_up(ws, id, list_ns, now.name, "create", "",
			!ws_card_named(ws, WS_CONTAINER, now.name));
		if (strcmp(now.state, "running") == 0 || strcmp(now.state, "paused") == 0)
			made_up(ws, id, list_ns, now.name, "start", "", false);
		if (strcmp(now.state, "paused") == 0)
			made_up(ws, id, list_ns, now.name, "pause", "", false);
		return;
	}
	synthesize(ws, &prev, &now, list_ns);
}

/* What one container of a list needs: 1 read it, 0 nothing (slock held). */
static bool needs_read(struct workspace *ws, const struct be_obj *it, unsigned long t)
{
	struct ws_sobj *o = ws_store_id(&ws->store[WS_CONTAINER], it->id);

	if (!o)
		return !ws_tombstoned(ws, it->id, t);
	if (o->ticket > t)
		return false; /* read after the list: newer than it */
	/* A summary's inspect is the fill's to read. */
	return o->dirty || strcmp(o->state, it->state) != 0 || strcmp(o->name, it->name) != 0 ||
	       (it->health[0] && strcmp(it->health, o->health) != 0) ||
	       (!o->inspect && !o->summary);
}

/* Whether an id is in a list: in what is left of it, or in what was taken to be read. */
static bool listed(struct be_obj **list, size_t n, struct be_obj **read, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] && strcmp(list[i]->id, id) == 0)
			return true;
	for (size_t i = 0; read && read[i]; i++)
		if (strcmp(read[i]->id, id) == 0)
			return true;
	return false;
}

/* A full list of containers or networks against the state: the list's objects to read again
 * (new or changed; taken from the list) and the ids gone (malloc'd, NULL-terminated); whether
 * it was the baseline. */
static int diff_list(struct workspace *ws, enum ws_kind kind, unsigned long t, bool *again,
		     struct be_obj ***read_out, char ***gone_out, bool *baseline,
		     long long *list_ns, char *err, size_t errlen)
{
	struct be_obj **list = NULL, **read;
	size_t n = 0, nread = 0, ngone = 0;
	char **gone;
	int rc = ws->be->ops->list(ws->be, kind == WS_CONTAINER ? BE_CONTAINER : BE_NETWORK, &list,
				   &n, err, errlen);

	if (rc < 0)
		return rc;
	*list_ns = ws_now_ns() + atomic_load(&ws->skew_ns);
	*again |= drain(ws);
	read = calloc(n + 1, sizeof(*read));
	pthread_mutex_lock(&ws->slock);
	struct ws_store *s = &ws->store[kind];
	*baseline = !s->listed;
	gone = calloc(s->n + 1, sizeof(*gone));
	for (size_t i = 0; read && i < n; i++) {
		struct ws_sobj *o = ws_store_id(s, list[i]->id);
		bool need = kind == WS_CONTAINER ? needs_read(ws, list[i], t)
			    : o			 ? o->dirty || !o->inspect
						 : !ws_tombstoned(ws, list[i]->id, t);
		if (need) {
			read[nread++] = list[i];
			list[i] = NULL;
		}
	}
	for (size_t i = 0; gone && i < s->n; i++)
		if (!listed(list, n, read, s->v[i]->id) && s->v[i]->ticket <= t)
			gone[ngone++] = strdup(s->v[i]->id);
	pthread_mutex_unlock(&ws->slock);
	be_objv_free(list, n);
	*read_out = read;
	*gone_out = gone;
	return 0;
}

static void objv_free(struct be_obj **v)
{
	for (size_t i = 0; v && v[i]; i++)
		be_obj_free(v[i]);
	free(v);
}

/* ---- the baseline's details, filled in ---- */

/* Puts a list's containers into the state as they are (taking them), to be read later. */
static void fill_from(struct workspace *ws, struct be_obj **v, unsigned long t)
{
	for (size_t i = 0; v && v[i]; i++) {
		char id[BE_ID_SIZE];
		ws_fmt(id, sizeof(id), "%s", v[i]->id);
		struct ws_sobj *o = ws_sobj_from(ws, v[i]);
		v[i] = NULL;
		if (o && ws_state_put(ws, WS_CONTAINER, o, t, NULL) != WS_PUT_OLDER)
			fill_push(ws, id);
	}
}

static void fill_free(struct workspace *ws)
{
	for (size_t i = ws->fill_next; i < ws->nfill; i++)
		free(ws->fill[i]);
	free(ws->fill);
	ws->fill = NULL;
	ws->nfill = ws->fill_next = ws->capfill = 0;
}

/* Reads the next container a list or an event put in, unless something read it since. */
static void fill_one(struct workspace *ws)
{
	char *id = ws->fill[ws->fill_next++];

	pthread_mutex_lock(&ws->slock);
	struct ws_sobj *o = ws_store_id(&ws->store[WS_CONTAINER], id);
	bool unread = o && (o->summary || o->dirty);
	pthread_mutex_unlock(&ws->slock);
	if (unread) {
		unsigned long t = ws_ticket(ws);
		struct be_obj *b = NULL;
		int rc = ws->be->ops->inspect(ws->be, BE_CONTAINER, id, &b, NULL, 0);
		struct ws_sobj *full = rc == 0 ? ws_sobj_from(ws, b) : NULL;
		if (full)
			ws_state_put(ws, WS_CONTAINER, full, t, NULL);
		else if (rc != -ENOENT) /* -ENOENT: removed since; its destroy event follows */
			ws_state_outdated(ws, WS_CONTAINER, id);
	}
	free(id);
	if (ws->fill_next == ws->nfill)
		fill_free(ws);
}

static void mark_listed(struct workspace *ws, enum ws_kind kind)
{
	pthread_mutex_lock(&ws->slock);
	ws->store[kind].listed = true;
	pthread_mutex_unlock(&ws->slock);
}

static int reconcile_containers(struct workspace *ws, bool *again, char *err, size_t errlen)
{
	unsigned long t = ws_ticket(ws);
	struct be_obj **read = NULL;
	char **gone = NULL;
	bool baseline;
	long long list_ns;
	int rc = diff_list(ws, WS_CONTAINER, t, again, &read, &gone, &baseline, &list_ns, err,
			   errlen);

	if (rc < 0)
		return rc;
	for (size_t i = 0; gone && gone[i]; i++) {
		struct ws_prev prev;
		if (ws_state_drop(ws, WS_CONTAINER, gone[i], NULL, t, &prev) && !baseline)
			made_up(ws, gone[i], list_ns, prev.name, "destroy", "",
				!ws_card_named(ws, WS_CONTAINER, prev.name));
	}
	/* The baseline is the list itself: the tree is whole at once, and the inspects follow
	 * one by one while no event waits (fill_one). */
	if (baseline)
		fill_from(ws, read, t);
	for (size_t i = 0; !baseline && read && read[i]; i++)
		reconcile_one(ws, read[i]->id, baseline, list_ns);
	mark_listed(ws, WS_CONTAINER);
	objv_free(read);
	ws_strv_free(gone);
	return 0;
}

static int reconcile_networks(struct workspace *ws, bool *again, char *err, size_t errlen)
{
	unsigned long t = ws_ticket(ws);
	struct be_obj **read = NULL;
	char **gone = NULL;
	bool baseline;
	long long list_ns;
	int rc = diff_list(ws, WS_NETWORK, t, again, &read, &gone, &baseline, &list_ns, err,
			   errlen);

	if (rc < 0)
		return rc;
	for (size_t i = 0; gone && gone[i]; i++)
		ws_state_drop(ws, WS_NETWORK, gone[i], NULL, t, NULL);
	/* New ones publish "create" (ws_state_put), except in the baseline. */
	for (size_t i = 0; read && read[i]; i++)
		ws_refresh_network(ws, read[i]->id);
	mark_listed(ws, WS_NETWORK);
	objv_free(read);
	ws_strv_free(gone);
	return 0;
}

/* A reconcile the engine answered badly (an error, malformed or endless lists) leaves the tree
 * as the last good one: say why in `errors`, once per reason, as the state would otherwise
 * stay behind without a word. An engine out of reach is the engine file's and status's to say. */
static void reconcile_failed(struct workspace *ws, int rc, const char *err)
{
	char why[512];

	if (rc == -ECONNREFUSED)
		return;
	ws_fmt(why, sizeof(why), "%s", err[0] ? err : strerror(-rc));
	if (strcmp(why, ws->reconcile_err) == 0)
		return;
	ws_fmt(ws->reconcile_err, sizeof(ws->reconcile_err), "%s", why);
	ws_error_add(ws, "engine: reconcile failed, the tree shows the last lists: %s", why);
}

static void reconcile(struct workspace *ws)
{
	char err[512] = "";
	bool again = true;
	int rc = 0;

	for (int round = 0; again && round < 3; round++) {
		again = false;
		rc = reconcile_containers(ws, &again, err, sizeof(err));
		if (rc == 0)
			rc = reconcile_networks(ws, &again, err, sizeof(err));
		if (rc == 0)
			rc = ws_refresh_images(ws);
		if (rc == 0)
			rc = ws_refresh_swarm(ws);
		if (rc < 0)
			break; /* the engine: the events thread asks again when it is back */
	}
	if (rc < 0)
		reconcile_failed(ws, rc, err);
	else
		ws->reconcile_err[0] = '\0';
	pthread_mutex_lock(&ws->wqlock);
	if (!ws->warm) {
		ws->warm = true;
		pthread_cond_broadcast(&ws->wqwarm);
	}
	pthread_mutex_unlock(&ws->wqlock);
}

/* ---- the thread ---- */

static void *state_main(void *arg)
{
	struct workspace *ws = arg;
	struct timespec next, poll;
	bool swarm = ws_swarm(ws);

	ws_deadline_in(&next, WS_RECONCILE_MS);
	ws_deadline_in(&poll, WS_SWARM_POLL_MS);
	pthread_mutex_lock(&ws->wqlock);
	while (!ws->wstop) {
		/* Own changes' lines whose maker's read is done (or whose time is up). */
		ws_own_flush_locked(ws, NULL);
		if (ws->chead) {
			struct ws_chg_item *list = ws->chead;
			ws->chead = ws->ctail = NULL;
			ws->nchg = 0;
			pthread_mutex_unlock(&ws->wqlock);
			/* What a unit's or group's word is made of may have changed. */
			if (ws_deliver(ws, list))
				ws_groups_track(ws);
			pthread_mutex_lock(&ws->wqlock);
			continue;
		}
		if (recheck_due(ws)) {
			pthread_mutex_unlock(&ws->wqlock);
			run_rechecks(ws);
			pthread_mutex_lock(&ws->wqlock);
			continue;
		}
		/* A Swarm: read when a service or node event said so, and polled besides (a
		 * task sends no event, nor does a node that goes down). */
		if (swarm && (due_at(&poll) || (ws->swarm_kick && !ws->whead))) {
			ws->swarm_kick = false;
			pthread_mutex_unlock(&ws->wqlock);
			ws_refresh_swarm(ws);
			pthread_mutex_lock(&ws->wqlock);
			ws_deadline_in(&poll, WS_SWARM_POLL_MS);
			continue;
		}
		/* Periodic, stream up or not: an engine that is down fails the list at once (one
		 * refused connect), one that only lost its event stream gets read. */
		bool due = ws->want_reconcile || due_at(&next);
		struct ws_work *w = ws->whead;
		/* The baseline's details, while nothing else waits. */
		if (!w && !due && ws->fill_next < ws->nfill) {
			pthread_mutex_unlock(&ws->wqlock);
			fill_one(ws);
			pthread_mutex_lock(&ws->wqlock);
			continue;
		}
		if (!w && !due) {
			struct timespec at = wake_at(ws, swarm ? earlier(next, poll) : next), kept;
			long left = ws_own_due_locked(ws);
			if (left >= 0) {
				ws_deadline_in(&kept, left);
				at = earlier(at, kept);
			}
			pthread_cond_timedwait(&ws->wqcond, &ws->wqlock, &at);
			continue;
		}
		if (due || w->type == WS_WORK_RECONCILE) {
			ws->want_reconcile = false;
			if (!due) {
				ws->whead = w->next;
				if (!ws->whead)
					ws->wtail = NULL;
				ws->nwork--;
				free(w);
			}
			pthread_mutex_unlock(&ws->wqlock);
			reconcile(ws);
			pthread_mutex_lock(&ws->wqlock);
			ws_deadline_in(&next, WS_RECONCILE_MS);
			continue;
		}
		ws->whead = w->next;
		if (!ws->whead)
			ws->wtail = NULL;
		ws->nwork--;
		pthread_mutex_unlock(&ws->wqlock);
		process_event(ws, &w->ev);
		free(w);
		pthread_mutex_lock(&ws->wqlock);
	}
	/* Nobody waits for warm any more. */
	ws->warm = true;
	pthread_cond_broadcast(&ws->wqwarm);
	pthread_mutex_unlock(&ws->wqlock);
	return NULL;
}

int ws_state_thread_start(struct workspace *ws, char *err, size_t errlen)
{
	int rc = pthread_create(&ws->state_thread, NULL, state_main, ws);
	if (rc != 0) {
		if (err)
			ws_fmt(err, errlen, "state thread: %s", strerror(rc));
		return -rc;
	}
	ws->state_started = true;
	return 0;
}

void ws_state_thread_stop(struct workspace *ws)
{
	pthread_mutex_lock(&ws->wqlock);
	ws->wstop = true;
	pthread_cond_broadcast(&ws->wqcond);
	pthread_mutex_unlock(&ws->wqlock);
	if (ws->state_started)
		pthread_join(ws->state_thread, NULL);
	ws->state_started = false;
	while (ws->whead) {
		struct ws_work *w = ws->whead;
		ws->whead = w->next;
		free(w);
	}
	while (ws->chead) {
		struct ws_chg_item *c = ws->chead;
		ws->chead = c->next;
		free(c);
	}
	ws->wtail = NULL;
	ws->ctail = NULL;
	ws->nwork = ws->nchg = 0;
	fill_free(ws);
}
