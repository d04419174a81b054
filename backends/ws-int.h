/* Internals shared by the workspace's files (workspace.c, wscards.c, apply*.c, objects.c,
 * errlog.c). Not for the mount.
 *
 * Locking: ws->lock guards the card state (entries, registry, caches). Only the applier thread
 * changes that state, always with ws->lock held; it may read it without the lock, since nobody
 * else writes it. Every other thread reads it under ws->lock. No lock is ever held across an
 * engine call. ws->qlock guards the job queue, ws->errlock the errors log; neither is taken
 * while holding another lock, except errlock (a leaf). */
#ifndef CUTIPFS_BACKENDS_WS_INT_H
#define CUTIPFS_BACKENDS_WS_INT_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "card.h"
#include "placeholder.h"
#include "registry.h"
#include "workspace.h"

/* Errors log: the newest entries kept. */
#define WS_ERRORS_MAX 1000
/* An image's pull/build log: the newest bytes kept. */
#define WS_IMAGE_LOG_MAX (1u << 20)
/* A container's logs file: the newest bytes kept. */
#define WS_CONTAINER_LOGS_MAX (64u << 20)
/* How long a listing from the engine is served from memory. */
#define WS_LIST_TTL_MS 1000
/* Retry period of cards waiting for an unreachable engine. */
#define WS_RETRY_MS 2000
/* Grace period of a stop before the engine kills. */
#define WS_STOP_GRACE_S 10
/* Largest card file read at open (the mount caps writes lower). */
#define WS_CARD_MAX (4u << 20)

enum ws_state {
	WS_ST_PENDING,	/* waits for a ref or the engine (reason says which) */
	WS_ST_APPLYING, /* on the applier thread right now */
	WS_ST_APPLIED,	/* the engine has what the card says */
	WS_ST_ERROR,	/* the last apply failed (reason says why) */
};

/* A growable byte buffer that keeps only its newest @max bytes. */
struct ws_buf {
	char *data;
	size_t len, cap;
};

/* One file under cards/ the workspace knows: a card (valid or not) or an editor backup that
 * holds what its card made. */
struct ws_entry {
	char *relpath;	   /* current name, relative to cards/ */
	bool backup;	   /* renamed to an editor backup name: holds the objects until unlinked */
	int result;	   /* last commit result of this file: 0 or -errno */
	struct card *card; /* the registered card (owned by ws->reg), NULL if never valid */
	char *text;	   /* the source of @card, re-parsed for each apply */
	size_t len;

	enum ws_state state;
	bool engine_wait;	 /* pending because the engine was unreachable */
	bool missing_logged;	 /* the "waits for the engine" line went to the errors log */
	const char *activity;	 /* images while applying: "pulling", "building" */
	char reason[512];	 /* why pending or error */
	char hash[65];		 /* effective hash last applied */
	char id[ENGINE_ID_SIZE]; /* engine id of what it made */
	char object[256];	 /* engine name: "web", images "web:latest" */
	time_t changed;		 /* last state change */
	struct ws_buf log;	 /* images: output of the last pull or build */
	char
	    prev_id[ENGINE_ID_SIZE]; /* images: our build a rebuild replaced, removed once unused */
};

/* The last engine list of one kind, merged with the cards on every ws_list. */
struct ws_cache {
	cJSON *raw;		 /* the engine's list; NULL before the first answer */
	struct timespec fetched; /* CLOCK_MONOTONIC */
	unsigned long gen;	 /* ws->gen when fetched */
	bool tried;		 /* a fetch was tried (it may have failed) */
};

enum ws_job_type { WS_JOB_COMMIT, WS_JOB_REMOVE, WS_JOB_RENAME, WS_JOB_RMOBJ, WS_JOB_RECOVER };

struct ws_job {
	enum ws_job_type type;
	const char *a, *b; /* relpath(s), or the object's name */
	const char *buf;
	size_t len;
	enum ws_kind kind;
	int rc;
	bool done;
	bool async; /* nobody waits: the applier frees it */
	struct ws_job *next;
};

struct workspace {
	char *root;	 /* absolute, resolved */
	char *cutip_dir; /* <root>/cutip */
	char *cards_dir; /* <root>/cutip/cards */
	struct engine *engine;

	pthread_mutex_t lock;
	struct card_registry reg;    /* guarded by lock */
	struct ws_entry **entries;   /* guarded by lock */
	size_t nentries, capentries; /* guarded by lock */
	struct ws_cache cache[3];    /* guarded by lock, indexed by enum ws_kind */
	unsigned long gen;	     /* guarded by lock: bumped by every own change */

	pthread_mutex_t qlock;
	pthread_cond_t qcond;	      /* a job arrived, or stop */
	pthread_cond_t qdone;	      /* a job finished, or the applier went idle */
	struct ws_job *qhead, *qtail; /* guarded by qlock */
	bool stopping;		      /* guarded by qlock */
	bool busy; /* guarded by qlock: the applier is running a job or a retry */
	pthread_t applier;
	bool applier_started;

	pthread_mutex_t errlock;
	char *errors[WS_ERRORS_MAX]; /* guarded by errlock: a ring */
	size_t err_first, err_count; /* guarded by errlock */
	unsigned long err_gen;	     /* guarded by errlock */
};

/* ---- buffers and text (errlog.c) ---- */
/* snprintf where cutting a long message short is fine (keeps the compiler quiet about it). */
void ws_fmt(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int ws_buf_append(struct ws_buf *b, const char *p, size_t n, size_t max);
void ws_buf_free(struct ws_buf *b);
/* Appends one line "MESSAGE" with the time prefix, as ws_error_add does, to the log. */
void ws_errorv(struct workspace *ws, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* ---- entries and cards (wscards.c); applier thread only unless said ---- */
struct ws_entry *ws_entry_find(struct workspace *ws, const char *relpath);
/* The entry whose registered card has this kind and name. */
struct ws_entry *ws_entry_for(struct workspace *ws, enum card_kind kind, const char *name);
/* Commit: parse, validate, register, apply, retry pending. */
int ws_do_commit(struct workspace *ws, const char *relpath, const char *buf, size_t len);
int ws_do_remove(struct workspace *ws, const char *relpath);
int ws_do_rename(struct workspace *ws, const char *from, const char *to, const char *buf,
		 size_t len);
/* paths.yaml and secrets.yaml (errors to the log). */
void ws_values_load(struct workspace *ws, struct card_values *values);
/* Registers every card under cards/ without applying (ws_open). */
void ws_load_all(struct workspace *ws);
/* Applies every card (recovery), then the pending ones until nothing moves. */
void ws_apply_all(struct workspace *ws, bool everything);
/* Applies one registered card (reconcile.c): its refs' cards must be applied first, else it is
 * pending. Returns the commit result: 0 when applied or pending, -errno on error. */
int ws_apply_entry(struct workspace *ws, struct ws_entry *e, const struct card_values *values);
/* Applies again the applied container cards that name this image or network card. */
void ws_reapply_dependents(struct workspace *ws, struct ws_entry *e,
			   const struct card_values *values);
/* Removes the images our rebuilds replaced, once no container uses them. */
void ws_prune_images(struct workspace *ws);
/* Applies pending cards until nothing moves. */
void ws_retry_pending(struct workspace *ws, const struct card_values *values);
/* Whether some card waits for the engine to answer. */
bool ws_engine_waiting(struct workspace *ws);
/* Images, networks, volumes and containers; not units and groups. */
bool ws_makes_objects(enum card_kind kind);
/* Drops an entry (and its card from the registry) without touching the engine. */
void ws_entry_drop(struct workspace *ws, struct ws_entry *e);
/* Deletes the card file of an entry and drops it. */
void ws_entry_delete_file(struct workspace *ws, struct ws_entry *e);

/* ---- engine side of one card (apply.c, apply-container.c); no lock held ---- */

/* What an apply needs from the cards a container names (copied under the lock). */
struct ws_deps {
	char image[256];	       /* "<name>:<tag>" */
	char image_id[ENGINE_ID_SIZE]; /* "" when unknown */
	char network[128];	       /* NetworkCard name, or "" */
};

struct ws_result {
	char id[ENGINE_ID_SIZE];
	char replaced[ENGINE_ID_SIZE]; /* images: the id of our build this apply replaced */
	char object[256];
	char err[512];
};

int ws_apply_image(struct workspace *ws, struct ws_entry *e, const struct card *card,
		   const char *hash, struct ws_result *res);
int ws_apply_network(struct workspace *ws, const char *relpath, const struct card *card,
		     const char *hash, struct ws_result *res);
int ws_apply_volume(struct workspace *ws, const char *relpath, const struct card *card,
		    const char *hash, struct ws_result *res);
int ws_apply_container(struct workspace *ws, const char *relpath, const struct card *card,
		       const char *hash, const struct ws_deps *deps, struct ws_result *res);
/* Removes what a card made. @force: whoever made it (rmdir); else only what carries this
 * workspace's labels. @object: the engine name the card made ("web", "web:latest"). */
int ws_unapply(struct workspace *ws, enum card_kind kind, const char *object, bool force, char *err,
	       size_t errlen);

/* Labels every object gets: managed, workspace, card, hash (cJSON object, caller frees). */
cJSON *ws_labels(struct workspace *ws, const char *relpath, const char *hash,
		 const struct card_map *extra);
/* Whether an engine object's Labels say this workspace made it. */
bool ws_labels_ours(struct workspace *ws, const cJSON *labels);
/* "docker.io/library/web:latest" and "localhost/web:latest" -> "web:latest". */
const char *ws_image_short(const char *ref);
/* Strips "sha256:". */
const char *ws_id_short(const char *id);
/* mkdir -p (workspace.c); 0 or -errno. */
int ws_mkdirs(const char *path);
/* Stops (with the grace period) and removes a container. */
int ws_container_destroy(struct workspace *ws, const char *id, char *err, size_t errlen);

/* ---- buildtime_resources (stage.c) ---- */
/* Stages the resources and the Dockerfile into a new directory: the build context. *dir_out
 * (malloc'd) and *dockerfile_out (its name inside) on success; ws_stage_free removes it. */
int ws_stage_build(struct workspace *ws, const struct card *card, const char *context,
		   char **dir_out, const char **dockerfile_out, char *err, size_t errlen);
void ws_stage_free(char *dir);

/* ---- objects (objects.c) ---- */
int ws_do_remove_object(struct workspace *ws, enum ws_kind kind, const char *name);
/* Marks every listing stale (lock held). */
void ws_invalidate(struct workspace *ws);

#endif
