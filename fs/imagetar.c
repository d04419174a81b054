/* images/NAME/image.tar: the image as `docker save` writes it, streamed. Each open starts one
 * save (ws_image_save) on a thread of its own, which writes what the engine sends into one end
 * of a socket pair; the reads of the open take it from the other end. The socket's buffer is
 * all that is held (about FS_MAX_IO): a reader that stops reading stops the engine's transfer
 * (its writes wait), and its close ends it (the next write fails; MSG_NOSIGNAL keeps a
 * closed socket from being a SIGPIPE), as does the end of the mount (fs->halting: the unmount
 * waits for the thread). So `cat`, `cp` and `tar t <` work with bounded memory, whatever the
 * image's size.
 *
 * The file is a stream: nonseekable (lseek and pread fail with ESPIPE, as on a pipe), direct
 * I/O, st_size 0 since the size is not known before the end. A read waits in its worker thread
 * for the next bytes (polling for its interruption, so that Ctrl-C gives EINTR); a failure of
 * the save (the engine gone, the image removed meanwhile) is the read's error after the bytes
 * that came, never a short archive that ends as if whole. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fs.h"

/* How often a waiting read looks whether it was interrupted, and a waiting write whether
 * its reader or the mount is gone. */
#define TAR_POLL_MS 200

struct fs_tar {
	struct fs_handle h;
	struct fs *fs;
	char name[128];
	int rfd, wfd;
	atomic_bool stop;     /* its release: the thread's writes end */
	atomic_int refs;      /* the open and the thread */
	atomic_int rc;	      /* the save's outcome, once the thread set done */
	atomic_bool done;     /* ... set before wfd is shut down */
	pthread_mutex_t lock; /* one read at a time moves pos */
	off_t pos;
};

static void tar_unref(struct fs_tar *t)
{
	if (atomic_fetch_sub(&t->refs, 1) != 1)
		return;
	if (t->rfd >= 0)
		close(t->rfd);
	if (t->wfd >= 0)
		close(t->wfd);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* The release (or the end of the mount): the thread's sends fail from now on. */
static void tar_free(struct fs_handle *h)
{
	struct fs_tar *t = (struct fs_tar *)h;

	atomic_store(&t->stop, true);
	shutdown(t->rfd, SHUT_RDWR);
	tar_unref(t);
}

/* Waits until the socket takes more (0), the reader left (its release) or the mount ends. */
static int tar_room(struct fs_tar *t)
{
	struct pollfd p = {.fd = t->wfd, .events = POLLOUT};

	while (!atomic_load(&t->stop) && !atomic_load(&t->fs->halting)) {
		int n = poll(&p, 1, TAR_POLL_MS);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
	return -EPIPE;
}

static int tar_sink(const char *buf, size_t len, void *ctx)
{
	struct fs_tar *t = ctx;
	int rc = 0;

	while (len && (rc = tar_room(t)) == 0) {
		ssize_t n = send(t->wfd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return errno == EPIPE ? -EPIPE : -errno;
		buf += n;
		len -= (size_t)n;
	}
	return rc;
}

static void *tar_main(void *arg)
{
	struct fs_tar *t = arg;
	/* The engine's request ends at the mount's end; the reader's close ends it at the next
	 * bytes (tar_room). */
	int rc = ws_image_save(t->fs->ws, t->name, tar_sink, t, &t->fs->halting);

	if (atomic_load(&t->fs->halting))
		rc = -ECANCELED; /* the mount ends: what was sent may not be whole */
	atomic_store(&t->rc, rc);
	atomic_store(&t->done, true);
	shutdown(t->wfd, SHUT_WR); /* the reader's end of the archive */
	struct fs *fs = t->fs;
	tar_unref(t);
	pthread_mutex_lock(&fs->slock);
	fs_follower_end_locked(fs);
	pthread_mutex_unlock(&fs->slock);
	return NULL;
}

void fs_imagetar_open(fuse_req_t req, const char *name, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct fs_tar *t = calloc(1, sizeof(*t));
	int sv[2], rc = 0;

	if (!t) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		rc = errno;
		free(t);
		fuse_reply_err(req, rc);
		return;
	}
	t->fs = fs;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->rfd = sv[0];
	t->wfd = sv[1];
	/* Room for one whole read of the kernel's (FS_MAX_IO) in the socket: the engine's
	 * transfer does not wait for each reply. This, twice, is what an open holds. */
	int room = FS_MAX_IO;
	setsockopt(t->wfd, SOL_SOCKET, SO_SNDBUF, &room, sizeof(room));
	setsockopt(t->rfd, SOL_SOCKET, SO_RCVBUF, &room, sizeof(room));
	atomic_init(&t->refs, 2);
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_lock(&fs->slock);
	rc = fs->sdown ? -ESHUTDOWN : fs_follower_start_locked(fs, tar_main, t);
	pthread_mutex_unlock(&fs->slock);
	if (rc < 0) {
		atomic_store(&t->refs, 1);
		tar_unref(t);
		fuse_reply_err(req, -rc == ESHUTDOWN ? EIO : -rc);
		return;
	}
	fs_handle_add(fs, &t->h, tar_free);
	fi->fh = (uint64_t)(uintptr_t)t;
	fi->direct_io = 1;
	fi->nonseekable = 1;
	fi->noflush = 1;
	if (fuse_reply_open(req, fi) != 0)
		fs_handle_release(fs, &t->h);
}

/* Waits for bytes (or the end) at the reader's end: 0 ready, -EINTR interrupted. */
static int tar_wait(fuse_req_t req, struct fs_tar *t)
{
	struct pollfd p = {.fd = t->rfd, .events = POLLIN};

	for (;;) {
		int n = poll(&p, 1, TAR_POLL_MS);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
		if (fuse_req_interrupted(req))
			return -EINTR;
	}
}

void fs_imagetar_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fs_tar *t = (struct fs_tar *)(uintptr_t)fi->fh;
	char *buf = malloc(size ? size : 1);
	size_t got = 0;
	bool end = false;
	int rc = 0;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(&t->lock);
	if (off != t->pos)
		rc = -ESPIPE; /* only the next bytes: the archive is not kept */
	/* The whole request, unless the archive ends: each reply is a round trip to the kernel,
	 * and the engine sends in pieces smaller than the reader asks for. */
	while (rc == 0 && got < size && !end && (rc = tar_wait(req, t)) == 0) {
		ssize_t n = recv(t->rfd, buf + got, size - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
		else if (n == 0)
			end = true;
		else if (errno != EAGAIN && errno != EINTR)
			rc = -errno;
	}
	if (rc == -EINTR && got)
		rc = 0; /* what came is given; the next read is interrupted again */
	if (rc == 0 && end && !got && atomic_load(&t->done) && atomic_load(&t->rc) < 0)
		rc = atomic_load(&t->rc) == -ENOENT ? -ENOENT : -EIO; /* cut short: say so */
	if (rc == 0)
		t->pos += (off_t)got;
	pthread_mutex_unlock(&t->lock);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, buf, got);
	free(buf);
}

void fs_imagetar_release(fuse_req_t req, struct fuse_file_info *fi)
{
	struct fs_tar *t = (struct fs_tar *)(uintptr_t)fi->fh;

	fs_handle_release(fs_of(req), &t->h);
	fuse_reply_err(req, 0);
}
