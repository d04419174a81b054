/* Card schema: a YAML document -> struct card, validated as CUTIP's pydantic models do.
 *
 * Each helper below mirrors one pydantic field type (str, bool, dict[str, str], list[str],
 * Literal, nested model) in lax mode, and reports with pydantic's words and CUTIP's location
 * format ("spec.mounts.0.type: Input should be 'bind' or 'volume'"). Fields are checked in the
 * models' declaration order and a model's own validator runs only when its fields passed, as in
 * pydantic, so the messages come out as CUTIP prints them. */
#include "card.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOC_MAX 512

struct schema {
	const char *file;
	struct card_diags *diags;
	size_t errors; /* errors reported so far */
	char loc[LOC_MAX]; /* the field path being validated, e.g. "spec.mounts.0" */
};

struct field_hint {
	const char *model, *key, *hint;
};

/* Keys people write that CUTIP silently drops, with what they meant. */
static const struct field_hint field_hints[] = {
	{"MountSpec", "mode", "use 'read_only: true' for a read-only mount"},
	{"MountSpec", "readonly", "the field is 'read_only'"},
	{"MountSpec", "ro", "use 'read_only: true'"},
	{"ContainerSpec", "env", "the field is 'environment'"},
	{"ContainerSpec", "image", "containers name their image with 'imageRef: {ref: images/NAME}'"},
	{"ContainerSpec", "network", "use 'networkRef: {ref: networks/NAME}' or 'network_mode'"},
	{"ContainerSpec", "networks", "use 'networkRef: {ref: networks/NAME}' or 'network_mode'"},
	{"ContainerSpec", "working_dir", "the field is 'workdir'"},
	{"ContainerSpec", "restart", "the field is 'restart_policy'"},
	{"ContainerSpec", "entrypoint", "CUTIP cards have no entrypoint; put it in 'command'"},
	{"ContainerSpec", "security_opt", "the field is 'security_opts'"},
	{"ContainerSpec", "scale", "the field is 'replicas'"},
	{"ContainerSpec", "deploy", "write the replica count as 'replicas: N' directly in spec"},
	{"ImageSpec", "buildargs", "the field is 'build_args'"},
	{"ImageSpec", "args", "the field is 'build_args'"},
};

/* ---- messages ---- */

__attribute__((format(printf, 4, 5))) static void report(struct schema *s, const struct ynode *at,
							  const char *field, const char *fmt, ...)
{
	char loc[2 * LOC_MAX + 2];
	if (field && *s->loc)
		snprintf(loc, sizeof(loc), "%s.%s", s->loc, field);
	else
		snprintf(loc, sizeof(loc), "%s", field ? field : s->loc);
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	struct card_diag *d =
	    card_diags_add(s->diags, CARD_ERROR, s->file, at ? at->line : 0, at ? at->col : 0,
			   *loc ? "%s: %s" : "%s%s", loc, msg ? msg : "out of memory");
	card_diag_label(d, "schema", loc);
	free(msg);
	s->errors++;
}

/* The one warning of the schema: a key it does not know, at field. */
static void warn_unknown(struct schema *s, const struct ynode *at, const char *field,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void warn_unknown(struct schema *s, const struct ynode *at, const char *field,
			 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	struct card_diag *d = card_diags_add(s->diags, CARD_WARNING, s->file, at->line, at->col,
					     "%s", msg ? msg : "out of memory");
	card_diag_label(d, "unknown-field", field);
	free(msg);
}

/* Enters a sub-location ("spec", "mounts", "0"); returns the length to restore. */
static size_t loc_push(struct schema *s, const char *part)
{
	size_t len = strlen(s->loc);
	snprintf(s->loc + len, sizeof(s->loc) - len, "%s%s", len ? "." : "", part);
	return len;
}

static void loc_pop(struct schema *s, size_t len)
{
	s->loc[len] = '\0';
}

/* ---- scalar helpers ---- */

static bool is_str(const struct ynode *n)
{
	return n && n->kind == YNODE_SCALAR && n->type == YS_STR;
}

static char *xstrdup(const char *text)
{
	return text ? strdup(text) : NULL;
}

static int edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 32 || lb > 32)
		return 99;
	int d[33][33];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			int best = d[i - 1][j - 1] + cost;
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

/* Warns about every key of a model's mapping that the model does not have: CUTIP (pydantic's
 * default config) drops them silently, so a typo would otherwise pass unseen. */
static void warn_unknown_keys(struct schema *s, const struct ynode *map, const char *model,
			      const char *const *known)
{
	for (size_t i = 0; i < map->count; i++) {
		const struct ynode *key = map->keys[i];
		const char *name = key->text;
		bool found = false;
		for (const char *const *k = known; *k && !found; k++)
			found = is_str(key) && strcmp(*k, name) == 0;
		if (found)
			continue;
		const char *hint = NULL;
		for (size_t h = 0; h < sizeof(field_hints) / sizeof(field_hints[0]); h++)
			if (strcmp(field_hints[h].model, model) == 0 &&
			    strcmp(field_hints[h].key, name) == 0)
				hint = field_hints[h].hint;
		const char *close = NULL;
		int best = 3;
		for (const char *const *k = known; *k && !hint; k++) {
			int dist = edit_distance(name, *k);
			if (dist < best && dist < (int)strlen(*k)) {
				best = dist;
				close = *k;
			}
		}
		char where[LOC_MAX + 64];
		snprintf(where, sizeof(where), "%s%s%s", s->loc, *s->loc ? "." : "", name);
		if (hint)
			warn_unknown(s, key, where, "%s: unknown field, ignored (%s)", where, hint);
		else if (close)
			warn_unknown(s, key, where,
				     "%s: unknown field, ignored (did you mean '%s'?)", where,
				     close);
		else
			warn_unknown(s, key, where, "%s: unknown field, ignored", where);
	}
}

/* pathlib's PurePath(p).name: the last component once '.' components and repeated or
 * trailing slashes are dropped ("a/dir/" -> "dir", "a/." -> "a", "." -> ""). */
static char *path_name(const char *path)
{
	const char *best = "";
	size_t best_len = 0;
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/");
		if (len && !(len == 1 && p[0] == '.')) {
			best = p;
			best_len = len;
		}
		p += len;
	}
	return strndup(best, best_len);
}

/* *mag = *mag * base + digit; false, *mag unchanged, once that no longer fits. */
static bool accumulate(unsigned long long *mag, unsigned base, unsigned long long digit)
{
	if (*mag > (ULLONG_MAX - digit) / base)
		return false;
	*mag = *mag * base + digit;
	return true;
}

/* The signed value of a magnitude: 0, or -ERANGE with *out clamped to LLONG_MIN or LLONG_MAX
 * by the sign (as strtoll does), so that a caller can still tell too small from too large. */
static int signed_value(bool neg, unsigned long long mag, bool fits, long long *out)
{
	unsigned long long limit = (unsigned long long)LLONG_MAX + (neg ? 1 : 0);
	if (!fits || mag > limit) {
		*out = neg ? LLONG_MIN : LLONG_MAX;
		return -ERANGE;
	}
	*out = !neg ? (long long)mag : mag == limit ? LLONG_MIN : -(long long)mag;
	return 0;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The value of a YAML 1.1 int ("0x1F", "0b1", "017", "1_000", "1:30"), as PyYAML's
 * construct_yaml_int computes it. Returns 0; -ERANGE when it does not fit a long long (*out
 * clamped by sign); -EINVAL when the text is no int at all, which only an explicit !!int tag
 * lets through (the resolver's pattern admits nothing else). */
static int yaml_int_value(const char *text, long long *out)
{
	const char *p = text;
	bool neg = *p == '-';
	if (*p == '-' || *p == '+')
		p++;
	unsigned base = 10;
	if (p[0] == '0' && p[1] == 'b') {
		base = 2;
		p += 2;
	} else if (p[0] == '0' && p[1] == 'x') {
		base = 16;
		p += 2;
	} else if (p[0] == '0' && p[1]) {
		base = 8; /* YAML 1.1: a leading 0 is octal */
	}
	/* Sexagesimal "1:30:05" is base 60 over decimal parts: fold each part in at its ':'. */
	bool sexagesimal = base == 10 && strchr(p, ':');
	unsigned long long total = 0, part = 0;
	bool fits = true, empty = true;
	for (; *p; p++) {
		if (*p == '_')
			continue; /* PyYAML drops every underscore first */
		if (*p == ':' && sexagesimal) {
			if (empty)
				return -EINVAL;
			fits = fits && accumulate(&total, 60, part);
			part = 0;
			empty = true;
			continue;
		}
		int d = digit_value(*p);
		if (d < 0 || (unsigned)d >= base)
			return -EINVAL;
		fits = fits && accumulate(&part, base, (unsigned long long)d);
		empty = false;
	}
	if (empty)
		return -EINVAL; /* "", "-", "0x", "1:" */
	if (sexagesimal)
		fits = fits && accumulate(&total, 60, part);
	else
		total = part;
	return signed_value(neg, total, fits, out);
}

/* The value of a YAML 1.1 float ("1.5", "1_0.0", "1:30.5", ".inf", "-.Inf", ".NaN"), as
 * PyYAML's construct_yaml_float computes it. Returns 0, -ENOMEM, or -EINVAL for text no float
 * reads as (again only an explicit !!float tag lets that through). */
static int yaml_float_value(const char *text, double *out)
{
	char *buf = malloc(strlen(text) + 1), *q = buf;
	if (!buf)
		return -ENOMEM;
	for (const char *p = text; *p; p++)
		if (*p != '_')
			*q++ = (char)tolower((unsigned char)*p);
	*q = '\0';
	const char *p = buf;
	double sign = *p == '-' ? -1.0 : 1.0;
	if (*p == '-' || *p == '+')
		p++;
	int rc = 0;
	if (strcmp(p, ".inf") == 0) {
		*out = sign * HUGE_VAL;
	} else if (strcmp(p, ".nan") == 0) {
		*out = NAN;
	} else {
		double value = 0;
		for (const char *part = p; part && rc == 0;) {
			char *end;
			double d = strtod(part, &end);
			if (end == part || (*end && *end != ':') || isspace((unsigned char)*part))
				rc = -EINVAL;
			value = value * 60 + d;
			part = *end == ':' ? end + 1 : NULL;
		}
		*out = sign * value;
	}
	free(buf);
	return rc;
}

/* A string as pydantic's str_as_int reads it: surrounding whitespace dropped, a sign, decimal
 * digits with single underscores between them, and optionally a '.' and zeros ("3.00").
 * Leading zeros are decimal, as for Python's int(). Returns 0, -ERANGE (*out clamped by sign)
 * or -EINVAL. */
static int str_int_value(const char *text, long long *out)
{
	const char *p = text, *end = text + strlen(text);
	while (isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	bool neg = p < end && *p == '-';
	if (p < end && (*p == '-' || *p == '+'))
		p++;
	if (p == end || !isdigit((unsigned char)*p))
		return -EINVAL;
	unsigned long long mag = 0;
	bool fits = true;
	for (; p < end && *p != '.'; p++) {
		if (*p == '_' && p + 1 < end && isdigit((unsigned char)p[-1]) &&
		    isdigit((unsigned char)p[1]))
			continue;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		fits = fits && accumulate(&mag, 10, (unsigned long long)(*p - '0'));
	}
	if (p < end) { /* the '.': only zeros may follow, and at least one */
		if (++p == end)
			return -EINVAL;
		for (; p < end; p++)
			if (*p != '0')
				return -EINVAL;
	}
	return signed_value(neg, mag, fits, out);
}

/* ---- pydantic field types ---- */

/* REQUIRED: must be there. OPTIONAL: `T | None = None`, null allowed. DEFAULTED: `T = default`,
 * may be left out but not set to null. */
enum presence { REQUIRED, OPTIONAL, DEFAULTED };

/* str, str | None, str = default. Returns 0 when valid (*out set, maybe NULL), -1 when not. */
static int field_str(struct schema *s, const struct ynode *map, const char *key,
		     enum presence presence, const char *def, char **out, int *line, int *col)
{
	const struct ynode *v = ynode_get(map, key);
	*out = NULL;
	if (!v) {
		if (presence == REQUIRED) {
			report(s, map, key, "Field required");
			return -1;
		}
		*out = xstrdup(def);
		return 0;
	}
	if (line) {
		*line = v->line;
		*col = v->col;
	}
	if (ynode_is_null(v) && presence == OPTIONAL)
		return 0;
	if (!is_str(v)) {
		report(s, v, key, "Input should be a valid string");
		return -1;
	}
	*out = xstrdup(v->text);
	return 0;
}

static int field_cstr(struct schema *s, const struct ynode *map, const char *key,
		      enum presence presence, struct card_str *out)
{
	return field_str(s, map, key, presence, NULL, &out->s, &out->line, &out->col);
}

/* bool in pydantic's lax mode: true/false, 0/1, and strings like "yes", "off", "t". */
static int field_bool(struct schema *s, const struct ynode *map, const char *key, bool *out)
{
	static const char *const truthy[] = {"1", "on", "t", "true", "y", "yes"};
	static const char *const falsy[] = {"0", "off", "f", "false", "n", "no"};
	const struct ynode *v = ynode_get(map, key);
	*out = false;
	if (!v)
		return 0;
	if (v->kind != YNODE_SCALAR || v->type == YS_NULL || v->type == YS_TIMESTAMP) {
		report(s, v, key, "Input should be a valid boolean");
		return -1;
	}
	const char *t = v->text;
	long long number;
	if (v->type == YS_FLOAT)
		t = strtod(t, NULL) == 1.0 ? "1" : strtod(t, NULL) == 0.0 ? "0" : t;
	else if (v->type == YS_INT && yaml_int_value(t, &number) == 0)
		t = number == 1 ? "1" : number == 0 ? "0" : t;
	for (size_t i = 0; i < 6; i++) {
		if (strcasecmp(t, truthy[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(t, falsy[i]) == 0)
			return 0;
	}
	report(s, v, key, "Input should be a valid boolean, unable to interpret input");
	return -1;
}

/* `int | None = None` with ge=min, le=max, in pydantic's lax mode: a YAML int, a float with
 * no fractional part (3.0), or a string that reads as an int ("3", " 3 ", "1_000", "3.00");
 * null is the same as leaving it out. One departure: lax pydantic takes a bool as 0 or 1, but
 * `replicas: yes` is surely not a count, so a bool is refused as strict mode refuses it.
 * Returns 0 when valid (*given says whether a value was set), -1 when not. */
static int field_int(struct schema *s, const struct ynode *map, const char *key, long long min,
		     long long max, bool *given, long long *out)
{
	const struct ynode *v = ynode_get(map, key);
	*given = false;
	*out = 0;
	if (!v || ynode_is_null(v))
		return 0;
	long long value = 0;
	int rc = -EINVAL;
	double f = 0;
	if (v->kind == YNODE_SCALAR && v->type == YS_INT) {
		rc = yaml_int_value(v->text, &value);
	} else if (v->kind == YNODE_SCALAR && v->type == YS_STR) {
		rc = str_int_value(v->text, &value);
		if (rc == -EINVAL) {
			report(s, v, key,
			       "Input should be a valid integer, unable to parse string as an "
			       "integer");
			return -1;
		}
	} else if (v->kind == YNODE_SCALAR && v->type == YS_FLOAT &&
		   (rc = yaml_float_value(v->text, &f)) == 0) {
		if (!isfinite(f)) {
			report(s, v, key, "Input should be a finite number");
			return -1;
		}
		/* pydantic refuses a float past +-2^63 before any bound applies. Such a float is
		 * whole anyway, and the cast is only defined inside that range. */
		if (f >= -(double)LLONG_MIN || f < (double)LLONG_MIN) {
			report(s, v, key,
			       "Unable to parse input string as an integer, exceeded maximum size");
			return -1;
		}
		if (f != (double)(long long)f) {
			report(s, v, key,
			       "Input should be a valid integer, got a number with a fractional "
			       "part");
			return -1;
		}
		value = (long long)f;
	}
	if (rc == -ENOMEM) {
		report(s, v, key, "out of memory");
		return -1;
	}
	if (rc == -EINVAL) {
		report(s, v, key, "Input should be a valid integer");
		return -1;
	}
	/* A clamped value (-ERANGE) is past the bound on its side, so it lands here too. */
	if (value < min) {
		report(s, v, key, "Input should be greater than or equal to %lld", min);
		return -1;
	}
	if (value > max) {
		report(s, v, key, "Input should be less than or equal to %lld", max);
		return -1;
	}
	*given = true;
	*out = value;
	return 0;
}

static void map_free(struct card_map *m)
{
	for (size_t i = 0; i < m->count; i++) {
		free(m->items[i].key);
		free(m->items[i].value);
	}
	free(m->items);
	memset(m, 0, sizeof(*m));
}

static void list_free(struct card_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i].s);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* dict[str, str] = {}. */
static int field_map(struct schema *s, const struct ynode *map, const char *key,
		     struct card_map *out)
{
	const struct ynode *v = ynode_get(map, key);
	memset(out, 0, sizeof(*out));
	if (!v)
		return 0;
	if (v->kind != YNODE_MAP) {
		report(s, v, key, "Input should be a valid dictionary");
		return -1;
	}
	size_t before = s->errors;
	size_t saved = loc_push(s, key);
	out->items = calloc(v->count ? v->count : 1, sizeof(*out->items));
	for (size_t i = 0; out->items && i < v->count; i++) {
		const struct ynode *k = v->keys[i], *val = v->values[i];
		if (!is_str(k)) {
			char part[LOC_MAX];
			snprintf(part, sizeof(part), "%s.[key]", k->text);
			report(s, k, part, "Input should be a valid string");
		}
		if (!is_str(val))
			report(s, val, k->text, "Input should be a valid string");
		if (is_str(k) && is_str(val)) {
			struct card_kv *kv = &out->items[out->count++];
			kv->key = strdup(k->text);
			kv->value = strdup(val->text);
			kv->line = val->line;
			kv->col = val->col;
		}
	}
	loc_pop(s, saved);
	if (s->errors != before) {
		map_free(out);
		return -1;
	}
	return 0;
}

/* list[str] = []. */
static int field_list(struct schema *s, const struct ynode *map, const char *key,
		      struct card_list *out)
{
	const struct ynode *v = ynode_get(map, key);
	memset(out, 0, sizeof(*out));
	if (!v)
		return 0;
	if (v->kind != YNODE_SEQ) {
		report(s, v, key, "Input should be a valid list");
		return -1;
	}
	size_t before = s->errors;
	size_t saved = loc_push(s, key);
	out->items = calloc(v->count ? v->count : 1, sizeof(*out->items));
	for (size_t i = 0; out->items && i < v->count; i++) {
		const struct ynode *item = v->values[i];
		char index[32];
		snprintf(index, sizeof(index), "%zu", i);
		if (!is_str(item)) {
			report(s, item, index, "Input should be a valid string");
			continue;
		}
		struct card_str *str = &out->items[out->count++];
		str->s = strdup(item->text);
		str->line = item->line;
		str->col = item->col;
	}
	loc_pop(s, saved);
	if (s->errors != before) {
		list_free(out);
		return -1;
	}
	return 0;
}

/* Literal["a", "b"]: pydantic names the choices as "'a' or 'b'" / "'a', 'b' or 'c'". */
static int field_literal(struct schema *s, const struct ynode *map, const char *key,
			 const char *const *choices, char **out)
{
	const struct ynode *v = ynode_get(map, key);
	*out = NULL;
	if (!v) {
		report(s, map, key, "Field required");
		return -1;
	}
	for (const char *const *c = choices; *c; c++)
		if (is_str(v) && strcmp(v->text, *c) == 0) {
			*out = strdup(*c);
			return 0;
		}
	char expected[256] = "";
	for (const char *const *c = choices; *c; c++) {
		size_t len = strlen(expected);
		const char *sep = c == choices ? "" : c[1] ? ", " : " or ";
		snprintf(expected + len, sizeof(expected) - len, "%s'%s'", sep, *c);
	}
	report(s, v, key, "Input should be %s", expected);
	return -1;
}

/* A nested model field: returns its mapping, or NULL (absent, null for optional, or an error
 * already reported: *bad tells which). */
static const struct ynode *field_model(struct schema *s, const struct ynode *map, const char *key,
				       const char *model, enum presence presence, bool *bad)
{
	const struct ynode *v = ynode_get(map, key);
	*bad = false;
	if (!v) {
		if (presence == REQUIRED) {
			report(s, map, key, "Field required");
			*bad = true;
		}
		return NULL;
	}
	if (presence == OPTIONAL && ynode_is_null(v))
		return NULL;
	if (v->kind != YNODE_MAP) {
		report(s, v, key, "Input should be a valid dictionary or instance of %s", model);
		*bad = true;
		return NULL;
	}
	return v;
}

/* Ref: {ref: str}. */
static int field_ref(struct schema *s, const struct ynode *map, const char *key,
		     enum presence presence, struct card_str *out)
{
	bool bad;
	memset(out, 0, sizeof(*out));
	const struct ynode *ref = field_model(s, map, key, "Ref", presence, &bad);
	if (!ref)
		return bad ? -1 : 0;
	static const char *const known[] = {"ref", NULL};
	size_t saved = loc_push(s, key);
	int rc = field_cstr(s, ref, "ref", REQUIRED, out);
	warn_unknown_keys(s, ref, "Ref", known);
	loc_pop(s, saved);
	return rc;
}

/* ---- cutipfs's own checks (CUTIP never made them; the engine would fail later) ---- */

bool card_name_valid(const char *name, const char **why)
{
	size_t len = strlen(name);
	if (len == 0) {
		*why = "it is empty";
		return false;
	}
	if (len > 63) {
		*why = "it is longer than 63 characters";
		return false;
	}
	if (!isalnum((unsigned char)name[0]) || (unsigned char)name[0] >= 0x80) {
		*why = "it must start with a letter or digit";
		return false;
	}
	for (const char *p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c >= 0x80 || !(isalnum(c) || c == '_' || c == '.' || c == '-')) {
			*why = c == '/' ? "it contains '/'"
			       : c == ' ' ? "it contains a space"
			       : c < 0x20 || c == 0x7f ? "it contains a control character"
						       : "only letters, digits, '_', '.' and '-' are allowed";
			return false;
		}
	}
	return true;
}

static bool parse_port(const char *text, size_t len)
{
	if (len == 0 || len > 5)
		return false;
	unsigned long port = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)text[i]))
			return false;
		port = port * 10 + (unsigned long)(text[i] - '0');
	}
	return port >= 1 && port <= 65535;
}

/* ports: {"<container port>[/tcp|udp|sctp]": "<host port>"}, what CUTIP does at run time. */
static void check_ports(struct schema *s, const struct ynode *spec, const struct card_map *ports)
{
	const struct ynode *node = ynode_get(spec, "ports");
	for (size_t i = 0; i < ports->count; i++) {
		const struct card_kv *kv = &ports->items[i];
		const char *slash = strchr(kv->key, '/');
		size_t num_len = slash ? (size_t)(slash - kv->key) : strlen(kv->key);
		bool proto_ok = !slash || strcmp(slash + 1, "tcp") == 0 ||
				strcmp(slash + 1, "udp") == 0 || strcmp(slash + 1, "sctp") == 0;
		char field[LOC_MAX];
		snprintf(field, sizeof(field), "ports.%s", kv->key);
		const struct ynode *key_node = node;
		for (size_t k = 0; node && k < node->count; k++)
			if (strcmp(node->keys[k]->text, kv->key) == 0)
				key_node = node->keys[k];
		if (strstr(kv->key, "{{") || strstr(kv->value, "{{"))
			continue; /* checked once substituted, when the card is applied */
		if (!parse_port(kv->key, num_len) || !proto_ok)
			report(s, key_node, field,
			       "'%s' is not a container port: expected PORT or PORT/tcp, PORT/udp, "
			       "PORT/sctp with PORT from 1 to 65535",
			       kv->key);
		if (!parse_port(kv->value, strlen(kv->value))) {
			struct ynode at = {.line = kv->line, .col = kv->col};
			report(s, &at, field, "'%s' is not a host port: expected 1 to 65535",
			       kv->value);
		}
	}
}

static void check_restart_policy(struct schema *s, const struct ynode *spec, const char *policy)
{
	static const char *const policies[] = {"no", "always", "unless-stopped", "on-failure"};
	if (!policy || strstr(policy, "{{"))
		return;
	for (size_t i = 0; i < 4; i++)
		if (strcmp(policy, policies[i]) == 0)
			return;
	report(s, ynode_get(spec, "restart_policy"), "restart_policy",
	       "'%s' is not a restart policy: expected 'no', 'always', 'unless-stopped' or "
	       "'on-failure'",
	       policy);
}

static void check_absolute(struct schema *s, const struct ynode *at, const char *field,
			   const char *path)
{
	if (path && path[0] != '/' && !strstr(path, "{{"))
		report(s, at, field, "'%s' is not an absolute path inside the container", path);
}

static void check_environment(struct schema *s, const struct ynode *spec,
			      const struct card_map *env)
{
	const struct ynode *node = ynode_get(spec, "environment");
	for (size_t i = 0; i < env->count; i++) {
		const char *key = env->items[i].key;
		if (*key && !strchr(key, '='))
			continue;
		const struct ynode *at = node;
		for (size_t k = 0; node && k < node->count; k++)
			if (strcmp(node->keys[k]->text, key) == 0)
				at = node->keys[k];
		char field[LOC_MAX];
		snprintf(field, sizeof(field), "environment.%s", key);
		report(s, at, field, "'%s' is not a variable name: it is empty or contains '='",
		       key);
	}
}

/* ---- IPv4, as Python's ipaddress module reads it ---- */

static bool parse_ipv4(const char *text, unsigned long *out)
{
	unsigned long addr = 0;
	const char *p = text;
	for (int octet = 0; octet < 4; octet++) {
		if (!isdigit((unsigned char)*p))
			return false;
		const char *start = p;
		unsigned long v = 0;
		while (isdigit((unsigned char)*p) && p - start < 4)
			v = v * 10 + (unsigned long)(*p++ - '0');
		/* Python refuses leading zeros: they are ambiguous (octal to some parsers). */
		if (p - start > 3 || v > 255 || (p - start > 1 && *start == '0'))
			return false;
		addr = (addr << 8) | v;
		if (octet < 3 && *p++ != '.')
			return false;
	}
	if (*p)
		return false;
	*out = addr;
	return true;
}

/* IPv4Network(text, strict=False): "a.b.c.d", "a.b.c.d/len" or "a.b.c.d/netmask". */
static bool parse_ipv4_network(const char *text, unsigned long *net, unsigned long *mask)
{
	char buf[64];
	if (strlen(text) >= sizeof(buf))
		return false;
	strcpy(buf, text);
	char *slash = strchr(buf, '/');
	unsigned long addr, m = 0xFFFFFFFFUL;
	if (slash)
		*slash = '\0';
	if (!parse_ipv4(buf, &addr))
		return false;
	if (slash) {
		const char *pfx = slash + 1;
		if (*pfx && strspn(pfx, "0123456789") == strlen(pfx)) {
			if (strlen(pfx) > 2 || atoi(pfx) > 32)
				return false;
			int len = atoi(pfx);
			m = len == 0 ? 0 : (0xFFFFFFFFUL << (32 - len)) & 0xFFFFFFFFUL;
		} else if (parse_ipv4(pfx, &m)) {
			unsigned long inv = ~m & 0xFFFFFFFFUL;
			if (inv & (inv + 1)) /* a netmask is ones then zeros */
				return false;
		} else {
			return false;
		}
	}
	*net = addr & m;
	*mask = m;
	return true;
}

/* ---- models ---- */

static void check_metadata(struct schema *s, const struct ynode *root, struct card *card)
{
	static const char *const known[] = {"name", "labels", NULL};
	bool bad;
	const struct ynode *meta = field_model(s, root, "metadata", "CutipMetadata", REQUIRED, &bad);
	if (!meta)
		return;
	size_t saved = loc_push(s, "metadata");
	if (field_cstr(s, meta, "name", REQUIRED, &card->name) == 0) {
		const char *why;
		if (!card_name_valid(card->name.s, &why))
			report(s, ynode_get(meta, "name"), "name", "'%s' is not a valid name: %s",
			       card->name.s, why);
	}
	field_map(s, meta, "labels", &card->labels);
	warn_unknown_keys(s, meta, "CutipMetadata", known);
	loc_pop(s, saved);
}

static void validate_image(struct schema *s, const struct ynode *spec, struct card *card)
{
	static const char *const known[] = {"source",	   "tag",	  "image",
					    "context",	   "dockerfile",  "build_args",
					    "buildtime_resources", "buildtime_dir", "network_mode",
					    NULL};
	static const char *const sources[] = {"pull", "build", NULL};
	struct card_image_spec *im = &card->spec.image;
	size_t before = s->errors;
	field_literal(s, spec, "source", sources, &im->source);
	field_str(s, spec, "tag", DEFAULTED, "latest", &im->tag, NULL, NULL);
	field_str(s, spec, "image", OPTIONAL, NULL, &im->image, NULL, NULL);
	field_str(s, spec, "context", OPTIONAL, NULL, &im->context, NULL, NULL);
	field_str(s, spec, "dockerfile", DEFAULTED, "Dockerfile", &im->dockerfile, NULL, NULL);
	field_map(s, spec, "build_args", &im->build_args);

	const struct ynode *res = ynode_get(spec, "buildtime_resources");
	if (res && res->kind != YNODE_SEQ) {
		report(s, res, "buildtime_resources", "Input should be a valid list");
	} else if (res) {
		size_t saved = loc_push(s, "buildtime_resources");
		im->resources = calloc(res->count ? res->count : 1, sizeof(*im->resources));
		for (size_t i = 0; im->resources && i < res->count; i++) {
			static const char *const rknown[] = {"src", "dest", NULL};
			const struct ynode *item = res->values[i];
			char index[32];
			snprintf(index, sizeof(index), "%zu", i);
			if (item->kind != YNODE_MAP) {
				report(s, item, index,
				       "Input should be a valid dictionary or instance of "
				       "BuildtimeResource");
				continue;
			}
			struct card_build_resource *r = &im->resources[im->resource_count++];
			size_t at = loc_push(s, index);
			field_cstr(s, item, "src", REQUIRED, &r->src);
			field_str(s, item, "dest", OPTIONAL, NULL, &r->dest, NULL, NULL);
			if ((!r->dest || !*r->dest) && r->src.s) {
				free(r->dest);
				r->dest = path_name(r->src.s);
			}
			warn_unknown_keys(s, item, "BuildtimeResource", rknown);
			loc_pop(s, at);
		}
		loc_pop(s, saved);
	}
	field_str(s, spec, "buildtime_dir", OPTIONAL, NULL, &im->buildtime_dir, NULL, NULL);
	field_str(s, spec, "network_mode", OPTIONAL, NULL, &im->network_mode, NULL, NULL);
	warn_unknown_keys(s, spec, "ImageSpec", known);
	if (s->errors != before)
		return;

	/* ImageSpec's model validator; pydantic puts its errors at the model itself. */
	if (strcmp(im->source, "pull") == 0 && (!im->image || !*im->image))
		report(s, spec, NULL, "Value error, 'image' is required when source is 'pull'");
	else if (strcmp(im->source, "pull") == 0 && im->resource_count)
		report(s, ynode_get(spec, "buildtime_resources"), NULL,
		       "Value error, 'buildtime_resources' is only valid when source is 'build'");
	else if (strcmp(im->source, "build") == 0 && (!im->context || !*im->context))
		report(s, spec, NULL, "Value error, 'context' is required when source is 'build'");
	if (s->errors != before)
		return;

	/* The local image is <name>:<tag>; the engine refuses uppercase repositories and tags
	 * outside [A-Za-z0-9_.-]. */
	for (const char *p = card->name.s; p && *p; p++)
		if (isupper((unsigned char)*p)) {
			struct ynode at = {.line = card->name.line, .col = card->name.col};
			char saved[LOC_MAX];
			strcpy(saved, s->loc);
			s->loc[0] = '\0';
			report(s, &at, "metadata.name",
			       "'%s' is not a valid image name: it must be lowercase",
			       card->name.s);
			strcpy(s->loc, saved);
			break;
		}
	size_t tag_len = strlen(im->tag);
	bool tag_ok = tag_len > 0 && tag_len <= 128 && im->tag[0] != '.' && im->tag[0] != '-';
	for (const char *p = im->tag; tag_ok && *p; p++)
		tag_ok = isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-';
	if (!tag_ok && !strstr(im->tag, "{{"))
		report(s, ynode_get(spec, "tag"), "tag",
		       "'%s' is not a valid image tag: letters, digits, '_', '.' and '-', at most "
		       "128, not starting with '.' or '-'",
		       im->tag);
}

static void validate_mounts(struct schema *s, const struct ynode *spec,
			    struct card_container_spec *c)
{
	static const char *const known[] = {"type",	 "source",	     "target",
					    "read_only", "create_host_path", NULL};
	static const char *const types[] = {"bind", "volume", NULL};
	const struct ynode *mounts = ynode_get(spec, "mounts");
	if (!mounts)
		return;
	if (mounts->kind != YNODE_SEQ) {
		report(s, mounts, "mounts", "Input should be a valid list");
		return;
	}
	size_t saved = loc_push(s, "mounts");
	c->mounts = calloc(mounts->count ? mounts->count : 1, sizeof(*c->mounts));
	for (size_t i = 0; c->mounts && i < mounts->count; i++) {
		const struct ynode *item = mounts->values[i];
		char index[32];
		snprintf(index, sizeof(index), "%zu", i);
		if (item->kind != YNODE_MAP) {
			report(s, item, index,
			       "Input should be a valid dictionary or instance of MountSpec");
			continue;
		}
		struct card_mount *m = &c->mounts[c->mount_count++];
		size_t at = loc_push(s, index);
		size_t before = s->errors;
		field_literal(s, item, "type", types, &m->type);
		field_cstr(s, item, "source", REQUIRED, &m->source);
		field_cstr(s, item, "target", REQUIRED, &m->target);
		field_bool(s, item, "read_only", &m->read_only);
		field_bool(s, item, "create_host_path", &m->create_host_path);
		warn_unknown_keys(s, item, "MountSpec", known);
		const char *why;
		if (s->errors == before && strcmp(m->type, "volume") == 0 &&
		    !card_name_valid(m->source.s, &why) && !strstr(m->source.s, "{{"))
			report(s, ynode_get(item, "source"), "source",
			       "'%s' is not a valid volume name: %s", m->source.s, why);
		if (s->errors == before)
			check_absolute(s, ynode_get(item, "target"), "target", m->target.s);
		loc_pop(s, at);
	}
	loc_pop(s, saved);
}

/* ---- cutipfs's container limits (resources, healthcheck, user, stop_signal, stop_timeout) ---- */

/* A size: a YAML int (bytes) or a string with a unit; -1 for no limit where allowed. */
static int field_bytes(struct schema *s, const struct ynode *map, const char *key, bool no_limit,
		       long long *out)
{
	const struct ynode *v = ynode_get(map, key);
	long long n = 0;
	int rc = -EINVAL;
	*out = 0;
	if (!v || ynode_is_null(v))
		return 0;
	if (v->kind == YNODE_SCALAR && v->type == YS_INT)
		rc = yaml_int_value(v->text, &n);
	else if (is_str(v))
		rc = strcmp(v->text, "-1") == 0 ? (n = -1, 0) : card_parse_bytes(v->text, &n);
	if (rc == 0 && (n > 0 || (n == -1 && no_limit))) {
		*out = n;
		return 0;
	}
	report(s, v, key, "Input should be a size: bytes, or a number with b, k, m or g (512m)%s",
	       no_limit ? ", or -1 for no limit" : "");
	return -1;
}

static int field_duration(struct schema *s, const struct ynode *map, const char *key, long long *ns)
{
	const struct ynode *v = ynode_get(map, key);
	*ns = 0;
	if (!v || ynode_is_null(v))
		return 0;
	if (is_str(v) && card_parse_duration(v->text, ns) == 0)
		return 0;
	report(s, v, key, "Input should be a duration with its unit (30s, 1m30s, 500ms)");
	return -1;
}

static int field_cpus(struct schema *s, const struct ynode *map, const char *key, long long *nano)
{
	const struct ynode *v = ynode_get(map, key);
	*nano = 0;
	if (!v || ynode_is_null(v))
		return 0;
	if (v->kind == YNODE_SCALAR &&
	    (v->type == YS_INT || v->type == YS_FLOAT || v->type == YS_STR) &&
	    card_parse_cpus(v->text, nano) == 0 && *nano > 0)
		return 0;
	report(s, v, key, "Input should be a number of CPUs greater than 0 (1.5)");
	return -1;
}

static void validate_resources(struct schema *s, const struct ynode *spec, struct card_resources *r)
{
	static const char *const known[] = {"memory", "memory_swap", "cpus", "pids", NULL};
	bool bad;
	const struct ynode *res = field_model(s, spec, "resources", "Resources", OPTIONAL, &bad);
	if (!res)
		return;
	size_t saved = loc_push(s, "resources");
	field_bytes(s, res, "memory", false, &r->memory);
	field_bytes(s, res, "memory_swap", true, &r->memory_swap);
	field_cpus(s, res, "cpus", &r->nano_cpus);
	bool given;
	if (field_int(s, res, "pids", -1, LLONG_MAX, &given, &r->pids) == 0 && given && !r->pids)
		report(s, ynode_get(res, "pids"), "pids",
		       "Input should be at least 1, or -1 for no limit");
	if (r->memory_swap > 0 && r->memory > 0 && r->memory_swap < r->memory)
		report(s, ynode_get(res, "memory_swap"), "memory_swap",
		       "memory_swap is memory plus swap: it cannot be less than memory");
	else if (r->memory_swap && !r->memory)
		report(s, ynode_get(res, "memory_swap"), "memory_swap",
		       "memory_swap needs memory (it is memory plus swap)");
	warn_unknown_keys(s, res, "Resources", known);
	loc_pop(s, saved);
}

static void validate_healthcheck(struct schema *s, const struct ynode *spec,
				 struct card_healthcheck *h)
{
	static const char *const known[] = {"test",    "interval",     "timeout",
					    "retries", "start_period", NULL};
	bool bad, given;
	const struct ynode *hc = field_model(s, spec, "healthcheck", "Healthcheck", OPTIONAL, &bad);
	if (!hc)
		return;
	size_t saved = loc_push(s, "healthcheck");
	const struct ynode *test = ynode_get(hc, "test");
	if (is_str(test)) {
		/* A string runs in the container's shell, as compose and the docker CLI do. */
		h->test.items = calloc(2, sizeof(*h->test.items));
		if (h->test.items) {
			h->test.items[0] = (struct card_str){.s = strdup("CMD-SHELL")};
			h->test.items[1] = (struct card_str){
			    .s = strdup(test->text), .line = test->line, .col = test->col};
			h->test.count = 2;
		}
	} else if (!test) {
		report(s, hc, "test", "Field required");
	} else if (field_list(s, hc, "test", &h->test) == 0) {
		const char *first = h->test.count ? h->test.items[0].s : "";
		bool none = strcmp(first, "NONE") == 0;
		if ((!none && strcmp(first, "CMD") != 0 && strcmp(first, "CMD-SHELL") != 0) ||
		    (!none && h->test.count < 2))
			report(s, test, "test",
			       "a list starts with CMD (then the command's words), CMD-SHELL (then "
			       "one shell command) or NONE");
	}
	field_duration(s, hc, "interval", &h->interval);
	field_duration(s, hc, "timeout", &h->timeout);
	field_duration(s, hc, "start_period", &h->start_period);
	field_int(s, hc, "retries", 0, INT_MAX, &given, &h->retries);
	warn_unknown_keys(s, hc, "Healthcheck", known);
	loc_pop(s, saved);
}

/* A signal as docker's --stop-signal takes it: a name with or without SIG, or a number. */
static void check_stop_signal(struct schema *s, const struct ynode *spec, const char *sig)
{
	static const char *const names[] = {
	    "HUP",   "INT",  "QUIT", "ILL",  "TRAP", "ABRT", "BUS",    "FPE",	 "KILL",
	    "USR1",  "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD",	 "CONT",
	    "STOP",  "TSTP", "TTIN", "TTOU", "URG",  "XCPU", "XFSZ",   "VTALRM", "PROF",
	    "WINCH", "IO",   "POLL", "PWR",  "SYS",  NULL};
	if (!sig)
		return;
	const char *name = strncasecmp(sig, "SIG", 3) == 0 ? sig + 3 : sig;
	char *end = NULL;
	long n = strtol(sig, &end, 10);
	if (*sig && end && !*end && n >= 1 && n <= 64)
		return;
	if (strncasecmp(name, "RTMIN", 5) == 0 || strncasecmp(name, "RTMAX", 5) == 0)
		return;
	for (const char *const *p = names; *p; p++)
		if (strcasecmp(name, *p) == 0)
			return;
	report(s, ynode_get(spec, "stop_signal"), "stop_signal",
	       "'%s' is not a signal (SIGTERM, INT, 15)", sig);
}

static void validate_limits(struct schema *s, const struct ynode *spec,
			    struct card_container_spec *c)
{
	validate_resources(s, spec, &c->resources);
	validate_healthcheck(s, spec, &c->healthcheck);
	field_str(s, spec, "user", OPTIONAL, NULL, &c->user, NULL, NULL);
	field_str(s, spec, "stop_signal", OPTIONAL, NULL, &c->stop_signal, NULL, NULL);
	check_stop_signal(s, spec, c->stop_signal);
	field_int(s, spec, "stop_timeout", 0, INT_MAX, &c->has_stop_timeout, &c->stop_timeout);
	/* cutipfs.* labels say what cutipfs made and from which card: a card may not set them. */
	for (size_t i = 0; i < c->labels.count; i++)
		if (strncmp(c->labels.items[i].key, "cutipfs.", 8) == 0)
			report(s, ynode_get(spec, "labels"), "labels",
			       "'%s': labels starting with cutipfs. are cutipfs's own",
			       c->labels.items[i].key);
}

static void validate_container(struct schema *s, const struct ynode *spec, struct card *card)
{
	/* replicas and the limits are cutipfs's own; last, so that a did-you-mean tie goes to
	 * CUTIP's keys. */
	static const char *const known[] = {
		"imageRef", "networkRef", "network_mode", "command",	  "hostname",
		"workdir",  "privileged", "cap_add",	  "security_opts", "ports",
		"environment", "mounts",  "volumes",	  "labels",	  "restart_policy",
		"replicas", "resources", "healthcheck", "user", "stop_signal", "stop_timeout",
		NULL};
	struct card_container_spec *c = &card->spec.container;
	size_t before = s->errors;
	field_ref(s, spec, "imageRef", REQUIRED, &c->image_ref);
	field_ref(s, spec, "networkRef", OPTIONAL, &c->network_ref);
	field_str(s, spec, "network_mode", OPTIONAL, NULL, &c->network_mode, NULL, NULL);
	field_cstr(s, spec, "command", OPTIONAL, &c->command);
	field_str(s, spec, "hostname", OPTIONAL, NULL, &c->hostname, NULL, NULL);
	field_str(s, spec, "workdir", OPTIONAL, NULL, &c->workdir, NULL, NULL);
	field_bool(s, spec, "privileged", &c->privileged);
	field_list(s, spec, "cap_add", &c->cap_add);
	field_list(s, spec, "security_opts", &c->security_opts);
	field_map(s, spec, "ports", &c->ports);
	field_map(s, spec, "environment", &c->environment);
	validate_mounts(s, spec, c);
	field_map(s, spec, "volumes", &c->volumes);
	field_map(s, spec, "labels", &c->labels);
	field_str(s, spec, "restart_policy", OPTIONAL, NULL, &c->restart_policy, NULL, NULL);
	/* Bounded by what the swarm backend takes (an unsigned), so nothing is cut short later. */
	long long replicas;
	if (field_int(s, spec, "replicas", 0, UINT_MAX, &c->has_replicas, &replicas) == 0 &&
	    c->has_replicas)
		c->replicas = (unsigned)replicas;
	validate_limits(s, spec, c);
	warn_unknown_keys(s, spec, "ContainerSpec", known);
	if (s->errors != before)
		return;

	if (c->network_ref.s && c->network_mode)
		report(s, spec, NULL,
		       "Value error, Only one of 'networkRef' or 'network_mode' may be provided, "
		       "not both");
	if (s->errors != before)
		return;

	if (c->command.s) {
		const char *error = NULL;
		char **argv = card_shlex_split(c->command.s, &error);
		if (!argv)
			report(s, ynode_get(spec, "command"), "command", "%s",
			       error ? error : "cannot be split into words");
		card_argv_free(argv);
	}
	check_ports(s, spec, &c->ports);
	check_environment(s, spec, &c->environment);
	check_restart_policy(s, spec, c->restart_policy);
	check_absolute(s, ynode_get(spec, "workdir"), "workdir", c->workdir);
	const struct ynode *vols = ynode_get(spec, "volumes");
	for (size_t i = 0; i < c->volumes.count; i++) {
		const struct card_kv *kv = &c->volumes.items[i];
		char field[LOC_MAX];
		const char *why;
		snprintf(field, sizeof(field), "volumes.%s", kv->key);
		if (!card_name_valid(kv->key, &why) && !strstr(kv->key, "{{"))
			report(s, vols, field, "'%s' is not a valid volume name: %s", kv->key, why);
		struct ynode at = {.line = kv->line, .col = kv->col};
		check_absolute(s, &at, field, kv->value);
	}
}

static void validate_network(struct schema *s, const struct ynode *spec, struct card *card)
{
	static const char *const known[] = {"driver", "subnet", "gateway", NULL};
	struct card_network_spec *n = &card->spec.network;
	size_t before = s->errors;
	field_str(s, spec, "driver", DEFAULTED, "bridge", &n->driver, NULL, NULL);
	field_str(s, spec, "subnet", REQUIRED, NULL, &n->subnet, NULL, NULL);
	field_str(s, spec, "gateway", OPTIONAL, NULL, &n->gateway, NULL, NULL);
	warn_unknown_keys(s, spec, "NetworkSpec", known);
	if (s->errors != before)
		return;

	unsigned long net, mask, gw;
	if (!parse_ipv4_network(n->subnet, &net, &mask)) {
		report(s, ynode_get(spec, "subnet"), NULL,
		       "Value error, 'subnet' is not a valid CIDR: %s", n->subnet);
		return;
	}
	if (!n->gateway)
		return;
	if (!parse_ipv4(n->gateway, &gw))
		report(s, ynode_get(spec, "gateway"), NULL,
		       "Value error, 'gateway' is not a valid IPv4 address: %s", n->gateway);
	else if ((gw & mask) != net)
		report(s, ynode_get(spec, "gateway"), NULL,
		       "Value error, 'gateway' %s is not within subnet %s", n->gateway, n->subnet);
}

static void validate_volume(struct schema *s, const struct ynode *spec, struct card *card)
{
	static const char *const known[] = {"driver", "labels", "options", NULL};
	struct card_volume_spec *v = &card->spec.volume;
	field_str(s, spec, "driver", DEFAULTED, "local", &v->driver, NULL, NULL);
	field_map(s, spec, "labels", &v->labels);
	field_map(s, spec, "options", &v->options);
	warn_unknown_keys(s, spec, "VolumeSpec", known);
}

static void validate_unit(struct schema *s, const struct ynode *spec, struct card *card)
{
	static const char *const known[] = {"containerRef", "hooks", NULL};
	static const char *const hook_keys[] = {"prehook", "posthook", NULL};
	struct card_unit_spec *u = &card->spec.unit;
	field_ref(s, spec, "containerRef", REQUIRED, &u->container_ref);
	bool bad;
	const struct ynode *hooks = field_model(s, spec, "hooks", "HookSpec", OPTIONAL, &bad);
	if (hooks) {
		size_t saved = loc_push(s, "hooks");
		field_str(s, hooks, "prehook", OPTIONAL, NULL, &u->prehook, NULL, NULL);
		field_str(s, hooks, "posthook", OPTIONAL, NULL, &u->posthook, NULL, NULL);
		warn_unknown_keys(s, hooks, "HookSpec", hook_keys);
		loc_pop(s, saved);
	} else if (!bad && ynode_is_null(ynode_get(spec, "hooks"))) {
		/* hooks: HookSpec = HookSpec() is not Optional: an explicit null is refused */
		report(s, ynode_get(spec, "hooks"), "hooks",
		       "Input should be a valid dictionary or instance of HookSpec");
	}
	warn_unknown_keys(s, spec, "UnitSpec", known);
}

static void validate_group(struct schema *s, const struct ynode *spec, struct card *card)
{
	static const char *const known[] = {"units", "workflow", "orchestrator", NULL};
	struct card_group_spec *g = &card->spec.group;
	const struct ynode *units = ynode_get(spec, "units");
	if (!units) {
		report(s, spec, "units", "Field required");
	} else if (units->kind != YNODE_SEQ) {
		report(s, units, "units", "Input should be a valid list");
	} else {
		size_t saved = loc_push(s, "units");
		g->units.items = calloc(units->count ? units->count : 1, sizeof(*g->units.items));
		for (size_t i = 0; g->units.items && i < units->count; i++) {
			const struct ynode *item = units->values[i];
			char index[32];
			snprintf(index, sizeof(index), "%zu", i);
			/* Each item is a Ref: validate it as the field "<index>" of the list. */
			struct ynode holder_keys = {.kind = YNODE_SCALAR, .type = YS_STR,
						    .text = index, .len = strlen(index)};
			struct ynode *hk = &holder_keys;
			struct ynode *hv = (struct ynode *)item;
			struct ynode holder = {.kind = YNODE_MAP, .count = 1, .keys = &hk,
					       .values = &hv, .line = item->line,
					       .col = item->col};
			struct card_str ref;
			if (field_ref(s, &holder, index, REQUIRED, &ref) == 0)
				g->units.items[g->units.count++] = ref;
		}
		loc_pop(s, saved);
	}
	field_str(s, spec, "workflow", DEFAULTED, "workflow.py", &g->workflow, NULL, NULL);
	field_str(s, spec, "orchestrator", DEFAULTED, "orchestrator.py", &g->orchestrator, NULL,
		  NULL);
	warn_unknown_keys(s, spec, "GroupSpec", known);
}

/* ---- kinds ---- */

static const struct {
	const char *name, *prefix, *spec_model;
	void (*validate)(struct schema *, const struct ynode *, struct card *);
} kinds[CARD_KIND_COUNT] = {
	[CARD_IMAGE] = {"ImageCard", "images", "ImageSpec", validate_image},
	[CARD_CONTAINER] = {"ContainerCard", "containers", "ContainerSpec", validate_container},
	[CARD_NETWORK] = {"NetworkCard", "networks", "NetworkSpec", validate_network},
	[CARD_VOLUME] = {"VolumeCard", "volumes", "VolumeSpec", validate_volume},
	[CARD_UNIT] = {"Unit", "units", "UnitSpec", validate_unit},
	[CARD_GROUP] = {"Group", "groups", "GroupSpec", validate_group},
};

const char *card_kind_name(enum card_kind kind)
{
	return kind < CARD_KIND_COUNT ? kinds[kind].name : "?";
}

const char *card_kind_prefix(enum card_kind kind)
{
	return kind < CARD_KIND_COUNT ? kinds[kind].prefix : "?";
}

int card_kind_from_name(const char *name)
{
	for (int k = 0; k < CARD_KIND_COUNT; k++)
		if (strcmp(kinds[k].name, name) == 0)
			return k;
	return -1;
}

unsigned card_container_replicas(const struct card_container_spec *spec)
{
	return spec->has_replicas ? spec->replicas : 1;
}

char *card_ref_of(const struct card *card)
{
	char *ref = NULL;
	if (asprintf(&ref, "%s/%s", card_kind_prefix(card->kind),
		     card->name.s ? card->name.s : "") < 0)
		return NULL;
	return ref;
}

/* Python's truthiness, for CUTIP's `if not data.get("kind")`. */
static bool truthy(const struct ynode *n)
{
	if (!n)
		return false;
	if (n->kind != YNODE_SCALAR)
		return n->count > 0;
	switch (n->type) {
	case YS_NULL:
		return false;
	case YS_BOOL:
		return strcasecmp(n->text, "true") == 0 || strcasecmp(n->text, "yes") == 0 ||
		       strcasecmp(n->text, "on") == 0;
	case YS_INT:
	case YS_FLOAT:
		return strtod(n->text, NULL) != 0.0;
	default:
		return n->len > 0;
	}
}

static int diag_order(const void *a, const void *b)
{
	const struct card_diag *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return 0;
}

/* Sorts the diags added since `from` by place, so they read top to bottom like the file. */
static void sort_since(struct card_diags *diags, size_t from)
{
	/* qsort is not stable, and comparing addresses inside it does not make it so: use a
	 * simple insertion sort, which is stable and fine for the few messages of one card. */
	for (size_t i = from + 1; i < diags->count; i++) {
		struct card_diag d = diags->items[i];
		size_t j = i;
		while (j > from && diag_order(&diags->items[j - 1], &d) > 0) {
			diags->items[j] = diags->items[j - 1];
			j--;
		}
		diags->items[j] = d;
	}
}

int card_from_doc(struct ynode *doc, const char *file, struct card **out,
		  struct card_diags *diags)
{
	struct schema s = {.file = file, .diags = diags};
	size_t first = diags->count;
	*out = NULL;
	if (doc->kind != YNODE_MAP) {
		report(&s, doc, NULL, "Expected a YAML mapping at the top level");
		ynode_free(doc);
		return -1;
	}
	const struct ynode *kind_node = ynode_get(doc, "kind");
	if (!truthy(kind_node)) {
		report(&s, kind_node ? kind_node : doc, NULL, "Missing required field 'kind'");
		ynode_free(doc);
		return -1;
	}
	int kind = is_str(kind_node) ? card_kind_from_name(kind_node->text) : -1;
	if (kind < 0) {
		report(&s, kind_node, NULL,
		       "Unknown kind '%s'. Known kinds: ImageCard, ContainerCard, NetworkCard, "
		       "VolumeCard, Unit, Group",
		       kind_node->kind == YNODE_SCALAR ? kind_node->text : ynode_describe(kind_node));
		ynode_free(doc);
		return -1;
	}

	struct card *card = calloc(1, sizeof(*card));
	if (!card) {
		ynode_free(doc);
		return -1;
	}
	card->kind = (enum card_kind)kind;
	card->file = xstrdup(file);
	card->line = doc->line;
	card->col = doc->col;
	card->doc = doc;

	static const char *const envelope[] = {"apiVersion", "kind", "metadata", "spec", NULL};
	char *api = NULL;
	if (field_str(&s, doc, "apiVersion", REQUIRED, NULL, &api, NULL, NULL) == 0 &&
	    strcmp(api, "cutip/v1") != 0)
		report(&s, ynode_get(doc, "apiVersion"), "apiVersion",
		       "Value error, apiVersion must be 'cutip/v1', got '%s'", api);
	free(api);
	check_metadata(&s, doc, card);
	bool bad;
	const struct ynode *spec =
		field_model(&s, doc, "spec", kinds[kind].spec_model, REQUIRED, &bad);
	if (spec) {
		size_t saved = loc_push(&s, "spec");
		kinds[kind].validate(&s, spec, card);
		loc_pop(&s, saved);
	}
	warn_unknown_keys(&s, doc, "card", envelope);
	sort_since(diags, first);
	if (s.errors) {
		card_free(card);
		return -1;
	}
	*out = card;
	return 0;
}

/* cards/ydoc.c does not label its messages: those with a place are about the text (syntax,
 * UTF-8, size, a duplicate key), those without one about opening or reading the file. */
static void label_load(struct card_diags *diags, size_t first)
{
	for (size_t i = first; i < diags->count; i++)
		if (!diags->items[i].rule)
			diags->items[i].rule =
			    diags->items[i].line > 0 ? "yaml-syntax" : "file-read";
}

int card_parse(const char *buf, size_t len, const char *file, struct card **out,
	       struct card_diags *diags)
{
	struct ynode *doc;
	size_t first = diags->count;
	*out = NULL;
	int rc = ydoc_load(buf, len, file, &doc, diags);
	label_load(diags, first);
	return rc < 0 ? -1 : card_from_doc(doc, file, out, diags);
}

int card_parse_file(const char *path, struct card **out, struct card_diags *diags)
{
	struct ynode *doc;
	size_t first = diags->count;
	*out = NULL;
	int rc = ydoc_load_file(path, &doc, diags);
	label_load(diags, first);
	return rc < 0 ? -1 : card_from_doc(doc, path, out, diags);
}

static void cstr_free(struct card_str *s)
{
	free(s->s);
	s->s = NULL;
}

void card_free(struct card *card)
{
	if (!card)
		return;
	switch (card->kind) {
	case CARD_IMAGE: {
		struct card_image_spec *im = &card->spec.image;
		free(im->source);
		free(im->tag);
		free(im->image);
		free(im->context);
		free(im->dockerfile);
		map_free(&im->build_args);
		for (size_t i = 0; i < im->resource_count; i++) {
			cstr_free(&im->resources[i].src);
			free(im->resources[i].dest);
		}
		free(im->resources);
		free(im->buildtime_dir);
		free(im->network_mode);
		break;
	}
	case CARD_CONTAINER: {
		struct card_container_spec *c = &card->spec.container;
		cstr_free(&c->image_ref);
		cstr_free(&c->network_ref);
		free(c->network_mode);
		cstr_free(&c->command);
		free(c->hostname);
		free(c->workdir);
		list_free(&c->cap_add);
		list_free(&c->security_opts);
		map_free(&c->ports);
		map_free(&c->environment);
		for (size_t i = 0; i < c->mount_count; i++) {
			free(c->mounts[i].type);
			cstr_free(&c->mounts[i].source);
			cstr_free(&c->mounts[i].target);
		}
		free(c->mounts);
		map_free(&c->volumes);
		map_free(&c->labels);
		free(c->restart_policy);
		list_free(&c->healthcheck.test);
		free(c->user);
		free(c->stop_signal);
		break;
	}
	case CARD_NETWORK:
		free(card->spec.network.driver);
		free(card->spec.network.subnet);
		free(card->spec.network.gateway);
		break;
	case CARD_VOLUME:
		free(card->spec.volume.driver);
		map_free(&card->spec.volume.labels);
		map_free(&card->spec.volume.options);
		break;
	case CARD_UNIT:
		cstr_free(&card->spec.unit.container_ref);
		free(card->spec.unit.prehook);
		free(card->spec.unit.posthook);
		break;
	case CARD_GROUP:
		list_free(&card->spec.group.units);
		free(card->spec.group.workflow);
		free(card->spec.group.orchestrator);
		break;
	default:
		break;
	}
	cstr_free(&card->name);
	map_free(&card->labels);
	free(card->file);
	ynode_free(card->doc);
	free(card);
}
