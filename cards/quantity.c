/* The quantities of cutipfs's container limits, written as the docker CLI takes them: sizes
 * ("512m", "1g", "1048576"; units b, k, m, g, t of 1024, an optional trailing "b" as in "512mb",
 * either case: docker's RAMInBytes), durations as Go writes them ("30s", "1m30s", "1.5s",
 * "500ms"; units ns, us, ms, s, m, h), and CPUs as a decimal count ("1.5": 1.5e9 NanoCpus). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "card.h"

/* A decimal number at *p ("12", "1.5", ".5"): its value, *p moved past it; false when none. */
static bool number(const char **p, long double *out)
{
	const char *s = *p;
	long double v = 0, scale = 1;
	bool digits = false;
	for (; isdigit((unsigned char)*s); s++, digits = true)
		v = v * 10 + (*s - '0');
	if (*s == '.') {
		for (s++; isdigit((unsigned char)*s); s++, digits = true) {
			scale /= 10;
			v += (*s - '0') * scale;
		}
	}
	if (!digits)
		return false;
	*p = s;
	*out = v;
	return true;
}

int card_parse_bytes(const char *text, long long *out)
{
	static const char units[] = "bkmgt";
	const char *p = text;
	long double v;
	if (!number(&p, &v))
		return -EINVAL;
	long double mult = 1;
	if (*p) {
		const char *u = strchr(units, tolower((unsigned char)*p));
		if (!u)
			return -EINVAL;
		for (const char *k = units; k < u; k++)
			mult *= 1024;
		p++;
		if (u != units && (*p == 'b' || *p == 'B'))
			p++;
	}
	if (*p)
		return -EINVAL;
	v *= mult;
	if (v >= (long double)LLONG_MAX)
		return -ERANGE;
	*out = (long long)v;
	return 0;
}

int card_parse_duration(const char *text, long long *ns)
{
	static const struct {
		const char *name;
		long double ns;
	} units[] = {{"ns", 1},	 {"us", 1e3}, {"µs", 1e3},  {"ms", 1e6},
		     {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
	const char *p = text;
	long double total = 0;
	if (strcmp(text, "0") == 0) { /* the one number Go takes without a unit */
		*ns = 0;
		return 0;
	}
	if (!*p)
		return -EINVAL;
	while (*p) {
		long double v;
		if (!number(&p, &v))
			return -EINVAL;
		size_t best = 0, best_len = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].name);
			/* The longest unit that matches: "ms" before "m". */
			if (n > best_len && strncmp(p, units[i].name, n) == 0) {
				best = i;
				best_len = n;
			}
		}
		if (!best_len)
			return -EINVAL; /* a bare number: Go wants a unit (but for 0) */
		total += v * units[best].ns;
		p += best_len;
	}
	if (total >= (long double)LLONG_MAX)
		return -ERANGE;
	*ns = (long long)total;
	return 0;
}

int card_parse_cpus(const char *text, long long *nano)
{
	const char *p = text;
	long double v;
	if (!number(&p, &v) || *p)
		return -EINVAL;
	v *= 1e9L;
	if (v >= (long double)LLONG_MAX)
		return -ERANGE;
	*nano = (long long)(v + 0.5L);
	return 0;
}
