/* cutipfs mount: what the fs/ modules share. The mount is a low-level FUSE filesystem; every
 * node the kernel knows lives in one inode table (inode.c). ops.c holds the one ops table and
 * dispatches on the node's type to the subtree modules: root.c (/, README, engine, errors),
 * cards.c and cards-names.c (cards/, a passthrough to the workspace's card files, with
 * cred.c to create as the caller and xattr.c for extended attributes), objects.c (images/,
 * networks/, containers/), events.c (the events file), follow.c (containers/NAME/follow),
 * logs.c (containers/NAME/logs, streamed), ctl.c (containers/NAME/ctl). stream.c parks the
 * reads of stream files; notify.c is the one thread that tells the kernel about changes;
 * cache.c decides what the kernel may keep of rendered files and listings. Everything
 * engine-side goes through backends/workspace.h. */
#ifndef CUTIPFS_FS_FS_H
#define CUTIPFS_FS_FS_H

#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 12)

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

#include "workspace.h"

/* A card file is at most this big: larger writes and truncates fail with EFBIG. Other files
 * in cards/ are as large as the disk lets them be. */
#define FS_CARD_MAX (1024 * 1024)

/* Kernel cache lifetimes, in seconds. Fixed structure is trusted for long. What the engine
 * decides is trusted for long too where the notifier (notify.c) invalidates it on every change
 * the workspace reports (FS_TIMEOUT_OBJECT: the directories of containers and networks, their
 * ids); short where a change may come without one (status, inspect.json,
 * images), and never for files whose size moves on its own (logs, errors, engine). */
#define FS_TIMEOUT_FIXED 60.0
#define FS_TIMEOUT_OBJECT 60.0
#define FS_TIMEOUT_DYNAMIC 1.0
#define FS_TIMEOUT_NONE 0.0
/* Nothing in cards/ is cached by the kernel's dentry and attribute caches: a rename that
 * fails after it happened on disk (an invalid card) leaves the kernel's dentries as they were,
 * and the caller's next stat (mv does one) must see the truth at once, which no notification
 * from a handler can ensure. Lookups there cost one fstatat. */
#define FS_TIMEOUT_CARDS 0.0
/* Worker threads of the loop unless -o max_threads= says otherwise. */
#define FS_MAX_THREADS 64
/* The largest read and write request (ops.c, main.c): libfuse's largest buffer, 256 pages. */
#define FS_MAX_IO (1024 * 1024)

/* The digest of a rendering or listing (SHA-256): what the kernel may keep (cache.c). */
#define FS_DIGEST_LEN 32

/* How long the size of a rendering is reused by getattr before rendering again. */
#define FS_SIZE_TTL_NS 1000000000LL

enum fs_type {
	FS_ROOT,
	FS_README,
	FS_ENGINE,
	FS_ERRORS,
	FS_EVENTS,  /* the events stream */
	FS_CARDS,   /* cards/ itself and everything in it: passed through to the disk */
	FS_OBJROOT, /* images/, networks/, containers/, units/, groups/, services/, nodes/ */
	FS_OBJDIR,  /* images/<name>/, ... */
	FS_OBJFILE, /* status, id, log, logs, inspect.json, follow, ctl, tasks, wait, and a
		       foreign container's card, image-card, network-card */
	FS_OBJCARD, /* the `card` symlink */
	FS_IMGLOAD, /* an archive being written into images/ (imageload.c): no name reaches it */
};

enum fs_objfile {
	FS_F_STATUS,
	FS_F_ID,
	FS_F_LOG,
	FS_F_LOGS,
	FS_F_INSPECT,
	FS_F_FOLLOW,
	FS_F_CTL,
	FS_F_TASKS,
	FS_F_WAIT,
	FS_F_PLAN, /* units/NAME/plan, groups/NAME/plan */
	FS_F_TAR,  /* images/NAME/image.tar (imagetar.c) */
	FS_F_ADOPT_CARD, /* the cards that adopt a foreign container (backends/adopt.c) */
	FS_F_ADOPT_IMAGE,
	FS_F_ADOPT_NETWORK,
};

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
	FS_INO_EVENTS,
	FS_INO_SERVICES, /* a Swarm's only */
	FS_INO_NODES,
	FS_INO_UNITS,
	FS_INO_GROUPS,
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

	/* FS_CARDS: the file on disk, as libfuse's passthrough_ll keeps it: an O_PATH fd that
	 * every operation on the node goes through (the cards root uses fs->cards_fd), and its
	 * identity, which names the node: all names of one file (hard links) are one node, and a
	 * name now holding another file gets another node. Set before the node is published,
	 * then never changed (read without the lock); the name above is only the last one the
	 * node was reached by (card paths and listings need one). */
	int fd;
	dev_t dev;
	ino_t realino;
	mode_t ftype;		   /* S_IFMT bits of the file */
	struct fs_node *real_next; /* protected by fs->lock */
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

	/* What the kernel may cache of the node (cache.c): a digest of the rendering or listing
	 * it was last given, and for a rendered file open now, that rendering. */
	unsigned char cache_md[FS_DIGEST_LEN]; /* protected by fs->lock */
	bool cache_md_valid;		       /* protected by fs->lock */
	char *cache_buf;		       /* protected by fs->lock */
	size_t cache_len;		       /* protected by fs->lock */
	unsigned cache_opens;		       /* protected by fs->lock */

	struct fs_node *ino_next;  /* protected by fs->lock */
	struct fs_node *name_next; /* protected by fs->lock */
};

/* The mount. One per process, created by main() and handed to fuse_session_new as userdata. */
struct fs {
	struct workspace *ws;
	struct backend *be;
	int cards_fd; /* O_PATH|O_DIRECTORY on ws_cards_dir(): card paths are relative to it */
	uid_t uid;    /* owner of the virtual files: whoever mounted */
	gid_t gid;    /* their group: -o group=NAME's, else the mounter's */
	bool shared;  /* -o group=NAME: the group may do what the owner does (fs_mode) */
	struct timespec started; /* mtime of the fixed nodes */
	struct fuse_session *se;

	pthread_mutex_t lock; /* the inode table and every field marked "protected by fs->lock" */
	struct fs_node **by_ino;   /* protected by fs->lock */
	struct fs_node **by_name;  /* protected by fs->lock */
	struct fs_node **by_real;  /* protected by fs->lock: FS_CARDS nodes by (dev, realino) */
	size_t nbuckets;	   /* protected by fs->lock */
	size_t nnodes;		   /* protected by fs->lock */
	fuse_ino_t next_ino;	   /* protected by fs->lock */
	uint64_t next_gen;	   /* protected by fs->lock */
	char *engine_text;	   /* protected by fs->lock: the engine file's last rendering */
	size_t engine_len;	   /* protected by fs->lock */
	struct timespec engine_at; /* protected by fs->lock */

	const char *mountpoint; /* absolute: the notifier's own requests go through it */
	/* When each object root (images/, networks/, containers/, ...) last gained or lost a
	 * name: its mtime. Indexed by enum ws_kind. */
	_Atomic long long members_changed[WS_KINDS];

	/* Invalidations for the kernel, sent by the notifier thread only (never from a handler:
	 * README.notifications says that can deadlock). Changes arrive from ws_subscribe. */
	pthread_mutex_t nlock;
	pthread_cond_t ncond;
	struct fs_notice *notices; /* protected by nlock: oldest first */
	struct fs_notice **ntail;  /* protected by nlock */
	bool nstop;		   /* protected by nlock */
	bool nstarted;
	pthread_t nthread;
	int subscription;	    /* ws_subscribe id, 0 when none */
	/* The helper that makes the notifier's requests through the mount (selfio.c): its pid,
	 * by which the handlers know them, and the socket to it (-1: none). */
	_Atomic pid_t self_pid;
	int self_sock;
	/* The one request the notifier is making through the mount (inotify, notify.c), for the
	 * handlers to recognise; and what inotify watchers were last told of each name (a user's
	 * rmdir tells them too). */
	pthread_mutex_t selflock;
	struct fs_selfop *self; /* protected by selflock */
	struct fs_seen *seen;	/* protected by selflock */

	/* Stream files (stream.c, events.c, follow.c). One lock for all of them: it is only
	 * held to move bytes, never across a workspace call or a reply. */
	pthread_mutex_t slock;
	pthread_cond_t scond;	    /* signalled when a follower thread ends */
	struct fs_stream *streams;  /* protected by slock: every open stream */
	struct fs_waiter *waiters;  /* protected by slock: parked reads, oldest first */
	struct fs_live *lives;	    /* protected by slock: `logs` inodes open now */
	char **ring;		    /* protected by slock: the last ring_cap lines */
	size_t ring_cap;	    /* -o events_ring=N; never changes once mounted */
	unsigned long ring_next;    /* protected by slock: number of the next line (from 1) */
	struct timespec last_event; /* protected by slock: mtime of events */
	unsigned nfollowers;	    /* protected by slock: follower threads running */
	atomic_bool halting;	    /* fs_followers_stop began: image saves end (imagetar.c) */
	bool sdown;		    /* protected by slock: shutting down, park nothing */

	/* Every open's snapshot, listing or card file (handles.c), until its release. */
	pthread_mutex_t hlock;
	struct fs_handle *handles; /* protected by hlock */
};

/* The last this many lines of events are kept for readers that fell behind (default of
 * -o events_ring=N). */
#define FS_EVENTS_RING 4096
/* An open follow keeps at most this much output its reader has not read yet. */
#define FS_FOLLOW_MAX (1024 * 1024)

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
/* Under fs->lock: a new node that no name reaches (nothing replaced), for the kernel only;
 * freed when the kernel forgets it (count a lookup before unlocking). */
struct fs_node *fs_node_orphan_locked(struct fs *fs, fuse_ino_t parent, const char *name,
				      enum fs_type type);
/* Under fs->lock: the node leaves its name (unlink, rmdir, replaced); it lives on until the
 * kernel forgets it. */
void fs_unhash_locked(struct fs *fs, struct fs_node *n);
/* Under fs->lock: the FS_CARDS node of the file (dev, ino) on disk, or NULL. */
struct fs_node *fs_real_locked(struct fs *fs, dev_t dev, ino_t ino);
/* Under fs->lock: a new hashed FS_CARDS node (parent, name) for the file fd (O_PATH) whose
 * attributes are st, replacing any node of that name; it owns fd from then on (closed when
 * freed). NULL when out of memory (fd not taken). */
struct fs_node *fs_real_new_locked(struct fs *fs, fuse_ino_t parent, const char *name, int fd,
				   const struct stat *st);
/* Under fs->lock: moves a node to a new name (rename). */
int fs_move_locked(struct fs *fs, struct fs_node *n, fuse_ino_t parent, const char *name);
/* Counts one more kernel reference (each entry reply). */
void fs_ref_locked(struct fs_node *n);
void fs_forget(struct fs *fs, fuse_ino_t ino, uint64_t nlookup);

/* ---- handles.c: what an open holds (fi->fh), until its release or the end ---- */
/* The first member of every fi->fh that owns memory or a descriptor. */
struct fs_handle {
	struct fs_handle *prev, *next; /* protected by fs->hlock */
	void (*free)(struct fs_handle *h);
};
/* Links h into the mount; free_fn frees it, at its release or at exit. */
void fs_handle_add(struct fs *fs, struct fs_handle *h, void (*free_fn)(struct fs_handle *h));
/* Unlinks and frees h: the release, or an open whose reply failed. */
void fs_handle_release(struct fs *fs, struct fs_handle *h);
/* At exit, once no handler runs: frees every handle the kernel never released. */
void fs_handles_free(struct fs *fs);

/* ---- util.c: replies, snapshots, directory listings, the notifier ---- */
/* A rendered file, taken at open and kept in fi->fh: every read of that open sees the same
 * bytes (lxcfs). */
struct fs_snap {
	struct fs_handle h;
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
	struct fs_handle h; /* once opened (fs_reply_dir_open) */
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

/* The mode of a node whose owner may do owner_bits (within S_IRWXU): the group gets the same
 * when the mount is shared (-o group=), others nothing. */
mode_t fs_mode(const struct fs *fs, mode_t type, mode_t owner_bits);
/* Attributes of a virtual node (not cards/). size is the caller's. */
void fs_attr_virtual(struct fs *fs, const struct fs_node *n, size_t size, time_t mtime,
		     struct stat *st);
void fs_entry_init(struct fuse_entry_param *e, const struct fs_node *n, double entry_timeout,
		   double attr_timeout);
long long fs_elapsed_ns(const struct timespec *since);

/* ---- cache.c: renderings and listings the kernel keeps across opens ---- */
/* Whether n's opens go through fs_reply_cached_open (its reads and releases then too). */
bool fs_is_cached(const struct fs_node *n);
/* Replies to the open of n with its rendering buf (taken): the kernel keeps its pages when they
 * hold these very bytes. */
void fs_reply_cached_open(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi, char *buf,
			  size_t len);
void fs_cached_read(fuse_req_t req, struct fs_node *n, size_t size, off_t off);
/* req may be NULL: an open whose reply failed. */
void fs_cached_release(fuse_req_t req, struct fs_node *n);
/* The size of n's rendering while n is open (true), which is what its reads give. */
bool fs_cached_size(struct fs *fs, struct fs_node *n, size_t *size);
/* fs_reply_dir_open, with the kernel's readdir cache kept when the listing is unchanged. */
void fs_reply_cached_opendir(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi,
			     struct fs_dir *d);

/* ---- notify.c: the notifier thread ---- */
/* Invalidate the kernel's dentry parent/name and the parent's listing, from the notifier. */
void fs_notify_entry(struct fs *fs, fuse_ino_t parent, const char *name);
/* Starts the thread and subscribes to the workspace's changes. */
int fs_notifier_start(struct fs *fs);
/* Unsubscribes and joins; after the session is unmounted (its own requests then fail). */
void fs_notifier_stop(struct fs *fs);
/* What the notifier is doing through the mount, when req is that: the handlers answer it
 * without acting (it only exists so that the kernel tells inotify watchers). */
enum fs_selfop_kind { FS_SELF_MKDIR = 1, FS_SELF_RMDIR };
struct fs_selfop {
	enum fs_selfop_kind op;
	fuse_ino_t parent;
	char name[128];
	fuse_ino_t ino; /* rmdir: the node the name had, if the kernel may still know it */
};
bool fs_self_request(fuse_req_t req, fuse_ino_t parent, const char *name, struct fs_selfop *op);
/* A user removed parent/name through the mount (the kernel told watchers already). */
void fs_note_removed(struct fs *fs, fuse_ino_t parent, const char *name);

/* ---- selfio.c: the helper process that makes the notifier's calls through the mount ---- */
enum fs_selfio_op { FS_SELFIO_MKDIR = 1, FS_SELFIO_RMDIR, FS_SELFIO_TOUCH };
/* Forks the helper; before the notifier starts. */
int fs_selfio_start(struct fs *fs);
/* mkdir(path, 0755), rmdir(path) or utimensat(path, now) by the helper: 0 or -errno. From the
 * notifier thread only. */
int fs_selfio(struct fs *fs, enum fs_selfio_op op, const char *path);
/* Ends the helper and reaps it; after the notifier stopped. */
void fs_selfio_stop(struct fs *fs);

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

/* ---- cred.c: acting as the caller ---- */
struct fs_cred {
	bool switched;
};
/* From here to fs_cred_leave the thread creates files with the file system identity (uid,
 * gid, supplementary groups) and the umask of req's caller. */
int fs_cred_enter(fuse_req_t req, struct fs_cred *c);
void fs_cred_leave(struct fs_cred *c);

/* ---- cards.c: cards/, a passthrough ---- */
void fs_cards_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_cards_getattr(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi);
void fs_cards_setattr(fuse_req_t req, struct fs_node *n, struct stat *attr, int to_set,
		      struct fuse_file_info *fi);
void fs_cards_readlink(fuse_req_t req, struct fs_node *n);
void fs_cards_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		     struct fuse_file_info *fi);
void fs_cards_open(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi);
void fs_cards_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi);
void fs_cards_write(fuse_req_t req, struct fs_node *n, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi);
void fs_cards_fallocate(fuse_req_t req, struct fs_node *n, int mode, off_t off, off_t len,
			struct fuse_file_info *fi);
void fs_cards_lseek(fuse_req_t req, off_t off, int whence, struct fuse_file_info *fi);
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

/* For cards-names.c too. The fd of n's file (O_PATH, or the cards directory itself); of the
 * directory node parent, or -1 when forgotten. */
int fs_cards_fd(const struct fs *fs, const struct fs_node *n);
int fs_cards_parent_fd(struct fs *fs, fuse_ino_t parent);
/* The path of name in the directory parent, relative to cards/. */
int fs_cards_child_path(struct fs *fs, fuse_ino_t parent, const char *name, char *buf, size_t len);
/* The whole file at dirfd/path (what is about to become a card), NUL-terminated. */
int fs_cards_read_file(int dirfd, const char *path, char **out, size_t *outlen);
/* Commits the card file n at its name (nothing for names that are never cards). */
int fs_cards_commit(struct fs *fs, struct fs_node *n);
/* The entry of parent/name as on the disk, counting a lookup; and the reply of it. */
int fs_cards_entry(struct fs *fs, fuse_ino_t parent, const char *name, struct fuse_entry_param *e);
void fs_cards_reply_entry(fuse_req_t req, fuse_ino_t parent, const char *name);
/* What names n's file for a path system call: "/proc/self/fd/N" of its fd (*nofollow false),
 * or for a symlink, which that would follow, its parent's fd and its name,
 * "/proc/self/fd/P/NAME", for the l* calls (*nofollow true). -ESTALE when a symlink has no
 * name left. */
int fs_cards_path(struct fs *fs, struct fs_node *n, char *buf, size_t len, bool *nofollow);

/* ---- cards-names.c: names in cards/ ---- */
void fs_cards_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev);
void fs_cards_link(fuse_req_t req, struct fs_node *n, fuse_ino_t newparent, const char *newname);
void fs_cards_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void fs_cards_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name);
void fs_cards_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_cards_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_cards_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		     const char *newname, unsigned int flags);

/* ---- xattr.c: extended attributes of cards/ ---- */
void fs_xattr_set(fuse_req_t req, struct fs_node *n, const char *name, const char *value,
		  size_t size, int flags);
void fs_xattr_get(fuse_req_t req, struct fs_node *n, const char *name, size_t size);
void fs_xattr_list(fuse_req_t req, struct fs_node *n, size_t size);
void fs_xattr_remove(fuse_req_t req, struct fs_node *n, const char *name);

/* ---- objects.c: images/, networks/, containers/, units/, groups/, services/, nodes/ ---- */
void fs_obj_lookup(fuse_req_t req, struct fs_node *parent, const char *name);
void fs_obj_getattr(fuse_req_t req, struct fs_node *n);
void fs_obj_readlink(fuse_req_t req, struct fs_node *n);
void fs_obj_opendir(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi);
int fs_obj_plus(struct fs *fs, fuse_ino_t dir, const struct fs_dirent *de,
		struct fuse_entry_param *e);
void fs_obj_open(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi);
void fs_obj_unlink(fuse_req_t req, struct fs_node *parent, const char *name);
void fs_obj_rmdir(fuse_req_t req, struct fs_node *parent, const char *name);
/* Users cannot make objects with mkdir; only the notifier's own requests get through. */
void fs_obj_mkdir(fuse_req_t req, struct fs_node *parent, const char *name);
/* The object a node in an object directory belongs to (its directory's), as last seen. */
int fs_obj_parent(struct fs *fs, const struct fs_node *n, struct ws_object *obj);
/* The i-th fixed name in an object directory of kind, NULL past the last. */
const char *fs_obj_child_name(enum ws_kind kind, size_t i);
/* The object root directory of a kind (FS_INO_CONTAINERS, ...); its name is ws_kind_dir's. */
fuse_ino_t fs_obj_root(enum ws_kind kind);

/* ---- stream.c: reads that wait for data (events, follow) ----
 * A read with nothing to give is parked (no worker thread waits) and answered later by
 * whoever produces data; Ctrl-C answers it EINTR at once; poll(2) works; O_NONBLOCK gives
 * EAGAIN; the release answers any parked read with EOF. */
enum fs_stream_kind { FS_STREAM_EVENTS, FS_STREAM_FOLLOW };
struct fs_stream {
	enum fs_stream_kind kind;
	struct fs *fs;
	struct fs_stream *prev, *next; /* protected by fs->slock */
	struct fuse_pollhandle *ph;    /* protected by fs->slock: a poll waiting for data */
	bool released;		       /* protected by fs->slock: the kernel closed it */
	int refs;		       /* protected by fs->slock: the open, plus its follower */
	/* events: the number of the next line to read, and how much of it was read */
	unsigned long cursor; /* protected by fs->slock */
	size_t line_off;      /* protected by fs->slock */
	/* follow: output not read yet (buf[start..start+len)), and how it ended */
	char *buf;		    /* protected by fs->slock */
	size_t start, len, cap;	    /* protected by fs->slock */
	unsigned long long dropped; /* protected by fs->slock: bytes lost to FS_FOLLOW_MAX */
	bool eof;		    /* protected by fs->slock: the follower ended */
	int err;		    /* protected by fs->slock: ... with this -errno */
	atomic_bool stop;	    /* tells the follower to end (release, unmount) */
};
struct fs_waiter; /* a parked read (stream.c) */

struct fs_stream *fs_stream_new(struct fs *fs, enum fs_stream_kind kind);
/* Registers the stream and replies to the open (direct_io, nonseekable). false when the open
 * was not answered: the open's reference is dropped and the stream told to stop. */
bool fs_stream_reply_open(fuse_req_t req, struct fuse_file_info *fi, struct fs_stream *s);
void fs_stream_read(fuse_req_t req, size_t size, struct fuse_file_info *fi);
void fs_stream_poll(fuse_req_t req, struct fuse_file_info *fi, struct fuse_pollhandle *ph);
void fs_stream_release(fuse_req_t req, struct fuse_file_info *fi);
/* Data arrived (or the end): answers the parked reads and polls of s, or of every stream of
 * that kind when s is NULL. No lock held. */
void fs_stream_wake(struct fs *fs, struct fs_stream *s, enum fs_stream_kind kind);
/* Under fs->slock: drops a reference; frees the stream at the last. */
void fs_stream_unref_locked(struct fs_stream *s);
/* The loop ended: answer every parked read with EOF and park no more. */
void fs_streams_shutdown(struct fs *fs);
/* After the followers ended: frees the streams the kernel never released. */
void fs_streams_free(struct fs *fs);

/* ---- events.c: the events file ---- */
int fs_events_init(struct fs *fs);
void fs_events_free(struct fs *fs);
/* Appends one line (without its newline) and wakes the readers. The notifier's only. */
void fs_events_publish(struct fs *fs, const char *line);
void fs_events_open(fuse_req_t req, struct fuse_file_info *fi);
/* Under fs->slock: the next bytes for an events reader: > 0 bytes in *out (malloc'd), 0 none
 * yet, or -ENOMEM. */
int fs_events_fill_locked(struct fs *fs, struct fs_stream *s, size_t size, char **out);
struct timespec fs_events_mtime(struct fs *fs);

/* ---- follow.c: follow, and the threads of follow and logs ---- */
void fs_follow_open(fuse_req_t req, struct fs_node *n, const char *name, struct fuse_file_info *fi);
/* containers/NAME/wait: a stream that gives the exit code once the container stops. */
void fs_wait_open(fuse_req_t req, struct fs_node *n, const char *name, struct fuse_file_info *fi);
/* Under fs->slock: the next bytes for a follow reader: > 0 bytes in *out (malloc'd), 0 none
 * (*end: and none will come), or -errno (how the follow failed, given once). */
int fs_follow_fill_locked(struct fs_stream *s, size_t size, char **out, bool *end);
/* Under fs->slock: starts main(arg) on a detached thread, counted in fs->nfollowers (signals
 * blocked: they are the main thread's); 0 or -errno. The thread ends with
 * fs_follower_end_locked. */
int fs_follower_start_locked(struct fs *fs, void *(*main)(void *), void *arg);
void fs_follower_end_locked(struct fs *fs);
/* At exit: tells every follower and logs thread to stop, waits for them (about a second; a
 * logs request in flight ends with its next bytes, or the engine's stall timeout), and frees
 * the `logs` still open, which the kernel will not release once the session is over. */
void fs_followers_stop(struct fs *fs);

/* ---- logs.c: containers/NAME/logs, services/NAME/logs, streamed ---- */
void fs_logs_open(fuse_req_t req, struct fs_node *n, const char *name, struct fuse_file_info *fi);
void fs_logs_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi);
void fs_logs_release(fuse_req_t req, struct fuse_file_info *fi);
/* While a `logs` inode is open: its st_size, st_blocks, st_blksize and times into *st, true;
 * else false. */
bool fs_logs_attr(struct fs *fs, fuse_ino_t ino, struct stat *st);
/* Under fs->slock, at exit: ends every logs thread's request; then frees the opens left. */
void fs_logs_halt_locked(struct fs *fs);
void fs_logs_free_locked(struct fs *fs);

/* ---- imagetar.c: images/NAME/image.tar, a save streamed ---- */
void fs_imagetar_open(fuse_req_t req, const char *name, struct fuse_file_info *fi);
void fs_imagetar_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi);
void fs_imagetar_release(fuse_req_t req, struct fuse_file_info *fi);

/* ---- imageload.c: an archive written into images/ loads ---- */
void fs_imageload_create(fuse_req_t req, struct fs_node *parent, const char *name,
			 struct fuse_file_info *fi);
void fs_imageload_getattr(fuse_req_t req, struct fs_node *n);
void fs_imageload_setattr(fuse_req_t req, struct fs_node *n, struct stat *attr, int to_set,
			  struct fuse_file_info *fi);
void fs_imageload_write(fuse_req_t req, const char *buf, size_t size, off_t off,
			struct fuse_file_info *fi);
/* What was written so far, for a creator that opened it for reading too. */
void fs_imageload_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi);
/* The flush of a close, and fsync: the load. */
void fs_imageload_flush(fuse_req_t req, struct fuse_file_info *fi);
void fs_imageload_release(fuse_req_t req, struct fuse_file_info *fi);

/* ---- imagelog.c: images/NAME/log, read as it grows ---- */
void fs_imagelog_open(fuse_req_t req, struct fuse_file_info *fi);
void fs_imagelog_read(fuse_req_t req, struct fs_node *n, size_t size, off_t off);

/* ---- ctl.c: the ctl files of containers, units, groups, services and nodes ---- */
void fs_ctl_open(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi);
void fs_ctl_write(fuse_req_t req, struct fs_node *n, const char *buf, size_t size);

/* ---- log.c: the daemon's own messages (stderr in the foreground, else syslog) ---- */

/* LOG_ERR, LOG_WARNING, LOG_INFO or LOG_DEBUG for "error", "warning", "info", "debug"; -1. */
int fs_log_level(const char *name);
/* Drops messages less urgent than @prio (default LOG_WARNING). Before any thread starts. */
void fs_log_init(int prio);
/* From now on to syslog (after fuse_daemonize, when not in the foreground). */
void fs_log_background(void);
void fs_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- ready.c: readiness and stop to a service manager (sd_notify) ---- */

void fs_ready(struct fs *fs);
void fs_stopping(void);
/* ---- stale.c: a dead mount of ours on the mountpoint ---- */
/* Before mounting: when mountpoint is a cutipfs mount whose daemon died (ENOTCONN), unmounts
 * it (lazily) and says so on stderr. 0 also when there is nothing to do; -errno, said on
 * stderr, when the dead mount stays. */
int fs_reclaim_mountpoint(const char *mountpoint);

/* ---- ops.c ---- */
extern const struct fuse_lowlevel_ops fs_ops;

#endif
