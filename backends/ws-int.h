/* Internals shared by the workspace's files (workspace.c, wscards.c, entries.c, reconcile.c,
 * apply*.c, labels.c, objects.c, errlog.c, util.c, and the live state: state.c, state-obj.c,
 * refresh.c, state-sync.c, own.c, events-feed.c, changes.c, ctl.c, follow.c). Not for the mount.
 * They speak to the engine through backend.h alone.
 *
 * Threads: the applier (card files -> registry, one job at a time), the pool's workers (one
 * card's apply each: cards -> engine, pool.c), the state thread (engine events -> the in-memory
 * state, reconciles, and the delivery of every change to subscribers) and the events thread
 * (reads GET /events and queues what it reads for the state thread).
 *
 * Locking: ws->lock guards the card state (entries, registry) and the pool's queue (pool.c). Only
 * the applier thread adds, removes and re-registers entries, always with ws->lock held, and only
 * while no worker applies them; it may read the entries list, a card, its text and relpath
 * without the lock, since nobody else writes them. A worker changes the outcome of the entry it
 * applies (state, reason, id, object, hash, result) with ws->lock held; the applier reads those
 * under ws->lock, as every other thread reads everything. ws->slock guards the engine state
 * (store, tombstones, hints, stale); any thread may update it, each update carrying the ticket
 * of the engine read it comes from, so that the newest read wins. ws->wqlock guards the state
 * thread's queues, ws->sublock the subscribers, ws->qlock the applier's job queue, ws->errlock
 * the errors log. Order: lock -> slock -> wqlock; sublock, qlock and errlock are leaves. No lock
 * is ever held across an engine call, nor across a subscriber's callback. */
#ifndef CUTIPFS_BACKENDS_WS_INT_H
#define CUTIPFS_BACKENDS_WS_INT_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "card.h"
#include "placeholder.h"
#include "registry.h"
#include "backend.h"
#include "workspace.h"

/* Errors log: the newest entries kept. */
#define WS_ERRORS_MAX 1000
/* Loads of image archives whose log is kept (the images of older ones have none). */
#define WS_LOADS 16
/* An image's pull/build log: the newest bytes kept. */
#define WS_IMAGE_LOG_MAX (1u << 20)
/* A container's logs file: the newest bytes kept. */
#define WS_CONTAINER_LOGS_MAX (64u << 20)
/* How often a Swarm's services, tasks and nodes are read (no events tell of tasks, nor of a
 * node gone down). */
#define WS_SWARM_POLL_MS 1000
/* The periodic reconcile of the state with full lists (events are lossy). */
#define WS_RECONCILE_MS 30000
/* Reconnect back-off of the event stream: doubles from MIN to MAX. */
#define WS_BACKOFF_MIN_MS 500
#define WS_BACKOFF_MAX_MS 5000
/* Queued events beyond this are dropped, and a reconcile makes up for them. */
#define WS_QUEUE_MAX 20000
/* Queued events beyond this are published from their own words, without a read each: the
 * queue drains at memory speed, WS_QUEUE_MAX is not reached, no line is lost; what they are
 * about is read once the queue is short again. */
#define WS_QUEUE_BEHIND 500
/* Undelivered changes beyond this are dropped (a subscriber that blocks). */
#define WS_CHANGES_MAX 20000
/* Own changes awaited at once (own.c): each apply of the pool makes two, and a line waiting for
 * its read holds its slot meanwhile. */
#define WS_OWN_MAX 32
/* An own change whose event does not come in this time was not made. */
#define WS_OWN_MS 30000
/* An own change's line waits this long at most for its maker's read (own.c). */
#define WS_OWN_PARK_MS 10000
/* Removed objects remembered, so that an older read cannot bring one back. */
#define WS_TOMBSTONES 256
#define WS_HINTS 32
#define WS_SUBS_MAX 64
/* Containers whose health is read again after a health_status event left it "starting"
 * (Podman sends the event as the check starts, with the state before it). */
#define WS_RECHECKS 16
/* Lines a reconcile made up whose events may still come (madeup.c): more than one reconcile
 * finds while a stream is reopened. */
#define WS_MADEUP 64
#define WS_RECHECK_MS 1000
#define WS_RECHECK_TRIES 10
/* Retry period of cards waiting for an unreachable engine. */
#define WS_RETRY_MS 2000
/* Grace period of a stop before the engine kills. */
#define WS_STOP_GRACE_S 10
/* Largest card file read at open (the mount caps writes lower). */
#define WS_CARD_MAX (4u << 20)
/* Applies run side by side on this many workers. Most of a container's apply is the engine's
 * work (its start: namespaces, cgroups, the runtime), which the engine does for several
 * containers at once; more workers than a few only queue inside the engine, and each holds a
 * connection to it. */
#define WS_POOL_WORKERS 4

enum ws_state {
	WS_ST_PENDING,	/* waits for a ref or the engine (reason says which) */
	WS_ST_APPLYING, /* on a pool worker right now */
	WS_ST_APPLIED,	/* the engine has what the card says */
	WS_ST_ERROR,	/* the last apply failed (reason says why) */
};

/* A growable byte buffer that keeps only its newest @max bytes. */
struct ws_buf {
	char *data;
	size_t len, cap;
};

/* One load of an image archive: the images/ names it loaded ("\nweb:latest\nx:1\n") and its
 * progress. */
struct ws_load {
	char *names;
	struct ws_buf log;
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
	bool announce;		 /* the user just saved it: its apply's outcome is news */
	const char *activity;	 /* images while applying: "pulling", "building" */
	char progress[64];	 /* ... and how far: "pulling 45% (12.1/26.9 MB)", or "" */
	char reason[512];	 /* why pending or error */
	char hash[65];		 /* effective hash last applied */
	char want[65];		 /* containers held by their unit: the hash an apply would make */
	char id[BE_ID_SIZE]; /* engine id of what it made */
	char object[256];	 /* engine name: "web", images "web:latest" */
	time_t changed;		 /* last state change */
	struct ws_buf log;	 /* images: output of the last pull or build */
	char
	    prev_id[BE_ID_SIZE]; /* images: our build a rebuild replaced, removed once unused */

	/* The apply pool (pool.c), guarded by lock. While queued or running, the entry's card,
	 * text and relpath stay as they are (the applier waits for it before changing them). */
	bool pool_queued;	       /* an apply waits for a worker */
	bool pool_running;	       /* a worker applies it now */
	bool pool_again;	       /* asked for while running: applied once more after */
	bool pool_decided;	       /* the running apply's answer to the commit is known */
	int pool_mode;		       /* enum ws_pool_result of the next apply */
	int pool_rc;		       /* the last finished apply's result */
	unsigned long pool_seq;	       /* when queued: the oldest goes first */
	struct ws_values *pool_values; /* what the next apply substitutes */
};

/* ---- the engine state ----
 * One engine object as the state keeps it: what the listings, status and inspect files show,
 * rendered once per engine read. Containers and networks are keyed by id (and found by name);
 * images by id, with their tags. */
struct ws_sobj {
	char id[BE_ID_SIZE];
	char name[128];	     /* containers, networks; "" for images */
	char state[16];	     /* containers: the engine's; others: "present" */
	char health[16];     /* containers: State.Health.Status, or "" */
	char started_at[40]; /* containers: RFC 3339 */
	char finished_at[40];
	int exit_code;
	bool tty;	      /* containers: Config.Tty */
	bool managed;	      /* carries this workspace's labels */
	char *card;	      /* the cutipfs.card label when managed, or NULL */
	char hash[65];	      /* the cutipfs.hash label when managed (the card's it was made by) */
	char *tags;	      /* images: "\nweb:latest\nx:1\n" (short names), or NULL */
	char *nets;	      /* containers: "\nbridge\nnet1\n", or NULL */
	char *lines;	      /* status lines after the first ("id: ...\n..."), or NULL */
	char *tasks;	      /* services: their tasks file, or NULL */
	char *inspect;	      /* the inspect document, unformatted JSON, or NULL */
	time_t created;	      /* seconds */
	time_t changed;	      /* last change seen, for mtimes */
	long long size;	      /* images */
	unsigned long ticket; /* of the engine read this came from */
	bool dirty;	      /* the last event's inspect failed: the next reconcile reads it */
	bool summary;	      /* containers: from a list or an event, not read yet (no inspect,
				 no started_at): the state thread fills it in; networks: their
				 inspect is out of date (a connect): read when it is asked for */
};

struct ws_store {
	struct ws_sobj **v;
	size_t n, cap;
	bool listed;	      /* a full list was read at least once */
	unsigned long ticket; /* images: of the list the set came from */
	/* v hashed by id and by name (store-index.c): index + 1 into v, 0 empty. */
	size_t *by_id, *by_name, nslots;
	bool indexed; /* the index is v's: cleared by every change of v */
};

struct ws_tomb {
	char id[BE_ID_SIZE];
	unsigned long ticket;
};

/* How the next image change of a tag is named ("pulled", "built"), set before the applier's
 * engine call or by the engine's own event. */
struct ws_hint {
	char tag[256];
	char action[16];
};

enum ws_work_type { WS_WORK_EVENT, WS_WORK_RECONCILE };

struct ws_work {
	enum ws_work_type type;
	struct be_event ev; /* as the events thread queued it */
	struct ws_work *next;
};

struct ws_chg_item {
	struct ws_change c;
	struct ws_chg_item *next;
};

/* An engine event the workspace's own request is about to cause, and whose result it reads
 * itself right after (reconcile.c's refresh after an apply): the state thread publishes it
 * without a read of its own, once that read is in the state (own.c). */
struct ws_own {
	char key[128];		/* create: the container's name; start: its id */
	char action[16];	/* the event's action */
	long expires_ms;	/* ws_mono_ms(); 0: a free slot */
	bool read;		/* the maker's read is done */
	bool parked;		/* its event came first: taken, its line waits for the read */
	bool filled;		/* line holds that line */
	unsigned long seq;	/* parked lines go out in the order their events came */
	char id[BE_ID_SIZE];	/* the event's container id */
	struct ws_change line;
};

struct ws_madeup {
	char id[BE_ID_SIZE]; /* "" when free */
	char action[16];
	long long engine_ns; /* the list's answer, on the engine's clock */
};

struct ws_recheck {
	char id[BE_ID_SIZE];
	char health[16];     /* as last published */
	struct timespec due; /* CLOCK_REALTIME */
	int tries;
};

struct ws_sub {
	int id;
	ws_change_cb cb;
	void *ctx;
};

enum ws_job_type {
	WS_JOB_COMMIT,
	WS_JOB_REMOVE,
	WS_JOB_RENAME,
	WS_JOB_RMOBJ,
	WS_JOB_RECOVER,
	WS_JOB_GROUP, /* a unit's or group's ctl (group-ctl.c) */
};

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
	struct backend *be;

	pthread_mutex_t lock;
	struct card_registry reg;    /* guarded by lock */
	struct ws_entry **entries;   /* guarded by lock */
	size_t nentries, capentries; /* guarded by lock */
	unsigned long gen;	     /* guarded by lock: bumped by every change of a card */

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

	/* The last loads of image archives (image-tar.c), newest first, guarded by lock: what
	 * each loaded and its progress, their log. */
	struct ws_load loads[WS_LOADS];
	size_t nloads;

	/* The engine state (state.c). */
	pthread_mutex_t slock;
	pthread_cond_t scond;		     /* broadcast on every change of the store */
	struct ws_store store[WS_KINDS];     /* guarded by slock, indexed by enum ws_kind */
	struct ws_tomb tombs[WS_TOMBSTONES]; /* guarded by slock: a ring of removed ids */
	size_t tomb_next;		     /* guarded by slock */
	struct ws_hint hints[WS_HINTS];	     /* guarded by slock */
	size_t nhints;			     /* guarded by slock */
	unsigned long sgen;		     /* guarded by slock: bumped by every store change */
	bool stale;			     /* guarded by slock: the event stream is down */
	char stale_why[256];		     /* guarded by slock */
	atomic_ulong ticket;		     /* the order of engine reads: newer wins */

	/* The state thread (state-sync.c) and the change feed (changes.c). */
	pthread_mutex_t wqlock;
	pthread_cond_t wqcond;		   /* work or a change arrived, or stop */
	pthread_cond_t wqwarm;		   /* the first reconcile was tried */
	struct ws_work *whead, *wtail;	   /* guarded by wqlock */
	size_t nwork;			   /* guarded by wqlock */
	struct ws_chg_item *chead, *ctail; /* guarded by wqlock */
	size_t nchg;			   /* guarded by wqlock */
	bool wstop;			   /* guarded by wqlock */
	bool warm;			   /* guarded by wqlock: the first reconcile was tried */
	bool want_reconcile;		   /* guarded by wqlock: events were dropped */
	bool swarm_kick; /* guarded by wqlock: a service or node event: read the cluster */
	unsigned long seq;		   /* state thread only */
	struct ws_recheck rechecks[WS_RECHECKS]; /* state thread only */
	size_t nrechecks;			 /* state thread only */
	struct ws_madeup madeup[WS_MADEUP];	 /* state thread only */
	size_t nmadeup;				 /* state thread only */
	char reconcile_err[512]; /* state thread only: the last failed reconcile's reason */
	pthread_t state_thread;
	bool state_started;

	pthread_mutex_t sublock;
	pthread_cond_t subcond;		 /* a delivery finished */
	struct ws_sub subs[WS_SUBS_MAX]; /* guarded by sublock */
	size_t nsubs;			 /* guarded by sublock */
	int next_sub;			 /* guarded by sublock */
	bool delivering;		 /* guarded by sublock: callbacks are running */

	/* The containers adopted (adopted.c). */
	pthread_mutex_t alock;
	struct ws_adoption *adopted; /* guarded by alock */
	size_t nadopted;	     /* guarded by alock */

	/* The events thread (events-feed.c). */
	pthread_t events_thread;
	bool events_started;
	atomic_bool ev_stop;
	long long ev_from_ns; /* our clock when the thread was started: written before it */
	atomic_llong skew_ns; /* the engine's clock minus ours, as last measured (util.c) */

	/* Containers a list put into the state before their inspect was read (state-sync.c),
	 * filled in one by one while no event waits: state thread only. */
	char **fill;
	size_t nfill, fill_next, capfill;

	/* The changes this workspace makes itself and reads back (own.c), guarded by wqlock. */
	struct ws_own own[WS_OWN_MAX];
	unsigned long own_seq; /* guarded by wqlock */

	/* Units taken down (groups.c): their names, kept on disk too. */
	char **down;		 /* guarded by lock */
	size_t ndown, capdown;	 /* guarded by lock */
	/* The last word published for each unit and group (groups.c): state thread only. */
	struct ws_word *words;
	size_t nwords;
	bool words_seen; /* the first look was taken: what is new after it is news */

	/* The apply pool (pool.c). */
	pthread_cond_t pool_cond;		    /* with lock: an apply queued, or stop */
	pthread_cond_t pool_done;		    /* with lock: an apply decided or ended */
	unsigned long pool_seq;			    /* guarded by lock: the last queued entry's */
	size_t pool_busy;			    /* guarded by lock: entries queued or running */
	bool pool_stop;				    /* guarded by lock */
	bool pool_inited;
	int (*pool_fn)(struct workspace *, struct ws_entry *, const struct card_values *);
	pthread_t pool_threads[WS_POOL_WORKERS];
	size_t pool_nthreads;
};

/* ---- small helpers (util.c) ---- */
/* snprintf where cutting a long message short is fine (keeps the compiler quiet about it). */
void ws_fmt(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A string's hash for the tables of names and ids (djb2: short keys, no adversary). */
size_t ws_str_hash(const char *s);
int ws_buf_append(struct ws_buf *b, const char *p, size_t n, size_t max);
void ws_buf_free(struct ws_buf *b);
/* Strips "sha256:". */
const char *ws_id_short(const char *id);
/* A whole card file (at most WS_CARD_MAX bytes), NUL-terminated; NULL when unreadable. */
char *ws_read_card_file(const char *path, size_t *len);
/* mkdir -p; 0 or -errno. */
int ws_mkdirs(const char *path);
void ws_strv_free(char **v);
/* The card kind that makes what a directory shows (CARD_KIND_COUNT: none). */
enum card_kind ws_card_kind(enum ws_kind kind);
/* The engine is a Swarm: ContainerCards make services, shown in services/. */
bool ws_swarm(const struct workspace *ws);
/* An image tag as its images/ name and back (util.c): '/' as %2F, '%' as %25; an image id as
 * its 12-hex short id (one way only). */
void ws_image_dirname(const char *tag, char *out, size_t len);
/* The engine reference of an images/ name: its tag, or the id of an untagged one (objects.c);
 * -ENOENT. */
int ws_image_ref(struct workspace *ws, const char *name, char *out, size_t len);
/* "pulling 45% (12.1/26.9 MB)", "building step 3/7", or @activity alone while nothing is
 * counted (progress.c); "" without an activity. */
void ws_progress_text(const char *activity, const struct be_progress *p, char *out, size_t len);
void ws_image_tag(const char *dirname, char *out, size_t len);
/* Waits until the state changes after @gen (ws->sgen, read under slock), @ms pass, or *stop
 * (seen within WS_FOLLOW_POLL_MS): follow.c. */
void ws_state_wait_change(struct workspace *ws, unsigned long gen, long ms,
			  const atomic_bool *stop);
/* A file rendered from the cards and the engine state: fn writes it to f with lock and slock
 * held (no engine request) and returns 0 or -errno; the text is malloc'd into *text, NULL on
 * failure. */
typedef int (*ws_render_fn)(struct workspace *ws, FILE *f, void *ctx);
int ws_render_state(struct workspace *ws, ws_render_fn fn, void *ctx, char **text, size_t *len);
/* Clocks: CLOCK_REALTIME in ns, CLOCK_MONOTONIC in ms, a CLOCK_REALTIME deadline @ms ahead
 * (for pthread_cond_timedwait). */
long long ws_now_ns(void);
long ws_mono_ms(void);
void ws_deadline_in(struct timespec *ts, long ms);
/* The engine's clock minus ours, in ns (ops->clock; one request): every time given to the
 * engine is ws_now_ns() plus this. Kept in ws->skew_ns for those who may not ask. */
long long ws_engine_skew(struct workspace *ws);

/* ---- entries (entries.c): lookups need ws->lock held, unless said ---- */
struct ws_entry *ws_entry_find(struct workspace *ws, const char *relpath);
/* The entry whose registered card has this kind and name. */
struct ws_entry *ws_entry_for(struct workspace *ws, enum card_kind kind, const char *name);
/* paths.yaml and secrets.yaml (errors to the log). */
void ws_values_load(struct workspace *ws, struct card_values *values);
/* Images, networks, volumes and containers; not units and groups. */
bool ws_makes_objects(enum card_kind kind);
/* A card's state changed (lock held): bumps ws->gen. */
void ws_invalidate(struct workspace *ws);
/* Whether a card of this kind and name exists (lock taken here). */
bool ws_card_named(struct workspace *ws, enum ws_kind kind, const char *name);

/* ---- labels (labels.c) ---- */
/* Labels every object gets: the card's own (@extra), then managed, workspace, card and hash,
 * which a card's labels cannot fake or hide. Borrowed strings; ws_labels_free. */
struct be_labels ws_labels(struct workspace *ws, const char *relpath, const char *hash,
			   const struct card_map *extra);
void ws_labels_free(struct be_labels *l);
/* Whether an engine object's labels say this workspace made it. */
bool ws_labels_ours(struct workspace *ws, const struct be_obj *o);

/* ---- the state's objects (state-obj.c) ---- */
/* The state's object of a backend object (taking it; NULL on ENOMEM, @o freed either way). */
struct ws_sobj *ws_sobj_from(struct workspace *ws, struct be_obj *o);
void ws_sobj_free(struct ws_sobj *o);

/* ---- the errors log (errlog.c) ---- */
/* Appends one line "MESSAGE" with the time prefix, as ws_error_add does, to the log. */
void ws_errorv(struct workspace *ws, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Each diagnostic as a line: "cards/x.yaml:3:5: [warning: ]MESSAGE". */
void ws_error_diags(struct workspace *ws, const struct card_diags *diags);

/* ---- card files (wscards.c); applier thread only unless said ---- */
/* Commit: parse, validate, register, apply, retry pending. */
int ws_do_commit(struct workspace *ws, const char *relpath, const char *buf, size_t len);
int ws_do_remove(struct workspace *ws, const char *relpath);
int ws_do_rename(struct workspace *ws, const char *from, const char *to, const char *buf,
		 size_t len);
/* Registers every card under cards/ without applying (ws_open). */
void ws_load_all(struct workspace *ws);
/* The passes (reconcile.c), on the applier thread, each card's apply on the pool. */
/* Applies every card (recovery), then the pending ones until nothing moves. */
void ws_apply_all(struct workspace *ws, bool everything);
/* Applies one registered card (reconcile.c; a pool worker): its refs' cards must be applied
 * first, else it is pending. Returns the commit result: 0 when applied or pending, -errno on
 * error. */
int ws_apply_entry(struct workspace *ws, struct ws_entry *e, const struct card_values *values);
/* Applies again the applied container cards that name this image or network card. */
void ws_reapply_dependents(struct workspace *ws, struct ws_entry *e, struct ws_values *values);
/* Removes the images our rebuilds replaced, once no container uses them. */
void ws_prune_images(struct workspace *ws);
/* Applies pending cards until nothing moves. */
void ws_retry_pending(struct workspace *ws, struct ws_values *values);
/* Whether some card waits for the engine to answer. */
bool ws_engine_waiting(struct workspace *ws);
/* Drops an entry (and its card from the registry) without touching the engine. */
void ws_entry_drop(struct workspace *ws, struct ws_entry *e);
/* Deletes the card file of an entry and drops it. */
void ws_entry_delete_file(struct workspace *ws, struct ws_entry *e);
/* Recovery, before the cards are applied: finishes the removals a crash interrupted (see
 * removals.c): what the card made and the card file go. */
void ws_finish_removals(struct workspace *ws);

/* ---- removals in progress, on disk (removals.c) ---- */
/* Before removing what the card at relpath made, for a removal that deletes the card too:
 * notes the card's text. A note that cannot be written is said in the errors log. */
void ws_removal_begin(struct workspace *ws, const char *relpath);
/* The removal is done, or failed and the card stays: drops the note. */
void ws_removal_end(struct workspace *ws, const char *relpath);
/* The cards whose removal was noted and that still hold the noted text (NULL-terminated,
 * ws_strv_free; NULL when none); the other notes are dropped. */
char **ws_removals_interrupted(struct workspace *ws);
/* Writes the whole text to path under a temporary name first, then renames it: a reader never
 * sees half of it. Makes the folders above it. 0 or -errno. */
int ws_write_atomic(const char *path, const char *text, size_t len);

/* ---- containers cutipfs did not make: their cards, and their take-over ---- */
/* (adopt.c) The card CUTIP's adopt writes of a container, as YAML: kind CARD_CONTAINER,
 * CARD_IMAGE, or CARD_NETWORK (its user network's; @network, that network's inspect document,
 * may be NULL: the subnet is then guessed from the container's address). @container is the
 * container's inspect document (JSON). 0 and malloc'd text; -ENOENT for a NetworkCard of a
 * container on no user network; -EINVAL when @container is no container's document; -EILSEQ
 * when a string the card would hold is not UTF-8. */
int ws_adopt_generate(const char *container, const char *network, enum card_kind kind, char **text,
		      size_t *len);
/* (adopt.c) The user network a card names of a container's networks ("\nbridge\nnet1\n"),
 * into name; false when it is on none. */
bool ws_adopt_user_net(const char *nets, char *name, size_t len);

/* (adopted.c) The adoptions, kept in <root>/.cutip/adopted: containers cutipfs did not make
 * (Docker cannot add labels to an existing container) that a card took over as they were.
 * Such a container counts as the workspace's own (labels.c ws_labels_ours), made by that card
 * with that hash, until it is removed. */
struct ws_adoption {
	char id[BE_ID_SIZE];
	char hash[65];
	char card[512]; /* relpath of the card */
};
/* Reads the record (at open, before the state is read). No record, or one that cannot be
 * read: no adoptions (the containers show as not ours, and their cards take them over again
 * when they still match). */
void ws_adopted_load(struct workspace *ws);
void ws_adopted_free(struct workspace *ws);
/* Whether container @id was adopted; what took it over into @out (may be NULL). */
bool ws_adopted(struct workspace *ws, const char *id, struct ws_adoption *out);
/* Drops @id (a full id) from the record, if it is there: the container is removed. */
void ws_adopted_forget(struct workspace *ws, const char *id);
/* Whether the foreign container @ctr (inspected) is what the card at relpath, of hash @hash,
 * makes: no other workspace made it, its generated card has the same hash and it runs the image
 * the card names. Then it is recorded as adopted: 1. 0 when it is not; -errno when the record
 * cannot be written (the sentence in err). */
struct ws_deps;
int ws_adopt_take(struct workspace *ws, const struct be_obj *ctr, const char *relpath,
		  const char *hash, const struct ws_deps *deps, char *err, size_t errlen);

/* ---- the apply pool (pool.c) ---- */
/* The placeholder values (paths.yaml, secrets.yaml) as read once for a pass, shared by the
 * applies of that pass. */
struct ws_values {
	struct card_values v;
	atomic_int refs;
};
/* Reads them (errors to the log); NULL on ENOMEM. ws_values_put drops a reference. */
struct ws_values *ws_values_new(struct workspace *ws);
void ws_values_put(struct ws_values *v);

/* What a finished apply does to the entry's result (ws_card_result). */
enum ws_pool_result {
	WS_POOL_KEEP,	    /* nothing (dependents applied again) */
	WS_POOL_IF_APPLIED, /* 0 once applied (a retry) */
	WS_POOL_SET,	    /* the apply's result (a commit, recovery) */
};
/* What a worker runs for an entry: ws_apply_entry, given by the caller so that the pool
 * depends on none of the files that use it. */
typedef int (*ws_apply_fn)(struct workspace *ws, struct ws_entry *e,
			   const struct card_values *values);
int ws_pool_start(struct workspace *ws, ws_apply_fn fn);
/* Finishes the running applies, abandons the queued ones, joins the workers. */
void ws_pool_stop(struct workspace *ws);
void ws_pool_free(struct workspace *ws);
/* Queues an apply of e (applier thread; lock not held): merged with one already queued, or
 * run again after the one running. -ECANCELED when stopping. */
int ws_pool_apply(struct workspace *ws, struct ws_entry *e, struct ws_values *values,
		  enum ws_pool_result mode);
/* Waits until e's apply ended or said its answer to the commit is known (ws_pool_decided):
 * the apply's result, 0 while it goes on, -ECANCELED when abandoned. */
int ws_pool_wait_decided(struct workspace *ws, struct ws_entry *e);
/* Waits until no apply of e is queued or running (applier thread; lock held, or taken here). */
void ws_pool_wait_entry_locked(struct workspace *ws, struct ws_entry *e);
void ws_pool_wait_entry(struct workspace *ws, struct ws_entry *e);
/* The entry at relpath once no apply of it is queued or running, or NULL (any thread; lock
 * held). */
struct ws_entry *ws_pool_idle_entry_locked(struct workspace *ws, const char *relpath);
/* Waits until no apply of the card of that kind and name is queued or running (any thread;
 * lock taken here). */
void ws_pool_wait_card(struct workspace *ws, enum card_kind kind, const char *name);
/* Waits until no apply is queued or running: 0, or -ETIMEDOUT at @until (NULL: no limit). */
int ws_pool_drain(struct workspace *ws, const struct timespec *until);
/* Called by an apply on a worker: what is left of it (a container's start) may fail without
 * the commit's caller waiting for it; the outcome goes to the state, the errors log and the
 * change feed, and to the next ws_card_result. Elsewhere: nothing. */
void ws_pool_decided(struct workspace *ws);

/* ---- engine side of one card (apply.c, apply-container.c, apply-service.c); no lock held ---- */

/* What an apply needs from the cards a container names (copied under the lock). */
struct ws_deps {
	char image[256];	       /* "<name>:<tag>" */
	char image_id[BE_ID_SIZE]; /* "" when unknown */
	char network[128];	       /* NetworkCard name, or "" */
	char pulled[512]; /* a pulled image's registry reference ("<image>:<tag>"), or "": what
			     every node of a Swarm can get, where the card's tag is local */
};

struct ws_result {
	char id[BE_ID_SIZE];
	char replaced[BE_ID_SIZE]; /* images: the id of our build this apply replaced */
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
/* On a Swarm (apply-service.c): the container card as a service. */
int ws_apply_service(struct workspace *ws, const char *relpath, const struct card *card,
		     const char *hash, const struct ws_deps *deps, struct ws_result *res);
/* Removes what a card made. @force: whoever made it (rmdir); else only what carries this
 * workspace's labels. @object: the engine name the card made ("web", "web:latest"). */
int ws_unapply(struct workspace *ws, enum card_kind kind, const char *object, bool force, char *err,
	       size_t errlen);

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

/* ---- the engine state (state.c); slock taken inside unless said ---- */
void ws_state_init(struct workspace *ws);
void ws_state_free(struct workspace *ws);
/* A ticket for an engine read about to be made: results are applied newest first. */
unsigned long ws_ticket(struct workspace *ws);
/* Lookups (slock held); by id and by name: store-index.c. */
struct ws_sobj *ws_store_id(struct ws_store *s, const char *id);
struct ws_sobj *ws_store_name(struct ws_store *s, const char *name);
struct ws_sobj *ws_store_tag(struct ws_store *s, const char *tag);
/* After any change of a store's array (store-index.c). */
void ws_store_changed(struct ws_store *s);
void ws_store_index_free(struct ws_store *s);
/* Whether a removal newer than @ticket forgets this id (slock held). */
bool ws_tombstoned(struct workspace *ws, const char *id, unsigned long ticket);

/* What a put or drop replaced: the object as it was. */
struct ws_prev {
	bool had;
	char name[128];
	char state[16];
	char health[16];
	char started_at[40];
	int exit_code;
	bool summary; /* it came from a list: started_at was not known */
};

enum ws_put_result { WS_PUT_OLDER, WS_PUT_NEW, WS_PUT_UPDATED };
/* Puts an object read with @ticket (taking it; freed when older than what is there). Networks
 * publish "create" when new. */
enum ws_put_result ws_state_put(struct workspace *ws, enum ws_kind kind, struct ws_sobj *o,
				unsigned long ticket, struct ws_prev *prev);
/* Forgets an object (by id, else by name) known to be gone as of @ticket; whether it was
 * there. Networks publish "remove". */
bool ws_state_drop(struct workspace *ws, enum ws_kind kind, const char *id, const char *name,
		   unsigned long ticket, struct ws_prev *prev);
/* An event whose inspect failed: its state as the action implies it, read again later. With
 * @read_follows (an own change its maker reads back) the state is only set when it differs,
 * and not marked for the next reconcile. */
void ws_state_imply(struct workspace *ws, const char *id, const char *action, time_t when,
		    bool read_follows);
/* An object's details are out of date (by id, else by name): a network's inspect is read when
 * asked for (ws_inspect), a container is read by the next reconcile. */
void ws_state_outdated(struct workspace *ws, enum ws_kind kind, const char *id);
/* The image list read with @ticket (taken, with its array): diffs it against the state,
 * publishes "pulled", "built", "tagged", "removed", and gives back the ids of the images a
 * card names whose inspect is missing (malloc'd, NULL-terminated; may be NULL). */
char **ws_state_images(struct workspace *ws, struct be_obj **list, size_t n, unsigned long ticket,
		       char *const *card_refs);
/* The inspect document of an image (unformatted JSON, taken; may be NULL). */
void ws_state_image_inspect(struct workspace *ws, const char *id, char *json, unsigned long ticket);
/* The next change of this image tag is called @action. */
void ws_state_hint(struct workspace *ws, const char *tag, const char *action);
/* The event stream is down (why) or up again (NULL). */
void ws_state_stale(struct workspace *ws, const char *why);

/* Reads one object from the engine now and puts it into the state (any thread, no lock held);
 * after every change the workspace makes, so that a read right after shows it. */
int ws_refresh_container(struct workspace *ws, const char *name_or_id);
int ws_refresh_network(struct workspace *ws, const char *name_or_id);
/* The image list, and the inspect of the images cards name. */
int ws_refresh_images(struct workspace *ws);
/* After an apply or removal of what a card makes. */
void ws_refresh_kind(struct workspace *ws, enum card_kind kind, const char *object);
/* A Swarm's services and nodes, read whole (three requests) and diffed into the state, each
 * difference published: service create, update (state=...), converged, remove; task
 * NAME.SLOT STATE node=NODE [error=...]; node ready, down, unknown, drain, pause, active.
 * Not a Swarm: 0 at once. */
int ws_refresh_swarm(struct workspace *ws);
/* The object names of the ImageCards ("web:latest"), malloc'd and NULL-terminated. */
char **ws_card_image_refs(struct workspace *ws);

/* ---- the state thread (state-sync.c) and the events thread (events-feed.c) ---- */
/* The state thread (state-sync.c): started before the events thread, stopped after it. */
int ws_state_thread_start(struct workspace *ws, char *err, size_t errlen);
void ws_state_thread_stop(struct workspace *ws);
/* Queues an event for the state thread (events thread). */
void ws_post_event(struct workspace *ws, const struct be_event *ev);
/* Asks the state thread for a reconcile with full lists. */
void ws_post_reconcile(struct workspace *ws);
/* Waits until the first reconcile was tried: 0 or -ETIMEDOUT. */
int ws_state_wait_warm(struct workspace *ws, int timeout_ms);
int ws_events_start(struct workspace *ws);
void ws_events_stop(struct workspace *ws);

/* A container just created, as its create (or its event) says it (@own: this workspace made
 * it), until a read of it lands: state created, no engine request (state-sync.c). */
void ws_state_created(struct workspace *ws, const char *id, const char *name, time_t when,
		      bool own);

/* ---- lines a reconcile made up (madeup.c); state thread only ---- */
/* A reconcile published @action of container @id from a list answered at @engine_ns. */
void ws_madeup_note(struct workspace *ws, const char *id, const char *action, long long engine_ns);
/* Whether an event (@time_nano: its time) is one a reconcile's line already showed; it is
 * then forgotten. */
bool ws_madeup_take(struct workspace *ws, const char *id, const char *action, long long time_nano);

/* ---- own changes (own.c) ---- */
/* Before a request that causes the event (key, action): its maker reads the result back. */
void ws_own_expect(struct workspace *ws, const char *key, const char *action);
/* The request failed: no such event comes. */
void ws_own_forget(struct workspace *ws, const char *key, const char *action);
/* Whether the event is one expected (by id, or a create by name), taken (state thread): -1
 * not; else the slot its line goes to (ws_own_line). */
int ws_own_take(struct workspace *ws, const struct be_event *ev);
/* The taken event's line (NULL: none): published at once when its maker's read is in the
 * state, else kept until it is (state thread). */
void ws_own_line(struct workspace *ws, int slot, const struct ws_change *c);
/* The maker's read of a container is in the state (or failed): its events' lines may go out.
 * @a, @b: what names it (name, id; NULL for none). Any thread. */
void ws_own_read(struct workspace *ws, const char *a, const char *b);
/* Publishes the kept lines whose read is done or whose time is up, and with @id the container's
 * all (an event of it comes next: its lines keep their order); wqlock held. */
void ws_own_flush_locked(struct workspace *ws, const char *id);
/* In how many ms the first kept line's time is up; -1 none (wqlock held). */
long ws_own_due_locked(struct workspace *ws);

/* ---- units and groups (groups.c, group-plan.c, group-ctl.c) ---- */
/* One member of a unit or group: a unit and the container card it names. */
struct ws_member {
	char unit[128];		/* the unit's name */
	struct ws_entry *uent;	/* its card's entry; NULL when the ref names no unit */
	struct ws_entry *cent;	/* the container card's entry; NULL when missing */
	char missing[300];	/* the ref that names no card, or "" */
};
/* Each member's view, as status shows it. */
enum ws_word_kind { WS_W_UP, WS_W_DOWN, WS_W_PARTIAL, WS_W_PENDING, WS_W_ERROR };
struct ws_word {
	enum ws_kind kind;
	char name[128];
	enum ws_word_kind word;
};
/* The entry of the card of that kind a ref names, or NULL when it names none (lock held). */
struct ws_entry *ws_ref_entry_locked(struct workspace *ws, const char *ref, enum card_kind kind);
/* The members of a unit or group in order (lock held): malloc'd into *out, their number; or
 * -ENOENT when there is no such card, -ENOMEM. */
int ws_group_members_locked(struct workspace *ws, enum ws_kind kind, const char *name,
			    struct ws_member **out);
/* The whole's word (lock and slock held): -ENOENT when no such card. */
int ws_group_word_locked(struct workspace *ws, enum ws_kind kind, const char *name,
			 enum ws_word_kind *word);
const char *ws_word_name(enum ws_word_kind word);
/* The status lines after the first (lock and slock held). */
void ws_group_status_locked(struct workspace *ws, enum ws_kind kind, const char *name, FILE *f);
/* Whether every unit that names this container card is down (lock held); why into @why. */
bool ws_container_held_locked(struct workspace *ws, const struct card *container, char *why,
			      size_t whylen);
/* The held marks: read at ws_open; set or cleared (lock not held): 0 or -errno. A unit's mark
 * goes with its card. */
void ws_down_load(struct workspace *ws);
int ws_down_set(struct workspace *ws, const char *unit, bool down);
bool ws_down_locked(struct workspace *ws, const char *unit);
void ws_down_free(struct workspace *ws);
/* After changes are delivered (state thread): publishes the words that changed. */
void ws_groups_track(struct workspace *ws);
/* The ctl: its command checked before it is queued (any thread), then run on the applier
 * (group-ctl.c). */
int ws_group_ctl_check(struct workspace *ws, enum ws_kind kind, const char *name,
		       const char *command);
int ws_do_group_ctl(struct workspace *ws, enum ws_kind kind, const char *name,
		    const char *command);

/* ---- changes (changes.c) ---- */
/* Queues a change for delivery (any thread; seq and, when zero, time are set here). */
void ws_publish(struct workspace *ws, const struct ws_change *c);
/* The same, wqlock held. */
void ws_publish_locked(struct workspace *ws, const struct ws_change *c);
/* Fills in one change; attrs "k=v ..." already quoted (ws_attr). */
void ws_change_make(struct ws_change *c, enum ws_kind obj, const char *name, const char *action,
		    const char *attrs, bool membership, const struct timespec *when);
/* Makes and publishes one change (ws_change_make, ws_publish). */
void ws_emit(struct workspace *ws, enum ws_kind obj, const char *name, const char *action,
	     const char *attrs, bool membership, const struct timespec *when);
/* Appends " key=value" to attrs (quoting the value when it needs it). */
void ws_attr(char *attrs, size_t len, const char *key, const char *value);
/* Delivers the queued changes (state thread); whether one was not a unit's or group's (their
 * words may have changed). */
bool ws_deliver(struct workspace *ws, struct ws_chg_item *list);
/* A card's change: accepted, rejected (error), applied, pending (waits), removed. The ref
 * ("containers/web") goes to attrs as ref=...; lock may be held. */
void ws_card_change(struct workspace *ws, const char *relpath, const char *ref, const char *action,
		    const char *key, const char *value, bool membership);
/* Whether the state has an engine object of that name (slock taken here). */
bool ws_state_has(struct workspace *ws, enum ws_kind kind, const char *name);

#endif
