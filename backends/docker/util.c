/* Small helpers of the Docker driver, written once: the error buffer and the growable byte
 * buffer. They call nothing else of the driver. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine-int.h"

/* ---- small helpers ---- */

void engine_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int ebuf_append(struct ebuf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *d;

		while (cap < b->len + n + 1)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d)
			return -ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	/* Always NUL-terminated, so a body can be handed to string functions as is. */
	b->data[b->len] = '\0';
	return 0;
}

void ebuf_consume(struct ebuf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->data, b->data + n, b->len - n);
		b->len -= n;
	}
	if (b->data)
		b->data[b->len] = '\0';
}

void ebuf_free(struct ebuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}
