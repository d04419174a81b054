/* The apply pool: a few worker threads that apply cards while the applier thread goes on with
 * the next job, so that independent cards reach the engine side by side. Which cards may go
 * together is the applier's choice (reconcile.c: a kind after the kinds it names; wscards.c: a
 * card after the cards it names); the pool keeps one card's applies in order: at most one at a
 * time, a card queued twice applied once with its latest content, and one asked for while it
 * runs applied again afterwards. The queue and each entry's pool fields are guarded by
 * ws->lock; the engine calls of an apply are made without it. */
#include <errno.h>
#include <stdlib.h>

#include "ws-int.h"

/* The entry the calling worker applies now (NULL on other threads): what ws_pool_decided
 * marks. */
static _Thread_local struct ws_entry *current;

struct ws_values *ws_values_new(struct workspace *ws)
{
	struct ws_values *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	ws_values_load(ws, &v->v);
	atomic_init(&v->refs, 1);
	return v;
}

void ws_values_put(struct ws_values *v)
{
	if (v && atomic_fetch_sub(&v->refs, 1) == 1) {
		card_values_free(&v->v);
		free(v);
	}
}

/* Queues e behind the others (lock held). */
static void enqueue(struct workspace *ws, struct ws_entry *e)
{
	e->pool_queued = true;
	e->pool_seq = ++ws->pool_seq;
	pthread_cond_signal(&ws->pool_cond);
}

/* The entry queued first, or NULL (lock held). A scan of the entries rather than a list of
 * its own: an entry is queued at most once, and the entries are a few hundred. */
static struct ws_entry *oldest(struct workspace *ws)
{
	struct ws_entry *first = NULL;

	for (size_t i = 0; i < ws->nentries; i++) {
		struct ws_entry *e = ws->entries[i];
		if (e->pool_queued && (!first || e->pool_seq < first->pool_seq))
			first = e;
	}
	return first;
}

/* The next entry to apply, once there is one; NULL when stopping (lock held). */
static struct ws_entry *next(struct workspace *ws)
{
	struct ws_entry *e = NULL;

	while (!ws->pool_stop && !(e = oldest(ws)))
		pthread_cond_wait(&ws->pool_cond, &ws->lock);
	return ws->pool_stop ? NULL : e;
}

/* Wakes whoever waits for the pool (lock held). */
static void wake(struct workspace *ws)
{
	pthread_cond_broadcast(&ws->pool_cond);
	pthread_cond_broadcast(&ws->pool_done);
}

/* Where a finished apply leaves e->result, as the passes did before the pool: a commit and
 * a recovery say how it went, a retry clears an old error once the card is applied. */
static void record_result(struct ws_entry *e, enum ws_pool_result mode, int rc)
{
	if (mode == WS_POOL_SET)
		e->result = rc;
	else if (mode == WS_POOL_IF_APPLIED && e->state == WS_ST_APPLIED)
		e->result = 0;
}

static void *worker_main(void *arg)
{
	struct workspace *ws = arg;
	struct ws_entry *e;

	pthread_mutex_lock(&ws->lock);
	while ((e = next(ws))) {
		struct ws_values *values = e->pool_values;
		enum ws_pool_result mode = e->pool_mode;
		e->pool_queued = false;
		e->pool_values = NULL;
		e->pool_mode = WS_POOL_KEEP;
		e->pool_running = true;
		e->pool_decided = false;
		pthread_mutex_unlock(&ws->lock);

		current = e;
		int rc = ws->pool_fn(ws, e, &values->v);
		current = NULL;
		ws_values_put(values);

		pthread_mutex_lock(&ws->lock);
		e->announce = false;
		record_result(e, mode, rc);
		e->pool_rc = rc;
		e->pool_running = false;
		/* Asked for while it ran: the content may be newer than what was applied. */
		if (e->pool_again)
			enqueue(ws, e);
		else
			ws->pool_busy--;
		e->pool_again = false;
		pthread_cond_broadcast(&ws->pool_done);
	}
	pthread_mutex_unlock(&ws->lock);
	return NULL;
}

int ws_pool_start(struct workspace *ws, ws_apply_fn fn)
{
	ws->pool_fn = fn;
	pthread_cond_init(&ws->pool_cond, NULL);
	pthread_cond_init(&ws->pool_done, NULL);
	ws->pool_inited = true;
	for (size_t i = 0; i < WS_POOL_WORKERS; i++) {
		int rc = pthread_create(&ws->pool_threads[i], NULL, worker_main, ws);
		if (rc != 0)
			return -rc;
		ws->pool_nthreads++;
	}
	return 0;
}

void ws_pool_stop(struct workspace *ws)
{
	if (!ws->pool_inited)
		return;
	pthread_mutex_lock(&ws->lock);
	ws->pool_stop = true;
	wake(ws);
	pthread_mutex_unlock(&ws->lock);
	/* The applies that run finish (an engine call is not cut short); the queued ones are
	 * abandoned: their cards stay as they were, and the next mount's recovery applies them. */
	for (size_t i = 0; i < ws->pool_nthreads; i++)
		pthread_join(ws->pool_threads[i], NULL);
	ws->pool_nthreads = 0;
	pthread_mutex_lock(&ws->lock);
	for (struct ws_entry *e; (e = oldest(ws));) {
		e->pool_queued = false;
		ws_values_put(e->pool_values);
		e->pool_values = NULL;
	}
	ws->pool_busy = 0;
	wake(ws);
	pthread_mutex_unlock(&ws->lock);
}

void ws_pool_free(struct workspace *ws)
{
	if (!ws->pool_inited)
		return;
	pthread_cond_destroy(&ws->pool_cond);
	pthread_cond_destroy(&ws->pool_done);
}

int ws_pool_apply(struct workspace *ws, struct ws_entry *e, struct ws_values *values,
		  enum ws_pool_result mode)
{
	pthread_mutex_lock(&ws->lock);
	if (ws->pool_stop) {
		pthread_mutex_unlock(&ws->lock);
		return -ECANCELED;
	}
	if ((int)mode > e->pool_mode)
		e->pool_mode = mode;
	if (e->pool_queued || e->pool_running) {
		/* Queued: that apply reads the card as it is when it starts. Running: once more
		 * after it. Either way with the newest values. */
		if (e->pool_running && !e->pool_queued)
			e->pool_again = true;
	} else {
		enqueue(ws, e);
		ws->pool_busy++;
	}
	atomic_fetch_add(&values->refs, 1);
	ws_values_put(e->pool_values);
	e->pool_values = values;
	pthread_mutex_unlock(&ws->lock);
	return 0;
}

/* Whether an apply of e is queued or running (lock held): once stopping, only a running one
 * counts (the queued ones are abandoned). */
static bool busy(const struct workspace *ws, const struct ws_entry *e)
{
	return e->pool_running || (!ws->pool_stop && (e->pool_queued || e->pool_again));
}

int ws_pool_wait_decided(struct workspace *ws, struct ws_entry *e)
{
	int rc;

	pthread_mutex_lock(&ws->lock);
	while (!ws->pool_stop &&
	       (e->pool_queued || e->pool_again || (e->pool_running && !e->pool_decided)))
		pthread_cond_wait(&ws->pool_done, &ws->lock);
	if (e->pool_queued || e->pool_again)
		rc = -ECANCELED; /* abandoned: the mount stops */
	else
		/* Decided: 0 whether or not the rest has ended meanwhile, so that the answer
		 * does not depend on which thread ran first. */
		rc = e->pool_running || e->pool_decided ? 0 : e->pool_rc;
	pthread_mutex_unlock(&ws->lock);
	return rc;
}

void ws_pool_wait_entry_locked(struct workspace *ws, struct ws_entry *e)
{
	while (busy(ws, e))
		pthread_cond_wait(&ws->pool_done, &ws->lock);
}

struct ws_entry *ws_pool_idle_entry_locked(struct workspace *ws, const char *relpath)
{
	struct ws_entry *e;

	/* Found again after each wait: the applier may drop the entry once it is idle. */
	while ((e = ws_entry_find(ws, relpath)) && busy(ws, e))
		pthread_cond_wait(&ws->pool_done, &ws->lock);
	return e;
}

void ws_pool_wait_card(struct workspace *ws, enum card_kind kind, const char *name)
{
	pthread_mutex_lock(&ws->lock);
	for (struct ws_entry *e; (e = ws_entry_for(ws, kind, name)) && busy(ws, e);)
		pthread_cond_wait(&ws->pool_done, &ws->lock);
	pthread_mutex_unlock(&ws->lock);
}

void ws_pool_wait_entry(struct workspace *ws, struct ws_entry *e)
{
	pthread_mutex_lock(&ws->lock);
	ws_pool_wait_entry_locked(ws, e);
	pthread_mutex_unlock(&ws->lock);
}

int ws_pool_drain(struct workspace *ws, const struct timespec *until)
{
	int rc = 0;

	pthread_mutex_lock(&ws->lock);
	while (ws->pool_busy && !ws->pool_stop && rc == 0)
		rc = until ? pthread_cond_timedwait(&ws->pool_done, &ws->lock, until)
			   : pthread_cond_wait(&ws->pool_done, &ws->lock);
	pthread_mutex_unlock(&ws->lock);
	return rc ? -ETIMEDOUT : 0;
}

void ws_pool_decided(struct workspace *ws)
{
	if (!current)
		return;
	pthread_mutex_lock(&ws->lock);
	current->pool_decided = true;
	wake(ws);
	pthread_mutex_unlock(&ws->lock);
}
