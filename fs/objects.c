/* images/, networks/, containers/ (and units/, groups/, a Swarm's services/ and nodes/): one
 * directory per object the workspace lists (whoever made it), holding rendered files. A
 * rendered file is snapshotted at open into the file handle (lxcfs), so all reads of one open
 * see the same bytes; its st_size is the size of a real rendering, at most FS_SIZE_TTL_NS old
 * (and forgotten at every change of the object, by the notifier). rmdir removes the object
 * (and the card that made it); unlinking the files inside is accepted and does nothing, so
 * that `rm -rf` works. Containers also have follow and wait (streams, follow.c) and ctl
 * (commands, ctl.c), and their logs stay live while open; so do a Swarm's services (all their
 * tasks' output; no wait).
 *
 * The notifier's own mkdir and rmdir (notify.c: how inotify watchers hear of objects that
 * come and go) are answered here without acting. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

struct child {
	const char *name;
	enum fs_type type;
	int file;
};

static const struct child image_children[] = {
    {"status", FS_OBJFILE, FS_F_STATUS},
    {"id", FS_OBJFILE, FS_F_ID},
    {"log", FS_OBJFILE, FS_F_LOG},
    {"inspect.json", FS_OBJFILE, FS_F_INSPECT},
    {"image.tar", FS_OBJFILE, FS_F_TAR},
    {"card", FS_OBJCARD, 0},
};
static const struct child network_children[] = {
    {"status", FS_OBJFILE, FS_F_STATUS},
    {"id", FS_OBJFILE, FS_F_ID},
    {"inspect.json", FS_OBJFILE, FS_F_INSPECT},
    {"card", FS_OBJCARD, 0},
};
static const struct child container_children[] = {
    {"status", FS_OBJFILE, FS_F_STATUS},
    {"id", FS_OBJFILE, FS_F_ID},
    {"logs", FS_OBJFILE, FS_F_LOGS},
    {"inspect.json", FS_OBJFILE, FS_F_INSPECT},
    {"follow", FS_OBJFILE, FS_F_FOLLOW},
    {"ctl", FS_OBJFILE, FS_F_CTL},
    {"wait", FS_OBJFILE, FS_F_WAIT},
    {"card", FS_OBJCARD, 0},
    /* A foreign container's: the cards that take it over, copied into cards/. */
    {"card", FS_OBJFILE, FS_F_ADOPT_CARD},
    {"image-card", FS_OBJFILE, FS_F_ADOPT_IMAGE},
    {"network-card", FS_OBJFILE, FS_F_ADOPT_NETWORK},
};

/* Units and groups: their state, what up would do, and the ctl that does it. */
static const struct child group_children[] = {
    {"status", FS_OBJFILE, FS_F_STATUS},
    {"plan", FS_OBJFILE, FS_F_PLAN},
    {"ctl", FS_OBJFILE, FS_F_CTL},
    {"card", FS_OBJCARD, 0},
};

static const struct child service_children[] = {
    {"status", FS_OBJFILE, FS_F_STATUS},
    {"id", FS_OBJFILE, FS_F_ID},
    {"tasks", FS_OBJFILE, FS_F_TASKS},
    {"logs", FS_OBJFILE, FS_F_LOGS},
    {"inspect.json", FS_OBJFILE, FS_F_INSPECT},
    {"follow", FS_OBJFILE, FS_F_FOLLOW},
    {"ctl", FS_OBJFILE, FS_F_CTL},
    {"card", FS_OBJCARD, 0},
};
static const struct child node_children[] = {
    {"status", FS_OBJFILE, FS_F_STATUS},
    {"id", FS_OBJFILE, FS_F_ID},
    {"inspect.json", FS_OBJFILE, FS_F_INSPECT},
    {"ctl", FS_OBJFILE, FS_F_CTL},
};

static const struct child *children(enum ws_kind kind, size_t *count)
{
	switch (kind) {
	case WS_SERVICE:
		*count = sizeof(service_children) / sizeof(service_children[0]);
		return service_children;
	case WS_NODE:
		*count = sizeof(node_children) / sizeof(node_children[0]);
		return node_children;
	case WS_UNIT:
	case WS_GROUP:
		*count = sizeof(group_children) / sizeof(group_children[0]);
		return group_children;
	case WS_IMAGE:
		*count = sizeof(image_children) / sizeof(image_children[0]);
		return image_children;
	case WS_NETWORK:
		*count = sizeof(network_children) / sizeof(network_children[0]);
		return network_children;
	default:
		*count = sizeof(container_children) / sizeof(container_children[0]);
		return container_children;
	}
}

const char *fs_obj_child_name(enum ws_kind kind, size_t i)
{
	size_t count;
	const struct child *c = children(kind, &count);
	return i < count ? c[i].name : NULL;
}

fuse_ino_t fs_obj_root(enum ws_kind kind)
{
	switch (kind) {
	case WS_IMAGE:
		return FS_INO_IMAGES;
	case WS_NETWORK:
		return FS_INO_NETWORKS;
	case WS_SERVICE:
		return FS_INO_SERVICES;
	case WS_NODE:
		return FS_INO_NODES;
	case WS_UNIT:
		return FS_INO_UNITS;
	case WS_GROUP:
		return FS_INO_GROUPS;
	default:
		return FS_INO_CONTAINERS;
	}
}

/* How long the kernel may keep a node's attributes. Long where every change comes with a
 * workspace change that the notifier turns into an invalidation: the directories of
 * containers and networks (their mtime is the object's last change), the id of a container
 * or network (a new one is a new object, a new node), and their rendered files too, since
 * every open renders again and drops the attributes when the rendering changed (cache.c): a
 * status that says the engine is unreachable, which is no change of the object, shows at the
 * next cat, though `stat` alone may give the old size until then. Images follow their cards,
 * whose tags may move without a change of the card. */
static double attr_timeout(const struct fs_node *n)
{
	bool followed = n->kind == WS_CONTAINER || n->kind == WS_NETWORK;
	if (n->type == FS_OBJDIR)
		return followed ? FS_TIMEOUT_OBJECT : FS_TIMEOUT_DYNAMIC;
	if (n->type != FS_OBJFILE)
		return FS_TIMEOUT_DYNAMIC; /* card: its target follows renames in cards/ */
	switch (n->file) {
	case FS_F_ID:
	case FS_F_STATUS:
	case FS_F_INSPECT:
		return followed ? FS_TIMEOUT_OBJECT : FS_TIMEOUT_DYNAMIC;
	case FS_F_FOLLOW:
	case FS_F_CTL:
	case FS_F_TASKS:
	case FS_F_WAIT:
	case FS_F_PLAN:
		return FS_TIMEOUT_DYNAMIC;
	default:
		return FS_TIMEOUT_NONE; /* log, logs: they grow (tail -f polls the size) */
	}
}

/* Whether an object has this child: `card` only when a card made the object, an image's `log`
 * when it has one (of its card's pull or build, or of the load that made it). A container
 * someone else made has rendered cards instead (the link to a card of its name that could not
 * take it over would hide them); network-card when it is on a user network. */
static bool has_child(enum ws_kind kind, const struct child *c, const struct ws_object *obj)
{
	bool foreign = kind == WS_CONTAINER && !obj->managed && obj->id[0];
	if (c->type == FS_OBJFILE && (c->file == FS_F_ADOPT_CARD || c->file == FS_F_ADOPT_IMAGE ||
				      c->file == FS_F_ADOPT_NETWORK))
		return foreign && (c->file != FS_F_ADOPT_NETWORK || obj->user_net);
	if (c->type == FS_OBJCARD)
		return obj->card[0] && !foreign;
	return c->file != FS_F_LOG || obj->card[0] || obj->log;
}

/* The child called name of an object directory, if it has one. */
static const struct child *find_child(enum ws_kind kind, const struct ws_object *obj,
				      const char *name)
{
	size_t count;
	const struct child *c = children(kind, &count);
	for (size_t i = 0; i < count; i++)
		if (strcmp(c[i].name, name) == 0 && has_child(kind, &c[i], obj))
			return &c[i];
	return NULL;
}

/* A container's `card`, `image-card`, `network-card`: they change when a card takes the
 * container over (a rendered file becomes the link). */
static bool adoptable(enum ws_kind kind, const struct child *c)
{
	return kind == WS_CONTAINER &&
	       (c->type == FS_OBJCARD || (c->type == FS_OBJFILE && c->file >= FS_F_ADOPT_CARD));
}

static bool adoptable_name(enum ws_kind kind, const char *name)
{
	size_t count;
	const struct child *c = children(kind, &count);
	for (size_t i = 0; i < count; i++)
		if (strcmp(c[i].name, name) == 0 && adoptable(kind, &c[i]))
			return true;
	return false;
}

/* An object directory's object as the workspace has it now, into n->obj and *obj (what n had
 * when the workspace has none: gone, or the engine unreachable). */
static int refresh_dir(struct fs *fs, struct fs_node *n, struct ws_object *obj)
{
	pthread_mutex_lock(&fs->lock);
	*obj = n->obj;
	pthread_mutex_unlock(&fs->lock);
	int rc = ws_lookup(fs->ws, n->kind, obj->name, obj);
	if (rc == 0) {
		pthread_mutex_lock(&fs->lock);
		n->obj = *obj;
		pthread_mutex_unlock(&fs->lock);
	}
	return rc;
}

int fs_obj_parent(struct fs *fs, const struct fs_node *n, struct ws_object *obj)
{
	pthread_mutex_lock(&fs->lock);
	struct fs_node *d = fs_node_locked(fs, n->parent);
	if (d && d->type == FS_OBJDIR)
		*obj = d->obj;
	pthread_mutex_unlock(&fs->lock);
	return d && d->type == FS_OBJDIR ? 0 : -ENOENT;
}

/* The same, asked again: for `card`, whose target moves when its card is renamed. */
static int fresh_object(struct fs *fs, const struct fs_node *n, struct ws_object *obj)
{
	int rc = fs_obj_parent(fs, n, obj);
	if (rc < 0)
		return rc;
	struct ws_object now;
	if (ws_lookup(fs->ws, n->kind, obj->name, &now) != 0)
		return 0; /* gone or unreachable: what we had is all there is */
	pthread_mutex_lock(&fs->lock);
	struct fs_node *d = fs_node_locked(fs, n->parent);
	if (d && d->type == FS_OBJDIR && strcmp(d->obj.name, now.name) == 0)
		d->obj = now;
	pthread_mutex_unlock(&fs->lock);
	*obj = now;
	return 0;
}

static int render(struct fs *fs, enum ws_kind kind, const char *name, int file, char **text,
		  size_t *len)
{
	switch (file) {
	case FS_F_STATUS:
		return ws_status(fs->ws, kind, name, text, len);
	case FS_F_LOG:
		return ws_image_log(fs->ws, name, text, len);
	case FS_F_INSPECT:
		return ws_inspect(fs->ws, kind, name, text, len);
	case FS_F_TASKS:
		return ws_service_tasks(fs->ws, name, text, len);
	case FS_F_PLAN:
		return ws_group_plan(fs->ws, kind, name, text, len);
	case FS_F_ADOPT_CARD:
		return ws_adopt_card(fs->ws, name, CARD_CONTAINER, text, len);
	case FS_F_ADOPT_IMAGE:
		return ws_adopt_card(fs->ws, name, CARD_IMAGE, text, len);
	case FS_F_ADOPT_NETWORK:
		return ws_adopt_card(fs->ws, name, CARD_NETWORK, text, len);
	case FS_F_ID: {
		struct ws_object obj;
		int rc = ws_lookup(fs->ws, kind, name, &obj);
		if (rc < 0)
			return rc;
		/* Empty while pending: there is no id yet. */
		int n = asprintf(text, "%s%s", obj.id, obj.id[0] ? "\n" : "");
		if (n < 0)
			return -ENOMEM;
		*len = (size_t)n;
		return 0;
	}
	}
	return -EIO;
}

static void remember_size(struct fs *fs, struct fs_node *n, size_t len)
{
	pthread_mutex_lock(&fs->lock);
	n->size = len;
	n->size_valid = true;
	clock_gettime(CLOCK_MONOTONIC, &n->size_at);
	pthread_mutex_unlock(&fs->lock);
}

/* st_size of a rendered file: the last rendering's if recent, else a new rendering's. Never
 * made up: with direct_io the kernel reads what there is anyway, but `ls -l`, `stat` and
 * `wc -c` should see the truth. */
static int file_size(struct fs *fs, struct fs_node *n, const char *name, size_t *size)
{
	if (n->file == FS_F_FOLLOW || n->file == FS_F_CTL || n->file == FS_F_LOGS ||
	    n->file == FS_F_WAIT || n->file == FS_F_TAR) {
		/* A stream, commands, and a log not open (logs.c: the engine is asked once per
		 * open, and a stat is not worth a whole log), an image's archive (known at its
		 * end): nothing to stat. */
		*size = 0;
		return 0;
	}
	bool live = n->file == FS_F_LOG; /* it grows as it is read (imagelog.c) */
	/* Open now: the kernel's reads give that rendering. */
	if (!live && fs_cached_size(fs, n, size))
		return 0;
	pthread_mutex_lock(&fs->lock);
	bool fresh = !live && n->size_valid && fs_elapsed_ns(&n->size_at) < FS_SIZE_TTL_NS;
	*size = n->size;
	pthread_mutex_unlock(&fs->lock);
	if (fresh)
		return 0;
	char *text = NULL;
	size_t len = 0;
	int rc = render(fs, n->kind, name, n->file, &text, &len);
	free(text);
	if (rc < 0)
		return rc;
	remember_size(fs, n, len);
	*size = len;
	return 0;
}

static int card_target(const struct ws_object *obj, char *buf, size_t len)
{
	int n = snprintf(buf, len, "../../cards/%s", obj->card);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Attributes of an object directory or of something in one. */
static int obj_stat(struct fs *fs, struct fs_node *n, const struct ws_object *obj, struct stat *st)
{
	size_t size = 0;
	if (n->type == FS_OBJFILE && n->file == FS_F_LOGS) {
		/* Open now: all of it once the engine's answer has ended, growing (tail -f). */
		fs_attr_virtual(fs, n, 0, obj->changed, st);
		if (fs_logs_attr(fs, n->ino, st))
			return 0;
	}
	if (n->type == FS_OBJFILE) {
		int rc = file_size(fs, n, obj->name, &size);
		if (rc < 0)
			return rc;
	} else if (n->type == FS_OBJCARD) {
		char target[1024];
		if (card_target(obj, target, sizeof(target)) == 0)
			size = strlen(target);
	}
	fs_attr_virtual(fs, n, size, obj->changed, st);
	return 0;
}

/* The node for an object as just listed or looked up, counting a lookup. The same name with
 * another id is another object (removed and created again): it gets a new node, so that
 * nothing cached about the old one applies to it. */
static int dir_entry(struct fs *fs, fuse_ino_t root, enum ws_kind kind, const struct ws_object *obj,
		     struct fuse_entry_param *e)
{
	pthread_mutex_lock(&fs->lock);
	struct fs_node *n = fs_child_locked(fs, root, obj->name);
	if (!n || n->type != FS_OBJDIR ||
	    (n->obj.id[0] && obj->id[0] && strcmp(n->obj.id, obj->id) != 0)) {
		n = fs_node_new_locked(fs, root, obj->name, FS_OBJDIR);
		if (!n) {
			pthread_mutex_unlock(&fs->lock);
			return -ENOMEM;
		}
		n->kind = kind;
	}
	n->obj = *obj;
	fs_ref_locked(n);
	fs_entry_init(e, n, kind == WS_IMAGE ? FS_TIMEOUT_DYNAMIC : FS_TIMEOUT_OBJECT,
		      attr_timeout(n));
	fs_attr_virtual(fs, n, 0, obj->changed, &e->attr);
	pthread_mutex_unlock(&fs->lock);
	return 0;
}

static int child_entry(struct fs *fs, struct fs_node *dir, const struct child *c,
		       struct fuse_entry_param *e)
{
	pthread_mutex_lock(&fs->lock);
	struct ws_object obj = dir->obj;
	struct fs_node *n = fs_child_locked(fs, dir->ino, c->name);
	if (!n || n->type != c->type) {
		n = fs_node_new_locked(fs, dir->ino, c->name, c->type);
		if (!n) {
			pthread_mutex_unlock(&fs->lock);
			return -ENOMEM;
		}
		n->kind = dir->kind;
		n->file = c->file;
	}
	fs_ref_locked(n);
	pthread_mutex_unlock(&fs->lock);

	/* Rendering happens unlocked; the lookup counted above keeps the node. */
	int rc = obj_stat(fs, n, &obj, &e->attr);
	if (rc < 0) {
		fs_forget(fs, n->ino, 1);
		return rc;
	}
	struct stat st = e->attr;
	/* The names in an object directory are fixed for its life (a new object of the same
	 * name gets a new directory node), but a container's cards. */
	fs_entry_init(e, n, adoptable(n->kind, c) ? FS_TIMEOUT_NONE : FS_TIMEOUT_FIXED,
		      attr_timeout(n));
	e->attr = st;
	return 0;
}

/* The notifier's rmdir of a name that left (notify.c): the node the kernel may still know, or
 * a stand-in with no name in the table, so that the rmdir reaches us. Counts a lookup. */
static int gone_entry(struct fs *fs, struct fs_node *root, const struct fs_selfop *op,
		      struct fuse_entry_param *e)
{
	pthread_mutex_lock(&fs->lock);
	struct fs_node *n = op->ino ? fs_node_locked(fs, op->ino) : NULL;
	if (!n || n->type != FS_OBJDIR) {
		n = fs_node_orphan_locked(fs, root->ino, op->name, FS_OBJDIR);
		if (!n) {
			pthread_mutex_unlock(&fs->lock);
			return -ENOMEM;
		}
		n->kind = root->kind;
		snprintf(n->obj.name, sizeof(n->obj.name), "%s", op->name);
		fs_ref_locked(n);
	} else {
		fs_ref_locked(n);
	}
	fs_entry_init(e, n, FS_TIMEOUT_NONE, FS_TIMEOUT_NONE);
	fs_attr_virtual(fs, n, 0, n->obj.changed, &e->attr);
	pthread_mutex_unlock(&fs->lock);
	return 0;
}

void fs_obj_lookup(fuse_req_t req, struct fs_node *parent, const char *name)
{
	struct fs *fs = fs_of(req);
	struct fuse_entry_param e;
	struct fs_selfop op;
	int rc;
	if (parent->type == FS_OBJROOT && fs_self_request(req, parent->ino, name, &op)) {
		/* The notifier, through the mount: before its mkdir the name must not exist
		 * yet, before its rmdir it must still. */
		rc = op.op == FS_SELF_MKDIR ? -ENOENT : gone_entry(fs, parent, &op, &e);
	} else if (parent->type == FS_OBJROOT) {
		/* Not found is not cached: what a card makes must show up at once. */
		struct ws_object obj;
		rc = ws_lookup(fs->ws, parent->kind, name, &obj);
		if (rc == 0)
			rc = dir_entry(fs, parent->ino, parent->kind, &obj, &e);
	} else {
		struct ws_object now;
		/* Which of a container's cards it has is asked afresh: an adoption changes it. */
		if (adoptable_name(parent->kind, name))
			refresh_dir(fs, parent, &now);
		pthread_mutex_lock(&fs->lock);
		const struct child *c = find_child(parent->kind, &parent->obj, name);
		now = parent->obj;
		pthread_mutex_unlock(&fs->lock);
		/* An image's log may have come since its directory was looked up (a load that
		 * ended after the image showed): ask again before saying no. */
		if (!c && parent->kind == WS_IMAGE && refresh_dir(fs, parent, &now) == 0) {
			pthread_mutex_lock(&fs->lock);
			c = find_child(parent->kind, &parent->obj, name);
			pthread_mutex_unlock(&fs->lock);
		}
		rc = c ? child_entry(fs, parent, c, &e) : -ENOENT;
	}
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else if (fuse_reply_entry(req, &e) != 0)
		fs_forget(fs, e.ino, 1);
}

void fs_obj_getattr(fuse_req_t req, struct fs_node *n)
{
	struct fs *fs = fs_of(req);
	struct ws_object obj;
	struct stat st;
	int rc;
	if (n->type == FS_OBJDIR) {
		rc = refresh_dir(fs, n, &obj);
	} else if (n->type == FS_OBJCARD) {
		rc = fresh_object(fs, n, &obj);
	} else {
		rc = fs_obj_parent(fs, n, &obj);
	}
	if (rc == 0)
		rc = obj_stat(fs, n, &obj, &st);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, attr_timeout(n));
}

void fs_obj_readlink(fuse_req_t req, struct fs_node *n)
{
	struct ws_object obj;
	char target[1024];
	int rc = fresh_object(fs_of(req), n, &obj);
	if (rc == 0)
		rc = obj.card[0] ? card_target(&obj, target, sizeof(target)) : -ENOENT;
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_readlink(req, target);
}

void fs_obj_opendir(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct fs_dir d = {0};
	int rc = 0;
	if (n->type == FS_OBJROOT) {
		/* One list request for the whole listing, attributes included (readdirplus). */
		struct ws_object *objs = NULL;
		size_t count = 0;
		rc = ws_list(fs->ws, n->kind, &objs, &count);
		for (size_t i = 0; rc == 0 && i < count; i++) {
			pthread_mutex_lock(&fs->lock);
			struct fs_node *c = fs_child_locked(fs, n->ino, objs[i].name);
			fuse_ino_t ino = c ? c->ino : 0;
			pthread_mutex_unlock(&fs->lock);
			rc = fs_dir_add(&d, objs[i].name, ino, S_IFDIR, &objs[i]);
		}
		free(objs);
	} else {
		struct ws_object obj;
		refresh_dir(fs, n, &obj);
		size_t count;
		const struct child *c = children(n->kind, &count);
		for (size_t i = 0; rc == 0 && i < count; i++) {
			if (!has_child(n->kind, &c[i], &obj))
				continue;
			pthread_mutex_lock(&fs->lock);
			struct fs_node *cn = fs_child_locked(fs, n->ino, c[i].name);
			fuse_ino_t ino = cn ? cn->ino : 0;
			pthread_mutex_unlock(&fs->lock);
			rc = fs_dir_add(&d, c[i].name, ino,
					c[i].type == FS_OBJCARD ? S_IFLNK : S_IFREG, NULL);
		}
	}
	if (rc < 0) {
		fs_dir_free(&d);
		fuse_reply_err(req, -rc);
		return;
	}
	fs_reply_cached_opendir(req, n, fi, &d);
}

int fs_obj_plus(struct fs *fs, fuse_ino_t dir, const struct fs_dirent *de,
		struct fuse_entry_param *e)
{
	struct fs_node *n = fs_node(fs, dir);
	if (!n)
		return -ENOENT;
	/* Objects come with their attributes from the list. The files inside are rendered
	 * only when looked up: a plain `ls` should not fetch every container's logs. */
	if (n->type == FS_OBJROOT && de->obj)
		return dir_entry(fs, n->ino, n->kind, de->obj, e);
	return 1;
}

void fs_obj_open(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	if ((fi->flags & O_ACCMODE) != O_RDONLY && n->file != FS_F_CTL) {
		fuse_reply_err(req, EACCES);
		return;
	}
	struct ws_object obj;
	int rc = fs_obj_parent(fs, n, &obj);
	char *text = NULL;
	size_t len = 0;
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	switch (n->file) {
	case FS_F_FOLLOW:
		fs_follow_open(req, n, obj.name, fi);
		return;
	case FS_F_WAIT:
		fs_wait_open(req, n, obj.name, fi);
		return;
	case FS_F_CTL:
		fs_ctl_open(req, n, fi);
		return;
	case FS_F_LOGS:
		fs_logs_open(req, n, obj.name, fi);
		return;
	case FS_F_TAR:
		fs_imagetar_open(req, obj.name, fi);
		return;
	case FS_F_LOG:
		fs_imagelog_open(req, fi);
		return;
	default:
		rc = render(fs, n->kind, obj.name, n->file, &text, &len);
		break;
	}
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fs_reply_cached_open(req, n, fi, text, len);
}

void fs_obj_unlink(fuse_req_t req, struct fs_node *parent, const char *name)
{
	struct fs *fs = fs_of(req);
	/* `rm -rf containers/NAME` unlinks each file before the rmdir that does the work. */
	pthread_mutex_lock(&fs->lock);
	const struct child *c =
	    parent->type == FS_OBJDIR ? find_child(parent->kind, &parent->obj, name) : NULL;
	pthread_mutex_unlock(&fs->lock);
	if (parent->type == FS_OBJROOT)
		fuse_reply_err(req, EISDIR);
	else
		fuse_reply_err(req, c ? 0 : ENOENT);
}

void fs_obj_mkdir(fuse_req_t req, struct fs_node *parent, const char *name)
{
	struct fs *fs = fs_of(req);
	struct fs_selfop op;
	struct ws_object obj;
	struct fuse_entry_param e;
	if (parent->type != FS_OBJROOT || !fs_self_request(req, parent->ino, name, &op) ||
	    op.op != FS_SELF_MKDIR) {
		/* Objects are made by writing cards. */
		fuse_reply_err(req, EPERM);
		return;
	}
	/* The notifier's: the object exists already; the kernel now tells watchers. */
	int rc = ws_lookup(fs->ws, parent->kind, name, &obj);
	if (rc == 0)
		rc = dir_entry(fs, parent->ino, parent->kind, &obj, &e);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else if (fuse_reply_entry(req, &e) != 0)
		fs_forget(fs, e.ino, 1);
}

void fs_obj_rmdir(fuse_req_t req, struct fs_node *parent, const char *name)
{
	struct fs *fs = fs_of(req);
	struct fs_selfop op;
	if (parent->type != FS_OBJROOT) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (fs_self_request(req, parent->ino, name, &op) && op.op == FS_SELF_RMDIR) {
		/* The notifier's: the object is gone already; the kernel now tells watchers. */
		pthread_mutex_lock(&fs->lock);
		struct fs_node *n = fs_child_locked(fs, parent->ino, name);
		if (n && op.ino && n->ino == op.ino)
			fs_unhash_locked(fs, n);
		pthread_mutex_unlock(&fs->lock);
		fuse_reply_err(req, 0);
		return;
	}
	/* Which card made it, to drop the kernel's entry once the workspace deleted it. */
	struct ws_object obj;
	char card[sizeof(obj.card)] = "";
	if (ws_lookup(fs->ws, parent->kind, name, &obj) == 0)
		memcpy(card, obj.card, sizeof(card));
	int rc = ws_remove_object(fs->ws, parent->kind, name);
	if (rc == 0) {
		pthread_mutex_lock(&fs->lock);
		struct fs_node *n = fs_child_locked(fs, parent->ino, name);
		if (n)
			fs_unhash_locked(fs, n);
		pthread_mutex_unlock(&fs->lock);
		if (card[0])
			fs_cards_gone(fs, card);
		/* The kernel tells watchers of this rmdir itself. */
		fs_note_removed(fs, parent->ino, name);
	}
	fuse_reply_err(req, -rc);
}
