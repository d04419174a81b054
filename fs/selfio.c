/* The notifier's calls through its own mount (mkdir, rmdir and touches for inotify watchers:
 * notify.c), made by a helper process instead of a thread of the daemon.
 *
 * A thread of the daemon that waits in the kernel on its own mount can keep the daemon from
 * dying. After SIGKILL, such a thread blocked on a directory's lock (the inode lock, which is
 * not killable), held by a user's rmdir that waits for the daemon's answer, keeps the process,
 * and with it its /dev/fuse fd, alive: the kernel never aborts the connection (it does when
 * the last /dev/fuse fd is closed), so the user's rmdir, the thread and the mount hang for good
 * and nothing can mount there again. The helper holds no /dev/fuse fd: the daemon's death
 * closes the last one, every waiting request fails (ENOTCONN), and the helper, told by
 * PR_SET_PDEATHSIG, dies next.
 *
 * One request at a time: only the notifier thread calls fs_selfio. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs.h"

struct selfio_req {
	enum fs_selfio_op op;
	char path[PATH_MAX];
};

static int run(const struct selfio_req *r)
{
	int rc;
	switch (r->op) {
	case FS_SELFIO_MKDIR:
		rc = mkdir(r->path, 0755);
		break;
	case FS_SELFIO_RMDIR:
		rc = rmdir(r->path);
		break;
	case FS_SELFIO_TOUCH:
		rc = utimensat(AT_FDCWD, r->path, NULL, 0);
		break;
	default:
		errno = EINVAL;
		rc = -1;
	}
	return rc < 0 ? -errno : 0;
}

/* The helper, forked from a process with threads: async-signal-safe calls only (signal-
 * safety(7)) until _exit. */
static void helper(int sock, pid_t parent)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL}, ign = {.sa_handler = SIG_IGN};
	sigset_t none;
	/* The daemon's end comes as EOF on the socket; Ctrl-C on its terminal is for the daemon
	 * (whose own cleanup then closes the socket). */
	sigaction(SIGTERM, &dfl, NULL);
	sigaction(SIGHUP, &dfl, NULL);
	sigaction(SIGINT, &ign, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(1);
	/* Above all the /dev/fuse fd; the engine's connections are no business of ours either. */
	if (sock > 3)
		close_range(3, (unsigned)sock - 1, 0);
	close_range((unsigned)sock + 1, ~0U, 0);
	struct selfio_req r;
	for (;;) {
		ssize_t n = recv(sock, &r, sizeof(r), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(r))
			_exit(0);
		r.path[sizeof(r.path) - 1] = '\0';
		int rc = run(&r);
		if (send(sock, &rc, sizeof(rc), MSG_NOSIGNAL) != (ssize_t)sizeof(rc))
			_exit(0);
	}
}

int fs_selfio_start(struct fs *fs)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int rc = -errno;
		close(sv[0]);
		close(sv[1]);
		return rc;
	}
	if (pid == 0) {
		close(sv[0]);
		helper(sv[1], parent);
	}
	close(sv[1]);
	fs->self_sock = sv[0];
	atomic_store(&fs->self_pid, pid);
	return 0;
}

int fs_selfio(struct fs *fs, enum fs_selfio_op op, const char *path)
{
	struct selfio_req r = {.op = op};
	if (fs->self_sock < 0)
		return -ENOTSUP;
	if ((size_t)snprintf(r.path, sizeof(r.path), "%s", path) >= sizeof(r.path))
		return -ENAMETOOLONG;
	if (send(fs->self_sock, &r, sizeof(r), MSG_NOSIGNAL) != (ssize_t)sizeof(r))
		return -EIO;
	int rc;
	ssize_t n;
	while ((n = recv(fs->self_sock, &rc, sizeof(rc), 0)) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof(rc) ? rc : -EIO;
}

void fs_selfio_stop(struct fs *fs)
{
	pid_t pid = atomic_exchange(&fs->self_pid, 0);
	if (fs->self_sock >= 0) {
		close(fs->self_sock);
		fs->self_sock = -1;
	}
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}
