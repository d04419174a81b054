/* Stream files (events, follow): reads that wait for data without holding a worker thread
 * (libfuse's fuse_lowlevel.h: a request may be answered later, from any thread).
 *
 * A read that finds nothing is parked on fs->waiters and the handler returns; whoever produces
 * data (the notifier for events, a follower thread for follow) calls fs_stream_wake, which
 * answers the parked reads that now have something, and notifies the polls waiting on those
 * streams. Ctrl-C on a parked read: the kernel sends INTERRUPT, libfuse calls
 * stream_interrupted, which answers EINTR at once. O_NONBLOCK reads get EAGAIN instead of
 * parking. A release answers the parked reads of its stream with EOF (0 bytes).
 *
 * Who answers a parked read is decided under fs->slock: whoever takes it off the list. The
 * interrupt callback finds the request on the list by its pointer (its data is the mount,
 * which outlives every request): libfuse keeps an interrupted request alive while the
 * callback runs, so a request answered meanwhile is simply not found. The callback is
 * registered before the request is parked (a parked request may be answered, and freed, the
 * moment fs->slock is released), and fuse_req_interrupted is checked under the lock, so an
 * interrupt that came first is not lost. Replies are sent after fs->slock is released. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

struct fs_waiter {
	struct fs_waiter *next; /* protected by fs->slock */
	fuse_req_t req;
	size_t size;
	struct fs_stream *s;
};

/* A reply to send once fs->slock is released. */
struct pending {
	struct pending *next;
	fuse_req_t req;
	int err;   /* > 0: an errno */
	char *buf; /* malloc'd, or NULL for 0 bytes */
	size_t len;
};

static void send_all(struct pending *p)
{
	while (p) {
		struct pending *next = p->next;
		if (p->err > 0)
			fuse_reply_err(p->req, p->err);
		else
			fuse_reply_buf(p->req, p->buf, p->len);
		free(p->buf);
		free(p);
		p = next;
	}
}

struct fs_stream *fs_stream_new(struct fs *fs, enum fs_stream_kind kind)
{
	struct fs_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->kind = kind;
	s->fs = fs;
	s->refs = 1;
	atomic_init(&s->stop, false);
	return s;
}

void fs_stream_unref_locked(struct fs_stream *s)
{
	if (--s->refs > 0)
		return;
	free(s->buf);
	free(s);
}

static void unlink_locked(struct fs *fs, struct fs_stream *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else if (fs->streams == s)
		fs->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
}

bool fs_stream_reply_open(fuse_req_t req, struct fuse_file_info *fi, struct fs_stream *s)
{
	struct fs *fs = s->fs;
	pthread_mutex_lock(&fs->slock);
	if (s->kind == FS_STREAM_EVENTS)
		s->cursor = fs->ring_next; /* a reader sees what happens after its open */
	s->next = fs->streams;
	if (fs->streams)
		fs->streams->prev = s;
	fs->streams = s;
	pthread_mutex_unlock(&fs->slock);
	fi->fh = (uintptr_t)s;
	/* Every read(2) is one READ, answered with what there is; no offsets, no page cache. */
	fi->direct_io = 1;
	fi->nonseekable = 1;
	fi->keep_cache = 0;
	fi->noflush = 1;
	if (fuse_reply_open(req, fi) == 0)
		return true;
	/* The open was interrupted: the kernel will never release it. */
	pthread_mutex_lock(&fs->slock);
	unlink_locked(fs, s);
	atomic_store(&s->stop, true);
	fs_stream_unref_locked(s);
	pthread_mutex_unlock(&fs->slock);
	return false;
}

/* Under fs->slock: the next bytes for a reader of s. 0: *len bytes in *out (0: nothing yet,
 * and *end when nothing will come); or -errno. */
static int fill_locked(struct fs_stream *s, size_t size, char **out, size_t *len, bool *end)
{
	int n;
	*out = NULL;
	*len = 0;
	*end = false;
	if (s->kind == FS_STREAM_EVENTS)
		n = fs_events_fill_locked(s->fs, s, size, out);
	else
		n = fs_follow_fill_locked(s, size, out, end);
	if (n < 0)
		return n;
	*len = (size_t)n;
	/* Released or unmounting: the end, for whoever still waits. */
	if (n == 0 && (s->released || s->fs->sdown))
		*end = true;
	return 0;
}

static bool readable_locked(struct fs_stream *s)
{
	if (s->released || s->fs->sdown)
		return true;
	if (s->kind == FS_STREAM_EVENTS)
		return s->cursor < s->fs->ring_next;
	return s->len > 0 || s->dropped > 0 || s->eof;
}

static void stream_interrupted(fuse_req_t req, void *data)
{
	struct fs *fs = data;
	struct fs_waiter *found = NULL;
	pthread_mutex_lock(&fs->slock);
	for (struct fs_waiter **pp = &fs->waiters; *pp; pp = &(*pp)->next) {
		if ((*pp)->req == req) {
			found = *pp;
			*pp = found->next;
			break;
		}
	}
	pthread_mutex_unlock(&fs->slock);
	if (found) {
		fuse_reply_err(req, EINTR);
		free(found);
	}
}

void fs_stream_read(fuse_req_t req, size_t size, struct fuse_file_info *fi)
{
	struct fs_stream *s = (struct fs_stream *)(uintptr_t)fi->fh;
	struct fs *fs = s->fs;
	struct fs_waiter *w = malloc(sizeof(*w));
	char *out;
	size_t len;
	bool end;
	if (!w) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fuse_req_interrupt_func(req, stream_interrupted, fs);

	pthread_mutex_lock(&fs->slock);
	int rc = fill_locked(s, size, &out, &len, &end);
	if (rc == 0 && len == 0 && !end) {
		if (fi->flags & O_NONBLOCK) {
			rc = -EAGAIN;
		} else if (fuse_req_interrupted(req)) {
			rc = -EINTR;
		} else {
			w->req = req;
			w->size = size;
			w->s = s;
			w->next = NULL;
			struct fs_waiter **pp = &fs->waiters;
			while (*pp)
				pp = &(*pp)->next;
			*pp = w;
			pthread_mutex_unlock(&fs->slock);
			return;
		}
	}
	pthread_mutex_unlock(&fs->slock);
	free(w);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, out, len);
	free(out);
}

void fs_stream_wake(struct fs *fs, struct fs_stream *only, enum fs_stream_kind kind)
{
	struct pending *replies = NULL, **tail = &replies;
	struct fuse_pollhandle *phs[64];
	size_t nph = 0;
	bool more;
	do {
		more = false;
		pthread_mutex_lock(&fs->slock);
		for (struct fs_waiter **pp = &fs->waiters; *pp;) {
			struct fs_waiter *w = *pp;
			if (only ? w->s != only : w->s->kind != kind) {
				pp = &w->next;
				continue;
			}
			char *out;
			size_t len;
			bool end;
			int rc = fill_locked(w->s, w->size, &out, &len, &end);
			if (rc == 0 && len == 0 && !end) {
				pp = &w->next;
				continue;
			}
			struct pending *p = calloc(1, sizeof(*p));
			if (!p) {
				/* Try again at the next wake; keep it parked. */
				free(out);
				pp = &w->next;
				continue;
			}
			*pp = w->next;
			p->req = w->req;
			p->err = rc < 0 ? -rc : 0;
			p->buf = out;
			p->len = len;
			*tail = p;
			tail = &p->next;
			free(w);
		}
		for (struct fs_stream *s = fs->streams; s; s = s->next) {
			if (!s->ph || (only ? s != only : s->kind != kind) || !readable_locked(s))
				continue;
			if (nph == sizeof(phs) / sizeof(phs[0])) {
				more = true;
				break;
			}
			phs[nph++] = s->ph;
			s->ph = NULL;
		}
		pthread_mutex_unlock(&fs->slock);
		send_all(replies);
		replies = NULL;
		tail = &replies;
		for (size_t i = 0; i < nph; i++) {
			(void)fuse_lowlevel_notify_poll(phs[i]);
			fuse_pollhandle_destroy(phs[i]);
		}
		nph = 0;
	} while (more);
}

void fs_stream_poll(fuse_req_t req, struct fuse_file_info *fi, struct fuse_pollhandle *ph)
{
	struct fs_stream *s = (struct fs_stream *)(uintptr_t)fi->fh;
	struct fs *fs = s->fs;
	struct fuse_pollhandle *old = NULL;
	pthread_mutex_lock(&fs->slock);
	bool readable = readable_locked(s);
	if (ph && !readable) {
		/* Notified (fs_stream_wake) when there is something. */
		old = s->ph;
		s->ph = ph;
		ph = NULL;
	}
	pthread_mutex_unlock(&fs->slock);
	if (old)
		fuse_pollhandle_destroy(old);
	if (ph)
		fuse_pollhandle_destroy(ph);
	fuse_reply_poll(req, readable ? POLLIN | POLLRDNORM : 0);
}

/* Under fs->slock: takes every parked read of s (or of all streams) as an EOF reply. */
static struct pending *take_waiters_locked(struct fs *fs, struct fs_stream *s)
{
	struct pending *replies = NULL;
	for (struct fs_waiter **pp = &fs->waiters; *pp;) {
		struct fs_waiter *w = *pp;
		struct pending *p;
		if ((s && w->s != s) || !(p = calloc(1, sizeof(*p)))) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		p->req = w->req;
		p->next = replies;
		replies = p;
		free(w);
	}
	return replies;
}

void fs_stream_release(fuse_req_t req, struct fuse_file_info *fi)
{
	struct fs_stream *s = (struct fs_stream *)(uintptr_t)fi->fh;
	struct fs *fs = s->fs;
	pthread_mutex_lock(&fs->slock);
	s->released = true;
	atomic_store(&s->stop, true);
	/* Normally none: a read in progress holds the file open. */
	struct pending *replies = take_waiters_locked(fs, s);
	struct fuse_pollhandle *ph = s->ph;
	s->ph = NULL;
	unlink_locked(fs, s);
	fs_stream_unref_locked(s);
	pthread_mutex_unlock(&fs->slock);
	send_all(replies);
	if (ph)
		fuse_pollhandle_destroy(ph);
	fuse_reply_err(req, 0);
}

void fs_streams_shutdown(struct fs *fs)
{
	pthread_mutex_lock(&fs->slock);
	fs->sdown = true;
	struct pending *replies = take_waiters_locked(fs, NULL);
	pthread_mutex_unlock(&fs->slock);
	send_all(replies);
}

void fs_streams_free(struct fs *fs)
{
	pthread_mutex_lock(&fs->slock);
	while (fs->streams) {
		struct fs_stream *s = fs->streams;
		unlink_locked(fs, s);
		if (s->ph)
			fuse_pollhandle_destroy(s->ph);
		free(s->buf);
		free(s);
	}
	struct pending *replies = take_waiters_locked(fs, NULL);
	pthread_mutex_unlock(&fs->slock);
	send_all(replies);
}
