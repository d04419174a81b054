/* Small helpers of the core, written once: bounded formatting, the tail-keeping byte buffer of
 * the logs, reading a card file, mkdir -p, string vectors, ids and directory names. They call
 * nothing else of the workspace. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ws-int.h"

int ws_buf_append(struct ws_buf *b, const char *p, size_t n, size_t max)
{
	if (n >= max) {
		/* Only the newest max bytes of this piece can survive. */
		p += n - max;
		n = max;
	}
	if (b->len + n > max) {
		/* Drop the oldest bytes: the end of a log is what a reader wants. */
		size_t drop = b->len + n - max;
		memmove(b->data, b->data + drop, b->len - drop);
		b->len -= drop;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *data = realloc(b->data, cap);
		if (!data)
			return -ENOMEM;
		b->data = data;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

void ws_fmt(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, len, fmt, ap);
	va_end(ap);
}

void ws_buf_free(struct ws_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

char *ws_read_card_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	struct stat st;

	if (!f)
		return NULL;
	if (fstat(fileno(f), &st) == 0 && st.st_size >= 0 && (size_t)st.st_size <= WS_CARD_MAX &&
	    (buf = malloc((size_t)st.st_size + 1))) {
		*len = fread(buf, 1, (size_t)st.st_size, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

/* mkdir -p; 0 or -errno. */
int ws_mkdirs(const char *path)
{
	char *p = strdup(path);
	int rc = 0;

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			rc = -errno;
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return rc;
}

void ws_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

const char *ws_id_short(const char *id)
{
	if (id && strncmp(id, "sha256:", 7) == 0)
		return id + 7;
	return id ? id : "";
}

const char *ws_kind_dir(enum ws_kind kind)
{
	switch (kind) {
	case WS_IMAGE:
		return "images";
	case WS_NETWORK:
		return "networks";
	case WS_CONTAINER:
		return "containers";
	case WS_SERVICE:
		return "services";
	case WS_NODE:
		return "nodes";
	case WS_UNIT:
		return "units";
	case WS_GROUP:
		return "groups";
	default:
		return "cards";
	}
}

enum card_kind ws_card_kind(enum ws_kind kind)
{
	switch (kind) {
	case WS_IMAGE:
		return CARD_IMAGE;
	case WS_NETWORK:
		return CARD_NETWORK;
	case WS_UNIT:
		return CARD_UNIT;
	case WS_GROUP:
		return CARD_GROUP;
	case WS_NODE:
	case WS_TASK:
	case WS_CARD:
	case WS_KINDS:
		return CARD_KIND_COUNT; /* no card makes one */
	default:
		return CARD_CONTAINER; /* containers, and a Swarm's services */
	}
}

long long ws_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

long ws_mono_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec * 1000L + now.tv_nsec / 1000000L;
}

void ws_deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

size_t ws_str_hash(const char *s)
{
	size_t h = 5381;
	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

/* How far the engine's clock is off ours: the engine's time at the middle of one request (an
 * engine that does not answer: 0). A clock that read a time within a second of the request's
 * span on ours counts as ours (the same host, or synchronised): our own reading is then exact,
 * where the estimate is only as good as the request's latency, and a `since` that lands after
 * an event or before a line already shown loses or repeats it. The span, not its middle: the
 * request is Podman's /info, 200 ms when idle and seconds over ssh on a loaded host, and the
 * engine reads its clock anywhere in it (a skew of half such a request, taken as real, put the
 * first `since` a second after the workspace's own first creates). */
long long ws_engine_skew(struct workspace *ws)
{
	const long long second = 1000000000LL;
	long long t0 = ws_now_ns(), engine_ns;

	if (ws->be->ops->clock(ws->be, &engine_ns, NULL, 0) < 0)
		return 0;
	long long t1 = ws_now_ns(), skew = 0;
	if (engine_ns <= t0 - second || engine_ns >= t1 + second)
		skew = engine_ns - (t0 + t1) / 2;
	atomic_store(&ws->skew_ns, skew);
	return skew;
}

bool ws_swarm(const struct workspace *ws)
{
	return ws->be->ops->caps & BE_CAP_SERVICES;
}

/* An image's name under images/: the tag as `docker images` shows it (the docker CLI's
 * familiar name: no docker.io/library/ or docker.io/ before it; localhost/ stays), with '/'
 * written %2F (and '%' %25, so that the way back is one), so that "localhost/busybox:test" is
 * one name; an id ("sha256:...") by the 12 hex digits `docker images` shows. */
void ws_image_dirname(const char *tag, char *out, size_t len)
{
	static const char *const hub[] = {"docker.io/library/", "docker.io/"};
	size_t o = 0;
	if (strncmp(tag, "sha256:", 7) == 0) {
		ws_fmt(out, len, "%.12s", tag + 7);
		return;
	}
	for (size_t i = 0; i < sizeof(hub) / sizeof(hub[0]); i++)
		if (strncmp(tag, hub[i], strlen(hub[i])) == 0) {
			tag += strlen(hub[i]);
			break;
		}
	for (const char *p = tag; *p && o + 4 < len; p++) {
		if (*p == '/' || *p == '%') {
			o += (size_t)snprintf(out + o, len - o, "%%%02X", (unsigned char)*p);
			continue;
		}
		out[o++] = *p;
	}
	if (len)
		out[o < len ? o : len - 1] = '\0';
}

void ws_image_tag(const char *dirname, char *out, size_t len)
{
	size_t o = 0;
	for (const char *p = dirname; *p && o + 1 < len; p++) {
		if (p[0] == '%' && (strncmp(p + 1, "2F", 2) == 0 || strncmp(p + 1, "25", 2) == 0)) {
			out[o++] = p[2] == 'F' ? '/' : '%';
			p += 2;
			continue;
		}
		out[o++] = *p;
	}
	if (len)
		out[o] = '\0';
}

int ws_render_state(struct workspace *ws, ws_render_fn fn, void *ctx, char **text, size_t *len)
{
	FILE *f = open_memstream(text, len);
	int rc;

	if (!f)
		return -ENOMEM;
	pthread_mutex_lock(&ws->lock);
	pthread_mutex_lock(&ws->slock);
	rc = fn(ws, f, ctx);
	pthread_mutex_unlock(&ws->slock);
	pthread_mutex_unlock(&ws->lock);
	if (fclose(f) != 0 && rc == 0)
		rc = -ENOMEM;
	if (rc < 0) {
		free(*text);
		*text = NULL;
		*len = 0;
	}
	return rc;
}
