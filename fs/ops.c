/* The one ops table. Each handler finds the node and hands the request to the module of its
 * subtree (lxcfs style): root.c, cards.c, objects.c, and for the files that are not plain
 * snapshots, events.c and follow.c (streams, via stream.c), ctl.c. Anything a subtree does not
 * do is refused here, with the errno a shell user would expect. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/statvfs.h>

#include "fs.h"

/* The node of ino; replies ENOENT and gives NULL for one the kernel should not know any more. */
static struct fs_node *node_or_reply(fuse_req_t req, fuse_ino_t ino)
{
	struct fs_node *n = fs_node(fs_of(req), ino);
	if (!n)
		fuse_reply_err(req, ENOENT);
	return n;
}

static bool is_file(const struct fs_node *n, int file)
{
	return n->type == FS_OBJFILE && n->file == file;
}

/* Read as a stream (stream.c): events, follow, wait. */
static bool is_stream(const struct fs_node *n)
{
	return n->type == FS_EVENTS || is_file(n, FS_F_FOLLOW) || is_file(n, FS_F_WAIT);
}

static bool is_obj(const struct fs_node *n)
{
	return n->type == FS_OBJROOT || n->type == FS_OBJDIR || n->type == FS_OBJFILE ||
	       n->type == FS_OBJCARD;
}

static void fs_op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* ls -l containers/ should cost one list request: attributes come with the listing. */
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	if (conn->capable & FUSE_CAP_READDIRPLUS_AUTO)
		conn->want |= FUSE_CAP_READDIRPLUS_AUTO;
	/* Cards are write-through: every write(2) must reach us (EFBIG, dirty tracking). */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	/* cards/ is the disk's: its POSIX ACLs count in the kernel's permission checks, and the
	 * mode of what is created comes unmasked with the caller's umask, so that the disk
	 * decides between the umask and a default ACL (cred.c applies it), as acl(5) says. */
	if (conn->capable & FUSE_CAP_POSIX_ACL)
		conn->want |= FUSE_CAP_POSIX_ACL;
	if (conn->capable & FUSE_CAP_DONT_MASK)
		conn->want |= FUSE_CAP_DONT_MASK;
	/* A large read is one round trip (cat of a log reads st_blksize, 1 MiB, at a time): the
	 * kernel takes up to max_pages (256) pages a request, which libfuse asks for from
	 * max_write; max_read must match the mount option (main.c), as fuse_common.h says. */
	conn->max_write = FS_MAX_IO;
	conn->max_read = FS_MAX_IO;
}

static void fs_op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs_node *p = node_or_reply(req, parent);
	if (!p)
		return;
	switch (p->type) {
	case FS_ROOT:
		fs_root_lookup(req, parent, name);
		break;
	case FS_CARDS:
		fs_cards_lookup(req, parent, name);
		break;
	case FS_OBJROOT:
	case FS_OBJDIR:
		fs_obj_lookup(req, p, name);
		break;
	default:
		fuse_reply_err(req, ENOTDIR);
		break;
	}
}

static void fs_op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	fs_forget(fs_of(req), ino, nlookup);
	fuse_reply_none(req);
}

static void fs_op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		fs_forget(fs_of(req), forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void fs_op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_node *n = node_or_reply(req, ino);
	if (!n)
		return;
	if (n->type == FS_CARDS)
		fs_cards_getattr(req, n, fi);
	else if (n->type == FS_IMGLOAD)
		fs_imageload_getattr(req, n);
	else if (n->type == FS_OBJROOT || !is_obj(n))
		fs_root_getattr(req, n);
	else
		fs_obj_getattr(req, n);
}

static void fs_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			  struct fuse_file_info *fi)
{
	struct fs_node *n = node_or_reply(req, ino);
	if (!n)
		return;
	if (n->type == FS_CARDS) {
		fs_cards_setattr(req, n, attr, to_set, fi);
	} else if (n->type == FS_IMGLOAD) {
		fs_imageload_setattr(req, n, attr, to_set, fi);
	} else if (n->type == FS_OBJROOT || !is_obj(n)) {
		fs_root_setattr(req, n, attr, to_set, fi);
	} else if (is_file(n, FS_F_CTL) &&
		   !(to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))) {
		/* `echo stop > ctl` truncates first: there is nothing to truncate. */
		fs_obj_getattr(req, n);
	} else if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID |
			     FUSE_SET_ATTR_SIZE)) {
		fuse_reply_err(req, EPERM);
	} else {
		/* touch: times follow the object, nothing to store */
		fs_obj_getattr(req, n);
	}
}

static void fs_op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fs_node *n = node_or_reply(req, ino);
	if (!n)
		return;
	if (n->type == FS_CARDS)
		fs_cards_readlink(req, n);
	else if (n->type == FS_OBJCARD)
		fs_obj_readlink(req, n);
	else
		fuse_reply_err(req, EINVAL);
}

/* The node of ino when it is in cards/; otherwise replies err and gives NULL. */
static struct fs_node *cards_node(fuse_req_t req, fuse_ino_t ino, int err)
{
	struct fs_node *n = node_or_reply(req, ino);
	if (n && n->type != FS_CARDS) {
		fuse_reply_err(req, err);
		return NULL;
	}
	return n;
}

/* Only cards/ takes new names: everything else is made by writing cards. */
static struct fs_node *cards_parent(fuse_req_t req, fuse_ino_t parent)
{
	return cards_node(req, parent, EPERM);
}

static void fs_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
			dev_t rdev)
{
	if (cards_parent(req, parent))
		fs_cards_mknod(req, parent, name, mode, rdev);
}

static void fs_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct fs_node *p = fs_node(fs_of(req), parent);
	if (p && p->type == FS_OBJROOT)
		fs_obj_mkdir(req, p, name); /* the notifier's own (notify.c), or EPERM */
	else if (cards_parent(req, parent))
		fs_cards_mkdir(req, parent, name, mode);
}

static void fs_op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	if (cards_parent(req, parent))
		fs_cards_symlink(req, link, parent, name);
}

static void fs_op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
			 struct fuse_file_info *fi)
{
	struct fs_node *p = fs_node(fs_of(req), parent);
	if (p && p->type == FS_OBJROOT)
		fs_imageload_create(req, p, name, fi); /* an image archive to load, or EPERM */
	else if (cards_parent(req, parent))
		fs_cards_create(req, parent, name, mode, fi);
}

static void fs_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	/* A file outside cards/ is linked nowhere, as across two file systems (link(2)). */
	struct fs_node *n = cards_node(req, ino, EXDEV);
	if (n && cards_parent(req, newparent))
		fs_cards_link(req, n, newparent, newname);
}

static void fs_op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs_node *p = node_or_reply(req, parent);
	if (!p)
		return;
	if (p->type == FS_CARDS)
		fs_cards_unlink(req, parent, name);
	else if (p->type == FS_OBJROOT || p->type == FS_OBJDIR)
		fs_obj_unlink(req, p, name);
	else
		fuse_reply_err(req, EPERM);
}

static void fs_op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs_node *p = node_or_reply(req, parent);
	if (!p)
		return;
	if (p->type == FS_CARDS)
		fs_cards_rmdir(req, parent, name);
	else if (p->type == FS_OBJROOT || p->type == FS_OBJDIR)
		fs_obj_rmdir(req, p, name);
	else
		fuse_reply_err(req, EPERM);
}

static void fs_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
			 const char *newname, unsigned int flags)
{
	struct fs *fs = fs_of(req);
	struct fs_node *p = fs_node(fs, parent), *np = fs_node(fs, newparent);
	if (!p || !np)
		fuse_reply_err(req, ENOENT);
	else if (p->type == FS_CARDS && np->type == FS_CARDS)
		fs_cards_rename(req, parent, name, newparent, newname, flags);
	else if (p->type == FS_CARDS || np->type == FS_CARDS)
		fuse_reply_err(req, EXDEV);
	else
		fuse_reply_err(req, EPERM);
}

static void fs_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_node *n = node_or_reply(req, ino);
	if (!n)
		return;
	switch (n->type) {
	case FS_README:
	case FS_ENGINE:
	case FS_ERRORS:
		fs_root_open(req, n, fi);
		break;
	case FS_EVENTS:
		fs_events_open(req, fi);
		break;
	case FS_CARDS:
		fs_cards_open(req, n, fi);
		break;
	case FS_OBJFILE:
		fs_obj_open(req, n, fi);
		break;
	case FS_IMGLOAD:
		fuse_reply_err(req, EACCES); /* its creator's open alone writes it */
		break;
	default:
		fuse_reply_err(req, EISDIR);
		break;
	}
}

static void fs_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct fs_node *n = node_or_reply(req, ino);
	if (!n)
		return;
	if (n->type == FS_CARDS)
		fs_cards_read(req, size, off, fi);
	else if (is_stream(n))
		fs_stream_read(req, size, fi);
	else if (is_file(n, FS_F_LOGS))
		fs_logs_read(req, size, off, fi);
	else if (is_file(n, FS_F_TAR))
		fs_imagetar_read(req, size, off, fi);
	else if (is_file(n, FS_F_LOG))
		fs_imagelog_read(req, n, size, off);
	else if (n->type == FS_IMGLOAD)
		fs_imageload_read(req, size, off, fi);
	else if (fs_is_cached(n) && !fi->fh)
		fs_cached_read(req, n, size, off);
	else
		fs_snap_read(req, size, off, fi);
}

static void fs_op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	struct fs_node *n = node_or_reply(req, ino);
	if (!n)
		return;
	if (n->type == FS_CARDS)
		fs_cards_write(req, n, buf, size, off, fi);
	else if (is_file(n, FS_F_CTL))
		fs_ctl_write(req, n, buf, size);
	else if (n->type == FS_IMGLOAD)
		fs_imageload_write(req, buf, size, off, fi);
	else
		fs_root_write(req, n, buf, size);
}

static void fs_op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
			    struct fuse_file_info *fi)
{
	struct fs_node *n = cards_node(req, ino, EOPNOTSUPP);
	if (n)
		fs_cards_fallocate(req, n, mode, off, len, fi);
}

static void fs_op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
			struct fuse_file_info *fi)
{
	/* Elsewhere no holes: all data up to the end (lseek(2)), which needs a size; EINVAL
	 * says "not here" without turning SEEK_DATA off for the whole mount as ENOSYS would. */
	if (cards_node(req, ino, EINVAL))
		fs_cards_lseek(req, off, whence, fi);
}

static void fs_op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_node *n = node_or_reply(req, ino);
	if (!n)
		return;
	if (n->type == FS_CARDS)
		fs_cards_flush(req, n, fi);
	else if (n->type == FS_IMGLOAD)
		fs_imageload_flush(req, fi);
	else
		fuse_reply_err(req, 0);
}

static void fs_op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct fs_node *n = node_or_reply(req, ino);
	if (!n)
		return;
	if (n->type == FS_CARDS)
		fs_cards_fsync(req, n, datasync, fi);
	else if (n->type == FS_IMGLOAD)
		fs_imageload_flush(req, fi);
	else
		fuse_reply_err(req, 0);
}

static void fs_op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_node *n = node_or_reply(req, ino);
	if (!n)
		return;
	if (n->type == FS_CARDS)
		fs_cards_release(req, fi);
	else if (is_stream(n))
		fs_stream_release(req, fi);
	else if (is_file(n, FS_F_LOGS))
		fs_logs_release(req, fi);
	else if (is_file(n, FS_F_TAR))
		fs_imagetar_release(req, fi);
	else if (n->type == FS_IMGLOAD)
		fs_imageload_release(req, fi);
	else if (is_file(n, FS_F_LOG))
		fuse_reply_err(req, 0); /* nothing held (imagelog.c) */
	else if (fs_is_cached(n) && !fi->fh)
		fs_cached_release(req, n);
	else
		fs_snap_release(req, fi);
}

static void fs_op_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		       struct fuse_pollhandle *ph)
{
	struct fs_node *n = fs_node(fs_of(req), ino);
	if (n && is_stream(n)) {
		fs_stream_poll(req, fi, ph);
		return;
	}
	/* Everything else is always ready, as on a disk. Never ENOSYS: the kernel would stop
	 * asking for the whole mount, streams included. */
	if (ph)
		fuse_pollhandle_destroy(ph);
	fuse_reply_poll(req, POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM);
}

static void fs_op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_node *n = node_or_reply(req, ino);
	if (!n)
		return;
	switch (n->type) {
	case FS_ROOT:
		fs_root_opendir(req, fi);
		break;
	case FS_CARDS:
		fs_cards_opendir(req, n, fi);
		break;
	case FS_OBJROOT:
	case FS_OBJDIR:
		fs_obj_opendir(req, n, fi);
		break;
	default:
		fuse_reply_err(req, ENOTDIR);
		break;
	}
}

static fs_plus_fn plus_of(const struct fs_node *n)
{
	switch (n->type) {
	case FS_ROOT:
		return fs_root_plus;
	case FS_CARDS:
		return fs_cards_plus;
	default:
		return fs_obj_plus;
	}
}

static void fs_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			  struct fuse_file_info *fi)
{
	fs_dir_read(req, ino, size, off, fi, NULL);
}

static void fs_op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			      struct fuse_file_info *fi)
{
	struct fs_node *n = node_or_reply(req, ino);
	if (n)
		fs_dir_read(req, ino, size, off, fi, plus_of(n));
}

static void fs_op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	struct fs_dir *d = (struct fs_dir *)(uintptr_t)fi->fh;
	fs_handle_release(fs_of(req), &d->h);
	fuse_reply_err(req, 0);
}

static void fs_op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	(void)fi;
	fuse_reply_err(req, 0);
}

/* Extended attributes: cards/ passes them through (xattr.c). The rest has none: getting or
 * removing one says there is no such attribute (ENODATA), which the kernel's POSIX ACL checks
 * take for "no ACL" (any other errno fails the permission check itself); setting one is
 * refused as by a file system without them (ENOTSUP, setxattr(2)). */
static void fs_op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			   size_t size, int flags)
{
	struct fs_node *n = cards_node(req, ino, ENOTSUP);
	if (n)
		fs_xattr_set(req, n, name, value, size, flags);
}

static void fs_op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct fs_node *n = cards_node(req, ino, ENODATA);
	if (n)
		fs_xattr_get(req, n, name, size);
}

static void fs_op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct fs_node *n = node_or_reply(req, ino);
	if (n && n->type == FS_CARDS)
		fs_xattr_list(req, n, size);
	else if (n && size == 0)
		fuse_reply_xattr(req, 0);
	else if (n)
		fuse_reply_buf(req, NULL, 0);
}

static void fs_op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct fs_node *n = cards_node(req, ino, ENODATA);
	if (n)
		fs_xattr_remove(req, n, name);
}

static void fs_op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	(void)ino;
	/* The space that matters is where the cards are stored. */
	struct statvfs sv;
	if (fstatvfs(fs_of(req)->cards_fd, &sv) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &sv);
}

const struct fuse_lowlevel_ops fs_ops = {
    .init = fs_op_init,
    .lookup = fs_op_lookup,
    .forget = fs_op_forget,
    .forget_multi = fs_op_forget_multi,
    .getattr = fs_op_getattr,
    .setattr = fs_op_setattr,
    .readlink = fs_op_readlink,
    .mknod = fs_op_mknod,
    .mkdir = fs_op_mkdir,
    .symlink = fs_op_symlink,
    .link = fs_op_link,
    .unlink = fs_op_unlink,
    .rmdir = fs_op_rmdir,
    .rename = fs_op_rename,
    .create = fs_op_create,
    .open = fs_op_open,
    .read = fs_op_read,
    .write = fs_op_write,
    .flush = fs_op_flush,
    .fallocate = fs_op_fallocate,
    .lseek = fs_op_lseek,
    .fsync = fs_op_fsync,
    .release = fs_op_release,
    .opendir = fs_op_opendir,
    .readdir = fs_op_readdir,
    .readdirplus = fs_op_readdirplus,
    .releasedir = fs_op_releasedir,
    .fsyncdir = fs_op_fsyncdir,
    .statfs = fs_op_statfs,
    .setxattr = fs_op_setxattr,
    .getxattr = fs_op_getxattr,
    .listxattr = fs_op_listxattr,
    .removexattr = fs_op_removexattr,
    .poll = fs_op_poll,
};
