/* What the kernel may cache: rendered files (status, id, inspect.json, ...) kept in the page
 * cache across opens, and directory listings in its readdir cache, so that a read whose
 * content did not change costs one round trip (the open) and a listing none past opendir.
 *
 * Every open still renders: the rendering is the truth, and the kernel keeps its pages only
 * when they hold exactly that. Each node remembers a digest of what it last gave the kernel
 * (EVP_Digest, SHA-256): an open whose rendering has the same digest replies keep_cache (the
 * pages stay, fuse_common.h), any other drops them (no keep_cache: the kernel invalidates the
 * inode's pages at that open) and the attributes, so that the read that follows asks for the
 * new size. The notifier (notify.c) drops pages and attributes at every change it hears of,
 * before the change's line reaches `events`; opens catch what changes without one (a status
 * that says the engine is unreachable).
 *
 * The page cache is per inode, not per open, so a file's reads are served from its latest
 * rendering (fs_node.cache_buf), whichever open they come from: a page read for an older open
 * after a newer one must not put older bytes back in the cache. The rendering is kept while
 * the file is open and freed at the last release; the digest stays. Like a file on disk
 * rewritten while read, a file read in several reads may change between them; the renderings
 * here are one read long (the kernel asks for up to max_read at once) but for a large
 * inspect.json.
 *
 * Listings are snapshotted at opendir as before (fs_reply_dir_open); their digest decides
 * keep_cache and cache_readdir the same way. The kernel's readdir cache carries a version that
 * every reset bumps, so an older handle's entries never mix into a newer listing. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

bool fs_is_cached(const struct fs_node *n)
{
	if (n->type == FS_README || n->type == FS_ENGINE)
		return true;
	if (n->type != FS_OBJFILE)
		return false;
	switch (n->file) {
	case FS_F_STATUS:
	case FS_F_ID:
	case FS_F_INSPECT:
	case FS_F_TASKS:
	case FS_F_PLAN:
	case FS_F_ADOPT_CARD:
	case FS_F_ADOPT_IMAGE:
	case FS_F_ADOPT_NETWORK:
		return true;
	default:
		return false; /* logs, follow, image.tar: streams; log: live; ctl: commands */
	}
}

/* Records md as what the kernel now holds for n: true when it already did (lock held). */
static bool same_locked(struct fs_node *n, const unsigned char md[FS_DIGEST_LEN])
{
	bool same = n->cache_md_valid && memcmp(n->cache_md, md, FS_DIGEST_LEN) == 0;
	memcpy(n->cache_md, md, FS_DIGEST_LEN);
	n->cache_md_valid = true;
	return same;
}

/* The kernel's attributes of n are stale: it asks again before its next read past the size it
 * knows (the size may have changed). Offset -1 touches no page, and without writeback caching
 * the call never blocks (fuse_lowlevel.h), so it is safe inside a handler. */
static void drop_attributes(struct fs *fs, const struct fs_node *n)
{
	(void)fuse_lowlevel_notify_inval_inode(fs->se, n->ino, -1, 0);
}

void fs_reply_cached_open(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi, char *buf,
			  size_t len)
{
	struct fs *fs = fs_of(req);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != FS_DIGEST_LEN) {
		/* No digest: nothing may be kept, so the snapshot of old serves. */
		fs_reply_snap_open(req, fi, buf, len);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	bool same = same_locked(n, md);
	free(n->cache_buf);
	n->cache_buf = buf;
	n->cache_len = len;
	n->cache_opens++;
	n->size = len;
	n->size_valid = true;
	clock_gettime(CLOCK_MONOTONIC, &n->size_at);
	pthread_mutex_unlock(&fs->lock);
	if (!same)
		drop_attributes(fs, n);
	fi->fh = 0;
	fi->direct_io = 0;
	fi->keep_cache = same;
	fi->noflush = 1; /* nothing to commit on close */
	if (fuse_reply_open(req, fi) != 0)
		fs_cached_release(req, n);
}

bool fs_cached_size(struct fs *fs, struct fs_node *n, size_t *size)
{
	pthread_mutex_lock(&fs->lock);
	bool open = n->cache_opens > 0;
	if (open)
		*size = n->cache_len;
	pthread_mutex_unlock(&fs->lock);
	return open;
}

void fs_cached_read(fuse_req_t req, struct fs_node *n, size_t size, off_t off)
{
	struct fs *fs = fs_of(req);
	char *copy = NULL;
	size_t count = 0;
	pthread_mutex_lock(&fs->lock);
	/* Past the end is EOF (0 bytes). */
	if (off >= 0 && (size_t)off < n->cache_len) {
		count = n->cache_len - (size_t)off;
		if (count > size)
			count = size;
		/* A copy: the reply must not point into a buffer a newer open may free. */
		copy = malloc(count);
		if (copy)
			memcpy(copy, n->cache_buf + off, count);
	}
	pthread_mutex_unlock(&fs->lock);
	if (count && !copy)
		fuse_reply_err(req, ENOMEM);
	else
		fuse_reply_buf(req, copy, count);
	free(copy);
}

void fs_cached_release(fuse_req_t req, struct fs_node *n)
{
	struct fs *fs = fs_of(req);
	pthread_mutex_lock(&fs->lock);
	if (n->cache_opens > 0 && --n->cache_opens == 0) {
		free(n->cache_buf);
		n->cache_buf = NULL;
		n->cache_len = 0;
	}
	pthread_mutex_unlock(&fs->lock);
	if (req)
		fuse_reply_err(req, 0);
}

static bool dir_digest(const struct fs_dir *d, unsigned char md[EVP_MAX_MD_SIZE])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int mdlen = 0;
	bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (size_t i = 0; ok && i < d->count; i++) {
		const struct fs_dirent *de = &d->ents[i];
		/* Name, inode and type: what a readdir entry holds. */
		ok = EVP_DigestUpdate(ctx, de->name, strlen(de->name) + 1) &&
		     EVP_DigestUpdate(ctx, &de->ino, sizeof(de->ino)) &&
		     EVP_DigestUpdate(ctx, &de->mode, sizeof(de->mode));
	}
	ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == FS_DIGEST_LEN;
	EVP_MD_CTX_free(ctx);
	return ok;
}

void fs_reply_cached_opendir(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi,
			     struct fs_dir *d)
{
	struct fs *fs = fs_of(req);
	unsigned char md[EVP_MAX_MD_SIZE];
	bool same = false;
	if (dir_digest(d, md)) {
		pthread_mutex_lock(&fs->lock);
		same = same_locked(n, md);
		pthread_mutex_unlock(&fs->lock);
		fi->cache_readdir = 1;
	}
	fi->keep_cache = same;
	fs_reply_dir_open(req, fi, d);
}
