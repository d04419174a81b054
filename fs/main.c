/* cutipfs: entry point.
 *
 *   cutipfs [-f] [-d] [-s] [-o OPTION,...] [SOURCE] MOUNTPOINT   mount a workspace
 *   cutipfs check [--format=...] PATH...                validate cards, no mount
 *   cutipfs from-compose FILE [-o DIR]                  cards from a compose file
 *
 * The shape is libfuse's passthrough_ll/hello_ll at 3.14: our options first (an offsetof
 * table, sshfs style), then fuse_parse_cmdline, a session, mount, daemonize, the multithreaded
 * loop, and a goto ladder back out. The engine and the workspace are opened after
 * fuse_daemonize, since its fork keeps no threads. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <malloc.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "check.h"
#include "compose.h"
#include "fs.h"

struct fs_options {
	char *engine;	      /* -o engine=URL; NULL: the environment, then discovery */
	char *context;	      /* -o context=NAME: a Docker context */
	int tlsverify;	      /* -o tlsverify */
	char *tlscacert;      /* -o tlscacert=FILE, tlscert=FILE, tlskey=FILE */
	char *tlscert;
	char *tlskey;
	char *backend;	      /* -o backend=docker|podman|swarm; NULL: detect docker|podman */
	char *workspace;      /* -o workspace=DIR */
	unsigned events_ring; /* -o events_ring=N; 0: FS_EVENTS_RING */
	int allow_other;      /* -o allow_other (also passed on to libfuse's mount) */
	char *group;	      /* -o group=NAME: its members may do what the owner does */
	char *loglevel;	      /* -o loglevel=error|warning|info|debug */
	char *first;	      /* the first word that is no option, until a second one comes */
	char *source;	      /* mount(8)'s "device": cutipfs SOURCE MOUNTPOINT */
	char *mountpoint;     /* the second word, when there are two (first is then the source) */
};

#define FS_OPT(t, p)                                                                               \
	{                                                                                          \
		t, offsetof(struct fs_options, p), 1                                               \
	}
static const struct fuse_opt fs_opts[] = {
    FS_OPT("engine=%s", engine),
    FS_OPT("context=%s", context),
    FS_OPT("tlsverify", tlsverify),
    FS_OPT("tlscacert=%s", tlscacert),
    FS_OPT("tlscert=%s", tlscert),
    FS_OPT("tlskey=%s", tlskey),
    FS_OPT("backend=%s", backend),
    FS_OPT("workspace=%s", workspace),
    FS_OPT("events_ring=%u", events_ring),
    FS_OPT("loglevel=%s", loglevel),
    FS_OPT("allow_other", allow_other),
    FUSE_OPT_KEY("allow_other", FUSE_OPT_KEY_KEEP),
    FS_OPT("group=%s", group),
    /* What mount(8) and fstab carry for themselves (man 8 mount: FILESYSTEM-INDEPENDENT
     * MOUNT OPTIONS); mount.fuse3 passes some on. */
    FUSE_OPT_KEY("auto", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("noauto", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("user", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("nouser", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("users", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("owner", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("group", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("defaults", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("_netdev", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("nofail", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_END,
};

/* Words that are no option: `cutipfs MOUNTPOINT`, or, as mount.fuse3 runs it for
 * `mount -t fuse.cutipfs SOURCE MOUNTPOINT`, `cutipfs SOURCE MOUNTPOINT -o ...`: of two words
 * the first is the source (an engine URL, or any name such as "cutipfs"). Options of fstab's
 * own (x-systemd.*, x-gvfs-*, comment=) are dropped, as mount(8) itself ignores them. The
 * mountpoint is noted as given: a dead mount there must be cleared before
 * fuse_parse_cmdline's realpath stats it. */
static int opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct fs_options *o = data;
	(void)outargs;
	if (key == FUSE_OPT_KEY_OPT)
		return strncmp(arg, "x-", 2) == 0 || strncmp(arg, "comment=", 8) == 0 ? 0 : 1;
	if (key != FUSE_OPT_KEY_NONOPT)
		return 1;
	if (!o->first && !o->source) {
		o->first = strdup(arg);
		return o->first ? 0 : -1;
	}
	if (o->first) {
		o->source = o->first;
		o->first = NULL;
	}
	if (!o->mountpoint && !(o->mountpoint = strdup(arg)))
		return -1;
	return 1;
}

static void usage(const char *prog)
{
	printf("usage: %s [options] [SOURCE] MOUNTPOINT\n"
	       "       %s check [--format=text|json|sarif] [--quiet] [--stdin-name=PATH] PATH...|-\n"
	       "       %s from-compose FILE [-o DIR]\n"
	       "\n"
	       "Mounts a CUTIP workspace: cards written into MOUNTPOINT/cards become images,\n"
	       "networks and containers, shown under MOUNTPOINT/images, networks, containers.\n"
	       "Unmount with `fusermount3 -u MOUNTPOINT` (or SIGTERM/SIGINT).\n"
	       "\n"
	       "cutipfs options:\n"
	       "    -o engine=URL          the engine: unix:///PATH, tcp://HOST:PORT or\n"
	       "                           ssh://[USER@]HOST[:PORT][/SOCKET] (through your ssh,\n"
	       "                           its config, agent and known_hosts)\n"
	       "    -o context=NAME        a Docker context (docker context ls); not with engine=\n"
	       "                           Default, as the docker CLI: DOCKER_HOST, DOCKER_CONTEXT,\n"
	       "                           currentContext in $DOCKER_CONFIG/config.json, then\n"
	       "                           CONTAINER_HOST (CONTAINER_SSHKEY), then the first usual\n"
	       "                           Docker or Podman socket that answers. A named endpoint\n"
	       "                           is used even while it does not answer.\n"
	       "    -o tlsverify           tcp:// over TLS, verifying the engine's certificate;\n"
	       "                           also DOCKER_TLS_VERIFY=1 (files from DOCKER_CERT_PATH,\n"
	       "                           default ~/.docker: ca.pem cert.pem key.pem)\n"
	       "    -o tlscacert=FILE      the CA to verify the engine with (implies tlsverify)\n"
	       "    -o tlscert=FILE        the client certificate and its key\n"
	       "    -o tlskey=FILE\n"
	       "    -o backend=NAME        docker or podman (default: detected), or swarm: the\n"
	       "                           engine is a Swarm manager, cards become services,\n"
	       "                           and services/ and nodes/ show the cluster\n"
	       "    -o workspace=DIR       the workspace (default: $XDG_STATE_HOME/cutipfs or\n"
	       "                           ~/.local/state/cutipfs); cards live in DIR/cutip/cards\n"
	       "    -o events_ring=N       lines of MOUNTPOINT/events kept for a slow reader "
	       "(default\n"
	       "                           %d); one that falls further behind is told how many\n"
	       "                           it missed\n"
	       "    -o loglevel=LEVEL      error, warning (default), info or debug: the daemon's\n"
	       "                           own messages, on stderr with -f, else to syslog\n"
	       "    -o allow_other         let other users in, as far as the modes allow (the\n"
	       "                           kernel checks them: default_permissions); without\n"
	       "                           group= that is still only you. Not root: needs\n"
	       "                           user_allow_other in /etc/fuse.conf\n"
	       "    -o group=NAME          with allow_other: the members of group NAME may do\n"
	       "                           what you do (read everything, write cards and ctl,\n"
	       "                           rmdir); the tree and the cards directory become\n"
	       "                           yours and NAME's (modes 0770, 0660, 0440); others\n"
	       "                           get EACCES at the top\n"
	       "\n"
	       "Also `mount -t fuse.cutipfs [ENGINE-URL|cutipfs] MOUNTPOINT -o ...` and fstab;\n"
	       "mount's own options (noauto, user, _netdev, nofail, x-systemd.*) are ignored.\n"
	       "\n",
	       prog, prog, prog, FS_EVENTS_RING);
}

/* mkdir -p */
static int make_dirs(const char *path)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The workspace directory, absolute (the daemon's cwd becomes "/"), created when missing. */
static char *workspace_dir(const char *opt)
{
	char buf[PATH_MAX];
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	if (opt)
		snprintf(buf, sizeof(buf), "%s", opt);
	else if (state && *state)
		snprintf(buf, sizeof(buf), "%s/cutipfs", state);
	else if (home && *home)
		snprintf(buf, sizeof(buf), "%s/.local/state/cutipfs", home);
	else {
		fprintf(stderr, "cutipfs: no workspace: set -o workspace=DIR or HOME\n");
		return NULL;
	}
	int rc = make_dirs(buf);
	if (rc < 0) {
		fprintf(stderr, "cutipfs: workspace %s: %s\n", buf, strerror(-rc));
		return NULL;
	}
	char *abs = realpath(buf, NULL);
	if (!abs || access(abs, R_OK | W_OK | X_OK) < 0) {
		fprintf(stderr, "cutipfs: workspace %s: %s\n", buf, strerror(errno));
		free(abs);
		return NULL;
	}
	return abs;
}

static bool swarm(const struct fs_options *o)
{
	return o->backend && strcmp(o->backend, "swarm") == 0;
}

/* The engine kind: a Swarm's driver, or the Docker API's (Docker or Podman). */
static const char *kind_of(const struct fs_options *o)
{
	return swarm(o) ? "swarm" : "docker";
}

static struct be_open backend_opts(const struct fs_options *o)
{
	/* With nothing named and nothing answering, mount anyway on the conventional socket,
	 * which comes up later or not; the engine file says which. */
	return (struct be_open){.engine = o->engine,
				.context = o->context,
				.flavour = swarm(o) ? NULL : o->backend,
				.tlsverify = o->tlsverify != 0,
				.tlscacert = o->tlscacert,
				.tlscert = o->tlscert,
				.tlskey = o->tlskey,
				.wait_default = true};
}

static int open_engine(const struct fs_options *o, struct backend **out)
{
	struct be_open bo = backend_opts(o);
	char err[512] = "";
	int rc = backend_open(kind_of(o), &bo, out, err, sizeof(err));
	if (rc < 0) {
		fs_log(LOG_ERR, "%s", err[0] ? err : strerror(-rc));
		return rc;
	}
	/* Named but not answering (TLS refused, ssh's host key, down): the mount comes up on
	 * it all the same, and says why once here; the engine file keeps saying it. */
	if (!(*out)->ops->reachable(*out))
		fs_log(LOG_WARNING, "%s", err);
	/* What the engine file will say, line by line, for whoever debugs a mount. */
	char info[2048];
	if ((*out)->ops->info(*out, info, sizeof(info)) >= 0)
		for (char *line = strtok(info, "\n"); line; line = strtok(NULL, "\n"))
			fs_log(LOG_DEBUG, "engine %s", line);
	return 0;
}

/* A daemon's stderr is /dev/null once it forks: an endpoint that does not answer says why now,
 * on the terminal of whoever mounts, from one open and close before the fork (no thread
 * survives it). The daemon's own open then tries again. */
static int preflight(const struct fs_options *o)
{
	struct be_open bo = backend_opts(o);
	struct backend *be = NULL;
	char err[512] = "";
	int rc = backend_open(kind_of(o), &bo, &be, err, sizeof(err));

	/* Refused (a Podman or a non-manager asked to be a Swarm): nothing is mounted. */
	if (rc < 0 || !be->ops->reachable(be))
		fprintf(stderr, "cutipfs: %s\n", err[0] ? err : strerror(-rc));
	backend_close(be);
	return rc == -ECONNREFUSED || rc == -ETIMEDOUT ? 0 : rc;
}

/* -o group=NAME: its gid becomes the tree's group (fs_mode gives it the owner's bits). A name
 * that is no group refuses the mount; so does group= without allow_other, since the kernel
 * then lets nobody but the mounter in (mount.fuse3(8)) and the modes would say otherwise. */
static int share_group(struct fs *fs, const struct fs_options *o)
{
	if (!o->group)
		return 0;
	if (!o->allow_other) {
		fprintf(stderr, "cutipfs: group=%s needs -o allow_other\n", o->group);
		return -EINVAL;
	}
	long max = sysconf(_SC_GETGR_R_SIZE_MAX);
	size_t len = max > 0 ? (size_t)max : 16384;
	char *buf = malloc(len);
	struct group gr, *found = NULL;
	int rc = buf ? getgrnam_r(o->group, &gr, buf, len, &found) : ENOMEM;
	if (found) {
		fs->gid = gr.gr_gid;
		fs->shared = true;
	}
	free(buf);
	if (rc != 0 || !found) {
		fprintf(stderr, "cutipfs: group=%s: %s\n", o->group,
			rc ? strerror(rc) : "no such group");
		return rc ? -rc : -ENOENT;
	}
	return 0;
}

/* Shared, the cards directory on disk belongs to the group too, so that what the kernel checks
 * there (its real mode, passed through) is what the rest of the tree says: rwx for the owner
 * and the group, setgid so that new cards are the group's (chmod(2)), nothing for others. */
static int share_cards_dir(const struct fs *fs)
{
	if (!fs->shared)
		return 0;
	if (fchown(fs->cards_fd, (uid_t)-1, fs->gid) < 0 ||
	    fchmod(fs->cards_fd, S_ISGID | S_IRWXU | S_IRWXG) < 0) {
		int rc = -errno;
		fs_log(LOG_ERR, "%s: cannot give it to the group: %s", ws_cards_dir(fs->ws),
		       strerror(-rc));
		return rc;
	}
	return 0;
}

/* The engine, the workspace and the cards directory; the mount is up but not served yet. */
static int open_workspace(struct fs *fs, const struct fs_options *o, const char *root)
{
	if (open_engine(o, &fs->be) < 0)
		return -1;
	char err[512] = "";
	int rc = ws_open(root, fs->be, &fs->ws, err, sizeof(err));
	if (rc < 0) {
		fs_log(LOG_ERR, "workspace %s: %s", root, err[0] ? err : strerror(-rc));
		return -1;
	}
	fs->cards_fd = open(ws_cards_dir(fs->ws), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fs->cards_fd < 0) {
		fs_log(LOG_ERR, "%s: %s", ws_cards_dir(fs->ws), strerror(errno));
		return -1;
	}
	return share_cards_dir(fs) < 0 ? -1 : 0;
}

static int serve(struct fuse_session *se, const struct fuse_cmdline_opts *opts)
{
	if (opts->singlethread)
		return fuse_session_loop(se);
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	if (!cfg)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(cfg, (unsigned int)opts->clone_fd);
	/* UINT_MAX: not given on the command line, keep libfuse's default. */
	if (opts->max_idle_threads != UINT_MAX)
		fuse_loop_cfg_set_idle_threads(cfg, opts->max_idle_threads);
	/* Blocked readers hold no thread (their reads are parked), but card commits, rmdir and
	 * ctl wait for the engine, and the notifier's own requests (notify.c) need a worker to
	 * answer them meanwhile: more than libfuse's 10 by default. */
	if (opts->max_threads != UINT_MAX && opts->max_threads > 0)
		fuse_loop_cfg_set_max_threads(cfg, opts->max_threads);
	else
		fuse_loop_cfg_set_max_threads(cfg, FS_MAX_THREADS);
	int rc = fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return card_check_main(argc - 1, argv + 1, stdout);
	if (argc >= 2 && strcmp(argv[1], "from-compose") == 0)
		return compose_main(argc - 1, argv + 1, stdout, stderr);

	/* Two malloc arenas, not glibc's eight per core: the loop's workers (up to max_threads)
	 * each render into buffers of their own, and an arena per thread keeps what they freed
	 * as resident memory (about 5 MiB at 2,000 containers: bench/run.sh's target 6). */
	mallopt(M_ARENA_MAX, 2);
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fs_options o = {0};
	struct fuse_cmdline_opts opts = {0};
	struct fs fs = {.cards_fd = -1, .self_sock = -1};
	struct fuse_session *se = NULL;
	char *root = NULL;
	int ret = 1;

	if (fuse_opt_parse(&args, &o, fs_opts, opt_proc) != 0)
		goto out_args;
	const char *mountpoint = o.mountpoint ? o.mountpoint : o.first;
	if (mountpoint && fs_reclaim_mountpoint(mountpoint) < 0)
		goto out_args;
	if ((o.first && fuse_opt_add_arg(&args, o.first) != 0) ||
	    fuse_parse_cmdline(&args, &opts) != 0)
		goto out_args;
	/* mount -t fuse.cutipfs unix:///run/docker.sock /srv/containers: the source names the
	 * engine, unless engine= or context= does. */
	if (o.source && strstr(o.source, "://") && !o.engine && !o.context &&
	    !(o.engine = strdup(o.source)))
		goto out_args;
	if (opts.show_help) {
		usage(argv[0]);
		fuse_cmdline_help();
		fuse_lowlevel_help();
		ret = 0;
		goto out_args;
	}
	if (opts.show_version) {
		printf("cutipfs version %s\n", CUTIPFS_VERSION);
		printf("FUSE library version %s\n", fuse_pkgversion());
		fuse_lowlevel_version();
		ret = 0;
		goto out_args;
	}
	if (!opts.mountpoint) {
		fprintf(stderr, "usage: %s [options] [SOURCE] MOUNTPOINT\n       %s --help\n", argv[0],
			argv[0]);
		goto out_args;
	}
	int prio = o.loglevel ? fs_log_level(o.loglevel) : LOG_WARNING;
	if (prio < 0) {
		fprintf(stderr, "cutipfs: loglevel=%s: want error, warning, info or debug\n",
			o.loglevel);
		goto out_args;
	}
	fs_log_init(prio);
	if (o.backend && strcmp(o.backend, "docker") != 0 && strcmp(o.backend, "podman") != 0 &&
	    !swarm(&o)) {
		fprintf(stderr, "cutipfs: backend=%s: want docker, podman or swarm\n", o.backend);
		goto out_args;
	}
	fs.uid = getuid();
	fs.gid = getgid();
	if (share_group(&fs, &o) < 0)
		goto out_args;
	/* A wrong context, scheme or TLS file is refused before anything is mounted. */
	struct be_open bo = backend_opts(&o);
	char eerr[512] = "";
	if (backend_check(kind_of(&o), &bo, eerr, sizeof(eerr)) < 0) {
		fprintf(stderr, "cutipfs: %s\n", eerr);
		goto out_args;
	}
	if ((!opts.foreground || swarm(&o)) && preflight(&o) < 0)
		goto out_args;
	root = workspace_dir(o.workspace);
	if (!root)
		goto out_args;

	clock_gettime(CLOCK_REALTIME, &fs.started);
	pthread_mutex_init(&fs.lock, NULL);
	pthread_mutex_init(&fs.nlock, NULL);
	pthread_cond_init(&fs.ncond, NULL);
	pthread_mutex_init(&fs.selflock, NULL);
	pthread_mutex_init(&fs.slock, NULL);
	pthread_mutex_init(&fs.hlock, NULL);
	pthread_cond_init(&fs.scond, NULL);
	fs.mountpoint = opts.mountpoint;
	fs.ring_cap = o.events_ring;
	if (fs_table_init(&fs) < 0 || fs_events_init(&fs) < 0) {
		fprintf(stderr, "cutipfs: out of memory\n");
		goto out_table;
	}

	/* The kernel checks permissions on the modes we report; fsname/subtype name the mount
	 * in /proc/mounts ("cutipfs on MOUNT type fuse.cutipfs"). */
	if (fuse_opt_add_arg(&args, "-ofsname=cutipfs,subtype=cutipfs,default_permissions") != 0)
		goto out_table;
	/* The kernel's side of ops.c's max_read: without it, reads stay at the default size. */
	char max_read[40];
	snprintf(max_read, sizeof(max_read), "-omax_read=%d", FS_MAX_IO);
	if (fuse_opt_add_arg(&args, max_read) != 0)
		goto out_table;
	se = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), &fs);
	if (!se)
		goto out_table;
	fs.se = se;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_session;
	if (fuse_session_mount(se, opts.mountpoint) != 0)
		goto out_signals;
	fuse_daemonize(opts.foreground);
	if (!opts.foreground)
		fs_log_background();

	if (open_workspace(&fs, &o, root) < 0 || fs_selfio_start(&fs) < 0 ||
	    fs_notifier_start(&fs) < 0)
		goto out_unmount;
	fs_log(LOG_INFO, "%s mounted: workspace %s, engine %s", opts.mountpoint, root,
	       fs.be->ops->name);
	fs_ready(&fs);

	/* Until fusermount3 -u, SIGTERM, SIGINT or SIGHUP. A signal is a clean end too (the
	 * loop returns its number); only -errno is a failure. */
	ret = serve(se, &opts) < 0 ? 1 : 0;
	fs_stopping();
	fs_log(LOG_INFO, "%s: unmounting", opts.mountpoint);
	/* Readers still parked get EOF (after a signal the mount may still be in use). */
	fs_streams_shutdown(&fs);

out_unmount:
	/* First the mount: a request the notifier is making through it then fails at once. */
	fuse_session_unmount(se);
	if (fs.ws) {
		fs_notifier_stop(&fs);
		fs_selfio_stop(&fs);
		fs_followers_stop(&fs);
		fs_streams_free(&fs);
		ws_close(fs.ws);
	}
	backend_close(fs.be);
	if (fs.cards_fd >= 0)
		close(fs.cards_fd);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out_table:
	fs_handles_free(&fs);
	fs_events_free(&fs);
	free(fs.engine_text);
	fs_table_free(&fs);
	pthread_cond_destroy(&fs.scond);
	pthread_mutex_destroy(&fs.slock);
	pthread_mutex_destroy(&fs.hlock);
	pthread_mutex_destroy(&fs.selflock);
	pthread_cond_destroy(&fs.ncond);
	pthread_mutex_destroy(&fs.nlock);
	pthread_mutex_destroy(&fs.lock);
	free(root);
out_args:
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	free(o.engine);
	free(o.context);
	free(o.tlscacert);
	free(o.tlscert);
	free(o.tlskey);
	free(o.backend);
	free(o.workspace);
	free(o.group);
	free(o.loglevel);
	free(o.first);
	free(o.source);
	free(o.mountpoint);
	return ret;
}
