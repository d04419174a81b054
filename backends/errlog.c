/* The workspace's `errors` log: a bounded ring of "TIME MESSAGE" lines, newest last. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ws-int.h"

void ws_errorv(struct workspace *ws, const char *fmt, va_list ap)
{
	char stamp[32], *msg = NULL, *line = NULL;
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	/* One entry is one line: an engine message with newlines would read as several. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (asprintf(&line, "%s %s", stamp, msg) < 0)
		line = NULL;
	free(msg);
	if (!line)
		return;

	pthread_mutex_lock(&ws->errlock);
	if (ws->err_count == WS_ERRORS_MAX) {
		free(ws->errors[ws->err_first]);
		ws->errors[ws->err_first] = line;
		ws->err_first = (ws->err_first + 1) % WS_ERRORS_MAX;
	} else {
		ws->errors[(ws->err_first + ws->err_count) % WS_ERRORS_MAX] = line;
		ws->err_count++;
	}
	ws->err_gen++;
	pthread_mutex_unlock(&ws->errlock);
}

void ws_error_add(struct workspace *ws, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ws_errorv(ws, fmt, ap);
	va_end(ap);
}

int ws_errors_render(struct workspace *ws, char **text, size_t *len)
{
	size_t total = 0, at = 0;
	char *out;

	pthread_mutex_lock(&ws->errlock);
	for (size_t i = 0; i < ws->err_count; i++)
		total += strlen(ws->errors[(ws->err_first + i) % WS_ERRORS_MAX]) + 1;
	out = malloc(total + 1);
	if (!out) {
		pthread_mutex_unlock(&ws->errlock);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ws->err_count; i++) {
		const char *line = ws->errors[(ws->err_first + i) % WS_ERRORS_MAX];
		size_t n = strlen(line);
		memcpy(out + at, line, n);
		at += n;
		out[at++] = '\n';
	}
	pthread_mutex_unlock(&ws->errlock);
	out[at] = '\0';
	*text = out;
	*len = at;
	return 0;
}

void ws_errors_clear(struct workspace *ws)
{
	pthread_mutex_lock(&ws->errlock);
	for (size_t i = 0; i < ws->err_count; i++)
		free(ws->errors[(ws->err_first + i) % WS_ERRORS_MAX]);
	ws->err_first = ws->err_count = 0;
	ws->err_gen++;
	pthread_mutex_unlock(&ws->errlock);
}

unsigned long ws_errors_generation(struct workspace *ws)
{
	unsigned long gen;

	pthread_mutex_lock(&ws->errlock);
	gen = ws->err_gen;
	pthread_mutex_unlock(&ws->errlock);
	return gen;
}

void ws_error_diags(struct workspace *ws, const struct card_diags *diags)
{
	for (size_t i = 0; i < diags->count; i++) {
		const struct card_diag *d = &diags->items[i];
		const char *warn = d->severity == CARD_WARNING ? "warning: " : "";
		if (d->line > 0)
			ws_error_add(ws, "%s:%d:%d: %s%s", d->file ? d->file : "?", d->line, d->col,
				     warn, d->message);
		else
			ws_error_add(ws, "%s: %s%s", d->file ? d->file : "?", warn, d->message);
	}
}
