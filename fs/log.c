/* The daemon's own messages: to stderr while it has the terminal of whoever mounted (before
 * fuse_daemonize, or in the foreground under -f, as systemd runs it), to syslog(3) once it runs
 * in the background (its stderr is /dev/null then; journald reads /dev/log). Messages above
 * -o loglevel= are dropped. Nothing here ever reaches the mount's users: they see errno and
 * the errors file. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "fs.h"

static const struct {
	const char *name;
	int prio;
} levels[] = {
    {"error", LOG_ERR},
    {"warning", LOG_WARNING},
    {"info", LOG_INFO},
    {"debug", LOG_DEBUG},
};

/* Set once in main() before any thread starts; read-only after. */
static int max_prio = LOG_WARNING;
static bool to_syslog;

int fs_log_level(const char *name)
{
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcasecmp(name, levels[i].name) == 0)
			return levels[i].prio;
	return -1;
}

void fs_log_init(int prio)
{
	max_prio = prio;
}

void fs_log_background(void)
{
	openlog("cutipfs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	to_syslog = true;
}

void fs_log(int prio, const char *fmt, ...)
{
	va_list ap;

	if (prio > max_prio)
		return;
	va_start(ap, fmt);
	if (to_syslog) {
		vsyslog(prio, fmt, ap);
	} else {
		char line[1024];
		vsnprintf(line, sizeof(line), fmt, ap);
		fprintf(stderr, "cutipfs: %s\n", line);
	}
	va_end(ap);
}
