/* The helpers every libFuzzer target of tests/fuzz uses (fuzz.h). */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

int fuzz_feed(const uint8_t *data, size_t size, fuzz_sink sink, void *ctx)
{
	if (size == 0)
		return 0;
	unsigned step = data[0];
	size_t piece = 1;
	for (size_t at = 1; at < size;) {
		size_t n = piece < size - at ? piece : size - at;
		int rc = sink((const char *)data + at, n, ctx);
		if (rc)
			return rc;
		at += n;
		/* Grows by 1..16 each time, up to a few hundred bytes, then starts small again. */
		piece = piece > 512 ? 1 : piece + (step & 15) + 1;
		step = (step >> 4 | step << 4) & 0xff;
	}
	return 0;
}
