/*
 * ssh:// endpoints: the user's own OpenSSH client forwards a local unix socket (in a private
 * 0700 directory) to the engine's socket on the remote host, and the HTTP code talks to that
 * socket as to any local engine. Running the ssh binary, rather than speaking SSH ourselves,
 * is what honours ~/.ssh/config, ssh_config.d, the agent, keys and known_hosts.
 *
 * A supervisor thread owned by the tunnel starts ssh, watches it and restarts it with backoff.
 * ssh is forked from that thread on purpose: PR_SET_PDEATHSIG fires when the forking *thread*
 * exits, and this one lives exactly as long as the tunnel, so ssh dies with the mount even when
 * the mount is killed. Nothing may prompt: BatchMode, and stdin from /dev/null. ssh's stderr comes back through a pipe: its last line is why
 * the engine is unreachable ("Host key verification failed.").
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ssh.h"
#include "engine-int.h"

#define SSH_BACKOFF_MIN_MS 500
#define SSH_BACKOFF_MAX_MS 5000
/* How often a starting tunnel looks for its socket, and a running one for its ssh. */
#define SSH_TICK_MS 50
#define SSH_UP_TICK_MS 1000
/* ssh gets this long to end after SIGTERM before SIGKILL. */
#define SSH_TERM_GRACE_MS 2000
#define SSH_MAX_ARGS 40

struct ssh_tunnel {
	/* Immutable after ssh_tunnel_start(). */
	char *dir;	/* private 0700 directory holding the socket */
	char *sock;	/* dir + "/ssh.sock" */
	char *dest;	/* "root@host", for messages */
	char *ssh_path; /* the ssh binary, looked up in PATH before any fork */
	char *argv[SSH_MAX_ARGS];
	int wake[2];	/* a byte written to [1] wakes and stops the supervisor */
	int max_fd;	/* fallback bound for closing descriptors in the child */
	pthread_t thread;
	bool thread_started;

	/* Guards the state below; never held across anything that blocks. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pid_t pid;	    /* guarded by lock: the running ssh, 0 when none */
	bool up;	    /* guarded by lock: the socket is bound, ssh is running */
	bool first_done;    /* guarded by lock: the first attempt came up or ended */
	char reason[320];   /* guarded by lock: why the tunnel is down */
	char last_line[256]; /* guarded by lock: ssh's last stderr line since it came up */
};

/* ---- helpers ---- */

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000L + (now.tv_nsec - t0->tv_nsec) / 1000000L;
}

/* PATH lookup in the parent: between fork and exec only async-signal-safe calls are allowed. */
static char *find_ssh(void)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL, *hit = NULL;

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	copy = strdup(path);
	for (dir = copy ? strtok_r(copy, ":", &save) : NULL; dir && !hit;
	     dir = strtok_r(NULL, ":", &save)) {
		char *cand = NULL;

		if (asprintf(&cand, "%s/ssh", *dir ? dir : ".") < 0)
			break;
		if (access(cand, X_OK) == 0)
			hit = cand;
		else
			free(cand);
	}
	free(copy);
	return hit;
}

/* A private directory for the forwarded socket, short enough for sun_path. */
static int make_dir(struct ssh_tunnel *t)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	const char *bases[] = {xdg && *xdg ? xdg : NULL, "/tmp"};
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;
	size_t i;

	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		char *d = NULL;

		if (!bases[i] || asprintf(&d, "%s/cutipfs-ssh-XXXXXX", bases[i]) < 0)
			continue;
		/* mkdtemp makes it 0700: only we can reach the engine through it. */
		if (strlen(d) + sizeof("/ssh.sock") - 1 > max || !mkdtemp(d)) {
			free(d);
			continue;
		}
		t->dir = d;
		if (asprintf(&t->sock, "%s/ssh.sock", d) < 0) {
			t->sock = NULL;
			return -ENOMEM;
		}
		return 0;
	}
	return -errno ? -errno : -EIO;
}

static int build_argv(struct ssh_tunnel *t, const struct endpoint *ep)
{
	static const char *const fixed[] = {
	    "ssh", "-N", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes", "-o",
	    "StreamLocalBindUnlink=yes", "-o", "ServerAliveInterval=5", "-o",
	    "ServerAliveCountMax=2",
	    /* A host that never answers must not keep the first attempt waiting for TCP's own
	     * minutes-long timeout. */
	    "-o", "ConnectTimeout=5",
	    /* Never hand the forward to (or start) a ControlMaster: that process would own our
	     * socket and outlive the mount. */
	    "-o", "ControlPath=none"};
	char port[16];
	int n = 0;
	size_t i;

#define ARG(s)                                                                                     \
	do {                                                                                       \
		if (!(t->argv[n++] = strdup(s)))                                                   \
			return -ENOMEM;                                                            \
	} while (0)
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		ARG(fixed[i]);
	if (ep->identity) {
		ARG("-i");
		ARG(ep->identity);
	}
	ARG("-L");
	if (asprintf(&t->argv[n++], "%s:%s", t->sock, ep->remote_sock) < 0) {
		t->argv[n - 1] = NULL;
		return -ENOMEM;
	}
	if (ep->port) {
		snprintf(port, sizeof(port), "%d", ep->port);
		ARG("-p");
		ARG(port);
	}
	if (ep->user) {
		ARG("-l");
		ARG(ep->user);
	}
	/* The host cannot be taken for an option, whatever the URL said. */
	ARG("--");
	ARG(ep->host);
#undef ARG
	t->argv[n] = NULL;
	return 0;
}

static void set_state(struct ssh_tunnel *t, pid_t pid, bool up, const char *reason)
{
	pthread_mutex_lock(&t->lock);
	t->pid = pid;
	t->up = up;
	if (up)
		t->last_line[0] = '\0';
	if (reason)
		snprintf(t->reason, sizeof(t->reason), "%s", reason);
	if (up || !pid)
		t->first_done = true;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

/* ---- reading ssh's stderr ---- */

struct lines {
	char partial[256];
	size_t len;
	char last[256]; /* the last non-empty line of this run */
};

static void line_done(struct ssh_tunnel *t, struct lines *l)
{
	while (l->len && strchr(" \t\r", l->partial[l->len - 1]))
		l->len--;
	l->partial[l->len] = '\0';
	if (l->len) {
		memcpy(l->last, l->partial, l->len + 1);
		pthread_mutex_lock(&t->lock);
		if (t->up)
			snprintf(t->last_line, sizeof(t->last_line), "%s", l->last);
		pthread_mutex_unlock(&t->lock);
	}
	l->len = 0;
}

/* Reads what is there; false at EOF or error. */
static bool read_stderr(struct ssh_tunnel *t, int fd, struct lines *l)
{
	char buf[512];
	ssize_t n = read(fd, buf, sizeof(buf));
	ssize_t i;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0) {
		if (l->len)
			line_done(t, l);
		return false;
	}
	for (i = 0; i < n; i++) {
		if (buf[i] == '\n')
			line_done(t, l);
		else if (l->len < sizeof(l->partial) - 1)
			l->partial[l->len++] = buf[i];
	}
	return true;
}

/* ---- one run of ssh ---- */

/* dup2, except that a descriptor already in place only loses its O_CLOEXEC (dup2 of a
 * descriptor onto itself would leave it set, and exec would close it). */
static int move_fd(int from, int to)
{
	if (from == to)
		return fcntl(to, F_SETFD, 0);
	return dup2(from, to);
}

/* In the child: async-signal-safe calls only, then exec. */
static void child(const struct ssh_tunnel *t, pid_t parent, int devnull, int errfd)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t none;
	int fd;

	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(127); /* the supervisor is already gone: nobody would reap or kill us */
	/* Out of the terminal's foreground group (a Ctrl-C is the mount's to handle: it then
	 * stops ssh itself), but in the mount's session, where tools look for its processes.
	 * BatchMode and stdin from /dev/null are what keep ssh from asking anything. */
	setpgid(0, 0);
	/* FUSE ignores SIGPIPE and worker threads block signals; exec keeps both. */
	sigaction(SIGPIPE, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (move_fd(devnull, 0) < 0 || move_fd(devnull, 1) < 0 || move_fd(errfd, 2) < 0)
		_exit(127);
	/* Neither the FUSE device nor the engine's connections may stay open in ssh. */
	if (close_range(3, ~0U, 0) < 0)
		for (fd = 3; fd < t->max_fd; fd++)
			close(fd);
	execv(t->ssh_path, t->argv);
	_exit(127);
}

static void reap(pid_t pid, int *status)
{
	struct timespec t0;

	kill(pid, SIGTERM);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (waitpid(pid, status, WNOHANG) == 0) {
		if (ms_since(&t0) > SSH_TERM_GRACE_MS) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			return;
		}
		poll(NULL, 0, SSH_TICK_MS);
	}
}

static void exit_reason(const struct ssh_tunnel *t, const struct lines *l, int status,
			char *out, size_t len)
{
	if (l->last[0])
		snprintf(out, len, "ssh %s: %s", t->dest, l->last);
	else if (WIFSIGNALED(status))
		snprintf(out, len, "ssh %s: killed by signal %d", t->dest, WTERMSIG(status));
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		snprintf(out, len, "ssh %s: cannot run %s", t->dest, t->ssh_path);
	else
		snprintf(out, len, "ssh %s: exited with status %d", t->dest,
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* Runs ssh until it exits or the tunnel stops; true when its forward came up. */
static bool run_once(struct ssh_tunnel *t, bool *stopping)
{
	struct lines l = {.len = 0};
	char why[320];
	int errp[2], devnull, status = 0;
	bool up = false, open_err = true;
	pid_t pid, parent = getpid();
	struct stat st;

	unlink(t->sock);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		snprintf(why, sizeof(why), "ssh %s: %s", t->dest, strerror(errno));
		if (devnull >= 0)
			close(devnull);
		set_state(t, 0, false, why);
		return false;
	}
	pid = fork();
	if (pid == 0)
		child(t, parent, devnull, errp[1]);
	close(errp[1]);
	close(devnull);
	if (pid < 0) {
		snprintf(why, sizeof(why), "ssh %s: fork: %s", t->dest, strerror(errno));
		close(errp[0]);
		set_state(t, 0, false, why);
		return false;
	}
	set_state(t, pid, false, NULL);

	for (;;) {
		struct pollfd p[2];
		int n = 0, ie = -1, iw, w;

		if (open_err) {
			p[n] = (struct pollfd){.fd = errp[0], .events = POLLIN};
			ie = n++;
		}
		p[n] = (struct pollfd){.fd = t->wake[0], .events = POLLIN};
		iw = n++;
		/* ssh's exit closes its stderr and wakes us at once; the tick is for the socket
		 * to appear, and for an ssh whose stderr a ProxyCommand child still holds. */
		poll(p, (nfds_t)n, up ? SSH_UP_TICK_MS : SSH_TICK_MS);
		if (ie >= 0 && p[ie].revents && !read_stderr(t, errp[0], &l))
			open_err = false;
		if (p[iw].revents & POLLIN) {
			*stopping = true;
			reap(pid, &status);
			break;
		}
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid || (w < 0 && errno == ECHILD))
			break;
		if (!up && stat(t->sock, &st) == 0 && S_ISSOCK(st.st_mode)) {
			up = true;
			set_state(t, pid, true, "");
		}
	}
	/* What ssh said last, also after it exited. */
	while (open_err) {
		struct pollfd p = {.fd = errp[0], .events = POLLIN};

		if (poll(&p, 1, 0) <= 0 || !read_stderr(t, errp[0], &l))
			break;
	}
	close(errp[0]);
	unlink(t->sock);
	if (*stopping)
		snprintf(why, sizeof(why), "ssh %s: stopped", t->dest);
	else
		exit_reason(t, &l, status, why, sizeof(why));
	set_state(t, 0, false, why);
	return up;
}

static void *supervise(void *arg)
{
	struct ssh_tunnel *t = arg;
	int backoff = SSH_BACKOFF_MIN_MS;
	bool stopping = false;

	while (!stopping) {
		struct pollfd p = {.fd = t->wake[0], .events = POLLIN};

		/* A tunnel that came up was fine: its next failure starts the backoff afresh. */
		if (run_once(t, &stopping))
			backoff = SSH_BACKOFF_MIN_MS;
		if (stopping || poll(&p, 1, backoff) > 0)
			break;
		backoff = backoff * 2 > SSH_BACKOFF_MAX_MS ? SSH_BACKOFF_MAX_MS : backoff * 2;
	}
	return NULL;
}

/* ---- the handle ---- */

void ssh_tunnel_stop(struct ssh_tunnel *t)
{
	int i;

	if (!t)
		return;
	if (t->thread_started) {
		if (write(t->wake[1], "x", 1) < 0) {
			/* Cannot fail on a fresh pipe with room; nothing else to do. */
		}
		pthread_join(t->thread, NULL);
	}
	if (t->sock)
		unlink(t->sock);
	if (t->dir)
		rmdir(t->dir);
	if (t->wake[0] >= 0)
		close(t->wake[0]);
	if (t->wake[1] >= 0)
		close(t->wake[1]);
	for (i = 0; i < SSH_MAX_ARGS && t->argv[i]; i++)
		free(t->argv[i]);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t->dir);
	free(t->sock);
	free(t->dest);
	free(t->ssh_path);
	free(t);
}

int ssh_tunnel_start(const struct endpoint *ep, struct ssh_tunnel **out, char *err, size_t errlen)
{
	struct ssh_tunnel *t = calloc(1, sizeof(*t));
	struct rlimit rl;
	int rc;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->wake[0] = t->wake[1] = -1;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	if (ep->user ? asprintf(&t->dest, "%s@%s", ep->user, ep->host) < 0
		     : !(t->dest = strdup(ep->host))) {
		t->dest = NULL;
		ssh_tunnel_stop(t);
		return -ENOMEM;
	}
	t->max_fd = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (int)rl.rlim_cur
									       : 65536;
	rc = make_dir(t);
	if (rc < 0) {
		engine_seterr(err, errlen, "ssh %s: cannot make a private socket directory: %s",
			      t->dest, strerror(-rc));
		ssh_tunnel_stop(t);
		return rc;
	}
	rc = build_argv(t, ep);
	if (rc == 0 && pipe2(t->wake, O_CLOEXEC) < 0)
		rc = -errno;
	if (rc < 0) {
		ssh_tunnel_stop(t);
		return rc;
	}
	t->ssh_path = find_ssh();
	if (!t->ssh_path) {
		/* Not fatal: the endpoint is named, so the mount comes up on it, unreachable. */
		snprintf(t->reason, sizeof(t->reason),
			 "ssh %s: no ssh command in PATH (install the OpenSSH client)", t->dest);
		t->first_done = true;
		*out = t;
		return 0;
	}
	snprintf(t->reason, sizeof(t->reason), "ssh %s: connecting", t->dest);
	rc = pthread_create(&t->thread, NULL, supervise, t);
	if (rc) {
		ssh_tunnel_stop(t);
		return -rc;
	}
	t->thread_started = true;
	*out = t;
	return 0;
}

void ssh_tunnel_wait_first(struct ssh_tunnel *t, int timeout_ms)
{
	struct timespec dl;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&t->lock);
	while (!t->first_done)
		if (pthread_cond_timedwait(&t->cond, &t->lock, &dl) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&t->lock);
}

const char *ssh_tunnel_sock(const struct ssh_tunnel *t)
{
	return t->sock;
}

bool ssh_tunnel_state(struct ssh_tunnel *t, pid_t *pid, char *why, size_t whylen)
{
	bool up;

	pthread_mutex_lock(&t->lock);
	up = t->up;
	if (pid)
		*pid = t->pid;
	if (why && whylen)
		snprintf(why, whylen, "%s", up ? t->last_line : t->reason);
	pthread_mutex_unlock(&t->lock);
	return up;
}
