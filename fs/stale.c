/* A mountpoint left behind by a cutipfs that died (SIGKILL, OOM): the kernel keeps the mount.
 * A new mount there then fails ("bad mount point": Transport endpoint is not connected) or,
 * while the kernel still has the dead root's attributes cached, goes on top of it and leaves it
 * behind at the next unmount. Unless someone runs `fusermount3 -u` first; we do that for them,
 * but only for a mount of ours (fuse.cutipfs in /proc/self/mounts) that is dead (ENOTCONN): a
 * live mount, or anybody else's, is left alone. */
#include <errno.h>
#include <limits.h>
#include <mntent.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs.h"

extern char **environ;

/* path as /proc/self/mounts spells it: absolute, without realpath (which would stat the dead
 * mount and fail). */
static int absolute(const char *path, char *buf, size_t len)
{
	char cwd[PATH_MAX];
	int n;
	if (path[0] == '/')
		n = snprintf(buf, len, "%s", path);
	else if (getcwd(cwd, sizeof(cwd)))
		n = snprintf(buf, len, "%s/%s", cwd, path);
	else
		return -errno;
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static bool ours_mounted(const char *abs)
{
	FILE *f = setmntent("/proc/self/mounts", "r");
	if (!f)
		return false;
	bool found = false;
	struct mntent m;
	char buf[4 * PATH_MAX];
	while (!found && getmntent_r(f, &m, buf, sizeof(buf)))
		found = strcmp(m.mnt_dir, abs) == 0 && strcmp(m.mnt_type, "fuse.cutipfs") == 0;
	endmntent(f);
	return found;
}

/* Lazily, as `fusermount3 -uz` does: a process may still have its cwd in the dead mount. Not
 * root, umount2 fails with EPERM, and fusermount3 (setuid) is the way for a user. */
static int detach(const char *abs)
{
	if (umount2(abs, MNT_DETACH) == 0)
		return 0;
	if (errno != EPERM)
		return -errno;
	char *argv[] = {"fusermount3", "-u", "-z", "--", (char *)abs, NULL};
	pid_t pid;
	int rc = posix_spawnp(&pid, "fusermount3", NULL, NULL, argv, environ);
	if (rc != 0)
		return -rc;
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EPERM;
}

int fs_reclaim_mountpoint(const char *mountpoint)
{
	char abs[PATH_MAX];
	int rc = 0;
	/* statfs, not stat: the kernel answers a stat from the attributes it has cached, even
	 * for a dead mount, and we would mount on top of it; a statfs always asks the daemon.
	 * Mounts stacked there by earlier runs go one by one, the top first. */
	for (int i = 0; i < 16 && rc == 0; i++) {
		struct statfs sf;
		if (statfs(mountpoint, &sf) == 0 || errno != ENOTCONN)
			return 0;
		rc = absolute(mountpoint, abs, sizeof(abs));
		if (rc < 0 || !ours_mounted(abs))
			return rc;
		rc = detach(abs);
		if (rc < 0)
			fprintf(stderr, "cutipfs: %s: a dead cutipfs mount, not unmounted: %s\n",
				abs, strerror(-rc));
		else
			fprintf(stderr, "cutipfs: %s: unmounted a dead cutipfs mount\n", abs);
	}
	return rc;
}
