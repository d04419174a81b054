/* containers/NAME/logs (services/NAME/logs on a Swarm): the engine's log, streamed.
 *
 * Each open has its own reader thread, which asks the engine for the log once
 * (ws_logs_stream) and feeds a window of at most FS_LOGS_WINDOW bytes: the reads take the
 * bytes from there as they come, and the thread waits (the engine's connection with it) while
 * the window is full of bytes nobody has read. So memory stays bounded whatever the log's size,
 * and `cat` goes at the engine's pace, with no whole-log buffer and no second request.
 *
 * Offsets. The window keeps FS_LOGS_BEHIND bytes below the furthest a read has asked for,
 * enough for the short backward reads of tail (file_lines in coreutils' tail.c reads blocks
 * backwards from the end) and of less's buffers. A read further back asks the engine again
 * from the start and skips to it: less (which keeps only a few buffers of a seekable file, see
 * its -b option) needs that to scroll back to the top, and no tool is worth an errno there. A
 * read ahead of the window (dd skip=) drops the bytes in between as they come.
 *
 * Sizes. Not open: st_size is 0, without asking the engine (a stat, `ls -l` and every lookup
 * would otherwise fetch the log). Open: 0 until the engine's answer has ended, then all of it,
 * growing while the file stays open. 0 is the one size every tool reads to the end, as for a
 * file of /proc: tail -n (tail_lines in coreutils' tail.c) and tail -c take a size they can
 * seek back from as the end, wc -c counts a size that is not a page multiple without reading,
 * less (ch_end_seek) and head -c -N stop at the size; cp reads blocks of st_blksize anyway
 * (copy_reg in copy.c rounds its buffer up to that block). Once the log has ended, the size is
 * exact and those tools seek as on any file (the window holds a short log whole). st_blocks
 * covers st_size, so that cp sees no holes to skip. The open waits until FS_LOGS_WINDOW bytes
 * or the whole log came, so that a short log has its exact size from the start.
 *
 * Live while open: after the log's end, the second getattr of an open (tail -f polls fstat,
 * less too; a plain `cat` stats once) starts a follow (ws_container_follow) from the time the
 * request was made, appended after the log, so that `tail -f` sees new output. A line printed
 * while the log was being sent may show twice. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

/* Bytes kept of one open's log: the daemon's memory per reader. */
#define FS_LOGS_WINDOW ((size_t)4 << 20)
/* Of those, kept below the furthest offset read, for reads backwards. */
#define FS_LOGS_BEHIND ((off_t)1 << 20)
/* What st_blksize says: cat and cp read this much at a time (io_blksize in coreutils). */
#define FS_LOGS_BLKSIZE (1 << 20)
/* A read of the log before its end waits for this much (or the end, or a full window). */
#define FS_LOGS_MIN_READ ((size_t)256 << 10)
/* How long the thread waits for a reader to make room before it ends its request. */
#define FS_LOGS_IDLE_MS 5000
/* How often a waiting read looks whether it was interrupted. */
#define FS_LOGS_POLL_MS 200

struct fs_live {
	struct fs_live *next; /* protected by fs->slock: fs->lives */
	struct fs *fs;
	fuse_ino_t ino;
	enum ws_kind kind; /* WS_CONTAINER or WS_SERVICE */
	char name[128];
	/* All protected by fs->slock. */
	char *buf;	       /* bytes [base, base + len) of the log */
	size_t len, cap;       /* cap grows up to FS_LOGS_WINDOW */
	off_t base;	       /* offset of buf[0] */
	off_t want;	       /* the furthest offset a read asked for */
	off_t pos;	       /* offset of the next byte this round's request gives */
	off_t reached;	       /* the furthest offset any round has come to */
	unsigned round;	       /* the thread's request; a new one is asked by a read */
	bool done;	       /* the log has ended: what follows is live output */
	bool progress;	       /* this round has come further than any before */
	int err;	       /* this round failed (< 0) */
	bool full;	       /* the thread waits for room */
	bool parked;	       /* this round was ended for want of a reader */
	int pinned;	       /* replies being sent straight from buf: nothing in it moves */
	bool watched;	       /* a second getattr: follow after the end */
	bool closed;	       /* released */
	unsigned getattrs;     /* since the open */
	struct timespec mtime; /* the last byte came */
	int refs;	       /* the open, the thread, each reply sent from buf */
	pthread_cond_t cond;   /* bytes came, room was made, the round ended, or closed */
	atomic_bool halt;      /* ends this round's request (a new round, or the close) */
};

static off_t end_of(const struct fs_live *l)
{
	return l->base + (off_t)l->len;
}

static void unref_locked(struct fs_live *l)
{
	if (--l->refs > 0)
		return;
	pthread_cond_destroy(&l->cond);
	free(l->buf);
	free(l);
}

/* Under fs->slock: frees room in a full window by dropping what no read needs any more; false
 * when there is none to drop, or none may move now. */
static bool make_room_locked(struct fs_live *l)
{
	off_t keep = l->want > FS_LOGS_BEHIND ? l->want - FS_LOGS_BEHIND : 0;
	if (l->len < l->cap)
		return !l->pinned || l->len > 0; /* appending after a reset would overwrite */
	if (l->pinned)
		return false;
	if (l->cap < FS_LOGS_WINDOW) {
		size_t cap = l->cap ? 2 * l->cap : 64 * 1024;
		char *nb = realloc(l->buf, cap < FS_LOGS_WINDOW ? cap : FS_LOGS_WINDOW);
		if (nb) {
			l->buf = nb;
			l->cap = cap < FS_LOGS_WINDOW ? cap : FS_LOGS_WINDOW;
			return true;
		}
	}
	if (keep <= l->base)
		return false;
	size_t drop = (size_t)(keep - l->base);
	memmove(l->buf, l->buf + drop, l->len - drop);
	l->base += (off_t)drop;
	l->len -= drop;
	return true;
}

/* Under fs->slock: the thread's sink has waited for room since *since (zero: not yet); true
 * once that is FS_LOGS_IDLE_MS. */
static bool idle_too_long(struct timespec *since)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!since->tv_sec && !since->tv_nsec) {
		*since = now;
		return false;
	}
	long long ms =
	    (now.tv_sec - since->tv_sec) * 1000LL + (now.tv_nsec - since->tv_nsec) / 1000000;
	return ms >= FS_LOGS_IDLE_MS;
}

/* The reader thread's sink (ws_logs_stream, ws_container_follow): no workspace lock is held. A
 * round after the first skips what the window has already (its request gives the same log). */
static int sink(enum be_stream stream, const char *p, size_t n, void *ctx)
{
	struct fs_live *l = ctx;
	struct fs *fs = l->fs;
	struct timespec waiting = {0};
	(void)stream;
	pthread_mutex_lock(&fs->slock);
	while (n > 0) {
		if (atomic_load(&l->halt) || fs->sdown)
			break;
		off_t keep = l->want > FS_LOGS_BEHIND ? l->want - FS_LOGS_BEHIND : 0;
		off_t end = end_of(l);
		size_t k;
		if (l->pos < end || (end < keep && !l->pinned)) {
			/* Here already, or nobody needs these (a read is further on). */
			off_t to = l->pos < end ? end : keep;
			k = (size_t)(to - l->pos) < n ? (size_t)(to - l->pos) : n;
			if (l->pos >= end) {
				l->base = end + (off_t)k;
				l->len = 0;
			}
		} else if (end < keep || !make_room_locked(l)) {
			/* Full of what the reader has not read: wait for it, but not for ever: the
			 * engine would give up on a connection that stalls (ENGINE_STALL_S in
			 * backends/docker/engine-int.h), and would say so in errors. The next read
			 * past the window asks again. */
			if (idle_too_long(&waiting)) {
				l->parked = true;
				break;
			}
			l->full = true;
			pthread_cond_broadcast(&l->cond); /* an open waiting for the first window */
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 1;
			pthread_cond_timedwait(&l->cond, &fs->slock, &until);
			l->full = false;
			continue;
		} else {
			k = l->cap - l->len < n ? l->cap - l->len : n;
			memcpy(l->buf + l->len, p, k);
			l->len += k;
			clock_gettime(CLOCK_REALTIME, &l->mtime);
			pthread_cond_broadcast(&l->cond);
		}
		waiting = (struct timespec){0};
		l->pos += (off_t)k;
		p += k;
		n -= k;
		if (l->pos > l->reached) {
			l->reached = l->pos;
			l->progress = true;
		}
	}
	bool more = n == 0;
	pthread_mutex_unlock(&fs->slock);
	return more ? 0 : 1;
}

static void now_since(char *buf, size_t len)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(buf, len, "%lld.%09ld", (long long)now.tv_sec, now.tv_nsec);
}

/* Under fs->slock: waits until a read asks for another round, or the close. */
static void idle_locked(struct fs_live *l, unsigned round)
{
	while (!l->closed && !l->fs->sdown && l->round == round)
		pthread_cond_wait(&l->cond, &l->fs->slock);
}

static void *reader_main(void *arg)
{
	struct fs_live *l = arg;
	struct fs *fs = l->fs;
	pthread_mutex_lock(&fs->slock);
	while (!l->closed && !fs->sdown) {
		unsigned round = l->round;
		char since[48];
		atomic_store(&l->halt, false);
		l->done = l->progress = l->parked = false;
		l->err = 0;
		l->pos = 0;
		pthread_mutex_unlock(&fs->slock);
		now_since(since, sizeof(since));
		int rc = ws_logs_stream(fs->ws, l->kind, l->name, sink, l);
		pthread_mutex_lock(&fs->slock);
		if (l->round != round)
			continue;
		if (atomic_load(&l->halt) && !l->closed)
			rc = -EIO; /* fs->sdown */
		l->done = rc == 0 && !l->parked;
		l->err = rc < 0 ? rc : 0;
		pthread_cond_broadcast(&l->cond);
		if (!l->done) {
			idle_locked(l, round); /* until a read asks again */
			continue;
		}
		/* The end of the log: live output after it, once somebody watches. */
		while (!l->closed && !fs->sdown && l->round == round && !l->watched)
			pthread_cond_wait(&l->cond, &fs->slock);
		if (l->closed || fs->sdown || l->round != round)
			continue;
		pthread_mutex_unlock(&fs->slock);
		if (l->kind == WS_SERVICE)
			(void)ws_service_follow(fs->ws, l->name, since, sink, l, &l->halt);
		else
			(void)ws_container_follow(fs->ws, l->name, since, sink, l, &l->halt);
		pthread_mutex_lock(&fs->slock);
		/* Parked: the next read past the window asks again (the log has it all now).
		 * Else removed: nothing more comes in this round. */
		if (l->parked)
			l->done = false;
		idle_locked(l, round);
	}
	fs_follower_end_locked(fs);
	unref_locked(l);
	pthread_mutex_unlock(&fs->slock);
	return NULL;
}

/* Under fs->slock: the thread asks the engine again, for a read at off: keeping the window
 * when off is in it or after it, else from nothing. */
static void again_locked(struct fs_live *l, off_t off)
{
	if (off < l->base) {
		l->base = 0;
		l->len = 0;
	}
	if (off > l->want)
		l->want = off;
	if (off < l->want && l->len == 0)
		l->want = off;
	l->round++;
	l->done = l->parked = false;
	l->err = 0;
	atomic_store(&l->halt, true);
	pthread_cond_broadcast(&l->cond);
}

/* Under fs->slock: the close of one open. */
static void close_locked(struct fs *fs, struct fs_live *l)
{
	for (struct fs_live **pp = &fs->lives; *pp; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	l->closed = true;
	atomic_store(&l->halt, true);
	pthread_cond_broadcast(&l->cond);
	unref_locked(l);
}

/* Under fs->slock: waits a little for l to change; false when req was interrupted. */
static bool wait_locked(struct fs_live *l, fuse_req_t req)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += FS_LOGS_POLL_MS * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&l->cond, &l->fs->slock, &until);
	return !fuse_req_interrupted(req);
}

void fs_logs_open(fuse_req_t req, struct fs_node *n, const char *name, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EACCES);
		return;
	}
	struct fs_live *l = calloc(1, sizeof(*l));
	if (!l) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	l->fs = fs;
	l->ino = n->ino;
	l->kind = n->kind;
	snprintf(l->name, sizeof(l->name), "%s", name);
	clock_gettime(CLOCK_REALTIME, &l->mtime);
	pthread_cond_init(&l->cond, NULL);
	atomic_init(&l->halt, false);
	l->refs = 2; /* the open, the thread */
	pthread_mutex_lock(&fs->slock);
	int rc = fs->sdown ? -ENOENT : fs_follower_start_locked(fs, reader_main, l);
	if (rc < 0) {
		pthread_mutex_unlock(&fs->slock);
		pthread_cond_destroy(&l->cond);
		free(l);
		fuse_reply_err(req, -rc);
		return;
	}
	l->next = fs->lives;
	fs->lives = l;
	/* The first window, or all of a short log. */
	while (!l->done && !l->err && !l->full && wait_locked(l, req))
		;
	rc = l->err && !l->progress ? l->err : fuse_req_interrupted(req) ? -EINTR : 0;
	if (rc < 0) {
		close_locked(fs, l);
		pthread_mutex_unlock(&fs->slock);
		fuse_reply_err(req, -rc);
		return;
	}
	pthread_mutex_unlock(&fs->slock);

	fi->fh = (uintptr_t)l;
	/* Reads go to us whatever size the kernel last saw. Seekable: tail and less seek. */
	fi->direct_io = 1;
	fi->keep_cache = 0;
	fi->noflush = 1;
	if (fuse_reply_open(req, fi) != 0) {
		pthread_mutex_lock(&fs->slock);
		close_locked(fs, l);
		pthread_mutex_unlock(&fs->slock);
	}
}

void fs_logs_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fs_live *l = (struct fs_live *)(uintptr_t)fi->fh;
	struct fs *fs = l->fs;
	const char *from = NULL;
	size_t n = 0;
	int rc = 0;
	pthread_mutex_lock(&fs->slock);
	for (;;) {
		if (off < 0 || size == 0)
			break;
		if (off < l->base) {
			again_locked(l, off); /* further back than the window: from the start */
			continue;
		}
		off_t end = end_of(l);
		size_t least = size < FS_LOGS_MIN_READ ? size : FS_LOGS_MIN_READ;
		bool coming = !l->done && !l->err && !l->parked && !fs->sdown;
		if (off < end && (size_t)(end - off) < least && coming && !l->full) {
			/* More is on its way: fewer, larger replies. */
			if (off > l->want)
				l->want = off;
			if (!wait_locked(l, req)) {
				rc = -EINTR;
				break;
			}
			continue;
		}
		if (off < end) {
			n = (size_t)(end - off) < size ? (size_t)(end - off) : size;
			from = l->buf + (off - l->base);
			l->pinned++;
			/* And held: the reader may close the file as soon as the reply is in, and
			 * its release must not free l (or buf, which ASan's writev still reads)
			 * under this thread. */
			l->refs++;
			if (off + (off_t)n > l->want)
				l->want = off + (off_t)n;
			break;
		}
		if (off > l->want) {
			l->want = off;
			pthread_cond_broadcast(&l->cond);
		}
		if (l->done || fs->sdown)
			break; /* the end, for now */
		if (l->parked) {
			again_locked(l, off);
			continue;
		}
		if (l->err) {
			/* Ended early: ask again from here if it came further than before, else
			 * that is the answer (and the next read asks again). */
			bool retry = l->progress;
			rc = l->err;
			again_locked(l, off);
			if (!retry)
				break;
			rc = 0;
			continue;
		}
		if (!wait_locked(l, req)) {
			rc = -EINTR;
			break;
		}
	}
	pthread_mutex_unlock(&fs->slock);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	/* Straight from the window (writev to /dev/fuse): no copy of up to 1 MiB a read. */
	fuse_reply_buf(req, from, n);
	if (from) {
		pthread_mutex_lock(&fs->slock);
		l->pinned--;
		pthread_cond_broadcast(&l->cond); /* room */
		unref_locked(l);
		pthread_mutex_unlock(&fs->slock);
	}
}

void fs_logs_release(fuse_req_t req, struct fuse_file_info *fi)
{
	struct fs_live *l = (struct fs_live *)(uintptr_t)fi->fh;
	struct fs *fs = fs_of(req);
	pthread_mutex_lock(&fs->slock);
	close_locked(fs, l);
	pthread_mutex_unlock(&fs->slock);
	fuse_reply_err(req, 0);
}

bool fs_logs_attr(struct fs *fs, fuse_ino_t ino, struct stat *st)
{
	bool found = false;
	off_t size = 0;
	struct timespec mtime = {0};
	pthread_mutex_lock(&fs->slock);
	for (struct fs_live *l = fs->lives; l; l = l->next) {
		if (l->ino != ino)
			continue;
		found = true;
		if (l->done && end_of(l) > size)
			size = end_of(l);
		if (l->mtime.tv_sec > mtime.tv_sec ||
		    (l->mtime.tv_sec == mtime.tv_sec && l->mtime.tv_nsec > mtime.tv_nsec))
			mtime = l->mtime;
		if (++l->getattrs >= 2 && !l->watched) {
			l->watched = true;
			pthread_cond_broadcast(&l->cond);
		}
	}
	pthread_mutex_unlock(&fs->slock);
	if (found) {
		st->st_size = size;
		st->st_blocks = (size + 511) / 512;
		st->st_blksize = FS_LOGS_BLKSIZE;
		st->st_mtim = st->st_ctim = mtime;
	}
	return found;
}

void fs_logs_halt_locked(struct fs *fs)
{
	for (struct fs_live *l = fs->lives; l; l = l->next) {
		atomic_store(&l->halt, true);
		pthread_cond_broadcast(&l->cond);
	}
}

void fs_logs_free_locked(struct fs *fs)
{
	while (fs->lives)
		close_locked(fs, fs->lives);
}
