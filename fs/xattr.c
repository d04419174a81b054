/* Extended attributes in cards/: the disk's, through the node's file (fs_cards_path). The
 * kernel checked the caller's rights to the namespace (xattr(7)); the disk decides the rest. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/xattr.h>

#include "fs.h"

void fs_xattr_set(fuse_req_t req, struct fs_node *n, const char *name, const char *value,
		  size_t size, int flags)
{
	char path[PATH_MAX + 64];
	bool nofollow;
	int rc = fs_cards_path(fs_of(req), n, path, sizeof(path), &nofollow);
	if (rc == 0 && (nofollow ? lsetxattr(path, name, value, size, flags)
				 : setxattr(path, name, value, size, flags)) < 0)
		rc = -errno;
	fuse_reply_err(req, -rc);
}

/* The value of name, or with name NULL the list of names: the size alone when asked with
 * size 0 (getxattr(2), listxattr(2)), else the bytes. */
static void get_or_list(fuse_req_t req, struct fs_node *n, const char *name, size_t size)
{
	char path[PATH_MAX + 64];
	bool nofollow;
	int rc = fs_cards_path(fs_of(req), n, path, sizeof(path), &nofollow);
	char *buf = rc == 0 && size ? malloc(size) : NULL;
	if (rc == 0 && size && !buf)
		rc = -ENOMEM;
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	ssize_t got;
	if (name)
		got = nofollow ? lgetxattr(path, name, buf, size) : getxattr(path, name, buf, size);
	else
		got = nofollow ? llistxattr(path, buf, size) : listxattr(path, buf, size);
	if (got < 0)
		fuse_reply_err(req, errno);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)got);
	else
		fuse_reply_buf(req, buf, (size_t)got);
	free(buf);
}

void fs_xattr_get(fuse_req_t req, struct fs_node *n, const char *name, size_t size)
{
	get_or_list(req, n, name, size);
}

void fs_xattr_list(fuse_req_t req, struct fs_node *n, size_t size)
{
	get_or_list(req, n, NULL, size);
}

void fs_xattr_remove(fuse_req_t req, struct fs_node *n, const char *name)
{
	char path[PATH_MAX + 64];
	bool nofollow;
	int rc = fs_cards_path(fs_of(req), n, path, sizeof(path), &nofollow);
	if (rc == 0 && (nofollow ? lremovexattr(path, name) : removexattr(path, name)) < 0)
		rc = -errno;
	fuse_reply_err(req, -rc);
}
