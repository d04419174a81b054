/* A container's output as it comes: containers/NAME/follow; the same for a Swarm's
 * services/NAME (all its tasks' output). And containers/NAME/wait, the same kind of stream
 * with one line: the exit code once the container stops (ws_container_wait).
 *
 * follow is a stream file (stream.c), like `docker logs -f` from the moment of the open: each
 * open has a follower thread running ws_container_follow into the open's buffer (at most
 * FS_FOLLOW_MAX unread bytes; past that the oldest go, and the reader gets
 * "-- cutipfs: N bytes dropped --"), and reads park until there is output. It ends (EOF) when
 * the container is removed. The release sets the follower's stop flag; the thread ends on its
 * own shortly after (ws_container_follow checks the flag about every 100 ms) and drops its
 * reference to the stream.
 *
 * logs.c's reader threads are counted here too (fs_follower_start_locked), so that the
 * unmount waits for every thread that may call the workspace. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

struct fs_follower {
	struct fs *fs;
	bool wait;	   /* containers/NAME/wait: the exit code, then the end */
	enum ws_kind kind; /* WS_CONTAINER or WS_SERVICE */
	char name[128];
	char since[48];
	struct fs_stream *s;
};

static void now_since(char *buf, size_t len)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(buf, len, "%lld.%09ld", (long long)now.tv_sec, now.tv_nsec);
}

/* Under fs->slock: appends to a follow's unread bytes, dropping the oldest past
 * FS_FOLLOW_MAX. */
static int stream_append_locked(struct fs_stream *s, const char *buf, size_t len)
{
	if (len >= FS_FOLLOW_MAX) {
		s->dropped += s->len + (len - FS_FOLLOW_MAX);
		s->start = s->len = 0;
		buf += len - FS_FOLLOW_MAX;
		len = FS_FOLLOW_MAX;
	} else if (s->len + len > FS_FOLLOW_MAX) {
		size_t drop = s->len + len - FS_FOLLOW_MAX;
		s->start += drop;
		s->len -= drop;
		s->dropped += drop;
	}
	if (s->start + s->len + len > s->cap) {
		if (s->start > 0) {
			memmove(s->buf, s->buf + s->start, s->len);
			s->start = 0;
		}
		if (s->len + len > s->cap) {
			size_t cap = s->cap ? s->cap : 4096;
			while (cap < s->len + len)
				cap *= 2;
			char *nb = realloc(s->buf, cap);
			if (!nb) {
				s->dropped += len;
				return -ENOMEM;
			}
			s->buf = nb;
			s->cap = cap;
		}
	}
	memcpy(s->buf + s->start + s->len, buf, len);
	s->len += len;
	return 0;
}

/* On the follower thread, inside ws_container_follow: no workspace lock is held. */
static int sink(enum be_stream stream, const char *buf, size_t len, void *ctx)
{
	struct fs_follower *f = ctx;
	struct fs *fs = f->fs;
	(void)stream;
	if (len == 0)
		return 0;
	pthread_mutex_lock(&fs->slock);
	bool more = !f->s->released && !fs->sdown;
	if (more)
		(void)stream_append_locked(f->s, buf, len);
	pthread_mutex_unlock(&fs->slock);
	if (more)
		fs_stream_wake(fs, f->s, FS_STREAM_FOLLOW);
	return more ? 0 : 1;
}

/* wait: one line, the exit code, once the container is not running. */
static int wait_exit(struct fs_follower *f, const atomic_bool *stop)
{
	int code = 0;
	int rc = ws_container_wait(f->fs->ws, f->name, &code, stop);
	if (rc == 0) {
		char line[16];
		int n = snprintf(line, sizeof(line), "%d\n", code);
		(void)sink(BE_STDOUT, line, (size_t)n, f);
	}
	/* Gone before it was seen stopped: nothing to wait for, as wait(2) says it. (ENOENT
	 * would read as a plain end, and `code=$(cat wait)` get an empty code.) */
	return rc == -ENOENT ? -ECHILD : rc;
}

static void *follower_main(void *arg)
{
	struct fs_follower *f = arg;
	struct fs *fs = f->fs;
	const atomic_bool *stop = &f->s->stop;
	int rc = f->wait		 ? wait_exit(f, stop)
		 : f->kind == WS_SERVICE ? ws_service_follow(fs->ws, f->name, f->since, sink, f, stop)
					 : ws_container_follow(fs->ws, f->name, f->since, sink, f, stop);
	pthread_mutex_lock(&fs->slock);
	f->s->eof = true;
	f->s->err = rc < 0 ? rc : 0;
	pthread_mutex_unlock(&fs->slock);
	fs_stream_wake(fs, f->s, FS_STREAM_FOLLOW);
	pthread_mutex_lock(&fs->slock);
	fs_stream_unref_locked(f->s);
	fs_follower_end_locked(fs);
	pthread_mutex_unlock(&fs->slock);
	free(f);
	return NULL;
}

int fs_follower_start_locked(struct fs *fs, void *(*main)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Signals are the main thread's (the end of the loop). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&t, &attr, main, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return -rc;
	fs->nfollowers++;
	return 0;
}

void fs_follower_end_locked(struct fs *fs)
{
	fs->nfollowers--;
	pthread_cond_broadcast(&fs->scond);
}

void fs_followers_stop(struct fs *fs)
{
	pthread_mutex_lock(&fs->slock);
	fs->sdown = true; /* no new rounds of logs either (the unmount may have come by error) */
	atomic_store(&fs->halting, true);
	for (struct fs_stream *s = fs->streams; s; s = s->next)
		atomic_store(&s->stop, true);
	fs_logs_halt_locked(fs);
	/* Released streams and closed logs were told at their release. */
	while (fs->nfollowers > 0)
		pthread_cond_wait(&fs->scond, &fs->slock);
	fs_logs_free_locked(fs);
	pthread_mutex_unlock(&fs->slock);
}

/* ---- follow ---- */

int fs_follow_fill_locked(struct fs_stream *s, size_t size, char **out, bool *end)
{
	*end = false;
	if (s->len == 0 && s->dropped == 0) {
		if (!s->eof)
			return 0;
		/* The container's removal is the end; anything else is said once, then the end. */
		if (s->err < 0 && s->err != -ENOENT) {
			int err = s->err;
			s->err = 0;
			return err;
		}
		*end = true;
		return 0;
	}
	if (size == 0)
		return 0;
	char *buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	size_t pos = 0;
	if (s->dropped) {
		char mark[80];
		int n =
		    snprintf(mark, sizeof(mark), "-- cutipfs: %llu bytes dropped --\n", s->dropped);
		pos = (size_t)n < size ? (size_t)n : size;
		memcpy(buf, mark, pos);
		s->dropped = 0;
	}
	size_t take = s->len < size - pos ? s->len : size - pos;
	memcpy(buf + pos, s->buf + s->start, take);
	s->start += take;
	s->len -= take;
	if (s->len == 0)
		s->start = 0;
	*out = buf;
	return (int)(pos + take);
}

static void stream_open(fuse_req_t req, struct fs_node *n, const char *name,
			struct fuse_file_info *fi, bool wait)
{
	struct fs *fs = fs_of(req);
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EACCES);
		return;
	}
	struct ws_object obj;
	int rc = ws_lookup(fs->ws, n->kind, name, &obj);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	struct fs_stream *s = fs_stream_new(fs, FS_STREAM_FOLLOW);
	struct fs_follower *f = calloc(1, sizeof(*f));
	if (!s || !f) {
		free(s);
		free(f);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	f->fs = fs;
	f->s = s;
	f->wait = wait;
	f->kind = n->kind;
	snprintf(f->name, sizeof(f->name), "%s", name);
	now_since(f->since, sizeof(f->since));
	pthread_mutex_lock(&fs->slock);
	s->refs = 2; /* the open, the follower */
	rc = fs_follower_start_locked(fs, follower_main, f);
	if (rc < 0) {
		s->refs = 1;
		s->eof = true;
		s->err = rc;
		free(f);
	}
	pthread_mutex_unlock(&fs->slock);
	(void)fs_stream_reply_open(req, fi, s);
}

void fs_follow_open(fuse_req_t req, struct fs_node *n, const char *name, struct fuse_file_info *fi)
{
	stream_open(req, n, name, fi, false);
}

void fs_wait_open(fuse_req_t req, struct fs_node *n, const char *name, struct fuse_file_info *fi)
{
	stream_open(req, n, name, fi, true);
}
