/*
 * The engine handle, the HTTP request core shared by every call, and the single place where
 * outcomes (transport errors, HTTP statuses, Podman's error causes) become errno values.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine-int.h"

char *engine_escape(const char *s)
{
	/* libcurl ignores the handle argument since 7.82: NULL makes this callable anywhere. */
	return curl_easy_escape(NULL, s, 0);
}

bool engine_ref_ok(const char *ref)
{
	const char *p;

	if (!ref || !*ref || strlen(ref) > 512)
		return false;
	/* The reference grammar: [host[:port]/]path[:tag][@algo:hex]. */
	for (p = ref; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:@",
			    *p))
			return false;
	return true;
}

char *engine_label_filter(const char *label)
{
	cJSON *f = cJSON_CreateObject();
	cJSON *labels = cJSON_AddArrayToObject(f, "label");
	char *json, *esc = NULL;

	if (labels)
		cJSON_AddItemToArray(labels, cJSON_CreateString(label));
	json = cJSON_PrintUnformatted(f);
	cJSON_Delete(f);
	if (json)
		esc = engine_escape(json);
	free(json);
	return esc;
}

/* ---- state ---- */

int engine_alloc_ep(struct endpoint *ep, enum engine_backend forced, struct engine **out,
		    char *err, size_t errlen)
{
	struct engine *e = calloc(1, sizeof(*e));
	int rc;

	*out = NULL;
	if (!e) {
		endpoint_free(ep);
		return -ENOMEM;
	}
	e->ep = *ep;
	memset(ep, 0, sizeof(*ep));
	pthread_mutex_init(&e->state_lock, NULL);
	pthread_mutex_init(&e->pool_lock, NULL);
	e->backend = forced;
	e->backend_forced = forced != ENGINE_UNKNOWN;
	/* Until a ping says otherwise, the oldest version of the window: every engine we accept
	 * speaks it. */
	snprintf(e->api, sizeof(e->api), "%s", ENGINE_API_MIN);
	snprintf(e->last_error, sizeof(e->last_error), "not contacted yet");
	e->endpoint = strdup(e->ep.url ? e->ep.url : "");
	if (e->ep.kind == ENDPOINT_UNIX && !(e->sock_path = strdup(e->ep.sock_path)))
		rc = -ENOMEM;
	else
		rc = e->endpoint ? engine_transport_init(e, err, errlen) : -ENOMEM;
	if (rc < 0) {
		engine_close(e);
		return rc;
	}
	*out = e;
	return 0;
}

struct engine *engine_alloc(const char *sock_path, enum engine_backend forced)
{
	struct endpoint ep = {.kind = ENDPOINT_UNIX, .source = ENDPOINT_SRC_DISCOVERED};
	struct engine *e = NULL;

	ep.sock_path = strdup(sock_path);
	if (!ep.sock_path || asprintf(&ep.url, "unix://%s", sock_path) < 0) {
		ep.url = NULL;
		endpoint_free(&ep);
		return NULL;
	}
	if (engine_alloc_ep(&ep, forced, &e, NULL, 0) < 0)
		return NULL;
	return e;
}

void engine_close(struct engine *e)
{
	int i;

	if (!e)
		return;
	engine_transport_close(e);
	for (i = 0; i < e->npool; i++)
		curl_easy_cleanup(e->pool[i]);
	pthread_mutex_destroy(&e->pool_lock);
	pthread_mutex_destroy(&e->state_lock);
	endpoint_free(&e->ep);
	free(e->base_url);
	free(e->endpoint);
	free(e->sock_path);
	free(e);
}

void engine_mark_unreachable(struct engine *e, const char *why)
{
	pthread_mutex_lock(&e->state_lock);
	e->reachable = false;
	snprintf(e->last_error, sizeof(e->last_error), "%s", why);
	pthread_mutex_unlock(&e->state_lock);
}

void engine_mark_reachable(struct engine *e)
{
	pthread_mutex_lock(&e->state_lock);
	e->reachable = true;
	pthread_mutex_unlock(&e->state_lock);
}

/* "GET /containers/json": a request in a message, without its query (filters make it long, and
 * the path says which call it was). */
static void req_name(const struct ereq *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s %.*s", r->method, (int)strcspn(r->path, "?"), r->path);
}

void engine_note_fault(struct engine *e, const struct ereq *r, const char *msg)
{
	char name[300];

	req_name(r, name, sizeof(name));
	pthread_mutex_lock(&e->state_lock);
	snprintf(e->last_fault, sizeof(e->last_fault), "%s: %s", name, msg);
	pthread_mutex_unlock(&e->state_lock);
}

bool engine_reachable(struct engine *e)
{
	bool r;

	pthread_mutex_lock(&e->state_lock);
	r = e->reachable;
	pthread_mutex_unlock(&e->state_lock);
	return r;
}

enum engine_backend engine_backend(struct engine *e)
{
	enum engine_backend b;

	pthread_mutex_lock(&e->state_lock);
	b = e->backend;
	pthread_mutex_unlock(&e->state_lock);
	return b;
}

const char *engine_backend_name(enum engine_backend b)
{
	switch (b) {
	case ENGINE_DOCKER:
		return "docker";
	case ENGINE_PODMAN:
		return "podman";
	default:
		return "unknown";
	}
}

const char *engine_endpoint(const struct engine *e)
{
	return e->endpoint;
}

const char *engine_source(const struct engine *e)
{
	return e->ep.source ? e->ep.source : ENDPOINT_SRC_ENGINE;
}

void engine_api_version(struct engine *e, char *buf, size_t len)
{
	pthread_mutex_lock(&e->state_lock);
	snprintf(buf, len, "%s", e->api);
	pthread_mutex_unlock(&e->state_lock);
}

unsigned long engine_requests(struct engine *e)
{
	return atomic_load_explicit(&e->requests, memory_order_relaxed);
}

int engine_info(struct engine *e, char *buf, size_t len)
{
	char how[1024];
	int n;

	/* Before state_lock: the transport takes it (and the tunnel's) on its own. */
	engine_transport_info(e, how, sizeof(how));
	pthread_mutex_lock(&e->state_lock);
	n = snprintf(buf, len,
		     "backend: %s%s\n"
		     "endpoint: %s\n"
		     "%s"
		     "engine-version: %s\n"
		     "api-version: %s\n"
		     "state: %s%s%s%s\n"
		     "%s%s%s"
		     "requests: %lu\n",
		     engine_backend_name(e->backend), e->backend_forced ? " (forced)" : "",
		     e->endpoint, how, e->engine_version[0] ? e->engine_version : "unknown", e->api,
		     e->reachable ? "reachable" : "unreachable", e->reachable ? "" : " (",
		     e->reachable ? "" : e->last_error, e->reachable ? "" : ")",
		     e->last_fault[0] ? "last-error: " : "", e->last_fault,
		     e->last_fault[0] ? "\n" : "", engine_requests(e));
	pthread_mutex_unlock(&e->state_lock);
	if (n < 0)
		return 0;
	return (size_t)n >= len ? (int)(len ? len - 1 : 0) : n;
}

/* ---- the easy handle pool ---- */

static CURL *pool_get(struct engine *e)
{
	CURL *h = NULL;

	pthread_mutex_lock(&e->pool_lock);
	if (e->npool > 0)
		h = e->pool[--e->npool];
	pthread_mutex_unlock(&e->pool_lock);
	return h ? h : curl_easy_init();
}

static void pool_put(struct engine *e, CURL *h)
{
	/* Reset drops the options (and the pointers into our stack frame they hold) but keeps the
	 * open connection, which is the point of pooling. */
	curl_easy_reset(h);
	pthread_mutex_lock(&e->pool_lock);
	if (e->npool < ENGINE_POOL_SIZE) {
		e->pool[e->npool++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&e->pool_lock);
	if (h)
		curl_easy_cleanup(h);
}

/* ---- errno mapping ---- */

/* The engine's message from an error body: Docker {"message"}, Podman {"cause","message"}. */
static void body_message(const char *body, size_t blen, long status, char *out, size_t outlen,
			 char *cause, size_t causelen)
{
	cJSON *j = body && blen ? cJSON_ParseWithLength(body, blen) : NULL;
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "cause");
	size_t n;

	cause[0] = '\0';
	if (cJSON_IsString(c))
		snprintf(cause, causelen, "%s", c->valuestring);
	if (cJSON_IsString(m) && m->valuestring[0]) {
		snprintf(out, outlen, "%s", m->valuestring);
	} else if (body && blen && !j) {
		/* Not JSON (a proxy, a plain-text error): keep its first line. */
		n = strcspn(body, "\r\n");
		snprintf(out, outlen, "%.*s", (int)(n < 300 ? n : 300), body);
	} else {
		snprintf(out, outlen, "engine answered HTTP %ld", status);
	}
	cJSON_Delete(j);
}

/*
 * Podman answers 500 for several conditions Docker reports as 404/409/403; its "cause" is a stable
 * sentinel error text (libpod/define/errors.go), so classify by that. CONFLICT defers to the
 * caller's idea of what a conflict means for this call.
 */
#define CONFLICT (-1)
static const struct {
	const char *needle;
	int err;
} podman_causes[] = {
    {"address already in use", EADDRINUSE}, /* before "in use" */
    {"that name is already in use", CONFLICT},
    {"container state improper", CONFLICT},
    {"already exists", EEXIST},
    {"is being used", EBUSY},
    {"in use", EBUSY},
    {"cannot be removed", EACCES},
    {"no such", ENOENT},
    {"not found", ENOENT},
    {"not known", ENOENT},
};

/* TLS alerts and OpenSSL errors, as libcurl words them in its error buffer. */
static bool has(const char *detail, const char *needle)
{
	return strcasestr(detail, needle) != NULL;
}

/*
 * The words for a TLS failure, or NULL when @cc is not one. The server's alert is the only clue
 * to what it disliked: "certificate required" (TLS 1.3) or a handshake failure / bad certificate
 * alert without a client certificate (TLS 1.2) mean it wants one; "unknown ca" / "bad
 * certificate" with one mean it does not trust ours.
 */
static const char *tls_words(CURLcode cc, const char *detail, const struct engine_errctx *x,
			     char *buf, size_t len)
{
	const char *ca = x->ca ? x->ca : "the system's CA store";
	bool alert_cert = has(detail, "certificate required") || has(detail, "bad certificate") ||
			  has(detail, "unknown ca") || has(detail, "certificate unknown") ||
			  (!x->cert && has(detail, "alert handshake failure"));

	if (!x->tls)
		return NULL;
	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		if (has(detail, "subject name") || has(detail, "does not match"))
			snprintf(buf, len, "TLS: server certificate is not for %s (%s)",
				 x->hostport, detail);
		else if (has(detail, "expired"))
			snprintf(buf, len, "TLS: server certificate expired (%s)", detail);
		else
			snprintf(buf, len, "TLS: server certificate not trusted (CA %s)", ca);
		return buf;
	case CURLE_SSL_CACERT_BADFILE:
		snprintf(buf, len, "TLS: cannot use the CA certificate %s (%s)", ca, detail);
		return buf;
	case CURLE_SSL_CERTPROBLEM:
		snprintf(buf, len, "TLS: cannot use the client certificate %s (%s)",
			 x->cert ? x->cert : "", detail);
		return buf;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
		if (alert_cert && !x->cert)
			snprintf(buf, len, "TLS: the engine requires a client certificate");
		else if (alert_cert)
			snprintf(buf, len, "TLS: the engine does not accept the client certificate "
					   "%s (%s)",
				 x->cert, detail);
		else if (has(detail, "wrong version number") || has(detail, "packet length"))
			snprintf(buf, len, "TLS: %s does not speak TLS (%s)", x->hostport, detail);
		else if (cc == CURLE_SSL_CONNECT_ERROR)
			snprintf(buf, len, "TLS: handshake with %s failed (%s)", x->hostport,
				 detail);
		else
			return NULL; /* a dropped connection, not TLS's doing */
		return buf;
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
		snprintf(buf, len, "TLS: %s", detail);
		return buf;
	default:
		return NULL;
	}
}

int engine_errno(CURLcode cc, long status, const char *body, size_t blen, int on_conflict,
		 bool ok304, const char *endpoint, const char *curl_detail, char *err,
		 size_t errlen)
{
	struct engine_errctx x = {.endpoint = endpoint};

	return engine_errno_ctx(cc, status, body, blen, on_conflict, ok304, &x, curl_detail, err,
				errlen);
}

int engine_errno_ctx(CURLcode cc, long status, const char *body, size_t blen, int on_conflict,
		     bool ok304, const struct engine_errctx *x, const char *curl_detail, char *err,
		     size_t errlen)
{
	char msg[512], cause[128], tls[400];
	const char *detail = curl_detail && *curl_detail ? curl_detail : curl_easy_strerror(cc);
	const char *endpoint = x->endpoint, *words;
	size_t i;

	if (!on_conflict)
		on_conflict = EBUSY;

	/* A TLS failure is the engine being out of reach, for a reason the user can fix. */
	if (cc != CURLE_OK && status == 0 && (words = tls_words(cc, detail, x, tls, sizeof(tls)))) {
		engine_seterr(err, errlen, "cannot reach engine at %s: %s", endpoint, words);
		return -ECONNREFUSED;
	}

	if (cc != CURLE_OK && (status == 0 || (status >= 200 && status < 300))) {
		if (cc == CURLE_OPERATION_TIMEDOUT) {
			engine_seterr(err, errlen, "engine at %s did not answer in time: %s",
				      endpoint, detail);
			return -ETIMEDOUT;
		}
		if (status == 0) {
			switch (cc) {
			case CURLE_COULDNT_CONNECT:
			case CURLE_COULDNT_RESOLVE_HOST:
			case CURLE_COULDNT_RESOLVE_PROXY:
			case CURLE_GOT_NOTHING:
			case CURLE_SEND_ERROR:
			case CURLE_RECV_ERROR:
				engine_seterr(err, errlen, "cannot reach engine at %s: %s",
					      endpoint, detail);
				return -ECONNREFUSED;
			default:
				break;
			}
		}
		engine_seterr(err, errlen, "request to engine at %s failed: %s", endpoint, detail);
		return -EIO;
	}

	if (status >= 200 && status < 300)
		return 0;
	if (status == 304 && ok304)
		return 0;

	body_message(body, blen, status, msg, sizeof(msg), cause, sizeof(cause));
	/* Go's answer to plain HTTP on a TLS port: no engine to talk to until TLS is on. */
	if (status == 400 && !x->tls && strstr(msg, "HTTP request to an HTTPS server")) {
		engine_seterr(err, errlen,
			      "cannot reach engine at %s: TLS: the engine speaks TLS on %s; mount "
			      "with -o tlsverify (or DOCKER_TLS_VERIFY=1) and its certificates",
			      endpoint, x->hostport[0] ? x->hostport : endpoint);
		return -ECONNREFUSED;
	}
	engine_seterr(err, errlen, "%s", msg);

	switch (status) {
	case 400:
		return -EINVAL;
	case 401:
		return -EACCES;
	case 403:
		/* Docker refuses to remove a network with endpoints as "forbidden"; it is busy. */
		if (strstr(msg, "active endpoints"))
			return -EBUSY;
		return -EACCES;
	case 404:
		return -ENOENT;
	case 409:
		return -on_conflict;
	case 500:
		/* Docker's words for a host port another container or process holds. */
		if (strstr(msg, "port is already allocated") || strstr(msg, "address already in use"))
			return -EADDRINUSE;
		if (!cause[0])
			break;
		for (i = 0; i < sizeof(podman_causes) / sizeof(podman_causes[0]); i++) {
			if (!strcasestr(cause, podman_causes[i].needle))
				continue;
			return podman_causes[i].err == CONFLICT ? -on_conflict
								: -podman_causes[i].err;
		}
		break;
	default:
		break;
	}
	return -EIO;
}

/* ---- the request core ---- */

static void hdr_value(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name), k;
	const char *v, *end = line + len;

	if (len <= nl || strncasecmp(line, name, nl) || line[nl] != ':')
		return;
	v = line + nl + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	k = (size_t)(end - v);
	if (k >= outlen)
		k = outlen - 1;
	memcpy(out, v, k);
	out[k] = '\0';
}

static size_t on_header(char *p, size_t sz, size_t n, void *u)
{
	struct ereq *r = u;

	hdr_value(p, sz * n, "Api-Version", r->hdr_api, sizeof(r->hdr_api));
	hdr_value(p, sz * n, "Libpod-Api-Version", r->hdr_libpod, sizeof(r->hdr_libpod));
	return sz * n;
}

static size_t on_body(char *p, size_t sz, size_t n, void *u)
{
	struct ereq *r = u;
	size_t len = sz * n;
	long status = 0;

	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
	if (r->sink && status >= 200 && status < 300) {
		int rc;

		if (r->stop && atomic_load(r->stop)) {
			r->cancelled = true;
			return 0;
		}
		rc = r->sink(p, len, r->sink_ctx);
		if (rc) {
			/* Returning short makes libcurl abort the transfer. */
			r->cancelled = true;
			r->sink_rc = rc;
			return 0;
		}
		return len;
	}
	if (r->body.len + len > ENGINE_BODY_MAX) {
		r->too_big = true;
		return 0;
	}
	if (ebuf_append(&r->body, p, len) < 0)
		return 0;
	return len;
}

/*
 * A transfer that watches a stop flag: the multi interface lets us wake every
 * ENGINE_STOP_POLL_MS even when the engine sends nothing (an idle events stream), which
 * curl_easy_perform cannot.
 */
static CURLcode perform_stoppable(struct ereq *r)
{
	CURLM *m = curl_multi_init();
	CURLcode cc = CURLE_OK;
	CURLMsg *msg;
	int running = 1, q;

	if (!m)
		return CURLE_OUT_OF_MEMORY;
	if (curl_multi_add_handle(m, r->h) != CURLM_OK) {
		curl_multi_cleanup(m);
		return CURLE_FAILED_INIT;
	}
	while (running) {
		if (atomic_load(r->stop)) {
			r->cancelled = true;
			cc = CURLE_ABORTED_BY_CALLBACK;
			break;
		}
		if (curl_multi_perform(m, &running) != CURLM_OK) {
			cc = CURLE_RECV_ERROR;
			break;
		}
		while ((msg = curl_multi_info_read(m, &q)))
			if (msg->msg == CURLMSG_DONE)
				cc = msg->data.result;
		if (running && curl_multi_poll(m, NULL, 0, ENGINE_STOP_POLL_MS, NULL) != CURLM_OK) {
			cc = CURLE_RECV_ERROR;
			break;
		}
	}
	curl_multi_remove_handle(m, r->h);
	curl_multi_cleanup(m);
	return cc;
}

static bool is_transport_failure(int rc, long status)
{
	return status == 0 && (rc == -ECONNREFUSED || rc == -ETIMEDOUT);
}

int ereq_run(struct engine *e, struct ereq *r, char *err, size_t errlen)
{
	char api[16], cerr[CURL_ERROR_SIZE] = "", msg[512] = "";
	struct curl_slist *hdrs = NULL;
	char *url = NULL, *json = NULL;
	bool own_handle = r->stop != NULL || r->timeout_ms < 0;
	struct engine_errctx x;
	CURLcode cc;
	int rc;

	/* An ssh:// engine whose ssh is down is unreachable for ssh's reason: say it at once. */
	if (engine_transport_down(e, msg, sizeof(msg))) {
		engine_mark_unreachable(e, msg);
		engine_seterr(err, errlen, "%s", msg);
		return -ECONNREFUSED;
	}

	/* The circuit breaker: while the engine is known down, a short ping decides whether to
	 * try at all, so calls fail within the ping's budget instead of their own timeout. */
	if (!(r->flags & EREQ_NO_PROBE) && !engine_reachable(e)) {
		rc = engine_probe(e, err, errlen);
		if (rc < 0)
			return rc;
	}

	engine_api_version(e, api, sizeof(api));
	if (asprintf(&url, "%s%s%s%s", e->base_url, (r->flags & EREQ_UNVERSIONED) ? "" : "/v",
		     (r->flags & EREQ_UNVERSIONED) ? "" : api, r->path) < 0)
		return -ENOMEM;

	/* Long-lived streams get a handle of their own: they would pin a pooled one for hours. */
	r->h = own_handle ? curl_easy_init() : pool_get(e);
	if (!r->h) {
		free(url);
		return -ENOMEM;
	}
	r->status = 0;
	r->cancelled = false;
	r->too_big = false;
	r->sink_rc = 0;

	engine_transport_setopt(e, r->h, r->flags & EREQ_CERTINFO);
	curl_easy_setopt(r->h, CURLOPT_URL, url);
	curl_easy_setopt(r->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->h, CURLOPT_CONNECTTIMEOUT_MS, ENGINE_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(r->h, CURLOPT_TIMEOUT_MS,
			 r->timeout_ms < 0 ? 0L
			 : r->timeout_ms   ? r->timeout_ms
					   : ENGINE_TIMEOUT_MS);
	if (r->timeout_ms >= 0 && !r->stop && !strcmp(r->method, "GET")) {
		curl_easy_setopt(r->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(r->h, CURLOPT_LOW_SPEED_TIME, ENGINE_STALL_S);
	}
	curl_easy_setopt(r->h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(r->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(r->h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(r->h, CURLOPT_WRITEDATA, r);

	/* No "Expect: 100-continue" round trip before bodies. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (r->json) {
		json = cJSON_PrintUnformatted(r->json);
		if (!json) {
			rc = -ENOMEM;
			goto out;
		}
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, json);
	} else if (r->upload) {
		char ct[128];

		snprintf(ct, sizeof(ct), "Content-Type: %s",
			 r->content_type ? r->content_type : "application/octet-stream");
		hdrs = curl_slist_append(hdrs, ct);
		/* Size unknown up front (a tar produced while sending): chunked. */
		hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
		curl_easy_setopt(r->h, CURLOPT_POST, 1L);
		curl_easy_setopt(r->h, CURLOPT_READFUNCTION, r->upload);
		curl_easy_setopt(r->h, CURLOPT_READDATA, r->upload_ctx);
	} else if (!strcmp(r->method, "POST")) {
		curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(r->h, CURLOPT_POSTFIELDSIZE, 0L);
	}
	if (strcmp(r->method, "GET") && strcmp(r->method, "POST"))
		curl_easy_setopt(r->h, CURLOPT_CUSTOMREQUEST, r->method);
	curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, hdrs);

	/* Every HTTP request passes here: the count the `engine` file shows. */
	atomic_fetch_add_explicit(&e->requests, 1, memory_order_relaxed);
	cc = r->stop ? perform_stoppable(r) : curl_easy_perform(r->h);
	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &r->status);

	if (r->cancelled) {
		rc = r->sink_rc < 0 ? r->sink_rc : 0;
		if (rc < 0)
			engine_seterr(err, errlen, "%s", strerror(-rc));
	} else if (r->too_big) {
		char name[300];

		/* libcurl would only say it could not write: say what the engine did. */
		req_name(r, name, sizeof(name));
		snprintf(msg, sizeof(msg), "engine at %s sent more than %u MiB for %s", e->endpoint,
			 ENGINE_BODY_MAX >> 20, name);
		engine_seterr(err, errlen, "%s", msg);
		rc = -EIO;
	} else {
		engine_transport_errctx(e, &x);
		rc = engine_errno_ctx(cc, r->status, r->body.data, r->body.len, r->on_conflict,
				      r->flags & EREQ_304_OK, &x, cerr, msg, sizeof(msg));
		if (rc < 0 && r->status == 0)
			engine_transport_explain(e, msg, sizeof(msg));
		if (rc < 0)
			engine_seterr(err, errlen, "%s", msg);
	}
	if (cc == CURLE_OK && (r->flags & EREQ_CERTINFO))
		engine_transport_certinfo(e, r->h);
	if (r->status > 0)
		engine_mark_reachable(e);
	else if (is_transport_failure(rc, r->status))
		engine_mark_unreachable(e, msg);
	/* What the engine (or the way to it) did wrong; a 4xx is an answer about the request. */
	if (rc < 0 && !r->cancelled && (cc != CURLE_OK || r->status >= 500))
		engine_note_fault(e, r, msg);

out:
	curl_slist_free_all(hdrs);
	free(json);
	free(url);
	if (own_handle)
		curl_easy_cleanup(r->h);
	else
		pool_put(e, r->h);
	r->h = NULL;
	return rc;
}

int ereq_json(struct engine *e, struct ereq *r, cJSON **out, char *err, size_t errlen)
{
	int rc = ereq_run(e, r, err, errlen);
	cJSON *j = NULL;

	if (out)
		*out = NULL;
	if (rc < 0 || !out)
		return rc;
	if (r->body.len) {
		j = cJSON_ParseWithLength(r->body.data, r->body.len);
		if (!j) {
			char name[300];

			req_name(r, name, sizeof(name));
			engine_note_fault(e, r, "malformed JSON");
			engine_seterr(err, errlen, "engine sent malformed JSON for %s", name);
			return -EIO;
		}
	}
	*out = j;
	return 0;
}

void ereq_free(struct ereq *r)
{
	ebuf_free(&r->body);
}

/* ---- generic calls ---- */

int engine_request(struct engine *e, const char *method, const char *path, const cJSON *body,
		   cJSON **out, char *err, size_t errlen)
{
	struct ereq r = {.method = method, .path = path, .json = body};
	int rc;

	if (!method || !path || path[0] != '/') {
		engine_seterr(err, errlen, "bad request path");
		return -EINVAL;
	}
	rc = ereq_json(e, &r, out, err, errlen);
	ereq_free(&r);
	return rc;
}

int engine_list(struct engine *e, const char *base, const char *label, const char *member,
		cJSON **out, char *err, size_t errlen)
{
	struct ereq r = {.method = "GET"};
	char *filter = NULL, *path = NULL;
	cJSON *resp = NULL;
	int rc;

	*out = NULL;
	if (label && *label && !(filter = engine_label_filter(label)))
		return -ENOMEM;
	if (asprintf(&path, "%s%s%s", base, filter ? (strchr(base, '?') ? "&filters=" : "?filters=") : "",
		     filter ? filter : "") < 0) {
		curl_free(filter);
		return -ENOMEM;
	}
	r.path = path;
	rc = ereq_json(e, &r, &resp, err, errlen);
	/* Volumes come as {"Volumes": [...] | null, "Warnings": ...}: null when there are none. */
	cJSON *list = rc == 0 && member ? cJSON_DetachItemFromObjectCaseSensitive(resp, member) : resp;
	if (member) {
		cJSON_Delete(resp);
		if (rc == 0 && !cJSON_IsArray(list)) {
			cJSON_Delete(list);
			list = cJSON_CreateArray();
		}
	}
	if (rc == 0 && !cJSON_IsArray(list)) {
		engine_seterr(err, errlen, "engine sent no list for %s", base);
		rc = -EIO;
	}
	if (rc == 0)
		*out = list;
	else
		cJSON_Delete(list);
	ereq_free(&r);
	curl_free(filter);
	free(path);
	return rc;
}

int engine_named_call(struct engine *e, const char *method, const char *dir, const char *name,
		      const char *tail, const cJSON *body, cJSON **out, char *err, size_t errlen)
{
	struct ereq r = {.method = method, .json = body, .on_conflict = EBUSY};
	char *esc, *path = NULL;
	int rc;

	if (out)
		*out = NULL;
	if (!name || !*name) {
		engine_seterr(err, errlen, "no name given for %s", dir);
		return -EINVAL;
	}
	esc = engine_escape(name);
	if (!esc || asprintf(&path, "/%s/%s%s", dir, esc, tail ? tail : "") < 0) {
		curl_free(esc);
		return -ENOMEM;
	}
	r.path = path;
	rc = ereq_json(e, &r, out, err, errlen);
	ereq_free(&r);
	curl_free(esc);
	free(path);
	return rc;
}

int engine_version(struct engine *e, cJSON **out, char *err, size_t errlen)
{
	return engine_request(e, "GET", "/version", NULL, out, err, errlen);
}

/* MinAPIVersion and Version from the unversioned GET /version (a versioned path could already be
 * refused by an engine whose minimum moved above ours). */
static int fetch_version(struct engine *e, char *min, size_t minlen, char *ver, size_t verlen,
			 char *err, size_t errlen)
{
	struct ereq r = {.method = "GET",
			 .path = "/version",
			 .flags = EREQ_UNVERSIONED | EREQ_NO_PROBE,
			 .timeout_ms = ENGINE_TIMEOUT_MS};
	const cJSON *m, *v;
	cJSON *j = NULL;
	int rc;

	min[0] = ver[0] = '\0';
	rc = ereq_json(e, &r, &j, err, errlen);
	ereq_free(&r);
	if (rc < 0)
		return rc;
	m = cJSON_GetObjectItemCaseSensitive(j, "MinAPIVersion");
	v = cJSON_GetObjectItemCaseSensitive(j, "Version");
	if (cJSON_IsString(m))
		snprintf(min, minlen, "%s", m->valuestring);
	if (cJSON_IsString(v))
		snprintf(ver, verlen, "%s", v->valuestring);
	cJSON_Delete(j);
	return 0;
}

/* ---- ping ---- */

int engine_probe(struct engine *e, char *err, size_t errlen)
{
	struct ereq r = {.method = "GET",
			 .path = "/_ping",
			 .flags = EREQ_UNVERSIONED | EREQ_NO_PROBE | EREQ_CERTINFO,
			 .timeout_ms = ENGINE_PING_TIMEOUT_MS};
	char msg[512] = "", min[16], ver[64], api[16];
	enum engine_backend backend;
	int rc;

	rc = ereq_run(e, &r, msg, sizeof(msg));
	if (rc < 0)
		goto fail;
	backend = r.hdr_libpod[0] ? ENGINE_PODMAN : ENGINE_DOCKER;

	rc = fetch_version(e, min, sizeof(min), ver, sizeof(ver), msg, sizeof(msg));
	if (rc < 0)
		goto fail;
	rc = engine_negotiate(r.hdr_api, min, api, sizeof(api), msg, sizeof(msg));
	if (rc < 0)
		goto fail;

	pthread_mutex_lock(&e->state_lock);
	if (!e->backend_forced)
		e->backend = backend;
	snprintf(e->api, sizeof(e->api), "%s", api);
	snprintf(e->engine_version, sizeof(e->engine_version), "%s", ver);
	e->reachable = true;
	e->last_error[0] = '\0';
	pthread_mutex_unlock(&e->state_lock);
	ereq_free(&r);
	return 0;

fail:
	/* Also when the engine answered, but not usably (HTTP error, version outside window). */
	engine_mark_unreachable(e, msg);
	engine_seterr(err, errlen, "%s", msg);
	ereq_free(&r);
	return rc;
}

int engine_ping(struct engine *e, char *err, size_t errlen)
{
	return engine_probe(e, err, errlen);
}
