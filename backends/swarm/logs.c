/* A service's logs: every task's output through the manager (GET /services/ID/logs), each line
 * led by the task it came from as `docker service logs` shows it, "NAME.SLOT@NODE | ".
 *
 * The engine says whose a line is only by ids: with details=1 each message starts with
 * "k=v,k=v " (query-escaped pairs, among them com.docker.swarm.task.id and
 * com.docker.swarm.node.id; see moby's api/server/httputils/write_log_stream.go). Slots and
 * node names come from one read of the cluster (swarm_view), read again when a line names a
 * task it does not know yet (a follow outlives the tasks it started with), at most once a
 * second. Bytes are cut into lines per stream: a frame may hold part of a line or several. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "docker.h"
#include "swarm.h"

/* A line longer than this is passed on in pieces, each prefixed. */
#define SLOG_LINE_MAX (64 * 1024)

struct slog {
	struct engine *e;
	be_log_sink sink;
	void *ctx;
	const char *service_id;
	char name[128]; /* the service's */
	bool global;
	struct swarm_view v;
	bool have_view;
	time_t read_at; /* when v was read */
	struct {
		char *buf;
		size_t len;
	} part[2]; /* stdout, stderr: the line begun */
};

static void reread(struct slog *l)
{
	struct swarm_view v;
	char err[256];

	if (l->have_view && time(NULL) == l->read_at)
		return;
	l->read_at = time(NULL);
	if (swarm_view_read(l->e, &v, err, sizeof(err)) < 0)
		return; /* the prefixes say "?" until the next read works */
	swarm_view_free(&l->v);
	l->v = v;
	l->have_view = true;
}

/* The value of @key in "k=v,k=v" (@n bytes), unescaped, into out. */
static void detail(const char *d, size_t n, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);

	out[0] = '\0';
	for (const char *p = d, *end = d + n; p < end;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		if ((size_t)(stop - p) > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			int vlen = 0;
			char *v = curl_easy_unescape(NULL, p + klen + 1, (int)(stop - p - klen - 1),
						     &vlen);
			if (v)
				snprintf(out, len, "%.*s", vlen, v);
			curl_free(v);
			return;
		}
		p = stop + 1;
	}
}

/* "NAME.SLOT@NODE" of the task and node a line's details name. */
static void who(struct slog *l, const char *d, size_t n, char *out, size_t len)
{
	char task_id[80], node_id[80], node[128];
	const cJSON *task;

	detail(d, n, "com.docker.swarm.task.id", task_id, sizeof(task_id));
	detail(d, n, "com.docker.swarm.node.id", node_id, sizeof(node_id));
	task = l->have_view ? swarm_task(&l->v, task_id) : NULL;
	if (!task && task_id[0]) {
		reread(l);
		task = l->have_view ? swarm_task(&l->v, task_id) : NULL;
	}
	if (l->have_view)
		swarm_node_name(&l->v, node_id, node, sizeof(node));
	else
		snprintf(node, sizeof(node), "%.12s", node_id);
	if (l->global)
		snprintf(out, len, "%s@%s", l->name, node);
	else if (task)
		snprintf(out, len, "%s.%ld@%s", l->name, docker_jnum(task, "Slot"), node);
	else
		snprintf(out, len, "%s.?@%s", l->name, node);
}

/* One whole line (with its newline, if it had one) to the sink, prefixed. */
static int emit(struct slog *l, enum be_stream stream, const char *line, size_t n)
{
	const char *sp = memchr(line, ' ', n);
	char label[300], *out = NULL;
	size_t dlen = sp ? (size_t)(sp - line) : 0;
	int rc;

	/* Without details (a message that carried none) the whole line is the message. */
	if (!sp || !memchr(line, '=', dlen))
		dlen = 0;
	who(l, line, dlen, label, sizeof(label));
	const char *msg = dlen ? sp + 1 : line;
	size_t mlen = n - (size_t)(msg - line);
	bool nl = mlen && msg[mlen - 1] == '\n';
	int len = asprintf(&out, "%s | %.*s%s", label, (int)mlen, msg, nl ? "" : "\n");
	if (len < 0)
		return -ENOMEM;
	rc = l->sink(stream, out, (size_t)len, l->ctx);
	free(out);
	return rc;
}

static int on_bytes(enum engine_stream stream, const char *buf, size_t len, void *arg)
{
	struct slog *l = arg;
	enum be_stream bs = stream == ENGINE_STREAM_STDERR ? BE_STDERR : BE_STDOUT;
	int k = bs == BE_STDERR;

	while (len) {
		const char *nl = memchr(buf, '\n', len);
		size_t take = nl ? (size_t)(nl - buf) + 1 : len;
		char *grown = realloc(l->part[k].buf, l->part[k].len + take);
		if (!grown)
			return -ENOMEM;
		memcpy(grown + l->part[k].len, buf, take);
		l->part[k].buf = grown;
		l->part[k].len += take;
		buf += take;
		len -= take;
		if (nl || l->part[k].len >= SLOG_LINE_MAX) {
			int rc = emit(l, bs, l->part[k].buf, l->part[k].len);
			l->part[k].len = 0;
			if (rc)
				return rc;
		}
	}
	return 0;
}

int swarm_service_logs(struct engine *e, const char *id, const struct be_logs *o, be_log_sink sink,
		       void *ctx, char *err, size_t errlen)
{
	struct slog l = {.e = e, .sink = sink, .ctx = ctx, .service_id = id};
	struct engine_logs_opts eo = {.follow = o->follow,
				      .since = o->since,
				      .stop = o->stop,
				      .service = true,
				      .details = true};
	int rc;

	reread(&l);
	if (!l.have_view) {
		snprintf(err, errlen, "the cluster's tasks could not be read");
		return -EIO;
	}
	const cJSON *svc;
	cJSON_ArrayForEach(svc, l.v.services) if (strcmp(docker_jstr(svc, "ID"), id) == 0)
	    snprintf(l.name, sizeof(l.name), "%s",
		     docker_jstr(cJSON_GetObjectItemCaseSensitive(svc, "Spec"), "Name"));
	if (!l.name[0]) {
		swarm_view_free(&l.v);
		snprintf(err, errlen, "no such service: %s", id);
		return -ENOENT;
	}
	l.global = swarm_global(&l.v, id);
	/* A TTY task's output is one raw stream: the demultiplexer finds that out itself. */
	rc = engine_container_logs_ex(e, id, &eo, on_bytes, &l, err, errlen);
	/* What was left without a newline at the end is a line too. */
	for (int k = 0; k < 2; k++) {
		if (rc == 0 && l.part[k].len)
			rc = emit(&l, k ? BE_STDERR : BE_STDOUT, l.part[k].buf, l.part[k].len);
		free(l.part[k].buf);
	}
	swarm_view_free(&l.v);
	return rc > 0 ? 0 : rc;
}
