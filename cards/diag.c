/* Diagnostics list: append, count, print. */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct card_diag *card_diags_add(struct card_diags *diags, enum card_severity severity,
				 const char *file, int line, int col, const char *fmt, ...)
{
	if (diags->count == diags->capacity) {
		size_t capacity = diags->capacity ? diags->capacity * 2 : 8;
		struct card_diag *items = realloc(diags->items, capacity * sizeof(*items));
		if (!items)
			return NULL; /* out of memory: the message is lost, nothing else */
		diags->items = items;
		diags->capacity = capacity;
	}
	va_list ap;
	va_start(ap, fmt);
	char *message = NULL;
	int n = vasprintf(&message, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	struct card_diag *d = &diags->items[diags->count++];
	*d = (struct card_diag){.severity = severity,
				.file = file ? strdup(file) : NULL,
				.line = line,
				.col = col,
				.message = message};
	return d;
}

void card_diag_label(struct card_diag *d, const char *rule, const char *field)
{
	if (!d)
		return;
	d->rule = rule;
	free(d->field);
	d->field = field && *field ? strdup(field) : NULL;
}

void card_diags_label_since(struct card_diags *diags, size_t first, const char *rule)
{
	for (size_t i = first; i < diags->count; i++)
		if (!diags->items[i].rule)
			diags->items[i].rule = rule;
}

static size_t count_severity(const struct card_diags *diags, enum card_severity severity)
{
	size_t n = 0;
	for (size_t i = 0; i < diags->count; i++)
		n += diags->items[i].severity == severity;
	return n;
}

size_t card_diags_errors(const struct card_diags *diags)
{
	return count_severity(diags, CARD_ERROR);
}

size_t card_diags_warnings(const struct card_diags *diags)
{
	return count_severity(diags, CARD_WARNING);
}

void card_diags_move_if(struct card_diags *dst, struct card_diags *src,
			bool (*keep)(const struct card_diag *item, void *ctx), void *ctx)
{
	for (size_t i = 0; i < src->count; i++) {
		struct card_diag *d = &src->items[i];
		if (keep && !keep(d, ctx))
			continue;
		card_diag_label(
		    card_diags_add(dst, d->severity, d->file, d->line, d->col, "%s", d->message),
		    d->rule, d->field);
	}
	card_diags_free(src);
}

void card_diags_move(struct card_diags *dst, struct card_diags *src)
{
	card_diags_move_if(dst, src, NULL, NULL);
}

char *card_diag_format(const struct card_diag *d)
{
	const char *severity = d->severity == CARD_ERROR ? "error" : "warning";
	char *line = NULL;
	int n;
	if (d->line > 0)
		n = asprintf(&line, "%s:%d:%d: %s: %s", d->file ? d->file : "-", d->line, d->col,
			     severity, d->message);
	else
		n = asprintf(&line, "%s: %s: %s", d->file ? d->file : "-", severity, d->message);
	return n < 0 ? NULL : line;
}

void card_diags_print(const struct card_diags *diags, FILE *out)
{
	for (size_t i = 0; i < diags->count; i++) {
		char *line = card_diag_format(&diags->items[i]);
		if (line) {
			fprintf(out, "%s\n", line);
			free(line);
		}
	}
}

void card_diags_free(struct card_diags *diags)
{
	for (size_t i = 0; i < diags->count; i++) {
		free(diags->items[i].file);
		free(diags->items[i].message);
		free(diags->items[i].field);
	}
	free(diags->items);
	memset(diags, 0, sizeof(*diags));
}
