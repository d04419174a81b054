/* cards/: a passthrough to the workspace's card files (any layout of files and directories),
 * plus the commit points that turn what is written into containers (fuse-notes A10/E5):
 *
 *  - write(2) stores the bytes and marks the inode dirty; it fails only for what can never
 *    become valid: more than FS_CARD_MAX bytes (EFBIG). A card may arrive in many writes.
 *  - FLUSH (every close) of a file opened for writing commits when the inode is dirty: the
 *    whole file goes to ws_commit, and its errno is the close's (cp, cat >, tee, dd, Python's
 *    `with` see it; bash builtins cannot).
 *  - FSYNC commits when dirty, and otherwise returns the card's last result, so that
 *    `echo ... > card; sync card` can tell.
 *  - RENAME onto a card name (mv, sed -i, editors) commits the renamed file via ws_rename and
 *    returns its errno; the file stays renamed with the user's text either way.
 *  - UNLINK asks ws_remove first and keeps the file when that fails (EBUSY: still in use).
 *
 * Paths are relative to the cards directory (fs->cards_fd), built from the inode table, which
 * follows every rename made through the mount. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "check.h"
#include "fs.h"

/* What an open card file keeps in fi->fh. */
struct card_fh {
	struct fs_handle h;
	int fd;
	bool writer; /* opened for writing: only a writer's close commits */
};

static struct card_fh *card_fh(const struct fuse_file_info *fi)
{
	return (struct card_fh *)(uintptr_t)fi->fh;
}

/* Under fs->lock: the path of n relative to cards/ ("." for cards/ itself). -ESTALE when n or a
 * directory above it no longer has a name: the kernel still had a dentry for it (a rename that
 * failed after it happened on disk), and on ESTALE the VFS looks the path up again and
 * retries, which finds the right node. */
static int relpath_locked(struct fs *fs, const struct fs_node *n, char *buf, size_t len)
{
	const char *parts[256];
	size_t count = 0, total = 0;
	while (n && n->ino != FS_INO_CARDS) {
		if (!n->hashed || n->type != FS_CARDS)
			return -ESTALE;
		if (count == sizeof(parts) / sizeof(parts[0]))
			return -ENAMETOOLONG;
		parts[count++] = n->name;
		total += strlen(n->name) + 1;
		n = fs_node_locked(fs, n->parent);
	}
	if (!n)
		return -ESTALE;
	if (count == 0) {
		if (len < 2)
			return -ENAMETOOLONG;
		strcpy(buf, ".");
		return 0;
	}
	if (total > len)
		return -ENAMETOOLONG;
	size_t pos = 0;
	for (size_t i = count; i-- > 0;) {
		size_t l = strlen(parts[i]);
		memcpy(buf + pos, parts[i], l);
		pos += l;
		buf[pos++] = i ? '/' : '\0';
	}
	return 0;
}

static int relpath(struct fs *fs, const struct fs_node *n, char *buf, size_t len)
{
	pthread_mutex_lock(&fs->lock);
	int rc = relpath_locked(fs, n, buf, len);
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

/* The path of name in the directory parent. */
static int child_path(struct fs *fs, fuse_ino_t parent, const char *name, char *buf, size_t len)
{
	if (strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	pthread_mutex_lock(&fs->lock);
	struct fs_node *p = fs_node_locked(fs, parent);
	int rc = p ? relpath_locked(fs, p, buf, len) : -ENOENT;
	pthread_mutex_unlock(&fs->lock);
	if (rc < 0)
		return rc;
	int n = strcmp(buf, ".") == 0 ? snprintf(buf, len, "%s", name)
				      : snprintf(buf + strlen(buf), len - strlen(buf), "/%s", name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static const char *base_name(const char *rel)
{
	const char *slash = strrchr(rel, '/');
	return slash ? slash + 1 : rel;
}

/* Reads the whole file at rel (what is about to become a card). */
static int read_file(struct fs *fs, const char *rel, char **out, size_t *outlen)
{
	int fd = openat(fs->cards_fd, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);
	int rc = 0;
	while (buf) {
		if (len == cap) {
			if (cap > FS_CARD_MAX) {
				rc = -EFBIG;
				break;
			}
			char *b = realloc(buf, cap * 2 + 1);
			if (!b)
				break;
			buf = b;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (!buf)
		return -ENOMEM;
	if (rc < 0) {
		free(buf);
		return rc;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

/* Commits the card file n: its whole content to ws_commit. Names that are never cards (swap
 * files, backups, hidden files) are stored and nothing more. */
static int commit(struct fs *fs, struct fs_node *n)
{
	char rel[PATH_MAX];
	int rc = relpath(fs, n, rel, sizeof(rel));
	if (rc < 0)
		return 0; /* deleted meanwhile: nothing left to commit */
	if (card_file_ignored(base_name(rel)))
		return 0;
	char *buf;
	size_t len;
	rc = read_file(fs, rel, &buf, &len);
	if (rc < 0)
		return rc;
	rc = ws_commit(fs->ws, rel, buf, len);
	free(buf);
	return rc;
}

int fs_cards_stat(struct fs *fs, struct fs_node *n, struct stat *st)
{
	char rel[PATH_MAX];
	int rc = relpath(fs, n, rel, sizeof(rel));
	if (rc < 0)
		return rc;
	if (fstatat(fs->cards_fd, rel, st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	st->st_ino = n->ino;
	return 0;
}

/* Finds or makes the node for parent/name whose file on disk is st, and counts a lookup. A
 * node of that name for another file (replaced behind our back) is retired. */
static int entry_for(struct fs *fs, fuse_ino_t parent, const char *name, struct stat *st,
		     struct fuse_entry_param *e)
{
	pthread_mutex_lock(&fs->lock);
	struct fs_node *n = fs_child_locked(fs, parent, name);
	if (!n || n->type != FS_CARDS || n->dev != st->st_dev || n->realino != st->st_ino) {
		n = fs_node_new_locked(fs, parent, name, FS_CARDS);
		if (!n) {
			pthread_mutex_unlock(&fs->lock);
			return -ENOMEM;
		}
		n->dev = st->st_dev;
		n->realino = st->st_ino;
	}
	fs_ref_locked(n);
	fs_entry_init(e, n, FS_TIMEOUT_CARDS, FS_TIMEOUT_CARDS);
	pthread_mutex_unlock(&fs->lock);
	st->st_ino = e->ino;
	e->attr = *st;
	return 0;
}

static int lookup_entry(struct fs *fs, fuse_ino_t parent, const char *name,
			struct fuse_entry_param *e)
{
	char rel[PATH_MAX];
	int rc = child_path(fs, parent, name, rel, sizeof(rel));
	if (rc < 0)
		return rc;
	struct stat st;
	if (fstatat(fs->cards_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return entry_for(fs, parent, name, &st, e);
}

static void reply_entry(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	int rc = lookup_entry(fs_of(req), parent, name, &e);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else if (fuse_reply_entry(req, &e) != 0)
		fs_forget(fs_of(req), e.ino, 1);
}

void fs_cards_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	/* ENOENT is not cached: a card written a moment later must show up at once. */
	reply_entry(req, parent, name);
}

void fs_cards_getattr(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct stat st;
	int rc = fs_cards_stat(fs, n, &st);
	if (rc == -ESTALE && fi) {
		/* Unlinked while open: the open file still has attributes. */
		rc = fstat(card_fh(fi)->fd, &st) < 0 ? -errno : 0;
		st.st_ino = n->ino;
	}
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, FS_TIMEOUT_CARDS);
}

static int set_times(struct fs *fs, const char *rel, int fd, const struct stat *attr, int to_set)
{
	struct timespec tv[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_nsec = UTIME_OMIT}};
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		tv[0].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_ATIME)
		tv[0] = attr->st_atim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		tv[1].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_MTIME)
		tv[1] = attr->st_mtim;
	int r = fd >= 0 ? futimens(fd, tv) : utimensat(fs->cards_fd, rel, tv, AT_SYMLINK_NOFOLLOW);
	return r < 0 ? -errno : 0;
}

static int set_size(struct fs *fs, const char *rel, int fd, off_t size)
{
	if (size > FS_CARD_MAX)
		return -EFBIG;
	if (fd >= 0)
		return ftruncate(fd, size) < 0 ? -errno : 0;
	int tfd = openat(fs->cards_fd, rel, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (tfd < 0)
		return -errno;
	int rc = ftruncate(tfd, size) < 0 ? -errno : 0;
	close(tfd);
	return rc;
}

void fs_cards_setattr(fuse_req_t req, struct fs_node *n, struct stat *attr, int to_set,
		      struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	char rel[PATH_MAX];
	int fd = fi ? card_fh(fi)->fd : -1;
	int rc = relpath(fs, n, rel, sizeof(rel));
	if (rc < 0 && fd < 0)
		goto out;
	rc = 0;
	if (to_set & FUSE_SET_ATTR_MODE) {
		int r = fd >= 0 ? fchmod(fd, attr->st_mode & 07777)
				: fchmodat(fs->cards_fd, rel, attr->st_mode & 07777, 0);
		if (r < 0) {
			rc = -errno;
			goto out;
		}
	}
	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t uid = to_set & FUSE_SET_ATTR_UID ? attr->st_uid : (uid_t)-1;
		gid_t gid = to_set & FUSE_SET_ATTR_GID ? attr->st_gid : (gid_t)-1;
		int r = fd >= 0 ? fchown(fd, uid, gid)
				: fchownat(fs->cards_fd, rel, uid, gid, AT_SYMLINK_NOFOLLOW);
		if (r < 0) {
			rc = -errno;
			goto out;
		}
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		rc = set_size(fs, rel, fd, attr->st_size);
		if (rc < 0)
			goto out;
		/* A new content like any write. With an open file its close commits; truncate(2)
		 * by path has no close to report through, so it commits now. */
		pthread_mutex_lock(&fs->lock);
		n->dirty = fd >= 0;
		pthread_mutex_unlock(&fs->lock);
		if (fd < 0) {
			rc = commit(fs, n);
			if (rc < 0)
				goto out;
		}
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
		      FUSE_SET_ATTR_MTIME_NOW)) {
		rc = set_times(fs, rel, fd, attr, to_set);
		if (rc < 0)
			goto out;
	}
out:
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fs_cards_getattr(req, n, fi);
}

void fs_cards_readlink(fuse_req_t req, struct fs_node *n)
{
	struct fs *fs = fs_of(req);
	char rel[PATH_MAX], target[PATH_MAX];
	int rc = relpath(fs, n, rel, sizeof(rel));
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	ssize_t len = readlinkat(fs->cards_fd, rel, target, sizeof(target) - 1);
	if (len < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	target[len] = '\0';
	fuse_reply_readlink(req, target);
}

void fs_cards_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct fs *fs = fs_of(req);
	char rel[PATH_MAX];
	int rc = child_path(fs, parent, name, rel, sizeof(rel));
	if (rc == 0 && !S_ISREG(mode))
		rc = -EPERM; /* cards are files; no devices, fifos or sockets */
	if (rc == 0) {
		int fd = openat(fs->cards_fd, rel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
				mode & 07777);
		if (fd < 0 || fchmod(fd, mode & 07777) < 0)
			rc = -errno;
		if (fd >= 0)
			close(fd);
	}
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		reply_entry(req, parent, name);
}

void fs_cards_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct fs *fs = fs_of(req);
	char rel[PATH_MAX];
	int rc = child_path(fs, parent, name, rel, sizeof(rel));
	/* The kernel applied the caller's umask already; ours must not apply twice. */
	if (rc == 0 && (mkdirat(fs->cards_fd, rel, mode & 07777) < 0 ||
			fchmodat(fs->cards_fd, rel, mode & 07777, 0) < 0))
		rc = -errno;
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		reply_entry(req, parent, name);
}

void fs_cards_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fs_of(req);
	char rel[PATH_MAX];
	int rc = child_path(fs, parent, name, rel, sizeof(rel));
	if (rc == 0 && symlinkat(link, fs->cards_fd, rel) < 0)
		rc = -errno;
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		reply_entry(req, parent, name);
}

static void forget_name(struct fs *fs, fuse_ino_t parent, const char *name)
{
	pthread_mutex_lock(&fs->lock);
	struct fs_node *n = fs_child_locked(fs, parent, name);
	if (n)
		fs_unhash_locked(fs, n);
	pthread_mutex_unlock(&fs->lock);
}

void fs_cards_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fs_of(req);
	char rel[PATH_MAX];
	int rc = child_path(fs, parent, name, rel, sizeof(rel));
	if (rc < 0)
		goto out;
	/* What the card made goes first; if that fails (EBUSY: in use; or the engine is away)
	 * the file stays, so that the card and what it made never part. The workspace decides
	 * what is a card, including an editor's backup still holding a container. */
	struct stat st;
	if (fstatat(fs->cards_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		rc = -errno;
		goto out;
	}
	rc = ws_remove(fs->ws, rel);
	if (rc < 0)
		goto out;
	if (unlinkat(fs->cards_fd, rel, 0) < 0) {
		rc = -errno;
		goto out;
	}
	forget_name(fs, parent, name);
out:
	fuse_reply_err(req, -rc);
}

void fs_cards_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fs_of(req);
	char rel[PATH_MAX];
	int rc = child_path(fs, parent, name, rel, sizeof(rel));
	if (rc == 0 && unlinkat(fs->cards_fd, rel, AT_REMOVEDIR) < 0)
		rc = -errno;
	if (rc == 0)
		forget_name(fs, parent, name);
	fuse_reply_err(req, -rc);
}

/* A directory moved: every file in it moved too, as far as the workspace is concerned. */
static int rename_tree(struct fs *fs, const char *from, const char *to, int depth)
{
	if (depth > 32)
		return 0;
	int dfd = openat(fs->cards_fd, to, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	DIR *dp = fdopendir(dfd);
	if (!dp) {
		close(dfd);
		return -errno;
	}
	int first = 0;
	struct dirent *de;
	while ((de = readdir(dp))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char f[PATH_MAX], t[PATH_MAX];
		if (snprintf(f, sizeof(f), "%s/%s", from, de->d_name) >= (int)sizeof(f) ||
		    snprintf(t, sizeof(t), "%s/%s", to, de->d_name) >= (int)sizeof(t))
			continue;
		struct stat st;
		if (fstatat(fs->cards_fd, t, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		int rc = 0;
		if (S_ISDIR(st.st_mode)) {
			rc = rename_tree(fs, f, t, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			char *buf = NULL;
			size_t len = 0;
			rc = read_file(fs, t, &buf, &len);
			if (rc == 0)
				rc = ws_rename(fs->ws, f, t, buf, len);
			free(buf);
		}
		if (rc < 0 && first == 0)
			first = rc;
	}
	closedir(dp);
	return first;
}

void fs_cards_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		     const char *newname, unsigned int flags)
{
	struct fs *fs = fs_of(req);
	char from[PATH_MAX], to[PATH_MAX];
	struct stat st;
	int rc = child_path(fs, parent, name, from, sizeof(from));
	if (rc == 0)
		rc = child_path(fs, newparent, newname, to, sizeof(to));
	/* No renameat2 flags. A rename onto a card fails with EINVAL after it happened, and
	 * gnulib (mv) takes EINVAL from renameat2(RENAME_NOREPLACE) for "flag not supported":
	 * it then finds the target present and the source gone, and says "cannot stat". ENOSYS
	 * makes the kernel answer EINVAL itself from now on, and mv does a plain rename. */
	if (rc == 0 && flags != 0)
		rc = -ENOSYS;
	if (rc == 0 && fstatat(fs->cards_fd, from, &st, AT_SYMLINK_NOFOLLOW) < 0)
		rc = -errno;
	if (rc == 0 && renameat(fs->cards_fd, from, fs->cards_fd, to) < 0)
		rc = -errno;
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}

	/* The rename happened: the table follows it before anything can fail. */
	pthread_mutex_lock(&fs->lock);
	struct fs_node *n = fs_child_locked(fs, parent, name);
	if (n) {
		rc = fs_move_locked(fs, n, newparent, newname);
		if (rc < 0)
			fs_unhash_locked(fs, n); /* looked up again by its new name */
		else
			n->dirty = false; /* committed below, as it is now */
	}
	struct fs_node *old = n ? NULL : fs_child_locked(fs, newparent, newname);
	if (old)
		fs_unhash_locked(fs, old);
	pthread_mutex_unlock(&fs->lock);

	if (S_ISDIR(st.st_mode)) {
		rc = rename_tree(fs, from, to, 0);
	} else {
		char *buf = NULL;
		size_t len = 0;
		rc = S_ISREG(st.st_mode) ? read_file(fs, to, &buf, &len) : 0;
		if (rc == 0)
			rc = ws_rename(fs->ws, from, to, buf, len);
		free(buf);
	}
	fuse_reply_err(req, -rc);
}

static void card_fh_free(struct fs_handle *h)
{
	struct card_fh *fh = (struct card_fh *)h;
	close(fh->fd);
	free(fh);
}

/* The handle of an open card file; from then on it owns fd (released with the handle). */
static int open_fh(struct fs *fs, struct fuse_file_info *fi, int fd)
{
	struct card_fh *fh = malloc(sizeof(*fh));
	if (!fh)
		return -ENOMEM;
	fh->fd = fd;
	fh->writer = (fi->flags & O_ACCMODE) != O_RDONLY;
	fs_handle_add(fs, &fh->h, card_fh_free);
	fi->fh = (uintptr_t)fh;
	/* Page cache on, but dropped at each open: the workspace deletes card files (rmdir of
	 * what they made), and anyone may edit them while unmounted. Writes go through the page
	 * cache to us (no writeback cache), so what was written reads back at once. */
	fi->keep_cache = 0;
	fi->direct_io = 0;
	return 0;
}

/* Flags for the file on disk: offsets are the kernel's (O_APPEND too), creation is ours. */
static int disk_flags(int flags)
{
	return (flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_APPEND)) | O_CLOEXEC;
}

void fs_cards_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		     struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	char rel[PATH_MAX];
	int rc = child_path(fs, parent, name, rel, sizeof(rel));
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	int fd = openat(fs->cards_fd, rel, disk_flags(fi->flags) | O_CREAT | O_EXCL, mode & 07777);
	if (fd >= 0)
		(void)fchmod(fd, mode & 07777); /* the caller's umask was applied; not ours */
	else if (errno == EEXIST && !(fi->flags & O_EXCL))
		fd = openat(fs->cards_fd, rel, disk_flags(fi->flags));
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		fuse_reply_err(req, -rc);
		return;
	}
	struct fuse_entry_param e;
	rc = entry_for(fs, parent, name, &st, &e);
	if (rc == 0)
		rc = open_fh(fs, fi, fd);
	if (rc < 0) {
		close(fd);
		fuse_reply_err(req, -rc);
		return;
	}
	if (fuse_reply_create(req, &e, fi) != 0) {
		fs_forget(fs, e.ino, 1);
		fs_handle_release(fs, &card_fh(fi)->h);
	}
}

void fs_cards_open(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	char rel[PATH_MAX];
	int rc = relpath(fs, n, rel, sizeof(rel));
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	/* O_TRUNC alone does not make the card dirty: bash closes the fd it opened once before
	 * writing (dup2), and that close must not commit an empty card. The writes do. */
	int fd = openat(fs->cards_fd, rel, disk_flags(fi->flags));
	if (fd < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	rc = open_fh(fs, fi, fd);
	if (rc < 0) {
		close(fd);
		fuse_reply_err(req, -rc);
		return;
	}
	if (fuse_reply_open(req, fi) != 0)
		fs_handle_release(fs, &card_fh(fi)->h);
}

void fs_cards_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = card_fh(fi)->fd;
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

void fs_cards_write(fuse_req_t req, struct fs_node *n, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	/* The one check a write can make: no amount of later writing makes this smaller. */
	if (off < 0 || (unsigned long long)off + size > FS_CARD_MAX) {
		fuse_reply_err(req, EFBIG);
		return;
	}
	ssize_t r = pwrite(card_fh(fi)->fd, buf, size, off);
	if (r < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	n->dirty = true;
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_write(req, (size_t)r);
}

void fs_cards_flush(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	/* Only a writer's close commits: a reader closing while someone writes must not apply
	 * half a card. Dirty is cleared before reading the file, so that a write racing with
	 * this commit makes the next close commit again. */
	pthread_mutex_lock(&fs->lock);
	bool dirty = card_fh(fi)->writer && n->dirty && n->hashed;
	if (dirty)
		n->dirty = false;
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_err(req, dirty ? -commit(fs, n) : 0);
}

void fs_cards_fsync(fuse_req_t req, struct fs_node *n, int datasync, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	int fd = card_fh(fi)->fd;
	if ((datasync ? fdatasync(fd) : fsync(fd)) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	bool dirty = n->dirty && n->hashed;
	if (dirty)
		n->dirty = false;
	pthread_mutex_unlock(&fs->lock);
	int rc = 0;
	if (dirty) {
		rc = commit(fs, n);
	} else {
		/* Nothing new: report how the last commit went (`echo ... > card; sync card`). */
		char rel[PATH_MAX];
		if (relpath(fs, n, rel, sizeof(rel)) == 0 && !card_file_ignored(base_name(rel)))
			rc = ws_card_result(fs->ws, rel);
	}
	fuse_reply_err(req, -rc);
}

void fs_cards_release(fuse_req_t req, struct fuse_file_info *fi)
{
	fs_handle_release(fs_of(req), &card_fh(fi)->h);
	fuse_reply_err(req, 0);
}

void fs_cards_opendir(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	char rel[PATH_MAX];
	int rc = relpath(fs, n, rel, sizeof(rel));
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	int dfd = openat(fs->cards_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dp = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!dp) {
		rc = errno;
		if (dfd >= 0)
			close(dfd);
		fuse_reply_err(req, rc);
		return;
	}
	struct fs_dir d = {0};
	struct dirent *de;
	while ((de = readdir(dp))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		pthread_mutex_lock(&fs->lock);
		struct fs_node *c = fs_child_locked(fs, n->ino, de->d_name);
		fuse_ino_t ino = c ? c->ino : 0;
		pthread_mutex_unlock(&fs->lock);
		if (fs_dir_add(&d, de->d_name, ino, (mode_t)DTTOIF(de->d_type), NULL) < 0) {
			closedir(dp);
			fs_dir_free(&d);
			fuse_reply_err(req, ENOMEM);
			return;
		}
	}
	closedir(dp);
	fs_reply_dir_open(req, fi, &d);
}

int fs_cards_plus(struct fs *fs, fuse_ino_t dir, const struct fs_dirent *de,
		  struct fuse_entry_param *e)
{
	return lookup_entry(fs, dir, de->name, e);
}

void fs_cards_gone(struct fs *fs, const char *relpath)
{
	char path[PATH_MAX];
	if (!relpath || !*relpath ||
	    snprintf(path, sizeof(path), "%s", relpath) >= (int)sizeof(path))
		return;
	fuse_ino_t parent = FS_INO_CARDS;
	char *save = NULL, *next = NULL;
	pthread_mutex_lock(&fs->lock);
	for (char *part = strtok_r(path, "/", &save); part; part = next) {
		next = strtok_r(NULL, "/", &save);
		struct fs_node *n = fs_child_locked(fs, parent, part);
		if (!n)
			break; /* the kernel never looked it up: nothing cached to drop */
		if (!next) {
			fs_unhash_locked(fs, n);
			pthread_mutex_unlock(&fs->lock);
			fs_notify_entry(fs, parent, part);
			return;
		}
		parent = n->ino;
	}
	pthread_mutex_unlock(&fs->lock);
}
