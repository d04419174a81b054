/*
 * cutipfs engine client: the Docker Engine API (Docker, Podman's Docker-compatible service) over a
 * unix socket, TCP (plain or TLS) or a socket forwarded by ssh, with libcurl and cJSON.
 *
 * Conventions, the same for every function here:
 *  - Returns 0 on success or a negative errno. The errno set is fixed so that the FUSE layer can
 *    hand it straight to the kernel (sshfs style):
 *      -ECONNREFUSED  engine unreachable (no socket, refused, connection dropped, a TLS
 *                     failure, the ssh of an ssh:// endpoint down)
 *      -ETIMEDOUT     engine did not answer in time
 *      -ENOENT        no such object (HTTP 404)
 *      -EEXIST        name already taken (409 on create)
 *      -EBUSY         in use or wrong state (409 on remove, kill...; network with endpoints)
 *      -EINVAL        bad parameter (HTTP 400, or rejected locally)
 *      -EACCES        forbidden (401/403, predefined networks)
 *      -EPROTONOSUPPORT engine speaks no API version in ENGINE_API_MIN..ENGINE_API_MAX
 *      -EIO           anything else, including errors reported inside a 200 stream
 *      -ECANCELED     a progress callback asked to stop (pull, import, build)
 *    -ENOTCONN is never returned: to a FUSE mount it would read as "transport endpoint is not
 *    connected", which is about the mount, not the engine.
 *  - err/errlen is a caller-owned buffer (may be NULL/0) that receives the engine's own message
 *    ("No such container: x") or a description of the transport failure, for the mount's errors
 *    file. It is left untouched on success.
 *  - Returned cJSON trees belong to the caller (cJSON_Delete).
 *  - Every function is safe to call from many threads at once on the same struct engine.
 *  - curl_global_init() must not race with other libcurl users: engine_open() calls it once
 *    through pthread_once; a program that uses libcurl elsewhere should call
 *    curl_global_init(CURL_GLOBAL_DEFAULT) itself before starting threads.
 */
#ifndef CUTIPFS_ENGINE_H
#define CUTIPFS_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* The window of Engine API versions spoken: 1.41 is Docker 20.10's and Podman 4's
 * compatible API; older engines are refused with a clear message (version.c). */
#define ENGINE_API_MIN "1.41"
#define ENGINE_API_MAX "1.47"

/* Big enough for a full 64-hex object id (or "sha256:" + 64 hex) and its NUL. */
#define ENGINE_ID_SIZE 80

enum engine_backend {
	ENGINE_UNKNOWN = 0,
	ENGINE_DOCKER,
	ENGINE_PODMAN,
};

struct engine;

/* ---- handle (engine.c; discovery of the usual sockets in discover.c) ---- */

/*
 * Opens a handle on the engine at @url (any URL of engine_open_ex, below). An explicit
 * @url (or DOCKER_HOST, a context, CONTAINER_HOST during discovery) succeeds even if the engine is
 * down at the moment: the handle reports unreachable and recovers on the next successful call or
 * engine_ping(). With @url NULL: engine_open_ex's precedence, then the usual sockets are probed (
 * /var/run/docker.sock, /run/docker.sock, $XDG_RUNTIME_DIR/docker.sock,
 * $XDG_RUNTIME_DIR/podman/podman.sock, /run/podman/podman.sock, ~/.colima/default/docker.sock,
 * ~/.docker/run/docker.sock, ~/.docker/desktop/docker.sock) and the first that answers a ping
 * wins; if none answers this fails with -ECONNREFUSED.
 * @force_backend: NULL/"" to detect (Libpod-Api-Version ping header), or "docker" / "podman".
 */
int engine_open(const char *url, const char *force_backend, struct engine **out, char *err,
		size_t errlen);
/*
 * Every endpoint kind the docker and podman CLIs reach, chosen with the docker CLI's precedence:
 * @engine / @context (never both) > DOCKER_HOST > DOCKER_CONTEXT > config.json "currentContext"
 * ($DOCKER_CONFIG, default ~/.docker) > CONTAINER_HOST > probing the usual sockets.
 *   unix:///path or /path        a local socket
 *   tcp://HOST[:PORT]            plain HTTP, or TLS (https) when @tlsverify, a @tls* file,
 *                                or DOCKER_TLS_VERIFY (files from DOCKER_CERT_PATH, default
 *                                ~/.docker: ca.pem cert.pem key.pem) for @engine / DOCKER_HOST
 *   ssh://[USER@]HOST[:PORT][/SOCKET]  the remote socket (default /var/run/docker.sock, or
 *                                /run/podman/podman.sock for CONTAINER_HOST, with
 *                                CONTAINER_SSHKEY as the identity) forwarded by the user's ssh
 *   a Docker context             its meta.json endpoint and its TLS material; "default" = none
 * A named endpoint is never replaced by another: it opens (0) reachable or not, @err then
 * holding why it is not. Refused with one line in @err: both @engine and @context (-EINVAL), a
 * context that does not exist or a TLS file named but unreadable (-ENOENT), an unsupported
 * scheme (-EPROTONOSUPPORT). With nothing named and nothing answering: -ECONNREFUSED, or with
 * @wait_default a handle on unix:///var/run/docker.sock, unreachable for now (@err says why).
 */
struct engine_open_opts {
	const char *engine;  /* -o engine=URL */
	const char *context; /* -o context=NAME */
	const char *backend; /* NULL/"" to detect, "docker", "podman" */
	bool tlsverify;	     /* -o tlsverify */
	const char *tlscacert, *tlscert, *tlskey; /* -o tlscacert= ...; any of them implies TLS */
	bool wait_default;
};
int engine_open_ex(const struct engine_open_opts *o, struct engine **out, char *err,
		   size_t errlen);
/* The refusals of engine_open_ex, without opening anything (no thread, no connection): for a
 * caller that wants to refuse before it mounts. */
int engine_check_opts(const struct engine_open_opts *o, char *err, size_t errlen);

/* No call may still be running on @e (stop streams first: their stop flag, then join). */
void engine_close(struct engine *e);

/* GET /_ping (+ /version when the engine comes back): refreshes backend, API version, state. */
int engine_ping(struct engine *e, char *err, size_t errlen);

enum engine_backend engine_backend(struct engine *e);
const char *engine_backend_name(enum engine_backend b);
bool engine_reachable(struct engine *e);
/* "unix:///run/docker.sock"; valid for the life of the handle. */
const char *engine_endpoint(const struct engine *e);
/* Where the endpoint came from: "-o engine", "DOCKER_HOST", ..., "discovered" (engine_open_ex). */
const char *engine_source(const struct engine *e);
/* Copies the negotiated API version ("1.41") into buf. */
void engine_api_version(struct engine *e, char *buf, size_t len);

/*
 * HTTP requests made on @e since engine_open(), every kind counted once when it is sent (pings,
 * the /version of a probe, streams and failed attempts included). For benchmarks and
 * debugging: the difference between two readings is what happened in between.
 */
/* After a start failed with -EADDRINUSE: appends to err who holds the port its words name
 * (ports.c). */
void engine_port_holder(struct engine *e, char *err, size_t errlen);
unsigned long engine_requests(struct engine *e);

/*
 * Human-readable state for the mount's `engine` file, one "key: value" per line: backend,
 * endpoint, engine version, API version, "state: reachable" or "state: unreachable (why)",
 * "last-error: METHOD PATH: WHY" once a request failed for the engine's part (a transport error,
 * a 5xx, a body too large or malformed), and "requests: N" (engine_requests(), read after the ping
 * that refreshes the state: reading the file through the mount costs that ping, GET /_ping and GET
 * /version, so two requests). Returns the length written (truncated to len - 1), never fails.
 */
int engine_info(struct engine *e, char *buf, size_t len);

/* GET /version. */
int engine_version(struct engine *e, cJSON **out, char *err, size_t errlen);

/*
 * Escape hatch for endpoints without a wrapper: @method "GET"/"POST"/"DELETE", @path relative to
 * the version prefix ("/containers/x/top"), already escaped. @body may be NULL. @out (may be NULL)
 * gets the parsed response (NULL when the body is empty). 409 maps to -EBUSY.
 */
int engine_request(struct engine *e, const char *method, const char *path, const cJSON *body,
		   cJSON **out, char *err, size_t errlen);
/* @method on /@dir/<escaped @name>@tail ("/json", "?force=1") with @body (NULL: none); 409 is
 * -EBUSY. */
int engine_named_call(struct engine *e, const char *method, const char *dir, const char *name,
		      const char *tail, const cJSON *body, cJSON **out, char *err, size_t errlen);

/* ---- containers (containers.c) ---- */

/* All containers (running or not), optionally only those with @label ("k" or "k=v"). */
int engine_container_list(struct engine *e, const char *label, cJSON **out, char *err,
			  size_t errlen);
int engine_container_inspect(struct engine *e, const char *id, cJSON **out, char *err,
			     size_t errlen);
/*
 * POST /containers/create?name=@name with @config (Config + HostConfig + NetworkingConfig, built
 * by the caller). The new id is copied to @id (may be NULL). Name taken: -EEXIST; image missing:
 * -ENOENT (there is no implicit pull).
 */
int engine_container_create(struct engine *e, const char *name, const cJSON *config, char *id,
			    size_t idlen, char *err, size_t errlen);
/* Already running / already stopped (304) is success. */
int engine_container_start(struct engine *e, const char *id, char *err, size_t errlen);
/* @timeout_s: seconds before SIGKILL, < 0 for the container's own StopTimeout. */
int engine_container_stop(struct engine *e, const char *id, int timeout_s, char *err,
			  size_t errlen);
int engine_container_restart(struct engine *e, const char *id, int timeout_s, char *err,
			     size_t errlen);
/* @signal: "SIGTERM", "HUP", "9"...; NULL for SIGKILL. Not running: -EBUSY. */
int engine_container_kill(struct engine *e, const char *id, const char *signal, char *err,
			  size_t errlen);
int engine_container_pause(struct engine *e, const char *id, char *err, size_t errlen);
int engine_container_unpause(struct engine *e, const char *id, char *err, size_t errlen);
/* Running without @force: -EBUSY. @volumes also removes anonymous volumes. */
int engine_container_remove(struct engine *e, const char *id, bool force, bool volumes, char *err,
			    size_t errlen);
/*
 * Blocks until the container reaches @condition ("not-running" when NULL, "next-exit",
 * "removed") or @timeout_s passes (-ETIMEDOUT; <= 0 waits forever). Exit code to @exit_code.
 */
int engine_container_wait(struct engine *e, const char *id, const char *condition, int timeout_s,
			  int *exit_code, char *err, size_t errlen);

/* ---- logs (logs.c) ---- */

enum engine_stream {
	ENGINE_STREAM_STDIN = 0,
	ENGINE_STREAM_STDOUT = 1, /* also used for a TTY container's raw stream */
	ENGINE_STREAM_STDERR = 2,
	ENGINE_STREAM_SYSERR = 3,
};

/*
 * Receives log bytes in order. Return 0 to continue, > 0 to stop the stream early (the call then
 * returns 0), < 0 (a -errno) to abort it with that error.
 */
typedef int (*engine_log_sink)(enum engine_stream stream, const char *buf, size_t len, void *ctx);

struct engine_logs_opts {
	bool tty;		 /* Config.Tty of the container: body is raw, not multiplexed */
	bool follow;		 /* keep streaming until the container stops (no total timeout) */
	bool timestamps;	 /* RFC 3339 prefix per line (Podman: seconds precision) */
	const char *since;	 /* "secs[.nanos]" or NULL */
	const char *tail;	 /* "all" or a line count; NULL for all */
	const atomic_bool *stop; /* follow: set from another thread to end promptly (~100 ms) */
	bool service;		 /* @id names a Swarm service: all its tasks' output */
	bool details;		 /* each line led by "key=value,... " (the task, node, service) */
};

/* Snapshot of stdout + stderr, demultiplexed (raw passthrough when @tty). */
int engine_container_logs(struct engine *e, const char *id, bool tty, engine_log_sink sink,
			  void *ctx, char *err, size_t errlen);
/* Follows until the container stops, @sink returns non-zero, or *@stop becomes true. */
int engine_container_logs_follow(struct engine *e, const char *id, bool tty, const char *since,
				 engine_log_sink sink, void *ctx, const atomic_bool *stop,
				 char *err, size_t errlen);
/* Any of the above; with o->service, @id is a Swarm service and the output all its tasks'. */
int engine_container_logs_ex(struct engine *e, const char *id, const struct engine_logs_opts *o,
			     engine_log_sink sink, void *ctx, char *err, size_t errlen);

/* ---- images (images.c; builds in build.c) ---- */

/*
 * One message of a JSON-lines progress stream (pull, import, build), borrowed for the call.
 * Return 0 to continue, non-zero to cancel (the call then returns -ECANCELED).
 */
typedef int (*engine_msg_cb)(const cJSON *msg, void *ctx);

int engine_image_inspect(struct engine *e, const char *name, cJSON **out, char *err, size_t errlen);
/* POST /images/{name}/tag?repo=&tag= (@tag NULL: "latest"). */
int engine_image_tag(struct engine *e, const char *name, const char *repo, const char *tag,
		     char *err, size_t errlen);
/* Used by a container without @force: -EBUSY. */
int engine_image_remove(struct engine *e, const char *name, bool force, char *err, size_t errlen);
/*
 * POST /images/create?fromImage=&tag= (@tag NULL: the tag in @image, else "latest"; an empty tag
 * would pull every tag). Errors the engine reports inside the 200 stream give -EIO with their
 * message. @timeout_s <= 0: no total timeout.
 */
int engine_image_pull(struct engine *e, const char *image, const char *tag, engine_msg_cb cb,
		      void *ctx, int timeout_s, char *err, size_t errlen);
/* POST /images/create?fromSrc=- streaming the tar file at @tar_path as the rootfs. */
int engine_image_import(struct engine *e, const char *tar_path, const char *repo, const char *tag,
			engine_msg_cb cb, void *ctx, char *err, size_t errlen);

/* GET /images/{name}/get: the image as a tar archive (docker save), to @sink as it comes.
 * *@stop ends it (0) within ENGINE_STOP_POLL_MS. */
typedef int (*engine_bytes_sink)(const char *buf, size_t len, void *ctx);
int engine_image_save(struct engine *e, const char *name, engine_bytes_sink sink, void *ctx,
		      const atomic_bool *stop, char *err, size_t errlen);
/* POST /images/load?quiet=0 with the tar archive read from @fd as the body (docker load); its
 * messages to @cb. An archive that is none (archive.c): -EINVAL before the engine is asked;
 * one the engine refuses: -EIO (Docker's errorDetail, Podman's 500). */
int engine_image_load(struct engine *e, int fd, engine_msg_cb cb, void *ctx, char *err,
		      size_t errlen);

struct engine_build_opts {
	const char *context_dir; /* streamed as a tar, produced on the fly by libarchive */
	const char *dockerfile;	 /* path inside the context; NULL: "Dockerfile" */
	const char *tag;	 /* "name:tag" or NULL */
	const cJSON *buildargs;	 /* {"K":"V"} or NULL */
	const cJSON *labels;	 /* {"k":"v"} or NULL */
	const char *networkmode; /* NULL: engine default */
	bool nocache;
	int timeout_s; /* <= 0: no total timeout */
};

/*
 * POST /build (classic builder). Progress messages ({"stream":...}) go to @cb; the built image id
 * (from {"aux":{"ID"}}) to @image_id when non-NULL. A failing step gives -EIO with the engine's
 * message; a missing context directory -ENOENT.
 */
int engine_image_build(struct engine *e, const struct engine_build_opts *o, engine_msg_cb cb,
		       void *ctx, char *image_id, size_t idlen, char *err, size_t errlen);

/* ---- networks (networks.c) ---- */

int engine_network_list(struct engine *e, const char *label, cJSON **out, char *err, size_t errlen);
int engine_network_inspect(struct engine *e, const char *name, cJSON **out, char *err,
			   size_t errlen);
/*
 * Idempotent: an existing network of that name is returned as is (*@created = false) — Podman 4
 * would otherwise hand back the existing network's id silently, Docker < 1.44 create a duplicate.
 * @driver/@subnet/@gateway/@labels may be NULL.
 */
int engine_network_create(struct engine *e, const char *name, const char *driver,
			  const char *subnet, const char *gateway, const cJSON *labels, char *id,
			  size_t idlen, bool *created, char *err, size_t errlen);
/* Endpoints still attached: -EBUSY (Docker says 403, Podman 500). Predefined: -EACCES. */
int engine_network_remove(struct engine *e, const char *name, char *err, size_t errlen);

/* ---- volumes (volumes.c) ---- */

/* The "Volumes" array of GET /volumes, optionally filtered by @label. */
int engine_volume_list(struct engine *e, const char *label, cJSON **out, char *err, size_t errlen);
int engine_volume_inspect(struct engine *e, const char *name, cJSON **out, char *err,
			  size_t errlen);
/* Idempotent like engine_network_create. @driver NULL: "local"; @options ({"k":"v"}) and
 * @labels may be NULL. */
int engine_volume_create(struct engine *e, const char *name, const char *driver,
			 const cJSON *options, const cJSON *labels, bool *created, char *err,
			 size_t errlen);
/* In use: -EBUSY. */
int engine_volume_remove(struct engine *e, const char *name, bool force, char *err, size_t errlen);

/* ---- events (events.c) ---- */

/*
 * One event, normalised to Docker's vocabulary (Podman's container "remove" becomes "destroy",
 * "died" becomes "die", in both Action and status). Borrowed: freed after the callback returns.
 * Return non-zero to stop the stream.
 */
typedef int (*engine_event_cb)(const cJSON *event, void *ctx);

/*
 * Long-lived GET /events (no total timeout). @since/@until: "secs[.nanos]" or NULL; @filters:
 * {"type":["container"],"label":["k=v"]} or NULL. Returns 0 when stopped by @cb, by *@stop (checked
 * every 100 ms, so another thread can end it promptly) or when @until is reached; -ENODATA when
 * the engine ends the stream on its own (a restart, Podman rotating its events log), or the
 * transport errors above.
 */
int engine_events_stream(struct engine *e, const char *since, const char *until,
			 const cJSON *filters, engine_event_cb cb, void *ctx,
			 const atomic_bool *stop, char *err, size_t errlen);

#endif /* CUTIPFS_ENGINE_H */
