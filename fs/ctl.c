/* containers/NAME/ctl: write commands to the container, one per line (acme's ctl files):
 *
 *   start | stop [SECONDS] | restart [SECONDS] | kill [SIGNAL] | pause | unpause
 *
 * units/NAME/ctl and groups/NAME/ctl (up | down | down --rm | restart: see workspace.h's
 * ws_group_ctl), and on a Swarm services/NAME/ctl (scale N | update | rollback) and nodes/NAME/ctl (drain |
 * pause | active | promote | demote).
 *
 * Each write is taken as a whole: its lines run in order, a last line without a newline is a
 * command too, and the write itself fails with the first command's error (an unknown command
 * or a bad argument: EINVAL), so `echo stop > ctl` reports it (only write(2)
 * errors reach bash's builtins: close(2)'s are not looked at). Nothing is carried from one write to the next. Reading ctl
 * gives this help. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

static const char ctl_help[] =
    "# write one command per line: start, stop [SECONDS], restart [SECONDS],\n"
    "# kill [SIGNAL], pause, unpause. e.g. echo stop > ctl\n";

/* A whole write is at most this: commands are short. */
#define CTL_MAX 4096

static const char service_help[] =
    "# write one command per line: scale N, update (every task again), rollback.\n"
    "# e.g. echo 'scale 5' > ctl\n";
static const char group_help[] =
    "# write one command: up, down, down --rm (stop and remove), restart.\n"
    "# e.g. echo up > ctl; cat plan shows what up would do\n";
static const char node_help[] =
    "# write one command per line: drain, pause, active, promote, demote.\n"
    "# e.g. echo drain > ctl\n";

void fs_ctl_open(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi)
{
	const char *help = n->kind == WS_SERVICE			? service_help
			   : n->kind == WS_NODE				? node_help
			   : n->kind == WS_UNIT || n->kind == WS_GROUP ? group_help
								       : ctl_help;
	char *text = strdup(help);
	if (!text) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* O_TRUNC (echo > ctl) has nothing to truncate. */
	fs_reply_snap_open(req, fi, text, strlen(help));
}

static bool all_of(const char *s, int (*pred)(int))
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!pred((unsigned char)*s))
			return false;
	return true;
}

static int is_signal_char(int c)
{
	return isalnum(c) || c == '+' || c == '-';
}

/* Checks one command's shape (the workspace checks again): 0 or -EINVAL. */
static int check(const char *cmd, const char *arg)
{
	if (strcmp(cmd, "start") == 0 || strcmp(cmd, "pause") == 0 || strcmp(cmd, "unpause") == 0)
		return arg ? -EINVAL : 0;
	if (strcmp(cmd, "stop") == 0 || strcmp(cmd, "restart") == 0)
		return !arg || all_of(arg, isdigit) ? 0 : -EINVAL;
	if (strcmp(cmd, "kill") == 0)
		return !arg || all_of(arg, is_signal_char) ? 0 : -EINVAL;
	return -EINVAL;
}

/* Runs one line (modified in place): 0 or -errno. Blank lines do nothing. */
static int run_line(struct fs *fs, enum ws_kind kind, const char *name, char *line)
{
	char *save = NULL;
	if (kind == WS_SERVICE)
		return ws_service_ctl(fs->ws, name, line);
	if (kind == WS_NODE)
		return ws_node_ctl(fs->ws, name, line);
	if ((kind == WS_UNIT || kind == WS_GROUP) && line[strspn(line, " \t\r\v\f")])
		return ws_group_ctl(fs->ws, kind, name, line);
	if (kind == WS_UNIT || kind == WS_GROUP)
		return 0;
	char *cmd = strtok_r(line, " \t\r\v\f", &save);
	if (!cmd)
		return 0;
	char *arg = strtok_r(NULL, " \t\r\v\f", &save);
	if (strtok_r(NULL, " \t\r\v\f", &save))
		return -EINVAL;
	int rc = check(cmd, arg);
	if (rc == 0)
		rc = ws_container_ctl(fs->ws, name, cmd, arg);
	return rc;
}

void fs_ctl_write(fuse_req_t req, struct fs_node *n, const char *buf, size_t size)
{
	struct fs *fs = fs_of(req);
	struct ws_object obj;
	if (size > CTL_MAX) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (memchr(buf, '\0', size)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	int rc = fs_obj_parent(fs, n, &obj);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	char text[CTL_MAX + 1];
	memcpy(text, buf, size);
	text[size] = '\0';
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line && rc == 0;
	     line = strtok_r(NULL, "\n", &save))
		rc = run_line(fs, n->kind, obj.name, line);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_write(req, size);
}
