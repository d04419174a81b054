/* MOUNT/events: one line per change, as the workspace reports them (ws_change_format):
 *
 *   2026-11-23T15:04:05.123456789Z container web die exit_code=0
 *
 * `cat events` blocks and prints each change as it happens; a reader sees the changes after
 * its open. The lines live in a ring of the last fs->ring_cap (-o events_ring=N, default
 * FS_EVENTS_RING); each open file has a cursor
 * into it (the number of its next line). A reader that fell more than the ring behind gets
 * "-- cutipfs: N events dropped --" in place of what it missed: the notifier never waits for
 * a reader. Reads are stream reads (stream.c): parked when there is nothing, Ctrl-C, poll,
 * O_NONBLOCK. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

int fs_events_init(struct fs *fs)
{
	if (fs->ring_cap == 0)
		fs->ring_cap = FS_EVENTS_RING;
	fs->ring = calloc(fs->ring_cap, sizeof(*fs->ring));
	if (!fs->ring)
		return -ENOMEM;
	fs->ring_next = 1;
	fs->last_event = fs->started;
	return 0;
}

void fs_events_free(struct fs *fs)
{
	for (size_t i = 0; fs->ring && i < fs->ring_cap; i++)
		free(fs->ring[i]);
	free(fs->ring);
	fs->ring = NULL;
}

void fs_events_publish(struct fs *fs, const char *line)
{
	size_t n = strlen(line);
	char *copy = malloc(n + 2);
	if (!copy)
		return;
	memcpy(copy, line, n);
	copy[n] = '\n';
	copy[n + 1] = '\0';
	pthread_mutex_lock(&fs->slock);
	char **slot = &fs->ring[fs->ring_next % fs->ring_cap];
	free(*slot);
	*slot = copy;
	fs->ring_next++;
	clock_gettime(CLOCK_REALTIME, &fs->last_event);
	pthread_mutex_unlock(&fs->slock);
	fs_stream_wake(fs, NULL, FS_STREAM_EVENTS);
}

struct timespec fs_events_mtime(struct fs *fs)
{
	pthread_mutex_lock(&fs->slock);
	struct timespec t = fs->last_event;
	pthread_mutex_unlock(&fs->slock);
	return t;
}

int fs_events_fill_locked(struct fs *fs, struct fs_stream *s, size_t size, char **out)
{
	unsigned long oldest = fs->ring_next > fs->ring_cap ? fs->ring_next - fs->ring_cap : 1;
	if (s->cursor >= fs->ring_next || size == 0)
		return 0;
	char *buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	size_t pos = 0;
	if (s->cursor < oldest) {
		char mark[80];
		int n = snprintf(mark, sizeof(mark), "-- cutipfs: %lu events dropped --\n",
				 oldest - s->cursor);
		size_t m = (size_t)n < size ? (size_t)n : size;
		memcpy(buf, mark, m);
		pos = m;
		s->cursor = oldest;
		s->line_off = 0;
	}
	/* Whole lines while they fit; a line longer than the read goes in pieces. */
	while (pos < size && s->cursor < fs->ring_next) {
		const char *line = fs->ring[s->cursor % fs->ring_cap];
		size_t rest = strlen(line) - s->line_off;
		if (rest > size - pos && pos > 0)
			break;
		size_t take = rest < size - pos ? rest : size - pos;
		memcpy(buf + pos, line + s->line_off, take);
		pos += take;
		if (take == rest) {
			s->cursor++;
			s->line_off = 0;
		} else {
			s->line_off += take;
		}
	}
	*out = buf;
	return (int)pos;
}

void fs_events_open(fuse_req_t req, struct fuse_file_info *fi)
{
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EACCES);
		return;
	}
	struct fs_stream *s = fs_stream_new(fs_of(req), FS_STREAM_EVENTS);
	if (!s) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	(void)fs_stream_reply_open(req, fi, s);
}
