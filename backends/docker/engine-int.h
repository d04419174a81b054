/*
 * Internals shared by the .c files of the engine client in backends/. Not for the FUSE layer.
 */
#ifndef CUTIPFS_ENGINE_INT_H
#define CUTIPFS_ENGINE_INT_H

#include <pthread.h>
#include <stdint.h>

#include <curl/curl.h>

#include "endpoint.h"
#include "engine.h"

#define ENGINE_CONNECT_TIMEOUT_MS 1000L
#define ENGINE_TIMEOUT_MS 10000L
/* A ping must fit, with its connect, in the "fail within two seconds" budget of a down engine. */
#define ENGINE_PING_TIMEOUT_MS 1000L
/* At open, how long the first ssh of an ssh:// endpoint may take to log in and forward (its
 * ConnectTimeout is 5 s). */
#define ENGINE_SSH_START_MS 6000
/* How often a stream with a stop flag looks at it. */
#define ENGINE_STOP_POLL_MS 100
/* Idle easy handles kept for reuse (each keeps its connection to the engine open). */
#define ENGINE_POOL_SIZE 8
/* Largest non-streamed response body accepted (and longest line of a JSON-lines stream). The
 * largest real answers, the lists of a busy engine, are a few MiB; a body past this is an engine
 * (or something in front of it) gone wrong, and costs the daemon this much memory at most. */
#define ENGINE_BODY_MAX (16u << 20)
/* A bounded GET whose answer stops flowing for this long is given up (CURLOPT_LOW_SPEED_TIME):
 * the engine answers a GET from its own state, and a logs snapshot has a longer total budget
 * than a response that never ends should cost. */
#define ENGINE_STALL_S (ENGINE_TIMEOUT_MS / 1000L)

struct ssh_tunnel;

struct engine {
	/* Immutable after engine_open(). */
	char *endpoint;	 /* as given: "unix:///run/docker.sock", "tcp://h:2376", "ssh://u@h" */
	char *sock_path; /* unix: "/run/docker.sock"; ssh: the forwarded socket; tcp: NULL */
	bool backend_forced;
	struct endpoint ep;	/* where it came from and how to reach it (endpoint.h) */
	char *base_url;		/* "http://localhost", "https://127.0.0.1:2376" */
	struct ssh_tunnel *ssh; /* ssh:// endpoints: the tunnel (ssh.c), else NULL */

	/* Guards the engine state below; never held across a request. */
	pthread_mutex_t state_lock;
	enum engine_backend backend; /* guarded by state_lock */
	char api[16];		     /* guarded by state_lock: negotiated, "1.41" */
	char engine_version[64];     /* guarded by state_lock: "20.10.24", "4.3.1" */
	bool reachable;		     /* guarded by state_lock */
	char last_error[512];	     /* guarded by state_lock: why unreachable */
	char tls_subject[256];	     /* guarded by state_lock: the server certificate's subject */
	char last_fault[640];	     /* guarded by state_lock: the last request the engine failed */

	/* HTTP requests started through ereq_run(), pings included (engine_requests()). */
	atomic_ulong requests;

	/* Guards the pool of idle easy handles. */
	pthread_mutex_t pool_lock;
	CURL *pool[ENGINE_POOL_SIZE]; /* guarded by pool_lock */
	int npool;		      /* guarded by pool_lock */
};

/* ---- growable byte buffer (util.c) ---- */

struct ebuf {
	char *data;
	size_t len;
	size_t cap;
};

int ebuf_append(struct ebuf *b, const void *p, size_t n);
void ebuf_consume(struct ebuf *b, size_t n);
void ebuf_free(struct ebuf *b);

/* ---- request core (engine.c) ---- */

enum {
	EREQ_UNVERSIONED = 1u << 0, /* /_ping: no /vX.Y prefix */
	EREQ_304_OK = 1u << 1,	    /* start/stop/restart: "already so" is success */
	EREQ_NO_PROBE = 1u << 2,    /* do not ping an unreachable engine first (the ping itself) */
	EREQ_CERTINFO = 1u << 3,    /* TLS: record the server certificate's subject (the ping) */
};

/* Receives a 2xx body as it arrives: 0 continue, > 0 stop (success), < 0 abort with that -errno. */
typedef int (*ereq_sink)(const char *buf, size_t len, void *ctx);

struct ereq {
	const char *method; /* "GET", "POST", "DELETE" */
	const char *path;   /* below the version prefix, escaped, with its query string */
	unsigned flags;
	int on_conflict; /* errno for 409 and Podman's 500 conflicts; 0 means EBUSY */
	long timeout_ms; /* 0: ENGINE_TIMEOUT_MS; < 0: none (streams) */

	/* Request body: a JSON document, or a chunked upload pulled from @upload. */
	const cJSON *json;
	curl_read_callback upload;
	void *upload_ctx;
	const char *content_type; /* of the upload */

	/* 2xx body goes to @sink if set, else into @body. Error bodies always land in @body. */
	ereq_sink sink;
	void *sink_ctx;
	const atomic_bool *stop; /* checked every ENGINE_STOP_POLL_MS; implies a multi loop */

	/* Results. */
	long status;
	struct ebuf body;
	char hdr_api[16];    /* Api-Version response header */
	char hdr_libpod[32]; /* Libpod-Api-Version response header (Podman) */

	/* Private to engine.c. */
	CURL *h;
	int sink_rc;
	bool cancelled;
	bool too_big; /* the body passed ENGINE_BODY_MAX */
};

/* Runs @r (probing an unreachable engine first); returns 0 or -errno with @err filled. */
int ereq_run(struct engine *e, struct ereq *r, char *err, size_t errlen);
/* ereq_run, then parse the body into @out (may be NULL; NULL result for an empty body). */
int ereq_json(struct engine *e, struct ereq *r, cJSON **out, char *err, size_t errlen);
void ereq_free(struct ereq *r);

/*
 * THE outcome -> errno mapping. @cc: the transfer's result; @status: HTTP status (0 if none);
 * @body: the response body (error JSON); @on_conflict: errno for 409 (0: EBUSY); @ok304. The
 * engine's message, or a transport description naming @endpoint, goes to @err.
 */
int engine_errno(CURLcode cc, long status, const char *body, size_t blen, int on_conflict,
		 bool ok304, const char *endpoint, const char *curl_detail, char *err,
		 size_t errlen);

/* What the mapping needs to put a TLS failure in words. */
struct engine_errctx {
	const char *endpoint; /* the URL as given */
	bool tls;
	const char *ca;	      /* NULL: the system's CA store */
	const char *cert;     /* the client certificate, NULL when none is sent */
	char hostport[320];   /* "127.0.0.1:2376" */
};
/*
 * engine_errno with the endpoint's TLS set-up: TLS failures (untrusted server certificate, CA
 * file, client certificate required or refused, not TLS at all) are -ECONNREFUSED, the engine
 * being unreachable, with the cause in words.
 */
int engine_errno_ctx(CURLcode cc, long status, const char *body, size_t blen, int on_conflict,
		     bool ok304, const struct engine_errctx *x, const char *curl_detail, char *err,
		     size_t errlen);

/* snprintf into an optional caller buffer (util.c). */
void engine_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* GET @base ("/containers/json?all=1", "/networks") filtered by @label ("k" or "k=v"; NULL:
 * all) into an array; with @member the array is that member of the response (null: empty). */
int engine_list(struct engine *e, const char *base, const char *label, const char *member,
		cJSON **out, char *err, size_t errlen);
/* URL-escapes one path component or query value (curl_free the result). */
char *engine_escape(const char *s);
/* Image references are put in paths unescaped ("/" and ":" are part of them): validate instead. */
bool engine_ref_ok(const char *ref);
/* Builds "?filters=<escaped {"label":[label]}>" style query fragments; NULL on OOM. */
char *engine_label_filter(const char *label);

/* A handle on @sock_path, not yet contacted (unreachable until a probe succeeds). */
struct engine *engine_alloc(const char *sock_path, enum engine_backend forced);
/* A handle on @ep, which it takes over (also on failure); starts an ssh tunnel for ssh://. */
int engine_alloc_ep(struct endpoint *ep, enum engine_backend forced, struct engine **out,
		    char *err, size_t errlen);
/* Ping with the short timeout; refreshes the handle's state. Used by ereq_run's probe. */
int engine_probe(struct engine *e, char *err, size_t errlen);

/* ---- the transport of each endpoint kind (transport.c) ---- */

/* base_url, sock_path and, for ssh://, the tunnel (started, not waited for). */
int engine_transport_init(struct engine *e, char *err, size_t errlen);
void engine_transport_close(struct engine *e);
/* The connection options of one request: socket, TLS files and verification. */
void engine_transport_setopt(struct engine *e, CURL *h, bool certinfo);
/* After a transfer on a fresh TLS connection: keep the server certificate's subject. */
void engine_transport_certinfo(struct engine *e, CURL *h);
/* ssh:// with its ssh down: true, and why. A request then fails at once, with that reason. */
bool engine_transport_down(struct engine *e, char *why, size_t len);
/* Appends what the transport knows about a failed request (ssh's last complaint). */
void engine_transport_explain(struct engine *e, char *msg, size_t len);
void engine_transport_errctx(const struct engine *e, struct engine_errctx *x);
/* The engine file's "source:", "context:", "via:" and "tls:" lines. */
int engine_transport_info(struct engine *e, char *buf, size_t len);
void engine_mark_unreachable(struct engine *e, const char *why);
/* The engine file's last-error line (engine.c): request @r failed, for reason @msg. */
void engine_note_fault(struct engine *e, const struct ereq *r, const char *msg);
void engine_mark_reachable(struct engine *e);

/* ---- API versions (version.c) ---- */

/* "1.41" -> 1041; -1 if malformed. */
int engine_api_num(const char *v);
/*
 * Picks min(ENGINE_API_MAX, @server_max), raised to @server_min (may be NULL) if that is still in
 * the window; -EPROTONOSUPPORT with a clear message if no version fits.
 */
int engine_negotiate(const char *server_max, const char *server_min, char *out, size_t outlen,
		     char *err, size_t errlen);

/* ---- discovery (discover.c) ---- */

/* Tries @candidates (NULL-terminated socket paths) in order; first answering a ping wins. */
int engine_discover(const char *const *candidates, enum engine_backend forced, struct engine **out,
		    char *err, size_t errlen);

/* ---- image archives (archive.c) ---- */

/* The tar archive at @fd's offset (left there) is one either engine loads: a docker-archive
 * (manifest.json) or an OCI layout (index.json), plain or compressed, whole; else -EINVAL with
 * why. */
int engine_archive_check(int fd, char *err, size_t errlen);

/* ---- JSON lines (jsonl.c) ---- */

/* Called once per complete JSON value; non-zero return stops feeding and is passed back. */
typedef int (*jsonl_cb)(cJSON *obj, void *ctx);

struct jsonl {
	struct ebuf buf;
	size_t scanned; /* buf holds no newline before this offset: not looked at again */
	jsonl_cb cb;
	void *ctx;
	unsigned nbad; /* lines that were not JSON (skipped) */
	char bad[100]; /* the start of the first of them */
};

void jsonl_init(struct jsonl *j, jsonl_cb cb, void *ctx);
int jsonl_feed(struct jsonl *j, const char *p, size_t len);
/* Parses whatever is left (a last object without its newline). */
int jsonl_finish(struct jsonl *j);
void jsonl_free(struct jsonl *j);

/*
 * Progress streams (pull, import, build): splits the body into messages, keeps the first error
 * ("errorDetail"/"error": engines report failures inside a 200 stream) and the image id
 * ({"aux":{"ID"}}), and forwards every message to the caller's callback.
 */
struct progress {
	struct jsonl lines;
	engine_msg_cb cb;
	void *ctx;
	bool failed;
	bool cancelled;
	char error[512];
	char id[ENGINE_ID_SIZE];
};

void progress_init(struct progress *p, engine_msg_cb cb, void *ctx);
/* An ereq sink. */
int progress_sink(const char *buf, size_t len, void *ctx);
/* After the request returned @rc: flushes, frees, and gives 0, @rc, -EIO or -ECANCELED. */
int progress_finish(struct progress *p, int rc, char *err, size_t errlen);

/* ---- logs demultiplexer (logs.c) ---- */

struct engine_demux {
	engine_log_sink sink;
	void *ctx;
	enum { DEMUX_DETECT, DEMUX_HDR, DEMUX_BODY, DEMUX_RAW } state;
	unsigned char hdr[8];
	size_t hlen;
	uint32_t need;
	enum engine_stream stream;
};

void engine_demux_init(struct engine_demux *d, bool tty, engine_log_sink sink, void *ctx);
/* Feeds bytes in arrival order; returns the sink's non-zero return, else 0. */
int engine_demux_feed(struct engine_demux *d, const char *p, size_t len);
/* End of stream: a short undetected prefix (a tiny TTY log) is delivered raw. */
int engine_demux_finish(struct engine_demux *d);

/* ---- events (events.c) ---- */

/* Rewrites Podman's action names to Docker's, in place. */
void engine_event_normalize(cJSON *ev);

/* The body of GET /events: JSON lines, each normalised, then handed to @cb. */
struct engine_events {
	struct jsonl lines;
	engine_event_cb cb;
	void *ctx;
};

void engine_events_init(struct engine_events *s, engine_event_cb cb, void *ctx);
/* An ereq sink; jsonl_finish and jsonl_free on s->lines end the stream. */
int engine_events_sink(const char *buf, size_t len, void *ctx);

#endif /* CUTIPFS_ENGINE_INT_H */
