/*
 * JSON-lines streams (events, pull and build progress). libcurl hands us the body in arbitrary
 * pieces, so an object may be split across callbacks: buffer, and parse each complete line.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine-int.h"

void jsonl_init(struct jsonl *j, jsonl_cb cb, void *ctx)
{
	memset(j, 0, sizeof(*j));
	j->cb = cb;
	j->ctx = ctx;
}

/* Parses and delivers every complete value; with @final, also an unterminated last line. */
static int drain(struct jsonl *j, bool final)
{
	size_t off = 0;
	int rc = 0;

	while (off < j->buf.len) {
		const char *start = j->buf.data + off, *end = NULL, *nl;
		size_t rem = j->buf.len - off, linelen;
		cJSON *obj;

		if (isspace((unsigned char)*start)) {
			off++;
			continue;
		}
		/* Only what arrived since the last look: a long line comes in many pieces, and
		 * scanning it from its start at each would be quadratic. */
		size_t from = j->scanned > off ? j->scanned - off : 0;
		nl = memchr(start + from, '\n', rem - from);
		if (!nl && !final) {
			j->scanned = j->buf.len;
			break; /* wait for the rest of this line */
		}
		linelen = nl ? (size_t)(nl - start) : rem;
		/* Without require_null_terminated, parsing stops after one value, so two objects
		 * sharing a line are both found. */
		obj = cJSON_ParseWithLengthOpts(start, linelen, &end, false);
		if (!obj || end <= start) {
			/* Not JSON: skip the line, do not stall; the caller decides whether that is
			 * worth more than a note (an event stream cannot be trusted after it). */
			if (!j->nbad++)
				snprintf(j->bad, sizeof(j->bad), "%.*s", (int)linelen, start);
			cJSON_Delete(obj);
			off += linelen;
			continue;
		}
		off += (size_t)(end - start);
		rc = j->cb(obj, j->ctx);
		cJSON_Delete(obj);
		if (rc)
			break;
	}
	ebuf_consume(&j->buf, off);
	j->scanned = j->scanned > off ? j->scanned - off : 0;
	return rc;
}

int jsonl_feed(struct jsonl *j, const char *p, size_t len)
{
	if (j->buf.len + len > ENGINE_BODY_MAX)
		return -E2BIG; /* a "line" this long is not a progress message */
	if (ebuf_append(&j->buf, p, len) < 0)
		return -ENOMEM;
	return drain(j, false);
}

int jsonl_finish(struct jsonl *j)
{
	return drain(j, true);
}

void jsonl_free(struct jsonl *j)
{
	ebuf_free(&j->buf);
}

/* ---- progress streams ---- */

static int progress_msg(cJSON *obj, void *ctx)
{
	struct progress *p = ctx;
	const cJSON *detail = cJSON_GetObjectItemCaseSensitive(obj, "errorDetail");
	const cJSON *dmsg = cJSON_GetObjectItemCaseSensitive(detail, "message");
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(obj, "error");
	const cJSON *aux = cJSON_GetObjectItemCaseSensitive(obj, "aux");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(aux, "ID");

	/* "error" is deprecated since API 1.48 in favour of errorDetail.message; read both. Keep
	 * the first: later ones tend to be consequences. */
	if (!p->failed) {
		if (cJSON_IsString(dmsg) && dmsg->valuestring[0]) {
			snprintf(p->error, sizeof(p->error), "%s", dmsg->valuestring);
			p->failed = true;
		} else if (cJSON_IsString(error) && error->valuestring[0]) {
			snprintf(p->error, sizeof(p->error), "%s", error->valuestring);
			p->failed = true;
		}
	}
	if (p->failed) {
		/* Podman's messages end in a newline; the errors file adds its own. */
		size_t n = strlen(p->error);

		while (n && (p->error[n - 1] == '\n' || p->error[n - 1] == '\r'))
			p->error[--n] = '\0';
	}
	if (cJSON_IsString(id))
		snprintf(p->id, sizeof(p->id), "%s", id->valuestring);
	if (p->cb && p->cb(obj, p->ctx)) {
		p->cancelled = true;
		return 1;
	}
	return 0;
}

void progress_init(struct progress *p, engine_msg_cb cb, void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->cb = cb;
	p->ctx = ctx;
	jsonl_init(&p->lines, progress_msg, p);
}

int progress_sink(const char *buf, size_t len, void *ctx)
{
	struct progress *p = ctx;

	return jsonl_feed(&p->lines, buf, len);
}

int progress_finish(struct progress *p, int rc, char *err, size_t errlen)
{
	if (rc == 0 && !p->cancelled)
		jsonl_finish(&p->lines);
	jsonl_free(&p->lines);
	if (p->cancelled) {
		engine_seterr(err, errlen, "cancelled");
		return -ECANCELED;
	}
	if (rc < 0)
		return rc;
	if (p->failed) {
		engine_seterr(err, errlen, "%s", p->error);
		return -EIO;
	}
	return 0;
}
