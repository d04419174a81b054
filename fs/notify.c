/* The notifier: the one thread that tells the kernel about changes it did not make itself
 * (fuse_lowlevel_notify_inval_entry and _inval_inode, fuse_lowlevel.h). Everything arrives on one FIFO queue, in order:
 *
 *  - the workspace's changes (ws_subscribe: made by cutipfs, or seen in the engine's events),
 *    queued by the subscription callback, which does nothing else;
 *  - entry notices from handlers (a card file the workspace deleted).
 *
 * For each change it invalidates exactly what the change affects, then appends the change's
 * line to the events file, so that a reader who saw the line and then runs ls, stat or cat
 * sees the state after it:
 *
 *  - a name that appeared: inval_entry(root, name) (a negative or stale dentry), the root's
 *    listing and attributes;
 *  - a name that left: the object's node loses its name (a new object of that name gets a new
 *    node), the kernel's dentries of its files are deleted first (notify_delete: watchers of
 *    those files get IN_DELETE_SELF), then its own (falling back on inval_entry when the
 *    kernel still has children cached, -ENOTEMPTY), then the root's listing;
 *  - a state change: data and attributes of status, id, inspect.json (log for images), and
 *    the directory's attributes (its mtime is the object's last change).
 *
 * inotify. The kernel reports to inotify watchers only what is done through
 * the mount, so the notifier does it through the mount, by its helper process (selfio.c):
 * mkdir(MOUNT/containers/NAME) when a container appears, rmdir(...) when it leaves, and
 * utimensat() on the directory and its status at a state change (IN_ATTRIB). The handlers
 * recognise the notifier's mkdir/rmdir (the request's pid is the helper's, and it names the
 * one operation the notifier announced in fs->self) and answer them without acting: the
 * lookup before the mkdir finds nothing, the mkdir returns the object that already exists, the
 * rmdir removes nothing. A touch is a no-op for everyone. The notifier holds no lock across
 * these calls, and the handlers never wait for the notifier, so a free worker always answers
 * them (the multithreaded loop starts one when none is idle). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"

struct fs_notice {
	struct fs_notice *next;
	bool is_change;
	struct ws_change change; /* is_change */
	fuse_ino_t parent;	 /* otherwise: an entry to invalidate */
	char name[];
};

/* What watchers were last told about a name in an object root: present (a create or the
 * notifier's mkdir) or gone (a user's rmdir or the notifier's). The workspace may report a
 * removal twice (the engine's destroy, then the card's removal); watchers hear it once. Gone
 * names are forgotten after a minute. */
struct fs_seen {
	struct fs_seen *next;
	fuse_ino_t parent;
	bool present;
	struct timespec at;
	char name[128];
};

static void enqueue(struct fs *fs, struct fs_notice *n)
{
	n->next = NULL;
	pthread_mutex_lock(&fs->nlock);
	if (fs->nstop) {
		pthread_mutex_unlock(&fs->nlock);
		free(n);
		return;
	}
	*fs->ntail = n;
	fs->ntail = &n->next;
	pthread_cond_signal(&fs->ncond);
	pthread_mutex_unlock(&fs->nlock);
}

void fs_notify_entry(struct fs *fs, fuse_ino_t parent, const char *name)
{
	size_t len = strlen(name);
	struct fs_notice *n = calloc(1, sizeof(*n) + len + 1);
	if (!n)
		return; /* the dentry lives at most FS_TIMEOUT_CARDS anyway */
	n->parent = parent;
	memcpy(n->name, name, len + 1);
	enqueue(fs, n);
}

/* The subscription callback, on the workspace's state thread: queue, nothing else. */
static void on_change(const struct ws_change *change, void *ctx)
{
	struct fs_notice *n = calloc(1, sizeof(*n) + 1);
	if (!n)
		return;
	n->is_change = true;
	n->change = *change;
	enqueue(ctx, n);
}

/* ---- what watchers were told ---- */

/* Records that watchers of parent now know name as present (or gone): true when that is news
 * to them. */
static bool announce(struct fs *fs, fuse_ino_t parent, const char *name, bool present)
{
	struct fs_seen *found = NULL;
	pthread_mutex_lock(&fs->selflock);
	for (struct fs_seen **pp = &fs->seen; *pp;) {
		struct fs_seen *e = *pp;
		if (e->parent == parent && strcmp(e->name, name) == 0) {
			found = e;
		} else if (!e->present && fs_elapsed_ns(&e->at) > 60000000000LL) {
			*pp = e->next;
			free(e);
			continue;
		}
		pp = &e->next;
	}
	bool news = !found || found->present != present;
	if (!found && (found = calloc(1, sizeof(*found)))) {
		found->parent = parent;
		snprintf(found->name, sizeof(found->name), "%s", name);
		found->next = fs->seen;
		fs->seen = found;
	}
	if (found) {
		found->present = present;
		clock_gettime(CLOCK_MONOTONIC, &found->at);
	}
	pthread_mutex_unlock(&fs->selflock);
	return news;
}

void fs_note_removed(struct fs *fs, fuse_ino_t parent, const char *name)
{
	(void)announce(fs, parent, name, false);
}

/* ---- the notifier's own requests through the mount ---- */

bool fs_self_request(fuse_req_t req, fuse_ino_t parent, const char *name, struct fs_selfop *op)
{
	struct fs *fs = fs_of(req);
	pid_t pid = atomic_load(&fs->self_pid);
	if (pid <= 0 || fuse_req_ctx(req)->pid != pid)
		return false;
	bool match = false;
	pthread_mutex_lock(&fs->selflock);
	if (fs->self && fs->self->parent == parent && strcmp(fs->self->name, name) == 0) {
		*op = *fs->self;
		match = true;
	}
	pthread_mutex_unlock(&fs->selflock);
	return match;
}

static int object_path(struct fs *fs, enum ws_kind kind, const char *name, const char *file,
		       char *buf, size_t len)
{
	/* Engine names never hold these; a path must stay in its directory anyway. */
	if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	int n = snprintf(buf, len, "%s/%s/%s%s%s", fs->mountpoint, ws_kind_dir(kind), name,
			 file ? "/" : "", file ? file : "");
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* mkdir or rmdir of root/name through the mount, announced in fs->self so that the handlers
 * answer it without acting. 0 or -errno. */
static int self_op(struct fs *fs, enum fs_selfop_kind op, enum ws_kind kind, const char *name,
		   fuse_ino_t ino)
{
	char path[PATH_MAX];
	if (!fs->mountpoint || object_path(fs, kind, name, NULL, path, sizeof(path)) < 0)
		return -EINVAL;
	struct fs_selfop so = {.op = op, .parent = fs_obj_root(kind), .ino = ino};
	snprintf(so.name, sizeof(so.name), "%s", name);
	pthread_mutex_lock(&fs->selflock);
	fs->self = &so;
	pthread_mutex_unlock(&fs->selflock);
	int rc = 0;
	for (int attempt = 0; attempt < 3; attempt++) {
		rc = fs_selfio(fs, op == FS_SELF_MKDIR ? FS_SELFIO_MKDIR : FS_SELFIO_RMDIR, path);
		/* Someone looked the new name up between our invalidation and the mkdir: drop
		 * that dentry again. */
		if (rc != -EEXIST || op != FS_SELF_MKDIR)
			break;
		(void)fuse_lowlevel_notify_inval_entry(fs->se, so.parent, name, strlen(name));
	}
	pthread_mutex_lock(&fs->selflock);
	fs->self = NULL;
	pthread_mutex_unlock(&fs->selflock);
	return rc;
}

/* IN_ATTRIB for watchers of root/ (on NAME), of NAME/ and of NAME/status. */
static void self_touch(struct fs *fs, enum ws_kind kind, const char *name)
{
	char path[PATH_MAX];
	if (!fs->mountpoint)
		return;
	if (object_path(fs, kind, name, NULL, path, sizeof(path)) == 0)
		(void)fs_selfio(fs, FS_SELFIO_TOUCH, path);
	if (object_path(fs, kind, name, "status", path, sizeof(path)) == 0)
		(void)fs_selfio(fs, FS_SELFIO_TOUCH, path);
}

/* ---- invalidation ---- */

/* -ENOENT: the kernel has no such dentry or inode cached; -EBADF, -ENODEV: unmounting. Nothing
 * to do about any of them (notify_inval_inode example). */
static void inval_inode(struct fs *fs, fuse_ino_t ino, off_t off)
{
	(void)fuse_lowlevel_notify_inval_inode(fs->se, ino, off, 0);
}

static void inval_entry(struct fs *fs, fuse_ino_t parent, const char *name)
{
	(void)fuse_lowlevel_notify_inval_entry(fs->se, parent, name, strlen(name));
}

static void touch_members(struct fs *fs, enum ws_kind kind)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	if ((int)kind >= 0 && (int)kind < WS_KINDS)
		atomic_store(&fs->members_changed[kind], (long long)now.tv_sec);
}

/* Containers, networks and images: every one in the engine has its directory (an image one
 * per tag). */
static bool watchable(enum ws_kind kind)
{
	return kind == WS_CONTAINER || kind == WS_NETWORK || kind == WS_IMAGE;
}

static void member_new(struct fs *fs, enum ws_kind kind, const char *name)
{
	fuse_ino_t root = fs_obj_root(kind);
	struct ws_object obj;
	inval_entry(fs, root, name);
	inval_inode(fs, root, 0);
	if (watchable(kind) && ws_lookup(fs->ws, kind, name, &obj) == 0 &&
	    announce(fs, root, name, true))
		(void)self_op(fs, FS_SELF_MKDIR, kind, name, 0);
}

struct kid {
	fuse_ino_t ino;
	char name[32];
};

static void member_gone(struct fs *fs, enum ws_kind kind, const char *name)
{
	fuse_ino_t root = fs_obj_root(kind), dino = 0;
	struct kid kids[16];
	size_t nkids = 0;

	pthread_mutex_lock(&fs->lock);
	struct fs_node *n = fs_child_locked(fs, root, name);
	if (n && n->type == FS_OBJDIR) {
		dino = n->nlookup > 0 ? n->ino : 0;
		const char *cname;
		for (size_t i = 0; dino && (cname = fs_obj_child_name(kind, i)) && nkids < 16;
		     i++) {
			struct fs_node *c = fs_child_locked(fs, n->ino, cname);
			if (c && c->nlookup > 0) {
				kids[nkids].ino = c->ino;
				snprintf(kids[nkids].name, sizeof(kids[nkids].name), "%s", cname);
				nkids++;
			}
		}
	}
	/* A new object of this name gets a new node: nothing cached about this one applies. */
	if (n)
		fs_unhash_locked(fs, n);
	pthread_mutex_unlock(&fs->lock);

	for (size_t i = 0; i < nkids; i++)
		(void)fuse_lowlevel_notify_delete(fs->se, dino, kids[i].ino, kids[i].name,
						  strlen(kids[i].name));
	/* Watchers of root/ hear of it from the kernel when it goes through the mount: by the
	 * user's rmdir, or else by ours. */
	if (watchable(kind) && announce(fs, root, name, false))
		(void)self_op(fs, FS_SELF_RMDIR, kind, name, dino);
	int rc =
	    dino ? fuse_lowlevel_notify_delete(fs->se, root, dino, name, strlen(name)) : -ENOENT;
	if (rc == -ENOTEMPTY || rc == -EBUSY || !dino)
		inval_entry(fs, root, name);
	inval_inode(fs, root, 0);
}

/* The object root/name changed state: what its directory and files show. */
static void state_changed(struct fs *fs, enum ws_kind kind, const char *name)
{
	fuse_ino_t root = fs_obj_root(kind), dino = 0;
	fuse_ino_t kids[16];
	size_t nkids = 0;
	struct ws_object obj;
	bool have = ws_lookup(fs->ws, kind, name, &obj) == 0;

	pthread_mutex_lock(&fs->lock);
	struct fs_node *n = fs_child_locked(fs, root, name);
	if (n && n->type == FS_OBJDIR) {
		if (have && (!n->obj.id[0] || !obj.id[0] || strcmp(n->obj.id, obj.id) == 0))
			n->obj = obj;
		dino = n->ino;
		const char *cname;
		for (size_t i = 0; (cname = fs_obj_child_name(kind, i)) && nkids < 16; i++) {
			struct fs_node *c = fs_child_locked(fs, n->ino, cname);
			if (!c || c->type != FS_OBJFILE)
				continue;
			if (c->file != FS_F_STATUS && c->file != FS_F_ID &&
			    c->file != FS_F_INSPECT && c->file != FS_F_LOG)
				continue;
			c->size_valid = false;
			if (c->nlookup > 0)
				kids[nkids++] = c->ino;
		}
	}
	pthread_mutex_unlock(&fs->lock);

	for (size_t i = 0; i < nkids; i++)
		inval_inode(fs, kids[i], 0);
	if (dino)
		inval_inode(fs, dino, -1);
	if (have && watchable(kind))
		self_touch(fs, kind, name);
}

/* A card's state changed (accepted, rejected, applied, pending, removed): the objects it made
 * show it in their status. */
static void card_changed(struct fs *fs, const char *relpath)
{
	struct made {
		enum ws_kind kind;
		char name[128];
	} *made = NULL;
	size_t count = 0, cap = 0;

	pthread_mutex_lock(&fs->lock);
	for (size_t b = 0; b < fs->nbuckets; b++) {
		for (struct fs_node *n = fs->by_ino[b]; n; n = n->ino_next) {
			if (n->type != FS_OBJDIR || !n->hashed || strcmp(n->obj.card, relpath) != 0)
				continue;
			if (count == cap) {
				size_t ncap = cap ? cap * 2 : 4;
				struct made *m = realloc(made, ncap * sizeof(*m));
				if (!m)
					break;
				made = m;
				cap = ncap;
			}
			made[count].kind = n->kind;
			snprintf(made[count].name, sizeof(made[count].name), "%s", n->name);
			count++;
		}
	}
	pthread_mutex_unlock(&fs->lock);

	for (size_t i = 0; i < count; i++)
		state_changed(fs, made[i].kind, made[i].name);
	free(made);
	/* What the card makes may appear or go as pending/error objects: listings are cheap to
	 * read again (nothing is cached of them but the attributes). */
	inval_inode(fs, FS_INO_IMAGES, 0);
	inval_inode(fs, FS_INO_NETWORKS, 0);
	inval_inode(fs, FS_INO_CONTAINERS, 0);
}

static bool action_is(const char *action, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(action, *list) == 0)
			return true;
	return false;
}

/* Did this membership change remove the name? By the action, or when the action is not one
 * we know, by whether the workspace still has it. */
static bool removes(struct fs *fs, const struct ws_change *c)
{
	static const char *const gone[] = {"destroy", "remove", "removed", "delete", "untag", NULL};
	static const char *const added[] = {"create", "pulled", "built", "tagged", "rename",
					    "pull",   "tag",	"load",	 NULL};
	if (action_is(c->action, gone))
		return true;
	if (action_is(c->action, added))
		return false;
	struct ws_object obj;
	return ws_lookup(fs->ws, c->obj, c->name, &obj) == -ENOENT;
}

/* The object a card change is about, from its "ref=containers/web" attribute. */
static bool card_ref(const struct ws_change *c, enum ws_kind *kind, char *name, size_t len)
{
	static const struct {
		const char *prefix;
		enum ws_kind kind;
	} dirs[] = {
	    {"images/", WS_IMAGE}, {"networks/", WS_NETWORK}, {"containers/", WS_CONTAINER},
	    {"units/", WS_UNIT},   {"groups/", WS_GROUP}};
	const char *r = c->attrs;
	while ((r = strstr(r, "ref=")) && r != c->attrs && r[-1] != ' ')
		r += 4;
	if (!r)
		return false;
	r += 4;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		size_t plen = strlen(dirs[i].prefix);
		if (strncmp(r, dirs[i].prefix, plen) != 0)
			continue;
		size_t n = strcspn(r + plen, " ");
		if (n == 0 || n >= len)
			return false;
		memcpy(name, r + plen, n);
		name[n] = '\0';
		*kind = dirs[i].kind;
		return true;
	}
	return false; /* a quoted ref, or a kind with no directory */
}

static void handle_change(struct fs *fs, const struct ws_change *c)
{
	enum ws_kind kind;
	char name[128];
	struct ws_object obj;
	if (c->obj == WS_CARD && card_ref(c, &kind, name, sizeof(name))) {
		/* What the card makes came or went (a pending object), or its state changed. */
		if (!c->membership) {
			state_changed(fs, kind, name);
		} else {
			touch_members(fs, kind);
			if (ws_lookup(fs->ws, kind, name, &obj) == 0)
				member_new(fs, kind, name);
			else
				member_gone(fs, kind, name);
		}
	} else if (c->obj == WS_CARD) {
		card_changed(fs, c->name);
	} else if (c->obj == WS_TASK) {
		/* No directory of its own: its service's files are read fresh at each open. */
	} else if (c->membership) {
		/* Before the invalidations: the root's mtime is read again after them. */
		touch_members(fs, c->obj);
		if (c->old_name[0] && strcmp(c->old_name, c->name) != 0)
			member_gone(fs, c->obj, c->old_name);
		if (removes(fs, c))
			member_gone(fs, c->obj, c->name);
		else
			member_new(fs, c->obj, c->name);
	} else {
		state_changed(fs, c->obj, c->name);
	}
	char line[2048];
	int n = ws_change_format(c, line, sizeof(line));
	if (n >= 0) {
		line[sizeof(line) - 1] = '\0';
		fs_events_publish(fs, line);
	}
}

static void *notifier(void *arg)
{
	struct fs *fs = arg;
	pthread_mutex_lock(&fs->nlock);
	for (;;) {
		while (!fs->notices && !fs->nstop)
			pthread_cond_wait(&fs->ncond, &fs->nlock);
		if (fs->nstop)
			break;
		struct fs_notice *n = fs->notices;
		fs->notices = n->next;
		if (!fs->notices)
			fs->ntail = &fs->notices;
		pthread_mutex_unlock(&fs->nlock);
		if (n->is_change) {
			handle_change(fs, &n->change);
		} else {
			inval_entry(fs, n->parent, n->name);
			inval_inode(fs, n->parent, 0);
		}
		free(n);
		pthread_mutex_lock(&fs->nlock);
	}
	while (fs->notices) {
		struct fs_notice *n = fs->notices;
		fs->notices = n->next;
		free(n);
	}
	fs->ntail = &fs->notices;
	pthread_mutex_unlock(&fs->nlock);
	return NULL;
}

int fs_notifier_start(struct fs *fs)
{
	fs->ntail = &fs->notices;
	/* Signals (SIGTERM, SIGINT: the end of the loop) are the main thread's. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&fs->nthread, NULL, notifier, fs);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -rc;
	fs->nstarted = true;
	int id = ws_subscribe(fs->ws, on_change, fs);
	if (id < 0)
		fs_log(LOG_ERR, "no change feed from the workspace (%s): events stays empty",
		       strerror(-id));
	else
		fs->subscription = id;
	return 0;
}

void fs_notifier_stop(struct fs *fs)
{
	if (fs->subscription > 0) {
		ws_unsubscribe(fs->ws, fs->subscription);
		fs->subscription = 0;
	}
	if (fs->nstarted) {
		pthread_mutex_lock(&fs->nlock);
		fs->nstop = true;
		pthread_cond_signal(&fs->ncond);
		pthread_mutex_unlock(&fs->nlock);
		pthread_join(fs->nthread, NULL);
		fs->nstarted = false;
	}
	pthread_mutex_lock(&fs->selflock);
	while (fs->seen) {
		struct fs_seen *e = fs->seen;
		fs->seen = e->next;
		free(e);
	}
	pthread_mutex_unlock(&fs->selflock);
}
