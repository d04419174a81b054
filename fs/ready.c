/* Readiness for a service manager (sd_notify(3)): with Type=notify, systemd takes the unit as
 * started when the mount answers (workspace open, notifier running), not when the process
 * was forked, so that units ordered After= it find the tree there. Built without libsystemd,
 * or run outside systemd ($NOTIFY_SOCKET unset), these do nothing. */
#include "config.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "fs.h"

void fs_ready(struct fs *fs)
{
#ifdef HAVE_LIBSYSTEMD
	sd_notifyf(0, "READY=1\nSTATUS=mounted on %s", fs->mountpoint);
#else
	(void)fs;
#endif
}

void fs_stopping(void)
{
#ifdef HAVE_LIBSYSTEMD
	sd_notify(0, "STOPPING=1");
#endif
}
