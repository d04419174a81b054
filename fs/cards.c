/* cards/: a passthrough to the workspace's card files (any layout of files and directories),
 * plus the commit points that turn what is written into containers (close(2), fsync(2) and
 * rename(2): the calls whose errors the writing tools report):
 *
 *  - write(2) stores the bytes and marks the inode dirty; it fails only for what can never
 *    become valid: a card file of more than FS_CARD_MAX bytes (EFBIG). A card may arrive in
 *    many writes. Files that are no cards are as large as the disk lets them be.
 *  - FLUSH (every close) of a file opened for writing commits when the inode is dirty: the
 *    whole file goes to ws_commit, and its errno is the close's (cp, cat >, tee, dd, Python's
 *    `with` see it; bash builtins cannot). A container card's commit returns once its
 *    container is created (workspace.h): the start's own failure is the next fsync's.
 *  - FSYNC commits when dirty, and otherwise returns the card's last result, so that
 *    `echo ... > card; sync card` can tell.
 *  - RENAME onto a card name (mv, sed -i, editors) commits the renamed file via ws_rename and
 *    returns its errno; the file stays renamed with the user's text either way.
 *  - UNLINK asks ws_remove first and keeps the file when that fails (EBUSY: still in use).
 *    These two, and the other operations on names, are in cards-names.c.
 *
 * Everything else is the disk's answer: as in libfuse's passthrough_ll, every node holds an
 * O_PATH fd of its file and each operation goes through it (or through its parent's fd and the
 * name), so the kernel and the disk decide every rule and errno; what a caller creates is
 * made as that caller (cred.c). The paths the card logic needs are relative to the cards
 * directory (fs->cards_fd), built from the names the inode table last saw. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
int fs_cards_child_path(struct fs *fs, fuse_ino_t parent, const char *name, char *buf, size_t len)
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

/* The fd of n's file (O_PATH, or the cards directory itself). */
int fs_cards_fd(const struct fs *fs, const struct fs_node *n)
{
	return n->ino == FS_INO_CARDS ? fs->cards_fd : n->fd;
}

/* What opens n's file again with other flags, through procfs (proc(5): /proc/self/fd/N), as
 * passthrough_ll does: an O_PATH fd cannot be read, written or chmod'ed itself. */
static void node_proc(const struct fs *fs, const struct fs_node *n, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", fs_cards_fd(fs, n));
}

int fs_cards_path(struct fs *fs, struct fs_node *n, char *buf, size_t len, bool *nofollow)
{
	*nofollow = S_ISLNK(n->ftype);
	if (!*nofollow) {
		node_proc(fs, n, buf, len);
		return 0;
	}
	pthread_mutex_lock(&fs->lock);
	struct fs_node *p = n->hashed ? fs_node_locked(fs, n->parent) : NULL;
	int rc = p ? 0 : -ESTALE;
	if (p && snprintf(buf, len, "/proc/self/fd/%d/%s", fs_cards_fd(fs, p), n->name) >= (int)len)
		rc = -ENAMETOOLONG;
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

/* The fd of the directory node parent, or -1 (the kernel asked about one we forgot). */
int fs_cards_parent_fd(struct fs *fs, fuse_ino_t parent)
{
	struct fs_node *p = fs_node(fs, parent);
	return p && p->type == FS_CARDS ? fs_cards_fd(fs, p) : -1;
}

/* Reads the whole file at dirfd/path (what is about to become a card). */
int fs_cards_read_file(int dirfd, const char *path, char **out, size_t *outlen)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
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
int fs_cards_commit(struct fs *fs, struct fs_node *n)
{
	char rel[PATH_MAX];
	int rc = relpath(fs, n, rel, sizeof(rel));
	if (rc < 0)
		return 0; /* deleted meanwhile: nothing left to commit */
	if (card_file_ignored(rel))
		return 0;
	char *buf, proc[64];
	size_t len;
	node_proc(fs, n, proc, sizeof(proc));
	rc = fs_cards_read_file(AT_FDCWD, proc, &buf, &len);
	if (rc < 0)
		return rc;
	rc = ws_commit(fs->ws, rel, buf, len);
	free(buf);
	return rc;
}

int fs_cards_stat(struct fs *fs, struct fs_node *n, struct stat *st)
{
	if (fstatat(fs_cards_fd(fs, n), "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	st->st_ino = n->ino;
	return 0;
}

/* Each node the kernel knows holds an fd: allow as many as the hard limit does, once. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Finds or makes the node of the file fd (O_PATH, taken) reached as parent/name, whose
 * attributes are st, and counts a lookup. Every name of one file is one node; the name the
 * node is reached by moves to parent/name, and a node that name had for another file
 * (replaced behind our back, renamed over) loses it. */
static int entry_for(struct fs *fs, fuse_ino_t parent, const char *name, int fd, struct stat *st,
		     struct fuse_entry_param *e)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, raise_fd_limit);
	pthread_mutex_lock(&fs->lock);
	struct fs_node *n = fs_real_locked(fs, st->st_dev, st->st_ino);
	if (n) {
		close(fd);
		if (!n->hashed || n->parent != parent || strcmp(n->name, name) != 0)
			(void)fs_move_locked(fs, n, parent, name); /* ENOMEM: keeps the old */
	} else {
		n = fs_real_new_locked(fs, parent, name, fd, st);
		if (!n) {
			pthread_mutex_unlock(&fs->lock);
			close(fd);
			return -ENOMEM;
		}
	}
	fs_ref_locked(n);
	fs_entry_init(e, n, FS_TIMEOUT_CARDS, FS_TIMEOUT_CARDS);
	pthread_mutex_unlock(&fs->lock);
	st->st_ino = e->ino;
	e->attr = *st;
	return 0;
}

/* The entry of the file opened at dirfd/path (O_PATH, with oflags) for parent/name. */
static int entry_at(struct fs *fs, fuse_ino_t parent, const char *name, int dirfd, const char *path,
		    int oflags, struct fuse_entry_param *e)
{
	int fd = openat(dirfd, path, O_PATH | O_CLOEXEC | oflags);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	return entry_for(fs, parent, name, fd, &st, e);
}

int fs_cards_entry(struct fs *fs, fuse_ino_t parent, const char *name, struct fuse_entry_param *e)
{
	int pfd = fs_cards_parent_fd(fs, parent);
	return pfd < 0 ? -ENOENT : entry_at(fs, parent, name, pfd, name, O_NOFOLLOW, e);
}

void fs_cards_reply_entry(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	int rc = fs_cards_entry(fs_of(req), parent, name, &e);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else if (fuse_reply_entry(req, &e) != 0)
		fs_forget(fs_of(req), e.ino, 1);
}

void fs_cards_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	/* ENOENT is not cached: a card written a moment later must show up at once. */
	fs_cards_reply_entry(req, parent, name);
}

void fs_cards_getattr(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi)
{
	(void)fi; /* the node's fd is the same file, unlinked or not */
	struct stat st;
	int rc = fs_cards_stat(fs_of(req), n, &st);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, FS_TIMEOUT_CARDS);
}

static int set_times(struct fs *fs, struct fs_node *n, int fd, const struct stat *attr, int to_set)
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
	/* AT_EMPTY_PATH: the file itself, a symlink too (lutimes). */
	int r = fd >= 0 ? futimens(fd, tv) : utimensat(fs_cards_fd(fs, n), "", tv, AT_EMPTY_PATH);
	return r < 0 ? -errno : 0;
}

/* Whether a file of that many bytes at n's name can never become a valid card. */
static bool too_big(struct fs *fs, const struct fs_node *n, unsigned long long size)
{
	char rel[PATH_MAX];
	return size > FS_CARD_MAX && relpath(fs, n, rel, sizeof(rel)) == 0 &&
	       !card_file_ignored(rel);
}

static int set_size(struct fs *fs, struct fs_node *n, int fd, off_t size)
{
	if (size >= 0 && too_big(fs, n, (unsigned long long)size))
		return -EFBIG;
	if (fd >= 0)
		return ftruncate(fd, size) < 0 ? -errno : 0;
	char proc[64];
	node_proc(fs, n, proc, sizeof(proc));
	int tfd = open(proc, O_WRONLY | O_CLOEXEC);
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
	char proc[64];
	int fd = fi ? card_fh(fi)->fd : -1;
	int rc = 0;
	node_proc(fs, n, proc, sizeof(proc));
	if (to_set & FUSE_SET_ATTR_MODE) {
		int r = fd >= 0 ? fchmod(fd, attr->st_mode & 07777)
				: chmod(proc, attr->st_mode & 07777);
		if (r < 0) {
			rc = -errno;
			goto out;
		}
	}
	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t uid = to_set & FUSE_SET_ATTR_UID ? attr->st_uid : (uid_t)-1;
		gid_t gid = to_set & FUSE_SET_ATTR_GID ? attr->st_gid : (gid_t)-1;
		int r = fchownat(fs_cards_fd(fs, n), "", uid, gid, AT_EMPTY_PATH);
		if (r < 0) {
			rc = -errno;
			goto out;
		}
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		rc = set_size(fs, n, fd, attr->st_size);
		if (rc < 0)
			goto out;
		/* A new content like any write. With an open file its close commits; truncate(2)
		 * by path has no close to report through, so it commits now. */
		pthread_mutex_lock(&fs->lock);
		n->dirty = fd >= 0;
		pthread_mutex_unlock(&fs->lock);
		if (fd < 0) {
			rc = fs_cards_commit(fs, n);
			if (rc < 0)
				goto out;
		}
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
		      FUSE_SET_ATTR_MTIME_NOW)) {
		rc = set_times(fs, n, fd, attr, to_set);
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
	char target[PATH_MAX];
	ssize_t len = readlinkat(fs_cards_fd(fs_of(req), n), "", target, sizeof(target) - 1);
	if (len < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	target[len] = '\0';
	fuse_reply_readlink(req, target);
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

/* Flags for the file on disk: offsets are the kernel's (O_APPEND too); the kernel resolved
 * the name (O_NOFOLLOW, O_CREAT, O_EXCL are its checks; procfs opens are of a link). */
static int disk_flags(int flags)
{
	return (flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_APPEND | O_NOFOLLOW)) | O_CLOEXEC;
}

/* open(2) with O_CREAT of parent/name as the caller. */
static int create_as_caller(fuse_req_t req, int pfd, const char *name, int flags, mode_t mode)
{
	struct fs_cred cred;
	int rc = fs_cred_enter(req, &cred);
	int fd = -1;
	if (rc == 0) {
		fd = openat(pfd, name, disk_flags(flags) | O_CREAT | (flags & O_EXCL), mode);
		rc = fd < 0 ? -errno : 0;
	}
	fs_cred_leave(&cred);
	return rc < 0 ? rc : fd;
}

void fs_cards_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		     struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	int pfd = fs_cards_parent_fd(fs, parent);
	int fd = pfd < 0 ? -ENOENT : create_as_caller(req, pfd, name, fi->flags, mode);
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	/* The node's own fd: the file just opened (its procfs link followed), whatever its name
	 * holds by now. */
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	struct fuse_entry_param e;
	int rc = entry_at(fs, parent, name, AT_FDCWD, proc, 0, &e);
	if (rc == 0) {
		rc = open_fh(fs, fi, fd);
		if (rc < 0)
			fs_forget(fs, e.ino, 1);
	}
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
	char proc[64];
	node_proc(fs, n, proc, sizeof(proc));
	/* O_TRUNC alone does not make the card dirty: bash closes the fd it opened once before
	 * writing (dup2), and that close must not commit an empty card. The writes do. */
	int fd = open(proc, disk_flags(fi->flags));
	if (fd < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	int rc = open_fh(fs, fi, fd);
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
	if (off >= 0 && too_big(fs, n, (unsigned long long)off + size)) {
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

void fs_cards_fallocate(fuse_req_t req, struct fs_node *n, int mode, off_t off, off_t len,
			struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	/* Growing a card file is writing it (fs_cards_write); other modes keep the size. */
	if (!(mode & FALLOC_FL_KEEP_SIZE) && off >= 0 && len >= 0 &&
	    too_big(fs, n, (unsigned long long)off + (unsigned long long)len)) {
		fuse_reply_err(req, EFBIG);
		return;
	}
	if (fallocate(card_fh(fi)->fd, mode, off, len) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	n->dirty = true;
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_err(req, 0);
}

void fs_cards_lseek(fuse_req_t req, off_t off, int whence, struct fuse_file_info *fi)
{
	/* SEEK_DATA and SEEK_HOLE: the disk knows where the holes are. */
	off_t r = lseek(card_fh(fi)->fd, off, whence);
	if (r < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_lseek(req, r);
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
	fuse_reply_err(req, dirty ? -fs_cards_commit(fs, n) : 0);
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
		rc = fs_cards_commit(fs, n);
	} else {
		/* Nothing new: report how the last commit went (`echo ... > card; sync card`). */
		char rel[PATH_MAX];
		if (relpath(fs, n, rel, sizeof(rel)) == 0 && !card_file_ignored(rel))
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
	int dfd = openat(fs_cards_fd(fs, n), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dp = dfd >= 0 ? fdopendir(dfd) : NULL;
	int rc;
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
	return fs_cards_entry(fs, dir, de->name, e);
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
