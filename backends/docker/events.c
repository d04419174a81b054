/*
 * The engine's event stream: a long-lived GET /events whose body is one JSON object per event,
 * forever. Normalised to Docker's vocabulary so callers handle one set of action names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine-int.h"

static void rename_action(cJSON *ev, const char *key)
{
	cJSON *a = cJSON_GetObjectItemCaseSensitive(ev, key);
	const char *to = NULL;

	if (!cJSON_IsString(a))
		return;
	/* Podman's compat layer keeps its own name for removal ("remove"; Docker: "destroy"),
	 * and older ones send "died" for "die". */
	if (!strcmp(a->valuestring, "remove"))
		to = "destroy";
	else if (!strcmp(a->valuestring, "died"))
		to = "die";
	if (to)
		cJSON_SetValuestring(a, to);
}

void engine_event_normalize(cJSON *ev)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "Type");

	/* Image "remove" is already "delete" in Podman's compat output; only containers differ. */
	if (!cJSON_IsString(type) || strcmp(type->valuestring, "container"))
		return;
	rename_action(ev, "Action");
	rename_action(ev, "status");
}

static int on_event(cJSON *ev, void *ctx)
{
	struct engine_events *s = ctx;

	engine_event_normalize(ev);
	return s->cb(ev, s->ctx) ? 1 : 0;
}

void engine_events_init(struct engine_events *s, engine_event_cb cb, void *ctx)
{
	s->cb = cb;
	s->ctx = ctx;
	jsonl_init(&s->lines, on_event, s);
}

/* A line that is not an event ends the stream: what it hid cannot be known, and the caller's
 * reconnect (a replay, then a reconcile) can. */
int engine_events_sink(const char *buf, size_t len, void *ctx)
{
	struct engine_events *s = ctx;
	int rc = jsonl_feed(&s->lines, buf, len);

	return rc ? rc : s->lines.nbad ? -EBADMSG : 0;
}

/* Why a stream that did not end well ended, in words (ereq_run only has strerror for what a
 * sink refused). */
static void stream_fault(struct engine *e, const struct ereq *r, const struct engine_events *s,
			 int rc, char *err, size_t errlen)
{
	char msg[512];

	if (s->lines.nbad)
		snprintf(msg, sizeof(msg), "engine at %s sent an event that is not JSON: %s",
			 engine_endpoint(e), s->lines.bad);
	else if (rc == -E2BIG)
		snprintf(msg, sizeof(msg), "engine at %s sent an event line of more than %u MiB",
			 engine_endpoint(e), ENGINE_BODY_MAX >> 20);
	else
		return;
	engine_note_fault(e, r, msg);
	engine_seterr(err, errlen, "%s", msg);
}

static int add_param(char **q, const char *key, const char *value)
{
	char *esc, *n = NULL;

	if (!value || !*value)
		return 0;
	esc = engine_escape(value);
	if (!esc || asprintf(&n, "%s%s%s=%s", *q, strchr(*q, '?') ? "&" : "?", key, esc) < 0) {
		curl_free(esc);
		return -ENOMEM;
	}
	curl_free(esc);
	free(*q);
	*q = n;
	return 0;
}

int engine_events_stream(struct engine *e, const char *since, const char *until,
			 const cJSON *filters, engine_event_cb cb, void *ctx,
			 const atomic_bool *stop, char *err, size_t errlen)
{
	struct ereq r = {.method = "GET", .timeout_ms = -1, .stop = stop};
	struct engine_events s;
	char *path = strdup("/events"), *f = NULL;
	bool stopped;
	int rc = -ENOMEM;

	if (!cb) {
		free(path);
		engine_seterr(err, errlen, "events: no callback");
		return -EINVAL;
	}
	if (filters && !(f = cJSON_PrintUnformatted(filters)))
		goto out;
	/* Podman's until is not a bound on the events but a timer on its reader, which stops
	 * when the wall clock reaches it (libpod/events/logfile.go), so a replay up to a moment
	 * just past gives nothing at all. stream=false reads what its log holds from @since on
	 * and ends; the events after @until come again in the stream that starts there, and
	 * events-feed.c drops them as seen. */
	bool podman_replay = until && *until && engine_backend(e) == ENGINE_PODMAN;
	if (!path || add_param(&path, "since", since) < 0 ||
	    add_param(&path, podman_replay ? "stream" : "until", podman_replay ? "false" : until) < 0 ||
	    add_param(&path, "filters", f) < 0)
		goto out;

	engine_events_init(&s, cb, ctx);
	r.path = path;
	r.sink = engine_events_sink;
	r.sink_ctx = &s;
	rc = ereq_run(e, &r, err, errlen);
	stopped = r.cancelled;
	if (rc == 0 && !stopped)
		stopped = jsonl_finish(&s.lines) != 0;
	if (rc < 0 || s.lines.nbad) {
		stream_fault(e, &r, &s, rc, err, errlen);
		rc = rc < 0 ? rc : -EIO;
	}
	/* Without @until the stream does not end by itself: the engine is shutting down, or
	 * ended it on purpose (Podman does on rotating its events log). Say so; the caller
	 * reconnects (and reconciles with a full list). */
	if (rc == 0 && !stopped) {
		if (!until || !*until) {
			engine_seterr(err, errlen, "engine at %s closed the event stream",
				      engine_endpoint(e));
			rc = -ENODATA;
		}
	}
	jsonl_free(&s.lines);
	ereq_free(&r);
out:
	free(f);
	free(path);
	return rc;
}
