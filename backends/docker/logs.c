/*
 * Container logs. Without a TTY the engine multiplexes stdout and stderr into frames of an 8-byte
 * header { stream, 0, 0, 0, size (big-endian u32) } followed by size bytes; with a TTY the body is
 * the raw terminal stream. Frames arrive split at arbitrary points across libcurl callbacks, hence
 * the state machine.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine-int.h"

void engine_demux_init(struct engine_demux *d, bool tty, engine_log_sink sink, void *ctx)
{
	memset(d, 0, sizeof(*d));
	d->sink = sink;
	d->ctx = ctx;
	d->state = tty ? DEMUX_RAW : DEMUX_DETECT;
}

static bool header_ok(const unsigned char *h)
{
	return h[0] <= ENGINE_STREAM_SYSERR && !h[1] && !h[2] && !h[3];
}

int engine_demux_feed(struct engine_demux *d, const char *p, size_t len)
{
	size_t i = 0, k;
	int rc;

	while (i < len) {
		switch (d->state) {
		case DEMUX_RAW:
			return d->sink(ENGINE_STREAM_STDOUT, p + i, len - i, d->ctx);
		case DEMUX_DETECT:
		case DEMUX_HDR:
			k = 8 - d->hlen < len - i ? 8 - d->hlen : len - i;
			memcpy(d->hdr + d->hlen, p + i, k);
			d->hlen += k;
			i += k;
			if (d->hlen < 8)
				break;
			if (!header_ok(d->hdr)) {
				/* Not a frame: a TTY container nobody told us about (or framing
				 * lost). Passing the bytes through beats dropping them. */
				d->state = DEMUX_RAW;
				d->hlen = 0;
				rc = d->sink(ENGINE_STREAM_STDOUT, (const char *)d->hdr, 8, d->ctx);
				if (rc)
					return rc;
				break;
			}
			d->stream = (enum engine_stream)d->hdr[0];
			d->need = (uint32_t)d->hdr[4] << 24 | (uint32_t)d->hdr[5] << 16 |
				  (uint32_t)d->hdr[6] << 8 | (uint32_t)d->hdr[7];
			d->hlen = 0;
			d->state = d->need ? DEMUX_BODY : DEMUX_HDR;
			break;
		case DEMUX_BODY:
			k = d->need < len - i ? d->need : len - i;
			rc = d->sink(d->stream, p + i, k, d->ctx);
			if (rc)
				return rc;
			d->need -= (uint32_t)k;
			i += k;
			if (!d->need)
				d->state = DEMUX_HDR;
			break;
		}
	}
	return 0;
}

int engine_demux_finish(struct engine_demux *d)
{
	int rc = 0;

	/* Fewer than 8 bytes in all, never recognised as a frame: a tiny raw log. */
	if (d->state == DEMUX_DETECT && d->hlen)
		rc = d->sink(ENGINE_STREAM_STDOUT, (const char *)d->hdr, d->hlen, d->ctx);
	d->hlen = 0;
	return rc;
}

static int demux_sink(const char *buf, size_t len, void *ctx)
{
	return engine_demux_feed(ctx, buf, len);
}

int engine_container_logs_ex(struct engine *e, const char *id, const struct engine_logs_opts *o,
			     engine_log_sink sink, void *ctx, char *err, size_t errlen)
{
	char *esc = NULL, *since = NULL, *tail = NULL, *path = NULL;
	struct engine_demux d;
	struct ereq r = {0};
	int rc = -ENOMEM;

	if (!id || !*id || !sink || !o) {
		engine_seterr(err, errlen, "logs: missing container, service or sink");
		return -EINVAL;
	}
	esc = engine_escape(id);
	if (o->since)
		since = engine_escape(o->since);
	if (o->tail)
		tail = engine_escape(o->tail);
	if (!esc || (o->since && !since) || (o->tail && !tail))
		goto out;
	if (asprintf(&path, "/%s/%s/logs?stdout=1&stderr=1%s%s%s%s%s%s%s",
		     o->service ? "services" : "containers", esc, o->details ? "&details=1" : "",
		     o->follow ? "&follow=1" : "", o->timestamps ? "&timestamps=1" : "",
		     since ? "&since=" : "", since ? since : "", tail ? "&tail=" : "",
		     tail ? tail : "") < 0) {
		path = NULL;
		goto out;
	}
	engine_demux_init(&d, o->tty, sink, ctx);
	r.method = "GET";
	r.path = path;
	r.sink = demux_sink;
	r.sink_ctx = &d;
	r.stop = o->follow ? o->stop : NULL;
	/* A snapshot is bounded but may be large; a follow lasts as long as the container. */
	r.timeout_ms = o->follow ? -1 : 60000;
	rc = ereq_run(e, &r, err, errlen);
	if (rc == 0)
		rc = engine_demux_finish(&d);
	if (rc > 0)
		rc = 0;
	ereq_free(&r);
out:
	curl_free(esc);
	curl_free(since);
	curl_free(tail);
	free(path);
	return rc;
}

int engine_container_logs(struct engine *e, const char *id, bool tty, engine_log_sink sink,
			  void *ctx, char *err, size_t errlen)
{
	struct engine_logs_opts o = {.tty = tty};

	return engine_container_logs_ex(e, id, &o, sink, ctx, err, errlen);
}

int engine_container_logs_follow(struct engine *e, const char *id, bool tty, const char *since,
				 engine_log_sink sink, void *ctx, const atomic_bool *stop,
				 char *err, size_t errlen)
{
	struct engine_logs_opts o = {.tty = tty, .follow = true, .since = since, .stop = stop};

	return engine_container_logs_ex(e, id, &o, sink, ctx, err, errlen);
}
