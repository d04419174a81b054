/* The backend interface: what every engine kind implements, and all that the engine-independent
 * core (workspace.h and its files) knows of an engine.
 *
 * The shape is libfuse's: one const table of operations per engine kind (struct backend_ops)
 * and an instance that points at it (struct backend, embedded first in the driver's own
 * struct). A driver lives in its own folder (docker/ for the Docker Engine API, which Podman
 * also serves); the core never sees its protocol: no engine documents, no API paths, no label
 * encoding. What crosses the seam is engine-neutral: objects (struct be_obj) with the fields
 * the state and the view need plus the engine's own inspect document as text, events (struct
 * be_event) with an opaque resume cursor, progress as text lines, and requests built from the
 * cards themselves (struct be_container, be_network, be_build).
 *
 * The errno contract, the same for every operation of every driver: 0 or a negative errno
 * from this set, so that the FUSE layer can hand it to the kernel as it is:
 *   -ECONNREFUSED  engine unreachable (no socket, refused, connection dropped, TLS or ssh
 *                  failure: the sentence says which)
 *   -ETIMEDOUT     engine did not answer in time
 *   -ENOENT        no such object
 *   -EEXIST        name already taken
 *   -EBUSY         in use, or in the wrong state for the operation
 *   -EADDRINUSE    a host port a container publishes is taken (the sentence says by whom)
 *   -EINVAL        bad parameter (rejected by the engine or before asking it)
 *   -EACCES        forbidden (predefined objects, authorization)
 *   -EPROTONOSUPPORT the engine speaks no version the driver knows
 *   -EOPNOTSUPP    this engine kind cannot do it (see caps); nothing was changed
 *   -EIO           anything else, including failures reported inside a progress stream
 *   -ECANCELED     a callback asked to stop
 * -ENOTCONN is never returned: to a FUSE mount it reads as "transport endpoint is not
 * connected", which is about the mount, not the engine. err/errlen (may be NULL/0) receives
 * the engine's own message or the transport's, for the mount's errors file. Every operation
 * is safe to call from many threads at once on one instance. */
#ifndef CUTIPFS_BACKENDS_BACKEND_H
#define CUTIPFS_BACKENDS_BACKEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "card.h"

/* A full 64-hex object id (or "sha256:" + 64 hex) and its NUL. */
#define BE_ID_SIZE 80

enum be_kind { BE_IMAGE, BE_NETWORK, BE_CONTAINER, BE_VOLUME, BE_SERVICE, BE_NODE };

/* What an engine kind can do (struct backend_ops.caps), shown in the mount's engine file. */
enum {
	BE_CAP_BUILD = 1u << 0,	   /* images built from a context */
	BE_CAP_PAUSE = 1u << 1,	   /* containers paused and unpaused */
	BE_CAP_SUBNETS = 1u << 2,  /* networks with a subnet and gateway of the card's */
	BE_CAP_VOLUMES = 1u << 3,  /* named volumes */
	BE_CAP_REPLAY = 1u << 4,   /* events replayed from a cursor after a reconnect */
	BE_CAP_SERVICES = 1u << 5, /* replicated services (a cluster) */
	BE_CAP_HEALTH = 1u << 6,   /* health checks and their events */
};

/* ---- objects ---- */

struct be_kv {
	char *key, *value;
};

/* One engine object. From a list (summary) it has what a listing needs; from an inspect, all
 * of it. Strings owned by the object (be_obj_free). */
struct be_obj {
	enum be_kind kind;
	bool summary;		 /* from a list: no details, no inspect */
	char id[BE_ID_SIZE];	 /* volumes: the name */
	char name[128];		 /* containers, networks, volumes; "" for images */
	char state[16];		 /* containers, in Docker's words (created, running, paused,
				    restarting, removing, exited, dead); others "present" */
	char health[16];	 /* containers: starting, healthy, unhealthy, or ""; nodes: their
				    availability (active, pause, drain) */
	char started_at[40];	 /* containers: RFC 3339 */
	char finished_at[40];	 /* containers */
	int exit_code;		 /* containers */
	bool tty;		 /* containers: its output is one raw stream */
	char image[256];	 /* containers: the image it was made from, short ("web:latest") */
	char image_id[BE_ID_SIZE]; /* containers: the id of that image */
	time_t created;		 /* seconds */
	long long size;		 /* images */
	struct be_kv *labels;	 /* containers (config), images (config), networks, volumes */
	size_t nlabels;
	char *tags;    /* images: "\nweb:latest\nx:1\n", short names; NULL otherwise */
	char *nets;    /* containers: "\nbridge\nnet1\n" */
	char *subnets; /* networks: "\n10.1.2.0/24\n", as the engine writes them */
	char *details; /* status lines after the state: "id: ...\nimage: ...\n" */
	char *tasks;   /* services: their tasks, newest first, one line each:
			  "TASKID SLOT NODE DESIRED CURRENT [ERROR]" */
	char *inspect; /* the engine's inspect document, unformatted JSON */
};

/* (backend-util.c) */
void be_obj_free(struct be_obj *o);
void be_objv_free(struct be_obj **v, size_t n);
/* The value of a label, or NULL. */
const char *be_obj_label(const struct be_obj *o, const char *key);

/* Labels to put on what a request makes; borrowed strings. */
struct be_label {
	const char *key, *value;
};
struct be_labels {
	size_t n;
	const struct be_label *v;
};

/* ---- events ---- */

/* One change in the engine, in Docker's vocabulary whatever the engine's (a container's
 * "remove" is "destroy", "died" is "die"; health is "health_status: healthy"). Borrowed by
 * the callback. */
struct be_event {
	enum be_kind kind;
	char id[BE_ID_SIZE];
	char name[128];
	char old_name[128]; /* rename */
	char action[64];
	char exit_code[16]; /* die */
	char signal[16];    /* kill */
	char health[16];    /* health_status */
	long long time_nano; /* the engine's clock */
	char cursor[40];     /* where a watch resumes after this event (opaque) */
};
/* Return non-zero to stop the watch. */
typedef int (*be_event_cb)(const struct be_event *ev, void *ctx);

/* ---- requests built from cards ---- */

/* How far a pull, build or load has got: bytes moved and to move, summed over the layers whose
 * size is known (total 0: none is yet), and the step of a build (steps 0: not a build, or
 * none said yet). */
struct be_progress {
	long long current, total;
	unsigned step, steps;
};
/* A line of a pull's, build's or load's progress, as a person reads it (with its newline), or
 * NULL when only the counts moved; @p: the counts so far. Return non-zero to cancel (the call
 * then fails with -ECANCELED). */
typedef int (*be_progress_cb)(const char *line, const struct be_progress *p, void *ctx);
/* Bytes of a stream in order (an image saved): 0 continue, > 0 stop early (the call returns
 * 0), < 0 abort with it. */
typedef int (*be_bytes_sink)(const char *buf, size_t len, void *ctx);

struct be_build {
	const char *context_dir; /* a directory, sent as the build context */
	const char *dockerfile;	 /* inside the context; NULL: "Dockerfile" */
	const char *tag;	 /* "name:tag" */
	const struct card_map *build_args;
	struct be_labels labels;
	const char *network_mode; /* NULL: the engine's default */
	int timeout_s;		  /* <= 0: none */
};

struct be_network {
	const char *name;
	const char *driver;  /* NULL: the engine's default */
	const char *subnet;  /* NULL: none of the card's */
	const char *gateway; /* NULL: none */
	struct be_labels labels;
};

struct be_volume {
	const char *name;
	const char *driver; /* NULL: "local" */
	const struct card_map *options;
	struct be_labels labels;
};

/* A container as a ContainerCard says, with what its refs resolved to. */
struct be_container {
	const struct card *card; /* CARD_CONTAINER */
	const char *root;	 /* relative bind sources are below this directory */
	const char *image;	 /* "<name>:<tag>" of its ImageCard, or the card's image */
	const char *network;	 /* its NetworkCard's name, or NULL */
	struct be_labels labels;
};

/* ---- control and logs ---- */

enum be_ctl_op {
	/* containers */
	BE_START, BE_STOP, BE_RESTART, BE_KILL, BE_PAUSE, BE_UNPAUSE,
	/* services */
	BE_SCALE,     /* to @count replicas */
	BE_REDEPLOY,  /* every task again, with the same spec */
	BE_ROLLBACK,  /* to the spec before the last update */
	BE_UPDATE_PAUSE, BE_UPDATE_RESUME,
	/* nodes */
	BE_DRAIN, BE_NODE_PAUSE, BE_ACTIVATE, BE_PROMOTE, BE_DEMOTE,
};
struct be_ctl {
	enum be_ctl_op op;
	unsigned count;	    /* scale */
	int timeout_s;	    /* stop, restart: seconds before SIGKILL; < 0: the object's own */
	const char *signal; /* kill: "TERM", "SIGHUP", "9"; NULL: KILL */
};

/* Flags of remove. */
enum { BE_RM_FORCE = 1u << 0, BE_RM_VOLUMES = 1u << 1 };

enum be_stream { BE_STDOUT = 1, BE_STDERR = 2 };
/* Log bytes in order: 0 continue, > 0 stop early (the call returns 0), < 0 abort with it. */
typedef int (*be_log_sink)(enum be_stream stream, const char *buf, size_t len, void *ctx);
struct be_logs {
	bool tty;		 /* the container's output is one raw stream */
	bool follow;		 /* until the container stops, *stop, or the sink says so */
	const char *since;	 /* engine time "SECS.NANOS" (follow); NULL: from the start */
	const atomic_bool *stop; /* follow: seen within about 100 ms */
};

/* ---- the table ---- */

struct backend;

/* Where and how to open: what the user named (everything NULL: the driver discovers). */
struct be_open {
	const char *engine;  /* -o engine=URL */
	const char *context; /* -o context=NAME */
	const char *flavour; /* -o backend=docker|podman: NULL detects */
	bool tlsverify;	     /* -o tlsverify */
	const char *tlscacert, *tlscert, *tlskey;
	bool wait_default; /* nothing named, nothing answering: open on the usual place anyway */
};

struct backend_ops {
	const char *name; /* the engine kind: "docker" */
	unsigned caps;	  /* BE_CAP_* */

	/* What open would refuse (a bad combination, a missing file), without opening anything
	 * (no thread, no connection): before a daemon forks. 0 or -errno with one line. */
	int (*check)(const struct be_open *o, char *err, size_t errlen);
	/* The instance, or -errno with one line in err. An endpoint named but down opens (it
	 * reports unreachable and recovers by itself), with the reason in err. */
	int (*open)(const struct be_open *o, struct backend **out, char *err, size_t errlen);
	/* No call may still run on it. */
	void (*close)(struct backend *b);
	int (*ping)(struct backend *b, char *err, size_t errlen);
	bool (*reachable)(struct backend *b);
	/* "key: value" lines for the mount's engine file: kind, endpoint as given and as
	 * reached, version, state; the length written (cut to len - 1). */
	int (*info)(struct backend *b, char *buf, size_t len);
	/* Requests made so far (for benchmarks and tests). */
	unsigned long (*requests)(struct backend *b);
	/* The engine's clock now, in nanoseconds since the epoch: times given to the engine
	 * (since, until) are the engine's, and a remote clock may be minutes off ours. */
	int (*clock)(struct backend *b, long long *ns, char *err, size_t errlen);

	/* Every object of a kind, as summaries (malloc'd array in *out). */
	int (*list)(struct backend *b, enum be_kind kind, struct be_obj ***out, size_t *n,
		    char *err, size_t errlen);
	/* One object by name or id, in full. */
	int (*inspect)(struct backend *b, enum be_kind kind, const char *ref, struct be_obj **out,
		       char *err, size_t errlen);
	/* Events of containers, networks and images from @since until @until (each an event's
	 * cursor, or a time of the engine's clock as "SECS.NANOS"; since NULL: from now; until
	 * NULL: live, until *stop or the stream ends: then -ENODATA when the engine ended its
	 * answer itself, else -EIO or the transport's errno). 0 when stopped, or when @until was
	 * reached. */
	int (*watch)(struct backend *b, const char *since, const char *until, be_event_cb cb,
		     void *ctx, const atomic_bool *stop, char *err, size_t errlen);

	/* Images. */
	int (*image_pull)(struct backend *b, const char *image, const char *tag, be_progress_cb cb,
			  void *ctx, int timeout_s, char *err, size_t errlen);
	int (*image_tag)(struct backend *b, const char *source, const char *repo, const char *tag,
			 char *err, size_t errlen);
	/* The new image's id to @id. */
	int (*image_build)(struct backend *b, const struct be_build *o, be_progress_cb cb,
			   void *ctx, char *id, size_t idlen, char *err, size_t errlen);
	/* An image as the tar archive of `docker save` (its layers, config and manifest), to
	 * @sink as the engine sends it: never whole in memory. *stop ends it within about 100 ms. */
	int (*image_save)(struct backend *b, const char *ref, be_bytes_sink sink, void *ctx,
			  const atomic_bool *stop, char *err, size_t errlen);
	/* The images of such an archive (`docker load`), read from @fd (from its offset on, to
	 * its end), progress to @cb; the names it gave ("web:latest\n...", or the image id when
	 * it had none) to *@loaded (malloc'd). A bad archive: -EINVAL or -EIO with the engine's
	 * words, and nothing loaded. */
	int (*image_load)(struct backend *b, int fd, be_progress_cb cb, void *ctx, char **loaded,
			  char *err, size_t errlen);
	/* Networks and volumes: an existing one of that name is left as it is (*created false). */
	int (*network_create)(struct backend *b, const struct be_network *n, char *id,
			      size_t idlen, bool *created, char *err, size_t errlen);
	int (*volume_create)(struct backend *b, const struct be_volume *v, bool *created,
			     char *err, size_t errlen);
	/* A container, created, not started; its id to @id. */
	int (*container_create)(struct backend *b, const struct be_container *c, char *id,
				size_t idlen, char *err, size_t errlen);
	/* Start, stop, ... (containers). Already so (started, stopped) is success. */
	int (*ctl)(struct backend *b, enum be_kind kind, const char *id, const struct be_ctl *c,
		   char *err, size_t errlen);
	/* Any kind; BE_RM_* flags. In use: -EBUSY. */
	int (*remove)(struct backend *b, enum be_kind kind, const char *id, unsigned flags,
		      char *err, size_t errlen);
	/* A container's output, demultiplexed. */
	int (*logs)(struct backend *b, const char *id, const struct be_logs *o, be_log_sink sink,
		    void *ctx, char *err, size_t errlen);

	/* Services (BE_CAP_SERVICES; NULL elsewhere): the card's container as a replicated
	 * service. @id NULL creates it (its id to @out_id); else an update of service @id to the
	 * card, rolled through its tasks. */
	int (*service_put)(struct backend *b, const struct be_container *c, unsigned replicas,
			   const char *id, char *out_id, size_t idlen, char *err, size_t errlen);
	/* All tasks' output of service @id, whole lines, each led by "NAME.SLOT@NODE | " (a
	 * global service's: "NAME@NODE | "), as `docker service logs` shows them. o->tty is
	 * not used (the driver knows); o->follow goes on until the service is removed, *stop,
	 * or the sink says so, new tasks included. */
	int (*service_logs)(struct backend *b, const char *id, const struct be_logs *o,
			    be_log_sink sink, void *ctx, char *err, size_t errlen);
};

struct backend {
	const struct backend_ops *ops;
};

/* ---- opening: the drivers known (backend.c) ---- */

/* Opens the backend of the engine kind named by @kind ("docker"; NULL: the default). */
int backend_open(const char *kind, const struct be_open *o, struct backend **out, char *err,
		 size_t errlen);
void backend_close(struct backend *b);
/* The refusals of backend_open, without opening anything. */
int backend_check(const char *kind, const struct be_open *o, char *err, size_t errlen);

/* ---- helpers every driver and the core share (backend-util.c) ---- */

/* "docker.io/library/web:latest" and "localhost/web:latest" -> "web:latest": the short form
 * of an image reference, the way people write it (and CUTIP's cards do). */
const char *be_image_short(const char *ref);
/* RFC 3339 with nanoseconds ("2026-12-01T08:21:30.715288258Z") -> ns since the epoch; 0
 * before 1970 (engines write "0001-01-01T00:00:00Z" for never), -1 for garbage. */
long long be_time_ns(const char *rfc3339);
/* A JSON number as an integer (truncated toward zero); 0 when @v is not a number or is outside
 * long long's range. cJSON keeps every number as a double, and casting one that does not fit
 * is undefined behaviour, so no engine document may reach such a cast. */
struct cJSON;
long long be_json_int(const struct cJSON *v);
/* An inspect document (be_obj.inspect) indented for people (malloc'd; NULL if not JSON). */
char *be_json_pretty(const char *json);
/* "build pause subnets volumes replay" for the engine file. */
void backend_caps_text(unsigned caps, char *buf, size_t len);
/* An operation the engine kind cannot do: -EOPNOTSUPP with a sentence. */
int backend_unsupported(const struct backend *b, const char *what, char *err, size_t errlen);

#endif
