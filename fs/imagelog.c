/* images/NAME/log, the output of the image's last pull, build or load, read as it grows: while
 * a build runs, `cat` shows what it printed so far and `tail -f` follows it. Every read takes
 * its bytes from the log as it is now (ws_image_log), with direct I/O: no page of it is kept,
 * so no read can be served stale by the page cache. tail -f needs the size to grow: inotify
 * tells nothing of a FUSE file (the kernel only reports changes made through its own calls),
 * and GNU tail polls FUSE files anyway, as a remote file system's, by fstat's st_size each
 * second, which objects.c gives from a fresh rendering at every getattr of a log. A new pull
 * or build starts the log over: it shrinks, which tail reports as "file truncated". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

void fs_imagelog_open(fuse_req_t req, struct fuse_file_info *fi)
{
	fi->fh = 0;
	fi->direct_io = 1;
	fi->noflush = 1;
	fuse_reply_open(req, fi);
}

void fs_imagelog_read(fuse_req_t req, struct fs_node *n, size_t size, off_t off)
{
	struct fs *fs = fs_of(req);
	char name[sizeof(((struct ws_object *)0)->name)] = "", *text = NULL;
	size_t len = 0;
	int rc = -ENOENT;

	/* The image is its directory's, as last listed. */
	pthread_mutex_lock(&fs->lock);
	struct fs_node *d = fs_node_locked(fs, n->parent);
	if (d && d->type == FS_OBJDIR)
		snprintf(name, sizeof(name), "%s", d->obj.name);
	pthread_mutex_unlock(&fs->lock);
	if (name[0])
		rc = ws_image_log(fs->ws, name, &text, &len);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (off < 0 || (size_t)off >= len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, text + off,
			       len - (size_t)off < size ? len - (size_t)off : size);
	free(text);
}
