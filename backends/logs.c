/* containers/NAME/logs and services/NAME/logs: what the engine has kept of an object's output,
 * in one request. ws_logs_stream hands the bytes on as they come (the mount reads them so,
 * with bounded memory); ws_container_logs and ws_service_logs collect the newest
 * WS_CONTAINER_LOGS_MAX bytes of the same stream into one buffer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws-int.h"

int ws_logs_stream(struct workspace *ws, enum ws_kind kind, const char *name, be_log_sink sink,
		   void *ctx)
{
	struct ws_object obj;
	char id[BE_ID_SIZE] = "", err[512] = "";
	bool tty = false;

	if (!name || !sink || (kind != WS_CONTAINER && kind != WS_SERVICE))
		return -EINVAL;
	if (kind == WS_SERVICE && (!ws_swarm(ws) || !ws->be->ops->service_logs))
		return -ENOENT;
	int rc = ws_lookup(ws, kind, name, &obj);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&ws->slock);
	struct ws_sobj *so = ws_store_name(&ws->store[kind], name);
	if (so) {
		ws_fmt(id, sizeof(id), "%s", so->id);
		tty = so->tty;
	}
	pthread_mutex_unlock(&ws->slock);
	if (!id[0])
		return 0; /* a card's object not made yet: no output */
	struct be_logs o = {.tty = tty};
	rc = kind == WS_SERVICE
		 ? ws->be->ops->service_logs(ws->be, id, &o, sink, ctx, err, sizeof(err))
		 : ws->be->ops->logs(ws->be, id, &o, sink, ctx, err, sizeof(err));
	if (rc == -ENOENT)
		return 0; /* removed meanwhile: nothing more to show */
	if (rc < 0)
		/* The errno alone ("Input/output error") does not say what the engine did. */
		ws_error_add(ws, "%s/%s/logs: %s", ws_kind_dir(kind), name,
			     err[0] ? err : strerror(-rc));
	return rc;
}

/* Keeps the newest WS_CONTAINER_LOGS_MAX bytes; drops the oldest in big steps, so that a huge
 * log costs O(size), not O(size^2). */
static int logs_sink(enum be_stream stream, const char *buf, size_t n, void *ctx)
{
	struct ws_buf *b = ctx;

	(void)stream;
	if (b->len + n > 2 * (size_t)WS_CONTAINER_LOGS_MAX && b->len > WS_CONTAINER_LOGS_MAX) {
		size_t drop = b->len - WS_CONTAINER_LOGS_MAX;
		memmove(b->data, b->data + drop, b->len - drop);
		b->len -= drop;
	}
	return ws_buf_append(b, buf, n, 4 * (size_t)WS_CONTAINER_LOGS_MAX);
}

static int logs_of(struct workspace *ws, enum ws_kind kind, const char *name, char **text,
		   size_t *len)
{
	struct ws_buf b = {0};
	int rc = ws_logs_stream(ws, kind, name, logs_sink, &b);

	if (rc < 0) {
		ws_buf_free(&b);
		return rc;
	}
	if (b.len > WS_CONTAINER_LOGS_MAX) {
		size_t drop = b.len - WS_CONTAINER_LOGS_MAX;
		memmove(b.data, b.data + drop, b.len - drop);
		b.len -= drop;
	}
	*text = b.data ? b.data : strdup("");
	*len = b.len;
	return *text ? 0 : -ENOMEM;
}

int ws_container_logs(struct workspace *ws, const char *name, char **text, size_t *len)
{
	return logs_of(ws, WS_CONTAINER, name, text, len);
}

int ws_service_logs(struct workspace *ws, const char *name, char **text, size_t *len)
{
	return logs_of(ws, WS_SERVICE, name, text, len);
}
