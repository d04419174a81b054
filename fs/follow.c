/* A container's output as it comes: containers/NAME/follow, and containers/NAME/logs kept
 * live while it is open; the same for a Swarm's services/NAME (all its tasks' output).
 *
 * follow is a stream file (stream.c), like `docker logs -f` from the moment of the open: each
 * open has a follower thread running ws_container_follow into the open's buffer (at most
 * FS_FOLLOW_MAX unread bytes; past that the oldest go, and the reader gets
 * "-- cutipfs: N bytes dropped --"), and reads park until there is output. It ends (EOF) when
 * the container is removed. The release sets the follower's stop flag; the thread ends on its
 * own shortly after (ws_container_follow checks the flag about every 100 ms) and drops its
 * reference to the stream.
 *
 * logs is a snapshot taken at open, as it always was, but shared by every open of the inode
 * (struct fs_live) and kept growing while any is open, because `tail -f` on a FUSE file polls
 * fstat once a second and reads only when st_size or st_mtime grew (coreutils treats FUSE as
 * remote: no inotify). getattr gives the current size and the time of the last append
 * (attribute timeout 0), reads at any offset below the size getattr last gave work, and a
 * read at that size is the end. The follower starts at the second getattr while open, which
 * is how a watcher shows itself (tail's fstat and lseek, less); a plain `cat` stats once and
 * costs no follow request. It follows from just before the snapshot was taken, so nothing
 * printed meanwhile is lost (a line printed during the snapshot request may show twice). The
 * buffer stops growing at FS_LIVE_MAX, and goes with the last close. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

struct fs_live {
	struct fs_live *next; /* protected by fs->slock */
	fuse_ino_t ino;
	enum ws_kind kind; /* WS_CONTAINER or WS_SERVICE */
	char name[128];
	char since[48];
	char *buf;	       /* protected by fs->slock */
	size_t len, cap;       /* protected by fs->slock */
	size_t visible;	       /* protected by fs->slock: reads end here */
	struct timespec mtime; /* protected by fs->slock: the last append */
	int opens;	       /* protected by fs->slock */
	int refs;	       /* protected by fs->slock: the opens (one), the follower (one) */
	unsigned getattrs;     /* protected by fs->slock */
	bool following;	       /* protected by fs->slock: a follower was started */
	atomic_bool stop;
};

struct fs_follower {
	struct fs *fs;
	enum ws_kind kind; /* WS_CONTAINER or WS_SERVICE */
	char name[128];
	char since[48];
	struct fs_stream *s;  /* follow, or */
	struct fs_live *live; /* logs */
};

static void now_since(char *buf, size_t len)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(buf, len, "%lld.%09ld", (long long)now.tv_sec, now.tv_nsec);
}

static void live_unref_locked(struct fs_live *live)
{
	if (--live->refs > 0)
		return;
	free(live->buf);
	free(live);
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

/* Under fs->slock: appends to a live logs buffer; false when it is full. */
static bool live_append_locked(struct fs_live *live, const char *buf, size_t len)
{
	if (live->len + len > FS_LIVE_MAX)
		return false;
	if (live->len + len > live->cap) {
		size_t cap = live->cap ? live->cap : 4096;
		while (cap < live->len + len)
			cap *= 2;
		char *nb = realloc(live->buf, cap);
		if (!nb)
			return false;
		live->buf = nb;
		live->cap = cap;
	}
	memcpy(live->buf + live->len, buf, len);
	live->len += len;
	clock_gettime(CLOCK_REALTIME, &live->mtime);
	return true;
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
	bool more;
	if (f->s) {
		more = !f->s->released && !fs->sdown;
		if (more)
			(void)stream_append_locked(f->s, buf, len);
	} else {
		more = f->live->opens > 0 && live_append_locked(f->live, buf, len);
	}
	pthread_mutex_unlock(&fs->slock);
	if (more && f->s)
		fs_stream_wake(fs, f->s, FS_STREAM_FOLLOW);
	return more ? 0 : 1;
}

static void *follower_main(void *arg)
{
	struct fs_follower *f = arg;
	struct fs *fs = f->fs;
	const atomic_bool *stop = f->s ? &f->s->stop : &f->live->stop;
	int rc = f->kind == WS_SERVICE
		     ? ws_service_follow(fs->ws, f->name, f->since, sink, f, stop)
		     : ws_container_follow(fs->ws, f->name, f->since, sink, f, stop);
	if (f->s) {
		pthread_mutex_lock(&fs->slock);
		f->s->eof = true;
		f->s->err = rc < 0 ? rc : 0;
		pthread_mutex_unlock(&fs->slock);
		fs_stream_wake(fs, f->s, FS_STREAM_FOLLOW);
	}
	pthread_mutex_lock(&fs->slock);
	if (f->s)
		fs_stream_unref_locked(f->s);
	else
		live_unref_locked(f->live);
	fs->nfollowers--;
	pthread_cond_broadcast(&fs->scond);
	pthread_mutex_unlock(&fs->slock);
	free(f);
	return NULL;
}

/* Under fs->slock: starts f's thread (detached; fs_followers_stop waits for them all). The
 * caller has taken the reference the thread drops. */
static int start_locked(struct fs *fs, struct fs_follower *f)
{
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Signals are the main thread's (the end of the loop). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&t, &attr, follower_main, f);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return -rc;
	fs->nfollowers++;
	return 0;
}

static void live_close_locked(struct fs *fs, struct fs_live *live);

void fs_followers_stop(struct fs *fs)
{
	pthread_mutex_lock(&fs->slock);
	for (struct fs_stream *s = fs->streams; s; s = s->next)
		atomic_store(&s->stop, true);
	for (struct fs_live *l = fs->lives; l; l = l->next)
		atomic_store(&l->stop, true);
	/* Released streams and closed logs were told at their release. */
	while (fs->nfollowers > 0)
		pthread_cond_wait(&fs->scond, &fs->slock);
	while (fs->lives) {
		fs->lives->opens = 1; /* however many opens are left, this is the last close */
		live_close_locked(fs, fs->lives);
	}
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

void fs_follow_open(fuse_req_t req, struct fs_node *n, const char *name, struct fuse_file_info *fi)
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
	f->kind = n->kind;
	snprintf(f->name, sizeof(f->name), "%s", name);
	now_since(f->since, sizeof(f->since));
	pthread_mutex_lock(&fs->slock);
	s->refs = 2; /* the open, the follower */
	rc = start_locked(fs, f);
	if (rc < 0) {
		s->refs = 1;
		s->eof = true;
		s->err = rc;
		free(f);
	}
	pthread_mutex_unlock(&fs->slock);
	(void)fs_stream_reply_open(req, fi, s);
}

/* ---- logs ---- */

static struct fs_live *live_find_locked(struct fs *fs, fuse_ino_t ino)
{
	struct fs_live *l = fs->lives;
	while (l && l->ino != ino)
		l = l->next;
	return l;
}

/* Under fs->slock: the close of one open of live. */
static void live_close_locked(struct fs *fs, struct fs_live *live)
{
	if (--live->opens > 0)
		return;
	for (struct fs_live **pp = &fs->lives; *pp; pp = &(*pp)->next) {
		if (*pp == live) {
			*pp = live->next;
			break;
		}
	}
	atomic_store(&live->stop, true);
	live_unref_locked(live);
}

/* Under fs->slock: a watcher polls the size: start following (once). */
static void live_poll_locked(struct fs *fs, struct fs_live *live)
{
	if (live->following || ++live->getattrs < 2 || fs->sdown)
		return;
	struct fs_follower *f = calloc(1, sizeof(*f));
	if (!f)
		return;
	f->fs = fs;
	f->live = live;
	f->kind = live->kind;
	snprintf(f->name, sizeof(f->name), "%s", live->name);
	snprintf(f->since, sizeof(f->since), "%s", live->since);
	live->refs++;
	if (start_locked(fs, f) < 0) {
		live->refs--;
		free(f);
		return;
	}
	live->following = true;
}

void fs_logs_open(fuse_req_t req, struct fs_node *n, const char *name, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EACCES);
		return;
	}
	pthread_mutex_lock(&fs->slock);
	struct fs_live *live = live_find_locked(fs, n->ino);
	bool following = live && live->following;
	if (following) {
		live->opens++;
		live->visible = live->len;
	}
	pthread_mutex_unlock(&fs->slock);

	if (!following) {
		/* A snapshot, as of now; the follow (if any) starts from here. */
		char since[48], *text = NULL;
		size_t len = 0;
		now_since(since, sizeof(since));
		int rc = n->kind == WS_SERVICE ? ws_service_logs(fs->ws, name, &text, &len)
					       : ws_container_logs(fs->ws, name, &text, &len);
		if (rc < 0) {
			fuse_reply_err(req, -rc);
			return;
		}
		struct fs_live *fresh = calloc(1, sizeof(*fresh));
		if (!fresh) {
			free(text);
			fuse_reply_err(req, ENOMEM);
			return;
		}
		pthread_mutex_lock(&fs->slock);
		live = live_find_locked(fs, n->ino);
		if (live) {
			/* Open already: extend it with what was printed since, if this snapshot
			 * is that one grown (a follower is no better than this). */
			if (!live->following && len > live->len &&
			    memcmp(text, live->buf, live->len) == 0)
				(void)live_append_locked(live, text + live->len, len - live->len);
			live->opens++;
			live->visible = live->len;
			free(text);
			free(fresh);
		} else {
			live = fresh;
			live->ino = n->ino;
			live->kind = n->kind;
			snprintf(live->name, sizeof(live->name), "%s", name);
			snprintf(live->since, sizeof(live->since), "%s", since);
			live->buf = text;
			live->len = live->cap = live->visible = len;
			clock_gettime(CLOCK_REALTIME, &live->mtime);
			live->opens = 1;
			live->refs = 1;
			atomic_init(&live->stop, false);
			live->next = fs->lives;
			fs->lives = live;
		}
		pthread_mutex_unlock(&fs->slock);
	}

	fi->fh = (uintptr_t)live;
	/* Reads go to us whatever size the kernel last saw. Seekable: tail reads backwards. */
	fi->direct_io = 1;
	fi->keep_cache = 0;
	fi->noflush = 1;
	if (fuse_reply_open(req, fi) != 0) {
		pthread_mutex_lock(&fs->slock);
		live_close_locked(fs, live);
		pthread_mutex_unlock(&fs->slock);
	}
}

void fs_logs_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fs_live *live = (struct fs_live *)(uintptr_t)fi->fh;
	struct fs *fs = fs_of(req);
	pthread_mutex_lock(&fs->slock);
	if (off < 0 || (size_t)off >= live->visible) {
		pthread_mutex_unlock(&fs->slock);
		fuse_reply_buf(req, NULL, 0); /* the end, or cat reads for ever */
		return;
	}
	size_t n = live->visible - (size_t)off;
	if (n > size)
		n = size;
	char *copy = malloc(n);
	if (copy)
		memcpy(copy, live->buf + off, n);
	pthread_mutex_unlock(&fs->slock);
	if (!copy)
		fuse_reply_err(req, ENOMEM);
	else
		fuse_reply_buf(req, copy, n);
	free(copy);
}

void fs_logs_release(fuse_req_t req, struct fuse_file_info *fi)
{
	struct fs_live *live = (struct fs_live *)(uintptr_t)fi->fh;
	struct fs *fs = fs_of(req);
	pthread_mutex_lock(&fs->slock);
	live_close_locked(fs, live);
	pthread_mutex_unlock(&fs->slock);
	fuse_reply_err(req, 0);
}

bool fs_logs_attr(struct fs *fs, fuse_ino_t ino, size_t *size, struct timespec *mtime)
{
	pthread_mutex_lock(&fs->slock);
	struct fs_live *live = live_find_locked(fs, ino);
	if (live) {
		live->visible = live->len;
		*size = live->len;
		*mtime = live->mtime;
		live_poll_locked(fs, live);
	}
	pthread_mutex_unlock(&fs->slock);
	return live != NULL;
}
