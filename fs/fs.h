/* cutipfs mount: what the fs/ modules share. The mount is a low-level FUSE filesystem; every
 * node the kernel knows lives in one inode table (inode.c). ops.c holds the one ops table and
 * dispatches on the node's type to the subtree modules: root.c (/, README, engine, errors),
 * cards.c (cards/, a passthrough to the workspace's card files) and objects.c (images/,
 * networks/, containers/). Everything engine-side goes through backends/workspace.h. */
#ifndef CUTIPFS_FS_FS_H
#define CUTIPFS_FS_FS_H

#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 12)

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "workspace.h"

/* A card (and any file in cards/) is at most this big: larger writes fail with EFBIG. */
#define FS_CARD_MAX (1024 * 1024)

/* Kernel cache lifetimes, in seconds. Fixed structure is trusted for long; anything the engine
 * decides is short-lived, and the attributes of rendered files are never cached (their size
 * changes with every rendering). */
#define FS_TIMEOUT_FIXED 60.0
#define FS_TIMEOUT_DYNAMIC 1.0
#define FS_TIMEOUT_NONE 0.0
/* Nothing in cards/ is cached by the kernel's dentry and attribute caches: a rename that
 * fails after it happened on disk (an invalid card) leaves the kernel's dentries as they were,
 * and the caller's next stat (mv does one) must see the truth at once, which no notification
 * from a handler can ensure. Lookups there cost one fstatat. */
#define FS_TIMEOUT_CARDS 0.0
/* How long the size of a rendering is reused by getattr before rendering again. */
#define FS_SIZE_TTL_NS 1000000000LL

enum fs_type {
	FS_ROOT,
	FS_README,
	FS_ENGINE,
	FS_ERRORS,
	FS_CARDS,   /* cards/ itself and everything in it: passed through to the disk */
	FS_OBJROOT, /* images/, networks/, containers/ */
	FS_OBJDIR,  /* images/<name>/, ... */
	FS_OBJFILE, /* status, id, log, logs, inspect.json */
	FS_OBJCARD, /* the `card` symlink */
};

enum fs_objfile { FS_F_STATUS, FS_F_ID, FS_F_LOG, FS_F_LOGS, FS_F_INSPECT };

/* Fixed inode numbers of the top of the tree; the table hands out the rest from FS_INO_FIRST. */
enum {
	FS_INO_ROOT = FUSE_ROOT_ID,
	FS_INO_README,
	FS_INO_ENGINE,
	FS_INO_ERRORS,
	FS_INO_CARDS,
	FS_INO_IMAGES,
	FS_INO_NETWORKS,
	FS_INO_CONTAINERS,
	FS_INO_FIRST = 16,
};

/* One node the kernel knows (or a fixed one). type, kind, file and ino never change, so a
 * handler may read them without the lock: the kernel sends no FORGET for an inode while a
 * request on it is in flight. */
struct fs_node {
	fuse_ino_t ino;
	uint64_t generation;
	enum fs_type type;
	enum ws_kind kind; /* FS_OBJ*: which of the three trees */
	int file;	   /* FS_OBJFILE: enum fs_objfile */
	bool pinned;	   /* fixed node: never freed */

	fuse_ino_t parent; /* protected by fs->lock (renames move nodes) */
	char *name;	   /* protected by fs->lock */
	uint64_t nlookup;  /* protected by fs->lock */
	bool hashed;	   /* protected by fs->lock: reachable by (parent, name) */

	/* FS_CARDS: identity of the file on disk, to notice one replaced behind our back. */
	dev_t dev;     /* protected by fs->lock */
	ino_t realino; /* protected by fs->lock */
	/* FS_CARDS regular file: written since the last commit. Per inode, not per open: bash
	 * writes through a dup of the fd it opened, and several fds may write one card. */
	bool dirty; /* protected by fs->lock */

	/* FS_OBJDIR: the object as last listed or looked up. */
	struct ws_object obj; /* protected by fs->lock */

	/* Rendered files: size of the last rendering and when it was taken (errors: for which
	 * generation), so that getattr does not render on every stat. */
	bool size_valid;	 /* protected by fs->lock */
	size_t size;		 /* protected by fs->lock */
	struct timespec size_at; /* protected by fs->lock */
	unsigned long size_gen;	 /* protected by fs->lock */
	time_t mtime;		 /* protected by fs->lock: errors, when it last changed */

	struct fs_node *ino_next;  /* protected by fs->lock */
	struct fs_node *name_next; /* protected by fs->lock */
};

/* The mount. One per process, created by main() and handed to fuse_session_new as userdata. */
struct fs {
	struct workspace *ws;
	struct engine *engine;
	int cards_fd; /* O_PATH|O_DIRECTORY on ws_cards_dir(): card paths are relative to it */
	uid_t uid;    /* owner of the virtual files: whoever mounted */
	gid_t gid;
	struct timespec started; /* mtime of the fixed nodes */
	struct fuse_session *se;

	pthread_mutex_t lock; /* the inode table and every field marked "protected by fs->lock" */
	struct fs_node **by_ino;  /* protected by fs->lock */
	struct fs_node **by_name; /* protected by fs->lock */
	size_t nbuckets;	  /* protected by fs->lock */
	size_t nnodes;		  /* protected by fs->lock */
	fuse_ino_t next_ino;	  /* protected by fs->lock */
	uint64_t next_gen;	  /* protected by fs->lock */

	/* Invalidations for the kernel, sent by the notifier thread only (never from a handler:
	 * README.notifications says that can deadlock). */
	pthread_mutex_t nlock;
	pthread_cond_t ncond;
	struct fs_notice *notices; /* protected by nlock */
	bool nstop;		   /* protected by nlock */
	bool nstarted;
	pthread_t nthread;
};

static inline struct fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* ---- inode.c: the table ---- */
int fs_table_init(struct fs *fs);
void fs_table_free(struct fs *fs);
/* The node of ino, or NULL when the kernel asks about one we forgot (stale). */
struct fs_node *fs_node(struct fs *fs, fuse_ino_t ino);
struct fs_node *fs_node_locked(struct fs *fs, fuse_ino_t ino);
/* Under fs->lock: the hashed child of parent called name, or NULL. */
struct fs_node *fs_child_locked(struct fs *fs, fuse_ino_t parent, const char *name);
/* Under fs->lock: a new hashed node (parent, name) of the given type, replacing (unhashing)
 * any node of that name. NULL when out of memory. */
struct fs_node *fs_node_new_locked(struct fs *fs, fuse_ino_t parent, const char *name,
				   enum fs_type type);
/* Under fs->lock: the node leaves its name (unlink, rmdir, replaced); it lives on until the
 * kernel forgets it. */
void fs_unhash_locked(struct fs *fs, struct fs_node *n);
/* Under fs->lock: moves a node to a new name (rename). */
int fs_move_locked(struct fs *fs, struct fs_node *n, fuse_ino_t parent, const char *name);
/* Counts one more kernel reference (each entry reply). */
void fs_ref_locked(struct fs_node *n);
void fs_forget(struct fs *fs, fuse_ino_t ino, uint64_t nlookup);

/* ---- util.c: replies, snapshots, directory listings, the notifier ---- */
/* A rendered file, taken at open and kept in fi->fh: every read of that open sees the same
 * bytes (lxcfs). */
struct fs_snap {
	char *buf;
	size_t len;
};
void fs_reply_snap_open(fuse_req_t req, struct fuse_file_info *fi, char *buf, size_t len);
void fs_snap_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi);
void fs_snap_release(fuse_req_t req, struct fuse_file_info *fi);

/* A directory listing, snapshotted at opendir into fi->fh so that a listing read in several
 * calls is consistent while things come and go. */
struct fs_dirent {
	char *name;
	fuse_ino_t ino;	       /* for d_ino; 0: not known */
	mode_t mode;	       /* S_IF* type bits */
	struct ws_object *obj; /* FS_OBJROOT listings: the object as listed */
};
struct fs_dir {
	struct fs_dirent *ents;
	size_t count, cap;
};
int fs_dir_add(struct fs_dir *d, const char *name, fuse_ino_t ino, mode_t mode,
	       const struct ws_object *obj);
void fs_dir_free(struct fs_dir *d);
void fs_reply_dir_open(fuse_req_t req, struct fuse_file_info *fi, struct fs_dir *d);
/* Builds the full entry of one listed name for readdirplus, counting a lookup; returns 1 when
 * the entry is given without attributes (e->ino = 0: no lookup counted), 0 when counted, or
 * -errno to give it without attributes too. */
typedef int (*fs_plus_fn)(struct fs *fs, fuse_ino_t dir, const struct fs_dirent *de,
			  struct fuse_entry_param *e);
void fs_dir_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi,
		 fs_plus_fn plus);

/* Attributes of a virtual node (not cards/). size is the caller's. */
void fs_attr_virtual(struct fs *fs, const struct fs_node *n, size_t size, time_t mtime,
		     struct stat *st);
void fs_entry_init(struct fuse_entry_param *e, const struct fs_node *n, double entry_timeout,
		   double attr_timeout);
long long fs_elapsed_ns(const struct timespec *since);

/* Invalidate the kernel's dentry parent/name and the parent's listing, from the notifier. */
void fs_notify_entry(struct fs *fs, fuse_ino_t parent, const char *name);
int fs_notifier_start(struct fs *fs);
void fs_notifier_stop(struct fs *fs);

/* ---- root.c: /, README, engine, errors ---- */
void fs_root_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_root_getattr(fuse_req_t req, struct fs_node *n);
void fs_root_setattr(fuse_req_t req, struct fs_node *n, struct stat *attr, int to_set,
		     struct fuse_file_info *fi);
void fs_root_opendir(fuse_req_t req, struct fuse_file_info *fi);
int fs_root_plus(struct fs *fs, fuse_ino_t dir, const struct fs_dirent *de,
		 struct fuse_entry_param *e);
void fs_root_open(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi);
void fs_root_write(fuse_req_t req, struct fs_node *n, const char *buf, size_t size);

/* ---- cards.c: cards/, a passthrough ---- */
void fs_cards_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_cards_getattr(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi);
void fs_cards_setattr(fuse_req_t req, struct fs_node *n, struct stat *attr, int to_set,
		      struct fuse_file_info *fi);
void fs_cards_readlink(fuse_req_t req, struct fs_node *n);
void fs_cards_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void fs_cards_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void fs_cards_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name);
void fs_cards_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_cards_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_cards_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		     const char *newname, unsigned int flags);
void fs_cards_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		     struct fuse_file_info *fi);
void fs_cards_open(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi);
void fs_cards_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi);
void fs_cards_write(fuse_req_t req, struct fs_node *n, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi);
void fs_cards_flush(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi);
void fs_cards_fsync(fuse_req_t req, struct fs_node *n, int datasync, struct fuse_file_info *fi);
void fs_cards_release(fuse_req_t req, struct fuse_file_info *fi);
void fs_cards_opendir(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi);
int fs_cards_plus(struct fs *fs, fuse_ino_t dir, const struct fs_dirent *de,
		  struct fuse_entry_param *e);
/* Attributes of a node in cards/ from the file on disk, with our inode number. */
int fs_cards_stat(struct fs *fs, struct fs_node *n, struct stat *st);
/* The workspace deleted the card file at relpath (rmdir of what it made): forget its name. */
void fs_cards_gone(struct fs *fs, const char *relpath);

/* ---- objects.c: images/, networks/, containers/ ---- */
void fs_obj_lookup(fuse_req_t req, struct fs_node *parent, const char *name);
void fs_obj_getattr(fuse_req_t req, struct fs_node *n);
void fs_obj_readlink(fuse_req_t req, struct fs_node *n);
void fs_obj_opendir(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi);
int fs_obj_plus(struct fs *fs, fuse_ino_t dir, const struct fs_dirent *de,
		struct fuse_entry_param *e);
void fs_obj_open(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi);
void fs_obj_unlink(fuse_req_t req, struct fs_node *parent, const char *name);
void fs_obj_rmdir(fuse_req_t req, struct fs_node *parent, const char *name);

/* ---- ops.c ---- */
extern const struct fuse_lowlevel_ops fs_ops;

#endif
