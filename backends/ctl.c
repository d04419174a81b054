/* containers/NAME/ctl: start, stop [SECONDS], restart [SECONDS], kill [SIGNAL], pause, unpause,
 * on any container (cutipfs made it or not). Arguments are checked here, before the engine is
 * asked; the state is read again right after, so that the status read next shows the result
 * (the engine's events publish the changes). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ws-int.h"

/* The longest grace period accepted: a day. */
#define WS_CTL_MAX_GRACE_S 86400

/* Signal names as kill(1) knows them, without "SIG"; index = number. */
static const char *const signals[] = {
    NULL,   "HUP",  "INT",  "QUIT", "ILL",    "TRAP",	"ABRT",	 "BUS",	 "FPE",	 "KILL", "USR1",
    "SEGV", "USR2", "PIPE", "ALRM", "TERM",   "STKFLT", "CHLD",	 "CONT", "STOP", "TSTP", "TTIN",
    "TTOU", "URG",  "XCPU", "XFSZ", "VTALRM", "PROF",	"WINCH", "IO",	 "PWR",	 "SYS"};
#define WS_SIGRTMIN 34
#define WS_SIGRTMAX 64

/* "15", "TERM", "SIGTERM", "sigterm", "RTMIN+2" -> "SIGTERM" / "36"; false when unknown. */
static bool signal_ok(const char *arg, char *out, size_t len)
{
	char *end;
	long n;

	if (isdigit((unsigned char)arg[0])) {
		n = strtol(arg, &end, 10);
		if (*end || n < 1 || n > WS_SIGRTMAX)
			return false;
		ws_fmt(out, len, "%ld", n);
		return true;
	}
	if (strncasecmp(arg, "SIG", 3) == 0)
		arg += 3;
	for (size_t i = 1; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (strcasecmp(arg, signals[i]) == 0) {
			ws_fmt(out, len, "SIG%s", signals[i]);
			return true;
		}
	/* Real-time signals by number: Docker and Podman both take numbers. */
	if (strncasecmp(arg, "RTMIN", 5) == 0 || strncasecmp(arg, "RTMAX", 5) == 0) {
		bool max = toupper((unsigned char)arg[3]) == 'A';
		n = 0;
		if (arg[5]) {
			if (arg[5] != (max ? '-' : '+') || !isdigit((unsigned char)arg[6]))
				return false;
			n = strtol(arg + 6, &end, 10);
			if (*end)
				return false;
		}
		n = max ? WS_SIGRTMAX - n : WS_SIGRTMIN + n;
		if (n < WS_SIGRTMIN || n > WS_SIGRTMAX)
			return false;
		ws_fmt(out, len, "%ld", n);
		return true;
	}
	return false;
}

/* "10" -> 10; -1 when not a whole number of seconds in range. */
static int grace(const char *arg)
{
	char *end;
	long n;

	if (!isdigit((unsigned char)arg[0]))
		return -1;
	n = strtol(arg, &end, 10);
	return *end || n > WS_CTL_MAX_GRACE_S ? -1 : (int)n;
}

/* Copies s without surrounding blanks (a line written with echo ends in "\n"). */
static void trimmed(const char *s, char *out, size_t len)
{
	size_t n;

	while (s && isspace((unsigned char)*s))
		s++;
	n = s ? strlen(s) : 0;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= len)
		n = len - 1;
	memcpy(out, s ? s : "", n);
	out[n] = '\0';
}

enum ctl_cmd { CTL_START, CTL_STOP, CTL_RESTART, CTL_KILL, CTL_PAUSE, CTL_UNPAUSE };

static int parse(const char *command, const char *arg, enum ctl_cmd *cmd, int *secs, char *sig,
		 size_t siglen)
{
	static const char *const names[] = {"start", "stop", "restart", "kill", "pause", "unpause"};
	size_t i = 0;

	while (i < sizeof(names) / sizeof(names[0]) && strcmp(command, names[i]) != 0)
		i++;
	if (i == sizeof(names) / sizeof(names[0]))
		return -EINVAL;
	*cmd = (enum ctl_cmd)i;
	*secs = WS_STOP_GRACE_S;
	switch (*cmd) {
	case CTL_STOP:
	case CTL_RESTART:
		if (*arg && (*secs = grace(arg)) < 0)
			return -EINVAL;
		return 0;
	case CTL_KILL:
		/* Docker's default: SIGKILL. */
		return signal_ok(*arg ? arg : "KILL", sig, siglen) ? 0 : -EINVAL;
	default:
		return *arg ? -EINVAL : 0;
	}
}

int ws_container_ctl(struct workspace *ws, const char *name, const char *command, const char *arg)
{
	char cmdbuf[32], argbuf[64], sig[16] = "", id[BE_ID_SIZE], err[512] = "";
	enum ctl_cmd cmd;
	int secs, rc;

	if (!name || !*name || strchr(name, '/'))
		return -ENOENT;
	if (!command)
		return -EINVAL;
	trimmed(command, cmdbuf, sizeof(cmdbuf));
	/* "stop 5" in one string is taken too. */
	if (!arg || !*arg) {
		char *space = strpbrk(cmdbuf, " \t");
		trimmed(space ? space : "", argbuf, sizeof(argbuf));
		if (space)
			*space = '\0';
	} else {
		trimmed(arg, argbuf, sizeof(argbuf));
	}
	rc = parse(cmdbuf, argbuf, &cmd, &secs, sig, sizeof(sig));
	if (rc < 0)
		return rc;
	if ((cmd == CTL_PAUSE || cmd == CTL_UNPAUSE) && !(ws->be->ops->caps & BE_CAP_PAUSE)) {
		backend_unsupported(ws->be, "pause and unpause", err, sizeof(err));
		ws_error_add(ws, "containers/%s/ctl: %s: %s", name, cmdbuf, err);
		return -EOPNOTSUPP;
	}

	/* Its card's apply ends first (a commit returns before the start): a stop must not come
	 * before that start, and the state has the container the card made by then. */
	ws_pool_wait_card(ws, CARD_CONTAINER, name);
	/* The id, so that a container renamed meanwhile is still the one meant. */
	pthread_mutex_lock(&ws->slock);
	struct ws_sobj *o = ws_store_name(&ws->store[WS_CONTAINER], name);
	ws_fmt(id, sizeof(id), "%s", o ? o->id : name);
	pthread_mutex_unlock(&ws->slock);

	static const enum be_ctl_op ops[] = {
	    [CTL_START] = BE_START, [CTL_STOP] = BE_STOP,   [CTL_RESTART] = BE_RESTART,
	    [CTL_KILL] = BE_KILL,   [CTL_PAUSE] = BE_PAUSE, [CTL_UNPAUSE] = BE_UNPAUSE,
	};
	struct be_ctl c = {.op = ops[cmd], .timeout_s = secs, .signal = sig[0] ? sig : NULL};
	rc = ws->be->ops->ctl(ws->be, BE_CONTAINER, id, &c, err, sizeof(err));
	if (rc < 0 && rc != -ENOENT)
		ws_error_add(ws, "containers/%s/ctl: %s: %s", name, cmdbuf,
			     err[0] ? err : strerror(-rc));
	if (rc != -ECONNREFUSED && rc != -ETIMEDOUT)
		ws_refresh_container(ws, id);
	return rc;
}

/* ---- a Swarm's services/NAME/ctl and nodes/NAME/ctl ---- */

struct swarm_word {
	const char *word;
	enum be_ctl_op op;
	bool counted; /* takes a count: "scale 5" */
};

static const struct swarm_word service_words[] = {
    {"scale", BE_SCALE, true},	    {"update", BE_REDEPLOY, false},
    {"rollback", BE_ROLLBACK, false}, {"pause", BE_UPDATE_PAUSE, false},
    {"unpause", BE_UPDATE_RESUME, false},
};
static const struct swarm_word node_words[] = {
    {"drain", BE_DRAIN, false},	   {"pause", BE_NODE_PAUSE, false}, {"active", BE_ACTIVATE, false},
    {"promote", BE_PROMOTE, false}, {"demote", BE_DEMOTE, false},
};

/* "scale 5\n" -> BE_SCALE, 5; -EINVAL for anything else. */
static int swarm_parse(const struct swarm_word *words, size_t n, const char *command,
		       struct be_ctl *c, char *word, size_t wordlen)
{
	char buf[64], *arg, *end;

	trimmed(command, buf, sizeof(buf));
	arg = strpbrk(buf, " \t");
	if (arg)
		*arg++ = '\0';
	char argbuf[32];
	trimmed(arg ? arg : "", argbuf, sizeof(argbuf));
	ws_fmt(word, wordlen, "%s", buf);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(buf, words[i].word) != 0)
			continue;
		memset(c, 0, sizeof(*c));
		c->op = words[i].op;
		if (!words[i].counted)
			return argbuf[0] ? -EINVAL : 0;
		errno = 0;
		long v = strtol(argbuf, &end, 10);
		if (!argbuf[0] || *end || errno || v < 0 || v > 100000)
			return -EINVAL;
		c->count = (unsigned)v;
		return 0;
	}
	return -EINVAL;
}

static int swarm_ctl(struct workspace *ws, enum ws_kind kind, const char *name,
		     const char *command)
{
	const bool svc = kind == WS_SERVICE;
	struct be_ctl c;
	char word[32], id[BE_ID_SIZE], err[512] = "";
	int rc;

	if (!ws_swarm(ws))
		return -ENOENT;
	if (!name || !*name || strchr(name, '/'))
		return -ENOENT;
	rc = svc ? swarm_parse(service_words, sizeof(service_words) / sizeof(service_words[0]),
			       command, &c, word, sizeof(word))
		 : swarm_parse(node_words, sizeof(node_words) / sizeof(node_words[0]), command,
			       &c, word, sizeof(word));
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&ws->slock);
	struct ws_sobj *o = ws_store_name(&ws->store[kind], name);
	ws_fmt(id, sizeof(id), "%s", o ? o->id : "");
	pthread_mutex_unlock(&ws->slock);
	if (!id[0])
		return -ENOENT;
	rc = ws->be->ops->ctl(ws->be, svc ? BE_SERVICE : BE_NODE, id, &c, err, sizeof(err));
	if (rc < 0)
		ws_error_add(ws, "%s/%s/ctl: %s: %s", ws_kind_dir(kind), name, word,
			     err[0] ? err : strerror(-rc));
	if (rc != -ECONNREFUSED && rc != -ETIMEDOUT)
		ws_refresh_swarm(ws);
	return rc;
}

int ws_service_ctl(struct workspace *ws, const char *name, const char *command)
{
	return swarm_ctl(ws, WS_SERVICE, name, command);
}

int ws_node_ctl(struct workspace *ws, const char *name, const char *command)
{
	return swarm_ctl(ws, WS_NODE, name, command);
}
