/* Shared pieces: rendered-file snapshots, directory listings, attributes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

long long fs_elapsed_ns(const struct timespec *since)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - since->tv_sec) * 1000000000LL +
	       (now.tv_nsec - since->tv_nsec);
}

/* ---- snapshots ---- */

static void snap_free(struct fs_handle *h)
{
	struct fs_snap *s = (struct fs_snap *)h;
	free(s->buf);
	free(s);
}

void fs_reply_snap_open(fuse_req_t req, struct fuse_file_info *fi, char *buf, size_t len)
{
	struct fs_snap *s = malloc(sizeof(*s));
	if (!s) {
		free(buf);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	s->buf = buf;
	s->len = len;
	fs_handle_add(fs_of(req), &s->h, snap_free);
	fi->fh = (uintptr_t)s;
	/* The size the kernel last saw may be another rendering's: read what we have. */
	fi->direct_io = 1;
	fi->keep_cache = 0;
	/* Nothing to commit on close. */
	fi->noflush = 1;
	if (fuse_reply_open(req, fi) != 0)
		fs_handle_release(fs_of(req), &s->h);
}

void fs_snap_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi)
{
	const struct fs_snap *s = (const struct fs_snap *)(uintptr_t)fi->fh;
	/* Past the end is EOF (0 bytes), or cat would read for ever. */
	if (off < 0 || (size_t)off >= s->len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	size_t n = s->len - (size_t)off;
	if (n > size)
		n = size;
	/* Reply from a copy: the kernel wakes the reader while our writev is still returning,
	 * and its close may release (free) the snapshot before ASan's writev interceptor checks
	 * the iovec, which it does after the call. */
	char *copy = malloc(n);
	if (!copy) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	memcpy(copy, s->buf + off, n);
	fuse_reply_buf(req, copy, n);
	free(copy);
}

void fs_snap_release(fuse_req_t req, struct fuse_file_info *fi)
{
	struct fs_snap *s = (struct fs_snap *)(uintptr_t)fi->fh;
	if (s)
		fs_handle_release(fs_of(req), &s->h);
	fuse_reply_err(req, 0);
}

/* ---- directory listings ---- */

int fs_dir_add(struct fs_dir *d, const char *name, fuse_ino_t ino, mode_t mode,
	       const struct ws_object *obj)
{
	if (d->count == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct fs_dirent *e = realloc(d->ents, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		d->ents = e;
		d->cap = cap;
	}
	struct fs_dirent *de = &d->ents[d->count];
	memset(de, 0, sizeof(*de));
	de->name = strdup(name);
	if (!de->name)
		return -ENOMEM;
	if (obj) {
		de->obj = malloc(sizeof(*de->obj));
		if (!de->obj) {
			free(de->name);
			return -ENOMEM;
		}
		*de->obj = *obj;
	}
	/* Some readers skip entries whose d_ino is 0: give names we have no node for yet a
	 * stable stand-in. */
	if (!ino) {
		uint32_t h = 2166136261u;
		for (const unsigned char *p = (const unsigned char *)name; *p; p++)
			h = (h ^ *p) * 16777619u;
		ino = (h & 0x7fffffffu) | 1u;
	}
	de->ino = ino;
	de->mode = mode;
	d->count++;
	return 0;
}

void fs_dir_free(struct fs_dir *d)
{
	for (size_t i = 0; i < d->count; i++) {
		free(d->ents[i].name);
		free(d->ents[i].obj);
	}
	free(d->ents);
	d->ents = NULL;
	d->count = d->cap = 0;
}

static void dir_free(struct fs_handle *h)
{
	struct fs_dir *d = (struct fs_dir *)h;
	fs_dir_free(d);
	free(d);
}

void fs_reply_dir_open(fuse_req_t req, struct fuse_file_info *fi, struct fs_dir *d)
{
	struct fs_dir *copy = malloc(sizeof(*copy));
	if (!copy) {
		fs_dir_free(d);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	*copy = *d;
	fs_handle_add(fs_of(req), &copy->h, dir_free);
	fi->fh = (uintptr_t)copy;
	if (fuse_reply_open(req, fi) != 0)
		fs_handle_release(fs_of(req), &copy->h);
}

/* Offsets are entry indexes: 0 ".", 1 "..", then the snapshot; an entry's offset is the index
 * of the one after it. */
void fs_dir_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi,
		 fs_plus_fn plus)
{
	struct fs *fs = fs_of(req);
	const struct fs_dir *d = (const struct fs_dir *)(uintptr_t)fi->fh;
	char *buf = calloc(1, size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t pos = 0;
	for (size_t i = off < 0 ? 0 : (size_t)off; i < d->count + 2; i++) {
		const struct fs_dirent *de = i >= 2 ? &d->ents[i - 2] : NULL;
		const char *name = de ? de->name : i == 0 ? "." : "..";
		size_t room = size - pos, len;
		if (!plus) {
			struct stat st = {.st_ino = de ? de->ino : ino,
					  .st_mode = de ? de->mode : S_IFDIR};
			len = fuse_add_direntry(req, buf + pos, room, name, &st, (off_t)i + 1);
			if (len > room)
				break;
		} else {
			struct fuse_entry_param e;
			memset(&e, 0, sizeof(e));
			bool counted = false;
			if (de && plus(fs, ino, de, &e) == 0) {
				counted = true;
			} else {
				/* No attributes: the kernel looks the name up when it needs it. */
				memset(&e, 0, sizeof(e));
				e.attr.st_ino = de ? de->ino : ino;
				e.attr.st_mode = de ? de->mode : S_IFDIR;
			}
			len = fuse_add_direntry_plus(req, buf + pos, room, name, &e, (off_t)i + 1);
			if (len > room) {
				/* Not sent, so not counted by the kernel either. */
				if (counted)
					fs_forget(fs, e.ino, 1);
				break;
			}
		}
		pos += len;
	}
	fuse_reply_buf(req, buf, pos);
	free(buf);
}

/* ---- attributes ---- */

/* Others get nothing: inspect.json, logs and the cards can hold secrets (a container's
 * environment), and with default_permissions the kernel enforces exactly these bits. */
mode_t fs_mode(const struct fs *fs, mode_t type, mode_t owner_bits)
{
	owner_bits &= S_IRWXU;
	return type | owner_bits | (fs->shared ? owner_bits >> 3 : 0);
}

void fs_attr_virtual(struct fs *fs, const struct fs_node *n, size_t size, time_t mtime,
		     struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_blksize = 4096;
	st->st_nlink = 1;
	switch (n->type) {
	case FS_ROOT:
	case FS_OBJROOT:
	case FS_OBJDIR:
	case FS_CARDS:
		st->st_mode = fs_mode(fs, S_IFDIR, S_IRWXU);
		st->st_nlink = 2;
		break;
	case FS_ERRORS:
		st->st_mode = fs_mode(fs, S_IFREG, S_IRUSR | S_IWUSR); /* `: > errors` clears it */
		break;
	case FS_OBJCARD:
		/* A symlink's own mode is never checked (symlink(7)). */
		st->st_mode = S_IFLNK | 0777;
		break;
	case FS_OBJFILE:
		/* ctl is written to; reading it gives help. */
		st->st_mode =
		    fs_mode(fs, S_IFREG, n->file == FS_F_CTL ? S_IRUSR | S_IWUSR : S_IRUSR);
		break;
	default:
		st->st_mode = fs_mode(fs, S_IFREG, S_IRUSR);
		break;
	}
	st->st_size = (off_t)size;
	st->st_blocks = (blkcnt_t)((size + 511) / 512);
	struct timespec t = fs->started;
	if (mtime > 0) {
		t.tv_sec = mtime;
		t.tv_nsec = 0;
	}
	st->st_mtim = st->st_ctim = st->st_atim = t;
}

void fs_entry_init(struct fuse_entry_param *e, const struct fs_node *n, double entry_timeout,
		   double attr_timeout)
{
	memset(e, 0, sizeof(*e));
	e->ino = n->ino;
	e->generation = n->generation;
	e->entry_timeout = entry_timeout;
	e->attr_timeout = attr_timeout;
}
