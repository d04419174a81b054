/* The workspace: a CUTIP workspace's cards, the engine, and what the cards made in it.
 *
 * This is what the mount (fs/) asks everything of; it never talks to the engine itself. Cards
 * are ordinary files under <root>/cutip/cards, written by the mount (or by anyone, while
 * unmounted). The workspace parses and validates them (cards/), applies them to the engine
 * (pull/tag/build images, create networks, create and start containers), keeps each card's
 * state (applied, pending on a ref, error), and keeps the `errors` log.
 *
 * Threading: every function may be called from many FUSE worker threads at once. No lock is
 * held across an engine call: changes of card files run one at a time on the workspace's
 * applier thread, and ws_commit/ws_remove wait for their job's result there; the applies they
 * start run side by side on a few pool workers, one card's applies never at once. Two more threads keep the engine
 * state: the events thread reads the engine's event stream, the state thread applies it and
 * delivers the changes (see "live state" below).
 *
 * Errors are -errno (see backend.h for the engine's set), with the text in the errors log:
 *   -EINVAL invalid card; -EEXIST a name taken by something cutipfs did not make; -EBUSY in
 *   use; -EOPNOTSUPP the engine kind cannot do what the card asks (backend.h's caps; nothing
 *   was changed); -EADDRINUSE a host port the card publishes is taken (the errors line names
 *   the holder); -ECONNREFUSED/-ETIMEDOUT engine unreachable; -EIO anything else. Never
 *   -ENOTCONN. */
#ifndef CUTIPFS_BACKENDS_WORKSPACE_H
#define CUTIPFS_BACKENDS_WORKSPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "backend.h"
#include "card.h"

/* Labels on everything cutipfs creates. */
#define WS_LABEL_MANAGED "cutipfs.managed"     /* "1" */
#define WS_LABEL_WORKSPACE "cutipfs.workspace" /* the workspace root, so two mounts never fight */
#define WS_LABEL_CARD "cutipfs.card"	       /* path of the card, relative to cards/ */
#define WS_LABEL_HASH "cutipfs.hash"	       /* card_hash() of the effective spec */

struct workspace;

/* ---- opening and closing (workspace.c) ---- */

/* Opens the workspace at root (creating <root>/cutip/cards when missing), loads every card and
 * applies them (recovery: objects whose card did not change are left as they are; cards changed
 * while unmounted are applied). The engine may be down: cards then wait and are applied when
 * it answers. Loading and validation happen before this returns; the applying runs on the
 * applier thread (pulls and builds may take minutes), so objects may show as pending for a
 * while: ws_settle() waits for it. */
int ws_open(const char *root, struct backend *be, struct workspace **out, char *err,
	    size_t errlen);
/* Stops the applier (waiting for the job it is running, which may be a pull) and frees
 * everything. The engine is left as it is: containers keep running. */
void ws_close(struct workspace *ws);
/* Waits until the engine state had its first full list (tried: the engine may be down) and
 * the applier has nothing to do (recovery after ws_open included): 0, or -ETIMEDOUT after
 * timeout_ms (<= 0: no limit). ws_open returns before recovery is done, so that a mount
 * answers while images are pulled; this is for tests and tools. */
int ws_settle(struct workspace *ws, int timeout_ms);
const char *ws_root(const struct workspace *ws);
const char *ws_cards_dir(const struct workspace *ws); /* <root>/cutip/cards */
struct backend *ws_backend(struct workspace *ws);

/* ---- cards (workspace.c; paths are relative to the cards directory, e.g.
 * "web/web.container.yaml") ---- */

/* A card file's content was committed (close after writing, fsync, rename onto it): parse,
 * validate, apply. Names card_file_ignored() rejects are not cards: returns 0 at once.
 * On -EINVAL nothing that the card made before is touched.
 * Returns 0 when the card is applied or will be applied without the user doing anything: a ref
 * to a card that is not there yet ("waits for images/web"), or an unreachable engine ("waits
 * for the engine: ..."; retried every 2 s, the errors log says so once). Returns -errno when
 * it needs the user: -EINVAL invalid (placeholders included), -EEXIST a foreign object of
 * that name (or a network with another subnet), -EADDRINUSE a host port it publishes is taken,
 * -EIO a pull or build or engine failure (the card stays registered, its object in state
 * error). A container card's commit returns once its container is created: the start goes on
 * meanwhile, so that the next card's commit need not wait for it; a failed start is said as
 * any failed apply (state error, the errors log, the change feed) and by ws_card_result. One
 * that publishes host ports returns after its start, which is when a taken port shows. */
int ws_commit(struct workspace *ws, const char *relpath, const char *buf, size_t len);
/* The card file at relpath is about to be unlinked: remove what it made (its container stopped
 * and removed, network removed, image tag removed, volume removed). -EBUSY while still in use
 * (the file must then stay). A path that is not a card: 0. Only objects with this workspace's
 * labels are removed: an adopted network (same name and subnet, made by someone else) and a
 * pulled image known only by its card's name stay; an image tag that is an alias of another
 * name goes. Named volumes a container card made for spec.volumes are data: they stay. */
int ws_remove(struct workspace *ws, const char *relpath);
/* A file was renamed inside cards/ (the rename already happened on disk). Renaming onto a card
 * name commits the new content (buf NULL: read from the file); renaming a card to an editor
 * backup name ("x.yaml~", as vim and emacs do before writing the new file) keeps what it made,
 * held by the backup until it is unlinked (a new card of the same ref takes it over, so an
 * unchanged card restarts nothing); renaming it to any other non-card name removes what it
 * made. A file that the rename replaced loses what its card made. Renaming a directory keeps
 * the cards under it (their paths follow). */
int ws_rename(struct workspace *ws, const char *from, const char *to, const char *buf, size_t len);
/* The last commit error of a card file (for fsync on an unchanged file): 0 or -errno. Waits
 * for an apply of the card in flight (a container's start), so that it tells how that went. */
int ws_card_result(struct workspace *ws, const char *relpath);

/* ---- objects: what the directories images/, networks/, containers/, services/, nodes/
 * show (objects.c; ws_remove_object in workspace.c) ---- */

enum ws_kind {
	WS_IMAGE,
	WS_NETWORK,
	WS_CONTAINER,
	WS_CARD, /* changes only */
	WS_SERVICE, /* a Swarm's (ops->caps BE_CAP_SERVICES): services/ */
	WS_NODE,    /* and nodes/ */
	WS_TASK,    /* a service's task: changes only */
	WS_UNIT,    /* a Unit card: units/ (groups.c) */
	WS_GROUP,   /* a Group card: groups/ */
	WS_KINDS
};

/* A kind's directory under the mount: "containers", "networks", "images", "services",
 * "nodes", "units", "groups"; "cards" for the others (util.c). */
const char *ws_kind_dir(enum ws_kind kind);

struct ws_object {
	char name[128];
	char id[BE_ID_SIZE]; /* empty while pending */
	char state[16];		 /* first line of status: running, exited, pending, error, ... */
	char card[512];		 /* relpath of the card that made it, or "" */
	bool managed;		 /* made by this workspace */
	bool user_net;		 /* containers: on a user network (a NetworkCard can name it) */
	bool log;		 /* images: has a log (its card's pull or build, or its load) */
	time_t changed;		 /* last state change, for mtimes */
};

/* Lists one kind: containers and networks in the engine (whoever made them) plus those whose
 * card has not made them yet (pending, error); images: one per ImageCard. Malloc'd array in
 * *out. Served from the engine state without an engine request (see "live state"); every
 * change the workspace makes is read into it before its call returns. Engine unreachable: the
 * last state it gave, merged with the cards as they are now (so `ls` keeps working).
 *
 * States (ws_object.state, the first line of status):
 *   containers: the engine's (created, running, paused, restarting, removing, exited, dead);
 *               pending, error for a card whose container does not exist;
 *               unknown for an applied card while the engine has never answered a list.
 *   networks:   present; pending, error.
 *   images:     present, pulling, building, pending, error.
 * An applied card whose object was removed outside cutipfs shows as error (status: "reason:
 * it is gone ..."); saving the card again makes it again. */
int ws_list(struct workspace *ws, enum ws_kind kind, struct ws_object **out, size_t *count);
int ws_lookup(struct workspace *ws, enum ws_kind kind, const char *name, struct ws_object *out);

/* The rendered `status` file: first line the state alone (running, created, exited, paused,
 * restarting, dead, pending, error), then "key: value" lines (id, image, exit_code,
 * started_at, finished_at, health, reason, card, ...). Malloc'd text. While the engine's event
 * stream is down the state may be old: a last line says so, "engine: unreachable (WHY)". */
int ws_status(struct workspace *ws, enum ws_kind kind, const char *name, char **text, size_t *len);
/* The cards of a container cutipfs did not make, as CUTIP's adopt writes them (adopt-view.c): kind
 * CARD_CONTAINER, CARD_IMAGE or CARD_NETWORK. Copied into cards/, they take the container over
 * as it runs (no restart): it is the workspace's own from then on. Malloc'd text; -ENOENT for
 * a container of the workspace's own, one not made yet, or a NetworkCard of a container on no
 * user network. */
int ws_adopt_card(struct workspace *ws, const char *name, enum card_kind kind, char **text,
		  size_t *len);
/* The engine's inspect document, as it is (pretty JSON); "{}\n" for a card's object not made
 * yet (pending, error), never -ENOENT for a listed object. */
int ws_inspect(struct workspace *ws, enum ws_kind kind, const char *name, char **text, size_t *len);
/* services/<name>/tasks: one line per task, newest first: TASKID SLOT NODE DESIRED CURRENT
 * [ERROR]. */
int ws_service_tasks(struct workspace *ws, const char *name, char **text, size_t *len);
/* images/<name>/log: output of the image's last pull or build, or of the load that made it. */
int ws_image_log(struct workspace *ws, const char *name, char **text, size_t *len);

/* ---- units/ and groups/ (groups.c: status, plan, the change feed's lines; group-ctl.c: ctl)
 *
 * ws_list, ws_lookup and ws_status serve WS_UNIT and WS_GROUP too: one object per Unit and
 * Group card, whose state is one word for the whole:
 *   up       every member's container runs
 *   down     none runs (stopped, or removed by "down --rm")
 *   partial  some run, or one is paused or restarting
 *   pending  a ref is missing, or a member waits (for a ref, the engine, its create)
 *   error    a member's card failed to apply
 * status: that word, then one line per member, a Group's units in declaration order:
 * "web running", "db exited exit_code=1", "cache pending reason="waits for images/x"" (a
 * Unit's line names its container, a Group's its unit).
 *
 * The desired state is per unit and kept on disk (<root>/.cutip/down/<unit>), so it survives
 * a remount: a unit taken down is held, its container card not applied (a card change neither
 * makes nor starts its container) until up. A container card that no unit names, or that a
 * unit not held names, is applied at once, as ever. */

/* "up", "down", "down --rm", "restart" on a unit or a group (surrounding blanks ignored):
 * -EINVAL before anything is done for any other word. up takes the held mark off and brings
 * the members up in dependency order (images, networks, then the containers in the Group's
 * order), down stops them in the reverse order (--rm: and removes them), restart is down then
 * up. Returns when done: 0, or the first failed step's -errno (-ENOENT a ref that names no
 * card; the engine's otherwise), whose errors line names the step ("groups/app/ctl: up:
 * start_container web: ..."). */
int ws_group_ctl(struct workspace *ws, enum ws_kind kind, const char *name, const char *command);
/* What up would do now, one step a line, in order: "pull_image bb cutipfs-busybox:latest",
 * "build_image app ./ctx", "ensure_network app-net 10.89.0.0/24", "create_container web (unit
 * web)", "replace_container web (unit web)", "start_container web", "missing images/x (unit
 * web)"; "nothing to do" when all is up. Changes nothing. */
int ws_group_plan(struct workspace *ws, enum ws_kind kind, const char *name, char **text,
		  size_t *len);

/* ---- image-tar.c: images as tar archives ---- */
/* images/<name>/image.tar: the image as `docker save` writes it, each byte to sink as the
 * engine sends it (never whole in memory), until its end, *stop or the sink's non-zero return
 * (-EPIPE: the reader left). Failures other than those are also a line of errors. */
int ws_image_save(struct workspace *ws, const char *name, be_bytes_sink sink, void *ctx,
		  const atomic_bool *stop);
/* The images of the archive read from fd (its start to its end), as `docker load`; @what
 * names it for the log and errors ("x.tar"). Once it returns 0 the images are in the state
 * (images/ lists them). A bad archive: -EINVAL or -EIO, a line of errors, nothing loaded. */
int ws_image_load(struct workspace *ws, int fd, const char *what);

/* ---- logs.c: containers/<name>/logs, services/<name>/logs ---- */
/* An object's logs as one request gives them, each byte to sink as it comes (containers: stdout
 * and stderr as the engine keeps them, framing removed; services: as ws_service_logs): 0 (also
 * when the sink stopped it, and nothing for an object not made yet or removed meanwhile), or
 * -errno, which is also a line of errors. No lock is held while sink runs. */
int ws_logs_stream(struct workspace *ws, enum ws_kind kind, const char *name, be_log_sink sink,
		   void *ctx);
/* containers/<name>/logs in one buffer: the newest 64 MiB of ws_logs_stream's. */
int ws_container_logs(struct workspace *ws, const char *name, char **text, size_t *len);
/* services/<name>/logs on a Swarm: every task's output, each line led by "NAME.SLOT@NODE | ";
 * the newest 64 MiB. */
int ws_service_logs(struct workspace *ws, const char *name, char **text, size_t *len);

/* rmdir containers/NAME (stop with a 10 s grace, then kill; remove), networks/NAME, images/NAME
 * (-EBUSY while in use). Works on objects cutipfs did not make too. Deletes the card file that
 * made it, if any, so nothing recreates it. images/NAME removes the tag <name>:<tag> whoever
 * made it (only ImageCards are listed there). */
int ws_remove_object(struct workspace *ws, enum ws_kind kind, const char *name);

/* ---- live state: engine events, changes, control (the mount's events, follow, ctl):
 * changes.c (ws_change_format, ws_subscribe), ctl.c (the ctl files), follow.c (follow) ----
 *
 * The workspace keeps one in-memory state of the engine's containers, networks and images,
 * fed by the engine's event stream (GET /events) on its own thread and reconciled by a full
 * list at start, after every reconnect and periodically (events are lossy). ws_list,
 * ws_lookup, ws_status and ws_inspect are served from it, without an engine request. */

/* One change, made by cutipfs or seen in the engine's events, in the order they happened. */
struct ws_change {
	unsigned long seq; /* 1, 2, 3, ... per workspace */
	struct timespec time;
	enum ws_kind obj;   /* the directory it shows in; cards: WS_CARD */
	char name[128];	    /* object name, or card path relative to cards/ */
	char old_name[128]; /* rename: the previous name */
	char action[32];    /* see ws_change_format */
	char attrs[512];    /* "key=value key=value", values quoted (ws_change_format) */
	bool membership;    /* the object appeared in or left its directory */
};

/* The line the mount's `events` file shows, without the newline:
 *   TIME KIND NAME ACTION [key=value ...]
 * TIME is RFC 3339 UTC with nanoseconds (the engine's time for its events); KIND container,
 * network, image, unit, group or card; actions:
 *   container create, start, die (exit_code=N), stop, destroy, rename (old=NAME), health
 *   (health=STATE), pause, unpause, restart, kill (signal=S: TERM, KILL, ... when the engine
 *   says; Podman does not); network create, remove; image pulled, built, removed, tagged
 *   (tag=REF; NAME is the ImageCard's name when a card makes that tag, else the tag itself),
 *   loading (progress="40% (1.2/3.0 MB)": each tenth of a load, NAME the archive written
 *   into images/); unit, group: up, down, partial, pending, error (its word changed; see units/ below);
 *   card accepted, rejected (error=...: invalid, or its apply failed), applied, pending
 *   (waits=REF, REF "images/x" or "engine"), removed. Card changes carry ref=KIND/NAME (the
 *   object the card makes, e.g. ref=containers/web) when the card was valid.
 * Quoting: NAME and every value are written as they are when they hold no space, control
 * character, '"', '\\' or '='; otherwise in double quotes with \" \\ \n \t and \xHH escapes
 * (error="8:11: spec.mounts.0.type: Input should be 'bind' or 'volume'"). A line thus splits
 * on spaces outside quotes. Returns the length of the whole line (as snprintf: cut to len - 1
 * when longer). */
int ws_change_format(const struct ws_change *change, char *buf, size_t len);

/* Called for every change, in order, on the workspace's state thread with no workspace lock
 * held. It must not block for long (queue the work) and must not call back into ws_commit,
 * ws_remove or ws_rename (reads are fine). Returns a subscription id (> 0) or -errno (-ENOSPC
 * past 64 subscribers). After ws_unsubscribe returns, the callback is not running and is not
 * called again (unless ws_unsubscribe is called from the callback itself).
 *
 * Where changes come from: container changes from the engine's events (each after a read of
 * that container, so the state a callback reads is at least that new), or from a reconcile
 * when the events missed something (after a reconnect, every 30 s); networks and images from
 * their presence in the state (Podman sends no network events: a network made outside cutipfs
 * shows at the next reconcile); cards from the applier. `membership`: a name appeared in or
 * left images/, networks/ or containers/. A container created for a card was listed already
 * (pending): its create says false, the card's "accepted" said true; when a card and its
 * container go together, whichever change comes last says true. */
typedef void (*ws_change_cb)(const struct ws_change *change, void *ctx);
int ws_subscribe(struct workspace *ws, ws_change_cb cb, void *ctx);
void ws_unsubscribe(struct workspace *ws, int id);

/* containers/NAME/ctl: command "start", "stop" [SECONDS] (default 10), "restart" [SECONDS],
 * "kill" [SIGNAL] (default KILL; "TERM", "SIGTERM", "15", "RTMIN+1"), "pause", "unpause", on
 * any container. The argument may also come inside command ("stop 5\n"); surrounding blanks
 * are ignored. Unknown command or bad argument: -EINVAL, before the engine is asked. Then the
 * engine's errno: -ENOENT no such container, -EBUSY wrong state (pausing a stopped one,
 * killing one that does not run); stopping a stopped one or starting a running one is 0. The
 * state is read again before this returns. */
int ws_container_ctl(struct workspace *ws, const char *name, const char *command, const char *arg);

/* services/NAME/ctl on a Swarm: "scale N", "update" (every task again), "rollback" (to the
 * spec before the last update); nodes/NAME/ctl: "drain", "pause", "active", "promote",
 * "demote". Unknown command or bad argument: -EINVAL before the engine is asked; then the
 * engine's errno. The state is read again before this returns. */
int ws_service_ctl(struct workspace *ws, const char *name, const char *command);
int ws_node_ctl(struct workspace *ws, const char *name, const char *command);

/* Streams the container's new output (framing removed; raw for a Tty container) to sink until
 * the container is removed, *stop becomes true (seen within 100 ms), or sink returns non-zero
 * (> 0: returns 0; < 0: returns it); like `docker logs -f`, but it survives a stop and start
 * of the container: while it is stopped the call waits (on the state, no polling of the
 * engine) and goes on with the new run's output, none repeated. It follows the container the
 * name meant when called: a card that replaces it ends the call (the old one was removed).
 * since: "secs[.nanos]" or NULL for now. No such container: -ENOENT at once. The engine down
 * meanwhile: retried every second. The mount must end its follows before ws_close. */
int ws_container_follow(struct workspace *ws, const char *name, const char *since,
			be_log_sink sink, void *ctx, const atomic_bool *stop);
/* containers/NAME/wait (wait.c): blocks until the container named name when called is not
 * running (nor paused, nor restarting), then gives its exit code, as `docker wait` does (one
 * that is not up answers at once). -ENOENT no such container (or removed unseen), -EINTR
 * *stop, -ECONNREFUSED the engine stopped answering meanwhile. */
int ws_container_wait(struct workspace *ws, const char *name, int *exit_code,
		      const atomic_bool *stop);
/* The same for a service on a Swarm (lines as ws_service_logs has them), new tasks' output
 * included, until the service is removed, *stop, or sink says so. */
int ws_service_follow(struct workspace *ws, const char *name, const char *since, be_log_sink sink,
		      void *ctx, const atomic_bool *stop);

/* ---- the errors log (errlog.c): "TIME PATH:LINE:COL: MESSAGE", newest last ---- */

void ws_error_add(struct workspace *ws, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ws_errors_render(struct workspace *ws, char **text, size_t *len);
void ws_errors_clear(struct workspace *ws);
/* Bumped on every change, for the file's size and mtime. */
unsigned long ws_errors_generation(struct workspace *ws);

#endif
