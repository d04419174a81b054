/* cards/: the operations on names (mknod, mkdir, symlink, link, unlink, rmdir, rename), on
 * the disk through the parent's fd, and what the workspace makes of them: a new name that is
 * a card's commits, an unlink asks ws_remove first, a rename ws_rename (cards.c says why). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"

/* The entry of what the caller just made at parent/name, or the disk's answer to the making
 * when that failed (rc < 0). */
static void reply_made(fuse_req_t req, fuse_ino_t parent, const char *name, int rc)
{
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fs_cards_reply_entry(req, parent, name);
}

/* mknod(2), mkdir(2) and symlink(2) in the directory parent, as the caller (cred.c). */
enum make_kind { MAKE_NODE, MAKE_DIR, MAKE_SYMLINK };
static int make_as_caller(fuse_req_t req, fuse_ino_t parent, const char *name, enum make_kind kind,
			  mode_t mode, dev_t rdev, const char *link)
{
	int pfd = fs_cards_parent_fd(fs_of(req), parent);
	if (pfd < 0)
		return -ENOENT;
	struct fs_cred cred;
	int rc = fs_cred_enter(req, &cred);
	if (rc == 0) {
		int r = kind == MAKE_DIR    ? mkdirat(pfd, name, mode)
			: kind == MAKE_NODE ? mknodat(pfd, name, mode, rdev)
					    : symlinkat(link, pfd, name);
		rc = r < 0 ? -errno : 0;
	}
	fs_cred_leave(&cred);
	return rc;
}

void fs_cards_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	reply_made(req, parent, name,
		   make_as_caller(req, parent, name, MAKE_NODE, mode, rdev, NULL));
}

void fs_cards_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	reply_made(req, parent, name, make_as_caller(req, parent, name, MAKE_DIR, mode, 0, NULL));
}

void fs_cards_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	reply_made(req, parent, name, make_as_caller(req, parent, name, MAKE_SYMLINK, 0, 0, link));
}

void fs_cards_link(fuse_req_t req, struct fs_node *n, fuse_ino_t newparent, const char *newname)
{
	struct fs *fs = fs_of(req);
	int pfd = fs_cards_parent_fd(fs, newparent);
	/* The kernel checked the caller's rights (and fs.protected_hardlinks); the link itself
	 * is the daemon's, through the fd (AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH, linkat(2)). */
	int rc = pfd < 0 ? -ENOENT : 0;
	if (rc == 0 && linkat(fs_cards_fd(fs, n), "", pfd, newname, AT_EMPTY_PATH) < 0)
		rc = -errno;
	struct fuse_entry_param e;
	if (rc == 0)
		rc = fs_cards_entry(fs, newparent, newname, &e);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	/* A new card name is a new card file, as when written there. */
	int crc = S_ISREG(n->ftype) ? fs_cards_commit(fs, n) : 0;
	if (crc < 0) {
		fs_forget(fs, e.ino, 1);
		fuse_reply_err(req, -crc);
	} else if (fuse_reply_entry(req, &e) != 0) {
		fs_forget(fs, e.ino, 1);
	}
}

/* The name parent/name is gone from the disk: no node keeps it. */
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
	int pfd = fs_cards_parent_fd(fs, parent);
	int rc = pfd < 0 ? -ENOENT : 0;
	struct stat st;
	if (rc == 0 && fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		rc = -errno;
	/* What the card made goes first; if that fails (EBUSY: in use; or the engine is away)
	 * the file stays, so that the card and what it made never part. The workspace decides
	 * what is a card, including an editor's backup still holding a container; a path too
	 * long for it to have is none of its files. */
	if (rc == 0 && fs_cards_child_path(fs, parent, name, rel, sizeof(rel)) == 0)
		rc = ws_remove(fs->ws, rel);
	if (rc == 0 && unlinkat(pfd, name, 0) < 0)
		rc = -errno;
	if (rc == 0)
		forget_name(fs, parent, name);
	fuse_reply_err(req, -rc);
}

void fs_cards_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fs_of(req);
	int pfd = fs_cards_parent_fd(fs, parent);
	int rc = pfd < 0 ? -ENOENT : 0;
	if (rc == 0 && unlinkat(pfd, name, AT_REMOVEDIR) < 0)
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
			rc = fs_cards_read_file(fs->cards_fd, t, &buf, &len);
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

/* What the workspace makes of a rename from -> to that happened on disk (st: what moved). */
static int rename_cards(struct fs *fs, const char *from, const char *to, const struct stat *st)
{
	if (S_ISDIR(st->st_mode))
		return rename_tree(fs, from, to, 0);
	char *buf = NULL;
	size_t len = 0;
	int rc = S_ISREG(st->st_mode) ? fs_cards_read_file(fs->cards_fd, to, &buf, &len) : 0;
	if (rc == 0)
		rc = ws_rename(fs->ws, from, to, buf, len);
	free(buf);
	return rc;
}

/* The two files swapped names (RENAME_EXCHANGE): each is a new content at its new name. */
static int exchange_cards(struct fs *fs, struct fs_node *a, struct fs_node *b)
{
	int rc = a && S_ISREG(a->ftype) ? fs_cards_commit(fs, a) : 0;
	int rc2 = b && S_ISREG(b->ftype) ? fs_cards_commit(fs, b) : 0;
	return rc < 0 ? rc : rc2;
}

/* Under fs->lock: the table follows a rename that happened on disk. src is the node of the
 * file that moved, dst of the one that was at the new name (exchanged or replaced), when the
 * kernel knows them. */
static void rename_nodes_locked(struct fs *fs, fuse_ino_t parent, const char *name,
				fuse_ino_t newparent, const char *newname, unsigned int flags,
				struct fs_node *src, struct fs_node *dst)
{
	/* A name held by another node than the file the disk has there now loses it. */
	struct fs_node *at_old = fs_child_locked(fs, parent, name);
	if (at_old && at_old != src && at_old != dst)
		fs_unhash_locked(fs, at_old);
	struct fs_node *at_new = fs_child_locked(fs, newparent, newname);
	if (at_new && at_new != src && at_new != dst)
		fs_unhash_locked(fs, at_new);
	if (dst && dst != src)
		fs_unhash_locked(fs, dst); /* replaced; or exchanged, named again below */
	if (src && fs_move_locked(fs, src, newparent, newname) < 0)
		fs_unhash_locked(fs, src); /* looked up again by its new name */
	if (src)
		src->dirty = false; /* committed after, as it is now */
	if ((flags & RENAME_EXCHANGE) && dst && dst != src &&
	    fs_move_locked(fs, dst, parent, name) < 0)
		fs_unhash_locked(fs, dst);
}

void fs_cards_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		     const char *newname, unsigned int flags)
{
	struct fs *fs = fs_of(req);
	int pfd = fs_cards_parent_fd(fs, parent), npfd = fs_cards_parent_fd(fs, newparent);
	struct stat st, dst;
	int rc = pfd < 0 || npfd < 0 ? -ENOENT : 0;
	if (rc == 0 && fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		rc = -errno;
	bool had_dst = rc == 0 && fstatat(npfd, newname, &dst, AT_SYMLINK_NOFOLLOW) == 0;
	if (rc == 0 && renameat2(pfd, name, npfd, newname, flags) < 0)
		rc = -errno;
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}

	/* The rename happened: the table follows it before anything can fail. */
	pthread_mutex_lock(&fs->lock);
	struct fs_node *src = fs_real_locked(fs, st.st_dev, st.st_ino);
	struct fs_node *dn = had_dst ? fs_real_locked(fs, dst.st_dev, dst.st_ino) : NULL;
	rename_nodes_locked(fs, parent, name, newparent, newname, flags, src, dn);
	pthread_mutex_unlock(&fs->lock);

	/* Then the workspace, by path: a rename so deep that a path is too long for it moves
	 * nothing it has. */
	char from[PATH_MAX], to[PATH_MAX];
	if (fs_cards_child_path(fs, parent, name, from, sizeof(from)) < 0 ||
	    fs_cards_child_path(fs, newparent, newname, to, sizeof(to)) < 0)
		rc = 0;
	else if (flags & RENAME_EXCHANGE)
		rc = exchange_cards(fs, src, dn);
	else
		rc = rename_cards(fs, from, to, &st);
	fuse_reply_err(req, -rc);
}
