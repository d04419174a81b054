/* The top of the mount: README (static), engine (the backend's info), errors (the workspace's errors
 * log; `: > errors` clears it), events (a stream, events.c), and the four directories. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

static const char readme[] =
    "cutipfs: CUTIP cards in, containers out.\n"
    "\n"
    "README      this text.\n"
    "engine      the container engine: backend, endpoint, versions, whether it answers\n"
    "            (or why not), and the last request it failed (last-error).\n"
    "errors      what went wrong, newest last: \"TIME PATH:LINE:COL: MESSAGE\".\n"
    "            `: > errors` clears it.\n"
    "events      every change as it happens, one line each, from the open on:\n"
    "            \"TIME KIND NAME ACTION [key=value ...]\" (container web die exit_code=0,\n"
    "            network net create, card web.container.yaml rejected error=...).\n"
    "            `cat events` waits for more; poll(2) and O_NONBLOCK work.\n"
    "cards/      the workspace's card files, any layout of files and directories. Writing a\n"
    "            card applies it: on close of a file you wrote, on fsync, and on a rename onto\n"
    "            a card name. An invalid card fails that close/fsync/rename with EINVAL (the\n"
    "            file keeps your text; the reason is in errors). Hidden files, *~, *.swp and\n"
    "            *.tmp are stored but never taken as cards. Removing a card removes what it\n"
    "            made. Bash's `echo > card` cannot see close errors: run `sync card` after it,\n"
    "            or write with `cat > card`, cp, tee, dd, or `mv .card.tmp card` (mv exits 1\n"
    "            but words EINVAL its own way; errors has the reason). Truncating a card to\n"
    "            nothing (`: > card`) is not a commit.\n"
    "images/     one directory per image tag in the engine, named as `docker images` shows\n"
    "            it with '/' as %2F (localhost%2Fbusybox:test; untagged: the short id):\n"
    "            status, id, inspect.json, image.tar (docker save, streamed); an ImageCard's\n"
    "            under the card's name, with log (last pull or build; tail -f follows it)\n"
    "            and card. rmdir removes the tag (docker rmi). `cp x.tar images/` loads the\n"
    "            archive (docker load); its close fails with EINVAL for a bad one.\n"
    "networks/   one directory per network in the engine: status, id, inspect.json, and\n"
    "            card when a NetworkCard made it.\n"
    "containers/ one directory per container in the engine, whoever made it: status, id,\n"
    "            logs, follow, ctl, wait, inspect.json, and card when a ContainerCard\n"
    "            made it.\n"
    "            `rmdir containers/NAME` (or rm -rf) stops and removes it and deletes its\n"
    "            card; likewise for networks/ and images/ (EBUSY while in use).\n"
    "units/      one directory per Unit card, groups/ per Group card: status (up, down,\n"
    "            partial, pending or error, then a line per member), plan (what up would\n"
    "            do, in order), ctl (up, down, down --rm, restart). A unit taken down\n"
    "            stays down, across remounts and card edits, until up.\n"
    "\n"
    "status      first line the state alone (running, exited, pending, error, ...), then\n"
    "            \"key: value\" lines. `read state < status`, `grep -lx running */status`.\n"
    "logs        the container's stdout and stderr, as of the open, growing while open\n"
    "            (`tail -f logs` works).\n"
    "follow      the container's new output as it comes, until it is removed (docker\n"
    "            logs -f). Ctrl-C ends it.\n"
    "wait        blocks until the container stops, then gives its exit code\n"
    "            (code=$(cat wait), like docker wait).\n"
    "ctl         write commands, one per line: start, stop [SECONDS], restart [SECONDS],\n"
    "            kill [SIGNAL], pause, unpause. `echo stop > ctl`; a bad command fails the\n"
    "            write with EINVAL.\n"
    "\n"
    "Engine errors come back as errnos: ECONNREFUSED or ETIMEDOUT (engine unreachable),\n"
    "ENOENT, EEXIST (a name taken by something cutipfs did not make), EBUSY, EIO.\n";

static const struct {
	const char *name;
	fuse_ino_t ino;
	bool swarm; /* shown only when the engine is a Swarm */
} top[] = {
    {"README", FS_INO_README, false},	  {"engine", FS_INO_ENGINE, false},
    {"errors", FS_INO_ERRORS, false},	  {"events", FS_INO_EVENTS, false},
    {"cards", FS_INO_CARDS, false},	  {"images", FS_INO_IMAGES, false},
    {"networks", FS_INO_NETWORKS, false}, {"containers", FS_INO_CONTAINERS, false},
    {"units", FS_INO_UNITS, false},	  {"groups", FS_INO_GROUPS, false},
    {"services", FS_INO_SERVICES, true},  {"nodes", FS_INO_NODES, true},
};

static bool shown(const struct fs *fs, size_t i)
{
	return !top[i].swarm || (fs->be->ops->caps & BE_CAP_SERVICES);
}

/* The engine file: rendered after a ping that makes the state current (it fails within the
 * engine's connect timeout when nobody answers), and kept for FS_SIZE_TTL_NS, so that a stat
 * and the cat after it agree (the text counts the engine's requests, which go on meanwhile). */
static int render_engine(struct fs *fs, char **text, size_t *len)
{
	pthread_mutex_lock(&fs->lock);
	if (fs->engine_text && fs_elapsed_ns(&fs->engine_at) < FS_SIZE_TTL_NS) {
		*text = malloc(fs->engine_len + 1);
		if (*text) {
			memcpy(*text, fs->engine_text, fs->engine_len + 1);
			*len = fs->engine_len;
		}
		pthread_mutex_unlock(&fs->lock);
		return *text ? 0 : -ENOMEM;
	}
	pthread_mutex_unlock(&fs->lock);
	(void)fs->be->ops->ping(fs->be, NULL, 0);
	char *buf = malloc(4096), *keep = malloc(4096);
	if (!buf || !keep) {
		free(buf);
		free(keep);
		return -ENOMEM;
	}
	int n = fs->be->ops->info(fs->be, buf, 4096);
	*text = buf;
	*len = n > 0 ? (size_t)n : 0;
	if (*len >= 4096)
		*len = 4095;
	buf[*len] = '\0';
	memcpy(keep, buf, *len + 1);
	pthread_mutex_lock(&fs->lock);
	free(fs->engine_text);
	fs->engine_text = keep;
	fs->engine_len = *len;
	clock_gettime(CLOCK_MONOTONIC, &fs->engine_at);
	pthread_mutex_unlock(&fs->lock);
	return 0;
}

/* The errors file's size, rendered again only when the log changed. */
static int errors_size(struct fs *fs, struct fs_node *n, size_t *size, time_t *mtime)
{
	unsigned long gen = ws_errors_generation(fs->ws);
	pthread_mutex_lock(&fs->lock);
	bool fresh = n->size_valid && n->size_gen == gen;
	*size = n->size;
	*mtime = n->mtime;
	pthread_mutex_unlock(&fs->lock);
	if (fresh)
		return 0;
	char *text = NULL;
	size_t len = 0;
	int rc = ws_errors_render(fs->ws, &text, &len);
	if (rc < 0)
		return rc;
	free(text);
	pthread_mutex_lock(&fs->lock);
	if (!n->size_valid || n->size_gen != gen)
		n->mtime = time(NULL);
	n->size_valid = true;
	n->size = len;
	n->size_gen = gen;
	*size = len;
	*mtime = n->mtime;
	pthread_mutex_unlock(&fs->lock);
	return 0;
}

static int root_stat(struct fs *fs, struct fs_node *n, struct stat *st, double *attr_timeout)
{
	size_t size = 0;
	time_t mtime = 0;
	int rc = 0;
	*attr_timeout = FS_TIMEOUT_FIXED;
	switch (n->type) {
	case FS_README:
		size = sizeof(readme) - 1;
		break;
	case FS_ENGINE: {
		char *text;
		*attr_timeout = FS_TIMEOUT_NONE;
		/* Open now: its reads give the open's rendering (cache.c). */
		if (fs_cached_size(fs, n, &size))
			break;
		rc = render_engine(fs, &text, &size);
		if (rc == 0)
			free(text);
		break;
	}
	case FS_ERRORS:
		rc = errors_size(fs, n, &size, &mtime);
		*attr_timeout = FS_TIMEOUT_NONE;
		break;
	case FS_EVENTS: {
		/* A stream: no size; its mtime is the last change's. */
		struct timespec t = fs_events_mtime(fs);
		fs_attr_virtual(fs, n, 0, 0, st);
		st->st_mtim = st->st_ctim = t;
		*attr_timeout = FS_TIMEOUT_NONE;
		return 0;
	}
	case FS_OBJROOT:
		/* Its mtime: when it last gained or lost a name (the notifier invalidates it). */
		mtime = (time_t)atomic_load(&fs->members_changed[n->kind]);
		*attr_timeout = FS_TIMEOUT_DYNAMIC;
		break;
	case FS_CARDS:
		*attr_timeout = FS_TIMEOUT_DYNAMIC;
		return fs_cards_stat(fs, n, st);
	default:
		*attr_timeout = FS_TIMEOUT_DYNAMIC;
		break;
	}
	if (rc < 0)
		return rc;
	fs_attr_virtual(fs, n, size, mtime, st);
	return 0;
}

static int root_entry(struct fs *fs, fuse_ino_t ino, struct fuse_entry_param *e)
{
	struct fs_node *n = fs_node(fs, ino);
	if (!n)
		return -ENOENT;
	double attr_timeout;
	struct stat st;
	int rc = root_stat(fs, n, &st, &attr_timeout);
	if (rc < 0)
		return rc;
	fs_entry_init(e, n, FS_TIMEOUT_FIXED, attr_timeout);
	e->attr = st;
	pthread_mutex_lock(&fs->lock);
	fs_ref_locked(n);
	pthread_mutex_unlock(&fs->lock);
	return 0;
}

void fs_root_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent;
	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
		if (strcmp(name, top[i].name) != 0 || !shown(fs_of(req), i))
			continue;
		struct fuse_entry_param e;
		int rc = root_entry(fs_of(req), top[i].ino, &e);
		if (rc < 0)
			fuse_reply_err(req, -rc);
		else
			fuse_reply_entry(req, &e);
		return;
	}
	fuse_reply_err(req, ENOENT);
}

void fs_root_getattr(fuse_req_t req, struct fs_node *n)
{
	struct stat st;
	double t;
	int rc = root_stat(fs_of(req), n, &st, &t);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, t);
}

void fs_root_setattr(fuse_req_t req, struct fs_node *n, struct stat *attr, int to_set,
		     struct fuse_file_info *fi)
{
	(void)fi;
	struct fs *fs = fs_of(req);
	if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		/* Truncating errors clears it; nothing else here has a size to set. */
		if (n->type != FS_ERRORS) {
			fuse_reply_err(req, EACCES);
			return;
		}
		if (attr->st_size != 0) {
			fuse_reply_err(req, EINVAL);
			return;
		}
		ws_errors_clear(fs->ws);
	}
	/* Times (touch) are accepted and forgotten: they follow the content. */
	fs_root_getattr(req, n);
}

void fs_root_opendir(fuse_req_t req, struct fuse_file_info *fi)
{
	struct fs_dir d = {0};
	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
		if (!shown(fs_of(req), i))
			continue;
		mode_t mode = (top[i].ino >= FS_INO_CARDS && top[i].ino <= FS_INO_CONTAINERS) ||
				      top[i].ino >= FS_INO_SERVICES
				  ? S_IFDIR
				  : S_IFREG;
		if (fs_dir_add(&d, top[i].name, top[i].ino, mode, NULL) < 0) {
			fs_dir_free(&d);
			fuse_reply_err(req, ENOMEM);
			return;
		}
	}
	fs_reply_dir_open(req, fi, &d);
}

int fs_root_plus(struct fs *fs, fuse_ino_t dir, const struct fs_dirent *de,
		 struct fuse_entry_param *e)
{
	(void)dir;
	return root_entry(fs, de->ino, e);
}

void fs_root_open(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	int acc = fi->flags & O_ACCMODE;
	char *text = NULL;
	size_t len = 0;
	int rc = 0;
	if (n->type != FS_ERRORS && acc != O_RDONLY) {
		fuse_reply_err(req, EACCES);
		return;
	}
	switch (n->type) {
	case FS_README:
		text = strdup(readme);
		len = sizeof(readme) - 1;
		if (!text)
			rc = -ENOMEM;
		break;
	case FS_ENGINE:
		rc = render_engine(fs, &text, &len);
		break;
	case FS_ERRORS:
		if (fi->flags & O_TRUNC)
			ws_errors_clear(fs->ws);
		rc = ws_errors_render(fs->ws, &text, &len);
		break;
	default:
		rc = -EISDIR;
		break;
	}
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (fs_is_cached(n))
		fs_reply_cached_open(req, n, fi, text, len);
	else
		fs_reply_snap_open(req, fi, text, len);
}

/* Writing to errors only clears it (`echo > errors`); anything else is not for us. */
void fs_root_write(fuse_req_t req, struct fs_node *n, const char *buf, size_t size)
{
	if (n->type != FS_ERRORS) {
		fuse_reply_err(req, EACCES);
		return;
	}
	for (size_t i = 0; i < size; i++) {
		if (!isspace((unsigned char)buf[i])) {
			fuse_reply_err(req, EINVAL);
			return;
		}
	}
	ws_errors_clear(fs_of(req)->ws);
	fuse_reply_write(req, size);
}
