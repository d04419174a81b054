/*
 * floorfs MOUNTPOINT FILE N: the floor of a read through FUSE on this machine, for the
 * benchmark. A low-level libfuse file system that holds nothing but N directories c00000,
 * c00001, ..., each with one file `status` whose bytes are FILE's (read once, at start), and
 * answers from memory with every cache the kernel offers: entry and attribute timeouts of a
 * day, keep_cache and noflush at open, cache_readdir; in one thread (fuse_session_loop),
 * which answers one reader's requests faster than libfuse's multithreaded loop does (each
 * request then wakes a worker, often on the other core). bench/run.sh reads it as it reads
 * the mount: what it costs is the kernel's round trips (an open for each open(2), a release
 * after each close), which no FUSE file system can skip while it keeps its opens.
 *
 * Runs in the foreground until unmounted (fusermount3 -u MOUNTPOINT) or signalled.
 * Built by bench/run.sh: cc -O2 floorfs.c $(pkg-config --cflags --libs fuse3)
 */
#define FUSE_USE_VERSION 34
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FLOOR_TIMEOUT 86400.0
#define FLOOR_NAME_LEN 6 /* "c" and five digits */

/* Set once before the session starts; read only after. */
static char *floor_content;
static size_t floor_len;
static unsigned long floor_dirs;

/* Inodes: 1 the root; 2 + 2i directory i; 3 + 2i its status. */
static int floor_stat(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (ino == FUSE_ROOT_ID || (ino >= 2 && ino < 2 + 2 * floor_dirs && ino % 2 == 0)) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else if (ino >= 3 && ino < 2 + 2 * floor_dirs) {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)floor_len;
	} else {
		return -ENOENT;
	}
	return 0;
}

static fuse_ino_t floor_child(fuse_ino_t parent, const char *name)
{
	if (parent == FUSE_ROOT_ID) {
		char *end;
		unsigned long i;
		if (name[0] != 'c' || strlen(name) != FLOOR_NAME_LEN)
			return 0;
		i = strtoul(name + 1, &end, 10);
		return *end == '\0' && i < floor_dirs ? 2 + 2 * i : 0;
	}
	struct stat st;
	if (floor_stat(parent, &st) == 0 && S_ISDIR(st.st_mode) && strcmp(name, "status") == 0)
		return parent + 1;
	return 0;
}

static void floor_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e = {.attr_timeout = FLOOR_TIMEOUT, .entry_timeout = FLOOR_TIMEOUT};

	e.ino = floor_child(parent, name);
	if (!e.ino || floor_stat(e.ino, &e.attr) != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fuse_reply_entry(req, &e);
}

static void floor_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	if (floor_stat(ino, &st) != 0)
		fuse_reply_err(req, ENOENT);
	else
		fuse_reply_attr(req, &st, FLOOR_TIMEOUT);
}

/* Entry @i of directory @ino's listing (".", "..", then its children): false past the end. */
static bool floor_entry(fuse_ino_t ino, off_t i, char *name, size_t len, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	if (i < 2) {
		snprintf(name, len, "%s", i == 0 ? "." : "..");
		st->st_ino = i == 0 ? ino : FUSE_ROOT_ID;
		st->st_mode = S_IFDIR;
		return true;
	}
	if (ino == FUSE_ROOT_ID && (unsigned long)(i - 2) < floor_dirs) {
		snprintf(name, len, "c%05lu", (unsigned long)(i - 2));
		st->st_ino = 2 + 2 * (fuse_ino_t)(i - 2);
		st->st_mode = S_IFDIR;
		return true;
	}
	if (ino != FUSE_ROOT_ID && i == 2) {
		snprintf(name, len, "status");
		st->st_ino = ino + 1;
		st->st_mode = S_IFREG;
		return true;
	}
	return false;
}

static void floor_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	if (floor_stat(ino, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	fi->keep_cache = 1;
	fi->cache_readdir = 1;
	fuse_reply_open(req, fi);
}

/* Whole entries from @off (an entry's index) on, as many as fit in @size. */
static void floor_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			  struct fuse_file_info *fi)
{
	char *buf = malloc(size), name[24];
	size_t used = 0;
	struct stat st;

	(void)fi;
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (off_t i = off; floor_entry(ino, i, name, sizeof(name), &st); i++) {
		size_t need = fuse_add_direntry(req, buf + used, size - used, name, &st, i + 1);
		if (need > size - used)
			break;
		used += need;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void floor_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	if (floor_stat(ino, &st) != 0)
		fuse_reply_err(req, ENOENT);
	else if (S_ISDIR(st.st_mode))
		fuse_reply_err(req, EISDIR);
	else if ((fi->flags & O_ACCMODE) != O_RDONLY)
		fuse_reply_err(req, EACCES);
	else {
		fi->keep_cache = 1;
		fi->noflush = 1;
		fuse_reply_open(req, fi);
	}
}

static void floor_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	if (off < 0 || (size_t)off >= floor_len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, floor_content + off,
			       floor_len - (size_t)off < size ? floor_len - (size_t)off : size);
}

static const struct fuse_lowlevel_ops floor_ops = {
    .lookup = floor_lookup,
    .getattr = floor_getattr,
    .opendir = floor_opendir,
    .readdir = floor_readdir,
    .open = floor_open,
    .read = floor_read,
};

static int floor_load(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    !(floor_content = malloc((size_t)n + 1)) ||
	    fread(floor_content, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		if (f)
			fclose(f);
		return -1;
	}
	floor_len = (size_t)n;
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	char *fuse_argv[] = {argv[0], "-o", "fsname=floorfs,subtype=floorfs", NULL};
	struct fuse_args args = FUSE_ARGS_INIT(3, fuse_argv);
	struct fuse_session *se;
	int rc = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: floorfs MOUNTPOINT FILE N\n");
		return 2;
	}
	floor_dirs = strtoul(argv[3], NULL, 10);
	if (floor_dirs < 1 || floor_dirs > 99999 || floor_load(argv[2]) != 0)
		return 2;
	se = fuse_session_new(&args, &floor_ops, sizeof(floor_ops), NULL);
	if (!se)
		return 1;
	if (fuse_set_signal_handlers(se) == 0 && fuse_session_mount(se, argv[1]) == 0) {
		rc = fuse_session_loop(se) == 0 ? 0 : 1;
		fuse_session_unmount(se);
	}
	fuse_remove_signal_handlers(se);
	fuse_session_destroy(se);
	free(floor_content);
	return rc;
}
