/* The inode table: ino -> node, and (parent ino, name) -> node for the names that still exist.
 *
 * Numbers are never reused within a mount: a name taken by a new object (a container recreated
 * with a new id, a card file replaced behind our back) gets a new node and ino, and the old one
 * lives on, nameless, until the kernel forgets it (its requests then fail with ENOENT). A node
 * lives while the kernel holds lookups on it (every entry reply counts one, FORGET drops them)
 * or while it is one of the fixed nodes at the top. A node of cards/ is also found by the file
 * on disk it holds open (by_real), so that every name of one file is one inode, as on disk. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"

static size_t hash_ino(fuse_ino_t ino, size_t nbuckets)
{
	return (size_t)((ino * 0x9E3779B97F4A7C15ULL) >> 17) % nbuckets;
}

static size_t hash_name(fuse_ino_t parent, const char *name, size_t nbuckets)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ parent;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	return (size_t)(h % nbuckets);
}

static size_t hash_real(dev_t dev, ino_t ino, size_t nbuckets)
{
	return (size_t)(((uint64_t)ino * 0x9E3779B97F4A7C15ULL ^ (uint64_t)dev) >> 17) % nbuckets;
}

static void link_real(struct fs *fs, struct fs_node *n)
{
	size_t b = hash_real(n->dev, n->realino, fs->nbuckets);
	n->real_next = fs->by_real[b];
	fs->by_real[b] = n;
}

static void unlink_real(struct fs *fs, struct fs_node *n)
{
	struct fs_node **pp = &fs->by_real[hash_real(n->dev, n->realino, fs->nbuckets)];
	for (; *pp; pp = &(*pp)->real_next) {
		if (*pp == n) {
			*pp = n->real_next;
			break;
		}
	}
}

static void link_ino(struct fs *fs, struct fs_node *n)
{
	size_t b = hash_ino(n->ino, fs->nbuckets);
	n->ino_next = fs->by_ino[b];
	fs->by_ino[b] = n;
}

static void link_name(struct fs *fs, struct fs_node *n)
{
	size_t b = hash_name(n->parent, n->name, fs->nbuckets);
	n->name_next = fs->by_name[b];
	fs->by_name[b] = n;
	n->hashed = true;
}

static void unlink_name(struct fs *fs, struct fs_node *n)
{
	struct fs_node **pp = &fs->by_name[hash_name(n->parent, n->name, fs->nbuckets)];
	for (; *pp; pp = &(*pp)->name_next) {
		if (*pp == n) {
			*pp = n->name_next;
			break;
		}
	}
	n->name_next = NULL;
	n->hashed = false;
}

static void unlink_ino(struct fs *fs, struct fs_node *n)
{
	struct fs_node **pp = &fs->by_ino[hash_ino(n->ino, fs->nbuckets)];
	for (; *pp; pp = &(*pp)->ino_next) {
		if (*pp == n) {
			*pp = n->ino_next;
			break;
		}
	}
}

static void node_free(struct fs_node *n)
{
	if (n->fd >= 0)
		close(n->fd);
	free(n->cache_buf);
	free(n->name);
	free(n);
}

/* Doubles the buckets when the chains get long; keeps going (slower) if memory is short. */
static void grow(struct fs *fs)
{
	size_t nb = fs->nbuckets * 2;
	struct fs_node **bi = calloc(nb, sizeof(*bi));
	struct fs_node **bn = calloc(nb, sizeof(*bn));
	struct fs_node **br = calloc(nb, sizeof(*br));
	if (!bi || !bn || !br) {
		free(bi);
		free(bn);
		free(br);
		return;
	}
	struct fs_node **oi = fs->by_ino, **on = fs->by_name, **orl = fs->by_real;
	size_t ob = fs->nbuckets;
	fs->by_ino = bi;
	fs->by_name = bn;
	fs->by_real = br;
	fs->nbuckets = nb;
	for (size_t i = 0; i < ob; i++) {
		struct fs_node *n = oi[i];
		while (n) {
			struct fs_node *next = n->ino_next;
			link_ino(fs, n);
			if (n->hashed)
				link_name(fs, n);
			if (n->fd >= 0)
				link_real(fs, n);
			n = next;
		}
	}
	/* The old name and file buckets held the same nodes, relinked above. */
	free(oi);
	free(on);
	free(orl);
}

static struct fs_node *alloc_node(struct fs *fs, fuse_ino_t ino, fuse_ino_t parent,
				  const char *name, enum fs_type type)
{
	struct fs_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->name = strdup(name);
	if (!n->name) {
		free(n);
		return NULL;
	}
	n->ino = ino;
	n->fd = -1;
	n->generation = ++fs->next_gen;
	n->type = type;
	n->parent = parent;
	link_ino(fs, n);
	link_name(fs, n);
	fs->nnodes++;
	return n;
}

static const struct {
	fuse_ino_t ino;
	const char *name;
	enum fs_type type;
	enum ws_kind kind;
} fixed[] = {
    {FS_INO_ROOT, "", FS_ROOT, WS_IMAGE},
    {FS_INO_README, "README", FS_README, WS_IMAGE},
    {FS_INO_ENGINE, "engine", FS_ENGINE, WS_IMAGE},
    {FS_INO_ERRORS, "errors", FS_ERRORS, WS_IMAGE},
    {FS_INO_CARDS, "cards", FS_CARDS, WS_IMAGE},
    {FS_INO_IMAGES, "images", FS_OBJROOT, WS_IMAGE},
    {FS_INO_NETWORKS, "networks", FS_OBJROOT, WS_NETWORK},
    {FS_INO_CONTAINERS, "containers", FS_OBJROOT, WS_CONTAINER},
    {FS_INO_EVENTS, "events", FS_EVENTS, WS_IMAGE},
    {FS_INO_SERVICES, "services", FS_OBJROOT, WS_SERVICE},
    {FS_INO_NODES, "nodes", FS_OBJROOT, WS_NODE},
    {FS_INO_UNITS, "units", FS_OBJROOT, WS_UNIT},
    {FS_INO_GROUPS, "groups", FS_OBJROOT, WS_GROUP},
};

int fs_table_init(struct fs *fs)
{
	fs->nbuckets = 1024;
	fs->by_ino = calloc(fs->nbuckets, sizeof(*fs->by_ino));
	fs->by_name = calloc(fs->nbuckets, sizeof(*fs->by_name));
	fs->by_real = calloc(fs->nbuckets, sizeof(*fs->by_real));
	if (!fs->by_ino || !fs->by_name || !fs->by_real)
		return -ENOMEM;
	fs->next_ino = FS_INO_FIRST;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		/* The root is its own parent under the empty name: nothing can look that up. */
		fuse_ino_t parent = fixed[i].ino == FS_INO_ROOT ? 0 : FS_INO_ROOT;
		struct fs_node *n =
		    alloc_node(fs, fixed[i].ino, parent, fixed[i].name, fixed[i].type);
		if (!n)
			return -ENOMEM;
		n->kind = fixed[i].kind;
		n->pinned = true;
	}
	return 0;
}

void fs_table_free(struct fs *fs)
{
	for (size_t i = 0; fs->by_ino && i < fs->nbuckets; i++) {
		struct fs_node *n = fs->by_ino[i];
		while (n) {
			struct fs_node *next = n->ino_next;
			node_free(n);
			n = next;
		}
	}
	free(fs->by_ino);
	free(fs->by_name);
	free(fs->by_real);
	fs->by_ino = fs->by_name = fs->by_real = NULL;
}

struct fs_node *fs_node_locked(struct fs *fs, fuse_ino_t ino)
{
	struct fs_node *n = fs->by_ino[hash_ino(ino, fs->nbuckets)];
	while (n && n->ino != ino)
		n = n->ino_next;
	return n;
}

struct fs_node *fs_node(struct fs *fs, fuse_ino_t ino)
{
	pthread_mutex_lock(&fs->lock);
	struct fs_node *n = fs_node_locked(fs, ino);
	pthread_mutex_unlock(&fs->lock);
	return n;
}

struct fs_node *fs_child_locked(struct fs *fs, fuse_ino_t parent, const char *name)
{
	struct fs_node *n = fs->by_name[hash_name(parent, name, fs->nbuckets)];
	while (n && (n->parent != parent || strcmp(n->name, name) != 0))
		n = n->name_next;
	return n;
}

/* A node nobody references and nobody can reach by name is gone. */
static void maybe_free_locked(struct fs *fs, struct fs_node *n)
{
	if (n->pinned || n->nlookup > 0)
		return;
	if (n->hashed)
		unlink_name(fs, n);
	if (n->fd >= 0)
		unlink_real(fs, n);
	unlink_ino(fs, n);
	fs->nnodes--;
	node_free(n);
}

struct fs_node *fs_node_new_locked(struct fs *fs, fuse_ino_t parent, const char *name,
				   enum fs_type type)
{
	struct fs_node *old = fs_child_locked(fs, parent, name);
	if (old)
		fs_unhash_locked(fs, old);
	if (fs->nnodes > 2 * fs->nbuckets)
		grow(fs);
	return alloc_node(fs, fs->next_ino++, parent, name, type);
}

struct fs_node *fs_real_locked(struct fs *fs, dev_t dev, ino_t ino)
{
	struct fs_node *n = fs->by_real[hash_real(dev, ino, fs->nbuckets)];
	while (n && (n->dev != dev || n->realino != ino))
		n = n->real_next;
	return n;
}

struct fs_node *fs_real_new_locked(struct fs *fs, fuse_ino_t parent, const char *name, int fd,
				   const struct stat *st)
{
	struct fs_node *n = fs_node_new_locked(fs, parent, name, FS_CARDS);
	if (!n)
		return NULL;
	n->fd = fd;
	n->dev = st->st_dev;
	n->realino = st->st_ino;
	n->ftype = st->st_mode & S_IFMT;
	link_real(fs, n);
	return n;
}

struct fs_node *fs_node_orphan_locked(struct fs *fs, fuse_ino_t parent, const char *name,
				      enum fs_type type)
{
	if (fs->nnodes > 2 * fs->nbuckets)
		grow(fs);
	struct fs_node *n = alloc_node(fs, fs->next_ino++, parent, name, type);
	if (n)
		unlink_name(fs, n);
	return n;
}

void fs_unhash_locked(struct fs *fs, struct fs_node *n)
{
	if (n->pinned)
		return;
	if (n->hashed)
		unlink_name(fs, n);
	maybe_free_locked(fs, n);
}

int fs_move_locked(struct fs *fs, struct fs_node *n, fuse_ino_t parent, const char *name)
{
	char *copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	struct fs_node *old = fs_child_locked(fs, parent, name);
	if (old && old != n)
		fs_unhash_locked(fs, old);
	if (n->hashed)
		unlink_name(fs, n);
	free(n->name);
	n->name = copy;
	n->parent = parent;
	link_name(fs, n);
	return 0;
}

void fs_ref_locked(struct fs_node *n)
{
	n->nlookup++;
}

void fs_forget(struct fs *fs, fuse_ino_t ino, uint64_t nlookup)
{
	pthread_mutex_lock(&fs->lock);
	struct fs_node *n = fs_node_locked(fs, ino);
	if (n) {
		n->nlookup = n->nlookup > nlookup ? n->nlookup - nlookup : 0;
		maybe_free_locked(fs, n);
	}
	pthread_mutex_unlock(&fs->lock);
}
