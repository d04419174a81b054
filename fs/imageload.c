/* A tar archive written into images/ loads the images in it, as `docker load`: `cp x.tar
 * images/` or `cat x.tar > images/x.tar`. The create gives a node no name reaches (the name
 * never shows in images/: what shows, once loaded, are the images), and the writes land in a
 * spool file of its own, unlinked from the start (O_TMPFILE in $TMPDIR, else /var/tmp), so
 * that an image of any size is never in memory and nothing is left behind, whatever happens.
 *
 * The load runs at the flush that follows writes, which is the writer's close (cp, a shell
 * redirection), or at an fsync: close(2) returns its result, where a release's would be lost
 * (fuse_lowlevel.h: the release's error is not seen by anyone). A flush with nothing written
 * since the last load does nothing: a shell's redirection closes its first descriptor, a dup,
 * before the command writes a byte. So the writer's close waits for the load and gives
 * EINVAL for what is not an image archive (not a tar, cut short, no manifest), EIO for what
 * the engine refused, with the engine's words in errors and the load's progress in the log of
 * the images it loaded (backends/image-tar.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"

struct fs_load {
	struct fs_handle h;
	int fd; /* the spool */
	fuse_ino_t ino;
	char name[128];
	pthread_mutex_t lock; /* guards dirty and loading; held only to move bytes, never across
				 the load (an engine call) */
	pthread_cond_t done;  /* a load ended */
	bool dirty;	      /* protected by lock: written since the last load */
	bool loading;	      /* protected by lock: a flush is loading the spool now */
};

static void load_free(struct fs_handle *h)
{
	struct fs_load *l = (struct fs_load *)h;

	close(l->fd);
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->done);
	free(l);
}

static int spool_open(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	if (!dir || !*dir)
		dir = "/var/tmp"; /* for large files, unlike a tmpfs /tmp */
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd < 0 ? -errno : fd;
	/* A file system without O_TMPFILE: a named file, unlinked at once. */
	snprintf(path, sizeof(path), "%s/cutipfs-load-XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	unlink(path);
	return fd;
}

/* The size of the spool, for getattr: by fstat, since the file offset is the load's (it reads
 * the spool from its start while writes, which are positional, may go on). */
static off_t spool_size(int fd)
{
	struct stat st;
	return fstat(fd, &st) < 0 ? 0 : st.st_size;
}

void fs_imageload_create(fuse_req_t req, struct fs_node *parent, const char *name,
			 struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct ws_object obj;
	struct fuse_entry_param e;
	struct fs_load *l = NULL;
	int rc = 0;

	/* Only images/ takes archives; other objects are made by writing cards. */
	if (parent->kind != WS_IMAGE || (fi->flags & O_ACCMODE) == O_RDONLY)
		rc = -EPERM;
	else if (ws_lookup(fs->ws, WS_IMAGE, name, &obj) == 0)
		rc = -EEXIST;
	else if (!(l = calloc(1, sizeof(*l))))
		rc = -ENOMEM;
	else if ((l->fd = spool_open()) < 0)
		rc = l->fd;
	if (rc < 0) {
		free(l);
		fuse_reply_err(req, -rc);
		return;
	}
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->done, NULL);
	snprintf(l->name, sizeof(l->name), "%s", name);
	pthread_mutex_lock(&fs->lock);
	struct fs_node *n = fs_node_orphan_locked(fs, parent->ino, name, FS_IMGLOAD);
	if (n) {
		n->kind = WS_IMAGE;
		fs_ref_locked(n);
		l->ino = n->ino;
		/* Not cached: the next lookup of the name is asked, and finds nothing. */
		fs_entry_init(&e, n, FS_TIMEOUT_NONE, FS_TIMEOUT_NONE);
		fs_attr_virtual(fs, n, 0, 0, &e.attr);
		e.attr.st_mode = fs_mode(fs, S_IFREG, S_IRUSR | S_IWUSR);
	}
	pthread_mutex_unlock(&fs->lock);
	if (!n) {
		load_free(&l->h);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fs_handle_add(fs, &l->h, load_free);
	fi->fh = (uint64_t)(uintptr_t)l;
	fi->direct_io = 1;
	if (fuse_reply_create(req, &e, fi) != 0) {
		fs_handle_release(fs, &l->h);
		fs_forget(fs, e.ino, 1);
	}
}

static struct fs_load *load_of(struct fuse_file_info *fi)
{
	return (struct fs_load *)(uintptr_t)fi->fh;
}

/* The node keeps the spool's size: a stat by name has no open to ask. */
static void note_size(struct fs *fs, const struct fs_load *l, off_t size)
{
	pthread_mutex_lock(&fs->lock);
	struct fs_node *n = fs_node_locked(fs, l->ino);
	if (n)
		n->size = (size_t)size;
	pthread_mutex_unlock(&fs->lock);
}

void fs_imageload_getattr(fuse_req_t req, struct fs_node *n)
{
	struct fs *fs = fs_of(req);
	struct stat st;

	pthread_mutex_lock(&fs->lock);
	size_t size = n->size;
	pthread_mutex_unlock(&fs->lock);
	fs_attr_virtual(fs, n, size, 0, &st);
	st.st_mode = fs_mode(fs, S_IFREG, S_IRUSR | S_IWUSR);
	fuse_reply_attr(req, &st, FS_TIMEOUT_NONE);
}

void fs_imageload_setattr(fuse_req_t req, struct fs_node *n, struct stat *attr, int to_set,
			  struct fuse_file_info *fi)
{
	/* A truncate through the open (ftruncate, O_TRUNC) sizes the spool; modes, owners and
	 * times have nothing to keep (the file goes at its close). */
	if ((to_set & FUSE_SET_ATTR_SIZE) && (!fi || !fi->fh)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		struct fs_load *l = load_of(fi);
		pthread_mutex_lock(&l->lock);
		int rc = ftruncate(l->fd, attr->st_size) < 0 ? errno : 0;
		l->dirty = true;
		pthread_mutex_unlock(&l->lock);
		note_size(fs_of(req), l, attr->st_size);
		if (rc) {
			fuse_reply_err(req, rc);
			return;
		}
	}
	fs_imageload_getattr(req, n);
}

void fs_imageload_write(fuse_req_t req, const char *buf, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	struct fs_load *l = load_of(fi);
	size_t done = 0;
	int rc = 0;

	pthread_mutex_lock(&l->lock);
	while (done < size) {
		ssize_t n = pwrite(l->fd, buf + done, size - done, off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = errno;
			break;
		}
		done += (size_t)n;
	}
	l->dirty = true;
	off_t end = spool_size(l->fd);
	pthread_mutex_unlock(&l->lock);
	note_size(fs_of(req), l, end);
	if (rc && !done)
		fuse_reply_err(req, rc); /* ENOSPC, EFBIG: as the disk says */
	else
		fuse_reply_write(req, done);
}

void fs_imageload_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fs_load *l = load_of(fi);
	char *buf = malloc(size ? size : 1);
	ssize_t n = -1;
	int rc = ENOMEM;

	/* A write-only open's reads the kernel refuses itself (EBADF). */
	if (buf) {
		pthread_mutex_lock(&l->lock);
		n = pread(l->fd, buf, size, off);
		rc = n < 0 ? errno : 0;
		pthread_mutex_unlock(&l->lock);
	}
	if (n < 0)
		fuse_reply_err(req, rc);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

/* The flush of the writer's close, or an fsync: the load, if anything was written since. */
void fs_imageload_flush(fuse_req_t req, struct fuse_file_info *fi)
{
	struct fs_load *l = load_of(fi);
	int rc = 0;

	/* One load at a time per open (a dup's close and an fsync may come together); the lock
	 * is not held while it runs, so writes go on (and make the next flush load again). */
	pthread_mutex_lock(&l->lock);
	while (l->loading)
		pthread_cond_wait(&l->done, &l->lock);
	bool load = l->dirty;
	l->dirty = false;
	l->loading = load;
	pthread_mutex_unlock(&l->lock);
	if (load) {
		rc = lseek(l->fd, 0, SEEK_SET) < 0 ? -errno
						   : ws_image_load(fs_of(req)->ws, l->fd, l->name);
		pthread_mutex_lock(&l->lock);
		l->loading = false;
		pthread_cond_broadcast(&l->done);
		pthread_mutex_unlock(&l->lock);
	}
	/* What a shell user reads from a close: EINVAL for a bad archive, EIO for the rest the
	 * engine refused; the engine unreachable as it is (ECONNREFUSED). */
	if (rc < 0 && rc != -EINVAL && rc != -ECONNREFUSED && rc != -ETIMEDOUT &&
	    rc != -EOPNOTSUPP && rc != -ENOMEM)
		rc = -EIO;
	fuse_reply_err(req, -rc);
}

void fs_imageload_release(fuse_req_t req, struct fuse_file_info *fi)
{
	fs_handle_release(fs_of(req), &load_of(fi)->h);
	fuse_reply_err(req, 0);
}
