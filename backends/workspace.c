/* The workspace's life: open (load the cards, start the state and events threads, the apply
 * pool and the applier), close, and the job queue through which every change reaches the
 * applier thread, one at a time (the applies it starts run on the pool). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "check.h"
#include "ws-int.h"

/* The state thread first: the events thread queues its work there. */
static int threads_start(struct workspace *ws, char *err, size_t errlen)
{
	int rc = ws_state_thread_start(ws, err, errlen);

	if (rc == 0 && (rc = ws_events_start(ws)) < 0 && err)
		ws_fmt(err, errlen, "events thread: %s", strerror(-rc));
	return rc;
}

static void threads_stop(struct workspace *ws)
{
	ws_events_stop(ws);
	ws_state_thread_stop(ws);
}

static void run_job(struct workspace *ws, struct ws_job *job)
{
	switch (job->type) {
	case WS_JOB_COMMIT:
		job->rc = ws_do_commit(ws, job->a, job->buf, job->len);
		break;
	case WS_JOB_REMOVE:
		job->rc = ws_do_remove(ws, job->a);
		break;
	case WS_JOB_RENAME:
		/* A rename may move a whole directory of cards: none of them is being applied. */
		ws_pool_drain(ws, NULL);
		job->rc = ws_do_rename(ws, job->a, job->b, job->buf, job->len);
		break;
	case WS_JOB_RMOBJ:
		/* The object may be what an apply in flight makes: that apply ends first. */
		ws_pool_drain(ws, NULL);
		job->rc = ws_do_remove_object(ws, job->kind, job->a);
		break;
	case WS_JOB_GROUP:
		job->rc = ws_do_group_ctl(ws, job->kind, job->a, job->b);
		break;
	case WS_JOB_RECOVER:
		ws_finish_removals(ws);
		ws_apply_all(ws, true);
		job->rc = 0;
		break;
	}
}

/* The applier: jobs in arrival order; while cards wait for the engine, a retry every
 * WS_RETRY_MS (a ping first, so a dead engine costs one failed connect per period). */
static void *applier_main(void *arg)
{
	struct workspace *ws = arg;
	struct timespec next;

	ws_deadline_in(&next, WS_RETRY_MS);
	pthread_mutex_lock(&ws->qlock);
	for (;;) {
		while (!ws->qhead && !ws->stopping) {
			ws->busy = false;
			pthread_cond_broadcast(&ws->qdone);
			pthread_mutex_unlock(&ws->qlock);
			bool waiting = ws_engine_waiting(ws);
			pthread_mutex_lock(&ws->qlock);
			if (ws->qhead || ws->stopping)
				break;
			if (!waiting) {
				pthread_cond_wait(&ws->qcond, &ws->qlock);
				continue;
			}
			if (pthread_cond_timedwait(&ws->qcond, &ws->qlock, &next) != ETIMEDOUT)
				continue;
			ws_deadline_in(&next, WS_RETRY_MS);
			ws->busy = true;
			pthread_mutex_unlock(&ws->qlock);
			if (ws->be->ops->ping(ws->be, NULL, 0) == 0)
				ws_apply_all(ws, false);
			pthread_mutex_lock(&ws->qlock);
		}
		if (ws->stopping)
			break;
		struct ws_job *job = ws->qhead;
		ws->qhead = job->next;
		if (!ws->qhead)
			ws->qtail = NULL;
		ws->busy = true;
		pthread_mutex_unlock(&ws->qlock);

		run_job(ws, job);

		pthread_mutex_lock(&ws->qlock);
		if (job->async) {
			free(job);
		} else {
			job->done = true;
			pthread_cond_broadcast(&ws->qdone);
		}
	}
	/* Whoever still waits gets an answer. */
	for (struct ws_job *job = ws->qhead, *next_job; job; job = next_job) {
		next_job = job->next;
		if (job->async) {
			free(job);
		} else {
			job->rc = -ECANCELED;
			job->done = true;
		}
	}
	ws->qhead = ws->qtail = NULL;
	ws->busy = false;
	pthread_cond_broadcast(&ws->qdone);
	pthread_mutex_unlock(&ws->qlock);
	return NULL;
}

static void enqueue_locked(struct workspace *ws, struct ws_job *job)
{
	job->next = NULL;
	if (ws->qtail)
		ws->qtail->next = job;
	else
		ws->qhead = job;
	ws->qtail = job;
	pthread_cond_signal(&ws->qcond);
}

/* Hands a job to the applier and waits for its result. */
static int submit(struct workspace *ws, struct ws_job *job)
{
	int rc;

	pthread_mutex_lock(&ws->qlock);
	if (ws->stopping) {
		pthread_mutex_unlock(&ws->qlock);
		return -ECANCELED;
	}
	enqueue_locked(ws, job);
	while (!job->done)
		pthread_cond_wait(&ws->qdone, &ws->qlock);
	rc = job->rc;
	pthread_mutex_unlock(&ws->qlock);
	return rc;
}

int ws_settle(struct workspace *ws, int timeout_ms)
{
	struct timespec until;
	int rc = 0;

	ws_deadline_in(&until, timeout_ms > 0 ? timeout_ms : 0);
	/* The engine state first: its first full list (tried, whether the engine answered). */
	if (ws_state_wait_warm(ws, timeout_ms) < 0)
		return -ETIMEDOUT;
	pthread_mutex_lock(&ws->qlock);
	while ((ws->qhead || ws->busy) && rc == 0)
		rc = timeout_ms > 0 ? pthread_cond_timedwait(&ws->qdone, &ws->qlock, &until)
				    : pthread_cond_wait(&ws->qdone, &ws->qlock);
	pthread_mutex_unlock(&ws->qlock);
	if (rc)
		return -ETIMEDOUT;
	/* The applier is idle: what it left on the pool (container starts) is all that remains. */
	return ws_pool_drain(ws, timeout_ms > 0 ? &until : NULL);
}

static void ws_free(struct workspace *ws)
{
	for (size_t i = 0; i < ws->nentries; i++) {
		struct ws_entry *e = ws->entries[i];
		free(e->relpath);
		free(e->text);
		ws_buf_free(&e->log);
		free(e);
	}
	free(ws->entries);
	card_registry_free(&ws->reg);
	ws_down_free(ws);
	ws_state_free(ws);
	ws_pool_free(ws);
	ws_errors_clear(ws);
	for (size_t i = 0; i < ws->nloads; i++) {
		free(ws->loads[i].names);
		ws_buf_free(&ws->loads[i].log);
	}
	pthread_mutex_destroy(&ws->lock);
	pthread_mutex_destroy(&ws->qlock);
	pthread_mutex_destroy(&ws->errlock);
	ws_adopted_free(ws);
	pthread_mutex_destroy(&ws->alock);
	pthread_cond_destroy(&ws->qcond);
	pthread_cond_destroy(&ws->qdone);
	free(ws->root);
	free(ws->cutip_dir);
	free(ws->cards_dir);
	free(ws);
}

int ws_open(const char *root, struct backend *be, struct workspace **out, char *err,
	    size_t errlen)
{
	struct workspace *ws;
	char *cards = NULL;
	int rc;

	*out = NULL;
	if (!root || !*root || !be) {
		if (err)
			ws_fmt(err, errlen, "no workspace root given");
		return -EINVAL;
	}
	if (asprintf(&cards, "%s/cutip/cards", root) < 0)
		return -ENOMEM;
	rc = ws_mkdirs(cards);
	free(cards);
	if (rc < 0) {
		if (err)
			ws_fmt(err, errlen, "%s/cutip/cards: %s", root, strerror(-rc));
		return rc;
	}
	ws = calloc(1, sizeof(*ws));
	if (!ws)
		return -ENOMEM;
	pthread_mutex_init(&ws->lock, NULL);
	pthread_mutex_init(&ws->qlock, NULL);
	pthread_mutex_init(&ws->errlock, NULL);
	pthread_mutex_init(&ws->alock, NULL);
	pthread_cond_init(&ws->qcond, NULL);
	pthread_cond_init(&ws->qdone, NULL);
	ws_state_init(ws);
	ws->be = be;
	/* The resolved root is the workspace's identity in the engine's labels. */
	ws->root = realpath(root, NULL);
	if (!ws->root || asprintf(&ws->cutip_dir, "%s/cutip", ws->root) < 0 ||
	    asprintf(&ws->cards_dir, "%s/cutip/cards", ws->root) < 0) {
		rc = ws->root ? -ENOMEM : -errno;
		if (err)
			ws_fmt(err, errlen, "%s: %s", root, strerror(-rc));
		ws_free(ws);
		return rc;
	}

	ws_down_load(ws);
	ws_adopted_load(ws);
	ws_load_all(ws);

	/* The engine state: a first full list, then the events keep it. */
	rc = threads_start(ws, err, errlen);
	if (rc == 0 && (rc = ws_pool_start(ws, ws_apply_entry)) < 0 && err)
		ws_fmt(err, errlen, "apply pool: %s", strerror(-rc));
	if (rc < 0) {
		ws_pool_stop(ws);
		threads_stop(ws);
		ws_free(ws);
		return rc;
	}

	/* Recovery runs on the applier: pulls and builds may take minutes, and the mount should
	 * answer meanwhile (objects show as pending until then). */
	struct ws_job *job = calloc(1, sizeof(*job));
	if (!job) {
		ws_pool_stop(ws);
		threads_stop(ws);
		ws_free(ws);
		return -ENOMEM;
	}
	job->type = WS_JOB_RECOVER;
	job->async = true;
	ws->busy = true;
	enqueue_locked(ws, job);
	rc = pthread_create(&ws->applier, NULL, applier_main, ws);
	if (rc != 0) {
		free(job);
		if (err)
			ws_fmt(err, errlen, "applier thread: %s", strerror(rc));
		ws_pool_stop(ws);
		threads_stop(ws);
		ws_free(ws);
		return -rc;
	}
	ws->applier_started = true;
	*out = ws;
	return 0;
}

void ws_close(struct workspace *ws)
{
	if (!ws)
		return;
	pthread_mutex_lock(&ws->qlock);
	ws->stopping = true;
	pthread_cond_broadcast(&ws->qcond);
	pthread_mutex_unlock(&ws->qlock);
	/* The pool before the applier: a job waiting for an apply is answered -ECANCELED when
	 * that apply was abandoned; the applies running finish. */
	ws_pool_stop(ws);
	if (ws->applier_started)
		pthread_join(ws->applier, NULL);
	/* The applier first: its last job may still read the engine into the state. */
	threads_stop(ws);
	/* The notes of the removals done (their files are gone) go; an interrupted one stays
	 * for the next open. */
	ws_strv_free(ws_removals_interrupted(ws));
	ws_free(ws);
}

const char *ws_root(const struct workspace *ws)
{
	return ws->root;
}

const char *ws_cards_dir(const struct workspace *ws)
{
	return ws->cards_dir;
}

struct backend *ws_backend(struct workspace *ws)
{
	return ws->be;
}

/* Paths from the mount are relative to cards/; a leading "/" or "./" is tolerated. */
static const char *rel(const char *relpath)
{
	while (relpath && (*relpath == '/' || (relpath[0] == '.' && relpath[1] == '/')))
		relpath += *relpath == '/' ? 1 : 2;
	return relpath;
}

static bool bad_path(const char *relpath)
{
	return !relpath || !*relpath || strstr(relpath, "..");
}

int ws_commit(struct workspace *ws, const char *relpath, const char *buf, size_t len)
{
	relpath = rel(relpath);
	if (bad_path(relpath))
		return -EINVAL;
	if (card_file_ignored(relpath))
		return 0;
	struct ws_job job = {.type = WS_JOB_COMMIT, .a = relpath, .buf = buf, .len = len};
	return submit(ws, &job);
}

int ws_remove(struct workspace *ws, const char *relpath)
{
	relpath = rel(relpath);
	if (bad_path(relpath))
		return 0;
	/* An ignored name may still be an editor backup holding what its card made. */
	struct ws_job job = {.type = WS_JOB_REMOVE, .a = relpath};
	return submit(ws, &job);
}

int ws_rename(struct workspace *ws, const char *from, const char *to, const char *buf, size_t len)
{
	from = rel(from);
	to = rel(to);
	if (bad_path(from) || bad_path(to))
		return -EINVAL;
	struct ws_job job = {.type = WS_JOB_RENAME, .a = from, .b = to, .buf = buf, .len = len};
	return submit(ws, &job);
}

int ws_remove_object(struct workspace *ws, enum ws_kind kind, const char *name)
{
	if (!name || !*name || strchr(name, '/'))
		return -ENOENT;
	struct ws_job job = {.type = WS_JOB_RMOBJ, .a = name, .kind = kind};
	return submit(ws, &job);
}

int ws_group_ctl(struct workspace *ws, enum ws_kind kind, const char *name, const char *command)
{
	int rc = ws_group_ctl_check(ws, kind, name, command);
	if (rc < 0)
		return rc;
	struct ws_job job = {.type = WS_JOB_GROUP, .a = name, .b = command, .kind = kind};
	return submit(ws, &job);
}

int ws_card_result(struct workspace *ws, const char *relpath)
{
	int rc = 0;

	relpath = rel(relpath);
	if (bad_path(relpath))
		return 0;
	pthread_mutex_lock(&ws->lock);
	/* A commit returns before its container's start is done: the start's result is the
	 * card's. */
	struct ws_entry *e = ws_pool_idle_entry_locked(ws, relpath);
	if (e)
		rc = e->result;
	pthread_mutex_unlock(&ws->lock);
	return rc;
}
