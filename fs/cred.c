/* Creating in cards/ as the caller: a file, directory, node or symlink that a user makes is
 * that user's, with the group the disk gives it (the caller's, or the directory's when it is
 * set-group-ID, which needs the caller's supplementary groups to decide the set-group-ID bit
 * of what is made), and the disk checks the caller's rights once more.
 *
 * The daemon is multithreaded (fuse_session_loop_mt), so the switch must be per thread. On
 * Linux the credentials are per thread at the system-call level, but glibc's setgroups()
 * changes every thread of the process (nptl(7): the wrappers signal all threads), so the raw
 * system calls are used (setgroups(2), setfsuid(2), setfsgid(2)). The file system identity alone is
 * switched: the thread keeps its real and effective ids, and returning to them brings back the
 * capabilities that setfsuid(2) says a change away from 0 drops. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fs.h"

/* 32-bit group ids where the architecture has two calls (i386, arm). */
#ifdef SYS_setgroups32
#define CRED_SETGROUPS SYS_setgroups32
#else
#define CRED_SETGROUPS SYS_setgroups
#endif

/* How many supplementary groups are read without allocating. */
#define CRED_GROUPS 64

static pthread_once_t cred_once = PTHREAD_ONCE_INIT;
static bool cred_root;	       /* only root can create as someone else */
static gid_t *cred_own_groups; /* the daemon's own supplementary groups, to go back to */
static int cred_own_ngroups;
static _Thread_local bool cred_own_umask; /* this thread has a umask of its own */

static void cred_init(void)
{
	cred_root = geteuid() == 0;
	int n = getgroups(0, NULL);
	if (n > 0 && (cred_own_groups = calloc((size_t)n, sizeof(gid_t))))
		cred_own_ngroups = getgroups(n, cred_own_groups);
	if (cred_own_ngroups < 0)
		cred_own_ngroups = 0;
}

/* The caller's umask for what the disk creates: it applies it, unless a default ACL of the
 * directory says otherwise (acl(5)). The kernel sends the mode unmasked (FUSE_CAP_DONT_MASK,
 * ops.c), or masked already where it cannot, and masking twice changes nothing. The umask
 * belongs to the fs_struct, shared by all threads; unshare(CLONE_FS) gives this thread one of
 * its own (unshare(2)), leaving the umask of the workspace's own files as it was. */
static int cred_umask(mode_t mask)
{
	if (!cred_own_umask) {
		if (unshare(CLONE_FS) < 0)
			return -errno;
		cred_own_umask = true;
	}
	umask(mask & 0777);
	return 0;
}

static int cred_set(uid_t uid, gid_t gid, int ngroups, const gid_t *groups)
{
	if (syscall(CRED_SETGROUPS, (size_t)ngroups, groups) < 0)
		return -errno;
	syscall(SYS_setfsgid, gid);
	syscall(SYS_setfsuid, uid);
	/* setfsuid(2) reports no error: asking again (an invalid id) returns the current one. */
	if ((uid_t)syscall(SYS_setfsuid, (uid_t)-1) != uid ||
	    (gid_t)syscall(SYS_setfsgid, (gid_t)-1) != gid)
		return -EPERM;
	return 0;
}

int fs_cred_enter(fuse_req_t req, struct fs_cred *c)
{
	c->switched = false;
	pthread_once(&cred_once, cred_init);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	int rc = cred_umask(ctx->umask);
	if (rc < 0 || !cred_root)
		return rc;
	gid_t stack[CRED_GROUPS], *groups = stack;
	int n = fuse_req_getgroups(req, CRED_GROUPS, stack);
	if (n > CRED_GROUPS) {
		int cap = n;
		groups = calloc((size_t)cap, sizeof(gid_t));
		if (!groups)
			return -ENOMEM;
		n = fuse_req_getgroups(req, cap, groups);
		if (n > cap)
			n = -EAGAIN;
	}
	/* A caller gone already (fuse_req_getgroups reads its /proc entry), or groups changing
	 * meanwhile: none, as for a process without supplementary groups. */
	if (n < 0)
		n = 0;
	rc = cred_set(ctx->uid, ctx->gid, n, groups);
	if (groups != stack)
		free(groups);
	c->switched = true; /* even half switched: leave goes back */
	if (rc < 0)
		fs_cred_leave(c);
	return rc;
}

void fs_cred_leave(struct fs_cred *c)
{
	if (!c->switched)
		return;
	c->switched = false;
	if (cred_set(geteuid(), getegid(), cred_own_ngroups, cred_own_groups) < 0)
		abort(); /* a worker left as someone else would act as them for everyone */
}
