/* What an open holds, linked into the mount until its release: the kernel sends no release for
 * a file still open when the session ends (a SIGTERM with the release still queued, or
 * fusermount3 -uz while something is open), so at exit the mount frees what is left itself. */
#include "fs.h"

void fs_handle_add(struct fs *fs, struct fs_handle *h, void (*free_fn)(struct fs_handle *h))
{
	h->free = free_fn;
	h->prev = NULL;
	pthread_mutex_lock(&fs->hlock);
	h->next = fs->handles;
	if (h->next)
		h->next->prev = h;
	fs->handles = h;
	pthread_mutex_unlock(&fs->hlock);
}

void fs_handle_release(struct fs *fs, struct fs_handle *h)
{
	pthread_mutex_lock(&fs->hlock);
	if (h->prev)
		h->prev->next = h->next;
	else
		fs->handles = h->next;
	if (h->next)
		h->next->prev = h->prev;
	pthread_mutex_unlock(&fs->hlock);
	h->free(h);
}

void fs_handles_free(struct fs *fs)
{
	pthread_mutex_lock(&fs->hlock);
	struct fs_handle *h = fs->handles;
	fs->handles = NULL;
	pthread_mutex_unlock(&fs->hlock);
	while (h) {
		struct fs_handle *next = h->next;
		h->free(h);
		h = next;
	}
}
