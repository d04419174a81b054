/* {{ paths.k }} / {{ secrets.k }} placeholders: CUTIP's regex
 * \{\{\s*(paths|secrets)\.(\w+)\s*\}\} done by a small scanner, the values files it reads, and
 * the check and substitution of every string in a card. */
#include "placeholder.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "registry.h"

enum ph_kind { PH_PATHS, PH_SECRETS, PH_VARS };

static const char *const ph_kind_names[] = {"paths", "secrets", "vars"};

/* One match of the pattern in a string: text[start, end) is the whole placeholder. */
struct ph_match {
	size_t start, end;
	enum ph_kind kind;
	const char *key;
	size_t key_len;
};

enum ph_status { PH_OK, PH_UNDEFINED, PH_EMPTY };

static bool is_space(char c)
{
	/* Python's \s on ASCII: space, \t, \n, \v, \f, \r. */
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static bool is_word(char c)
{
	/* \w, ASCII only: keys are identifiers in every card we know of. */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* Matches the pattern anchored at text + at. The regex needs no backtracking: \w, \s and the
 * braces are disjoint, so the greedy runs are the only way to match. */
static bool ph_match_at(const char *text, size_t at, struct ph_match *m)
{
	const char *p = text + at;
	if (p[0] != '{' || p[1] != '{')
		return false;
	p += 2;
	while (is_space(*p))
		p++;
	int kind = -1;
	for (int k = PH_PATHS; k <= PH_VARS; k++) {
		size_t n = strlen(ph_kind_names[k]);
		if (strncmp(p, ph_kind_names[k], n) == 0 && p[n] == '.') {
			kind = k;
			p += n + 1;
			break;
		}
	}
	if (kind < 0)
		return false;
	const char *key = p;
	while (is_word(*p))
		p++;
	if (p == key)
		return false;
	size_t key_len = (size_t)(p - key);
	while (is_space(*p))
		p++;
	if (p[0] != '}' || p[1] != '}')
		return false;
	*m = (struct ph_match){.start = at,
			       .end = (size_t)(p + 2 - text),
			       .kind = (enum ph_kind)kind,
			       .key = key,
			       .key_len = key_len};
	return true;
}

/* The next match at or after `from`, as re.finditer finds them (a failed start moves on by one
 * character, so "{{{ paths.a }}" matches from the second brace). strchr, not strstr: strstr
 * promises no bound on its cost, and where it measures the rest of the text at each call (as
 * AddressSanitizer's does) a text of many failed starts costs time quadratic in its length. */
static bool ph_next(const char *text, size_t from, struct ph_match *m)
{
	for (const char *p = strchr(text + from, '{'); p; p = strchr(p + 1, '{'))
		if (ph_match_at(text, (size_t)(p - text), m))
			return true;
	return false;
}

static const struct card_kv *map_lookup(const struct card_map *map, const char *key, size_t len)
{
	for (size_t i = 0; i < map->count; i++)
		if (strlen(map->items[i].key) == len && memcmp(map->items[i].key, key, len) == 0)
			return &map->items[i];
	return NULL;
}

/* generated: paths always pass (they are made absolute, never empty), and win over a
 * required: value of the same name, as they do when CUTIP merges the two. */
static enum ph_status ph_lookup(const struct card_values *values, const struct ph_match *m,
				const char **value)
{
	const struct card_kv *kv = NULL;
	if (m->kind == PH_PATHS) {
		kv = map_lookup(&values->generated, m->key, m->key_len);
		if (kv) {
			*value = kv->value;
			return PH_OK;
		}
		kv = map_lookup(&values->paths, m->key, m->key_len);
	} else if (m->kind == PH_SECRETS) {
		kv = map_lookup(&values->secrets, m->key, m->key_len);
	}
	if (!kv)
		return PH_UNDEFINED;
	*value = kv->value;
	return kv->value[0] ? PH_OK : PH_EMPTY;
}

/* At most this many problems are reported per string: a card holds a handful, and the bound
 * keeps a hostile megabyte of "{{ paths.aN }}" from costing quadratic time or a huge list. */
#define PH_MAX_REPORTS 8

struct ph_reported {
	struct ph_match items[PH_MAX_REPORTS];
	size_t count;
};

/* Whether the same placeholder (kind and key) was reported for this string already; remembers
 * it if not. Returns true too once the bound is reached. */
static bool ph_seen(struct ph_reported *seen, const struct ph_match *m)
{
	for (size_t i = 0; i < seen->count; i++) {
		const struct ph_match *p = &seen->items[i];
		if (p->kind == m->kind && p->key_len == m->key_len &&
		    memcmp(p->key, m->key, m->key_len) == 0)
			return true;
	}
	if (seen->count == PH_MAX_REPORTS)
		return true;
	seen->items[seen->count++] = *m;
	return false;
}

/* Reports every undefined or empty placeholder of one string (and, when warn_vars, each legacy
 * {{ vars.k }}) as "<field>: <CUTIP message>" at line:col, each once. Returns the errors
 * added. */
static size_t check_text(const char *text, const struct card_values *values, const char *file,
			 int line, int col, const char *field, bool warn_vars,
			 struct card_diags *diags)
{
	size_t errors = 0;
	struct ph_reported seen = {.count = 0};
	struct ph_match m;
	for (size_t at = 0; text && ph_next(text, at, &m); at = m.end) {
		int n = (int)m.key_len;
		if (m.kind == PH_VARS) {
			if (warn_vars && !ph_seen(&seen, &m))
				card_diags_add(
				    diags, CARD_WARNING, file, line, col,
				    "%s: '{{ vars.%.*s }}' is the pre-0.1.8 syntax and is "
				    "never substituted; write '{{ paths.%.*s }}'",
				    field, n, m.key, n, m.key);
			continue;
		}
		const char *value;
		enum ph_status st = ph_lookup(values, &m, &value);
		if (st == PH_OK || ph_seen(&seen, &m))
			continue;
		const char *kind = ph_kind_names[m.kind];
		card_diags_add(diags, CARD_ERROR, file, line, col,
			       "%s: '{{ %s.%.*s }}' is %s in cutip/%s.yaml", field, kind, n, m.key,
			       st == PH_UNDEFINED ? "not defined" : "defined but empty", kind);
		errors++;
	}
	return errors;
}

/* Walks every scalar of the document; `field` is the dotted path of node ("spec.mounts.0"). */
static size_t check_node(const struct ynode *node, const char *field, const struct card *card,
			 const struct card_values *values, struct card_diags *diags)
{
	if (node->kind == YNODE_SCALAR)
		return check_text(node->text, values, card->file, node->line, node->col, field,
				  true, diags);
	size_t errors = 0;
	for (size_t i = 0; i < node->count; i++) {
		char *child = NULL;
		int rc;
		if (node->kind == YNODE_SEQ)
			rc = asprintf(&child, "%s%s%zu", field, *field ? "." : "", i);
		else
			rc = asprintf(&child, "%s%s%s", field, *field ? "." : "",
				      node->keys[i]->kind == YNODE_SCALAR ? node->keys[i]->text
									  : "?");
		if (rc < 0)
			return errors;
		errors += check_node(node->values[i], child, card, values, diags);
		free(child);
	}
	return errors;
}

size_t card_placeholders_check(const struct card *card, const struct card_values *values,
			       struct card_diags *diags)
{
	return card->doc ? check_node(card->doc, "", card, values, diags) : 0;
}

/* A growable string of at most `limit` bytes: a values file of 1 MiB named by a card of 1 MiB
 * of "{{ paths.k }}" would otherwise make some 100 GB. */
struct buf {
	char *s;
	size_t len, cap, limit;
	bool oom, too_big;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->oom || b->too_big)
		return;
	if (n > b->limit - b->len) {
		b->too_big = true;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->s, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* card_placeholders_expand with at most `limit` bytes of result. */
static char *expand_within(const char *text, const struct card_values *values, size_t limit,
			   char **missing)
{
	*missing = NULL;
	if (!text) {
		errno = EINVAL;
		return NULL;
	}
	struct buf out = {.limit = limit};
	size_t at = 0;
	struct ph_match m;
	while (ph_next(text, at, &m)) {
		buf_add(&out, text + at, m.start - at);
		const char *value = NULL;
		/* {{ vars.k }} is not a placeholder any more: it stays as written. */
		enum ph_status st = m.kind == PH_VARS ? PH_OK : ph_lookup(values, &m, &value);
		if (st != PH_OK) {
			if (asprintf(missing, "{{ %s.%.*s }}", ph_kind_names[m.kind],
				     (int)m.key_len, m.key) < 0)
				*missing = NULL;
			free(out.s);
			return NULL;
		}
		if (value)
			buf_add(&out, value, strlen(value));
		else
			buf_add(&out, text + m.start, m.end - m.start);
		at = m.end;
	}
	buf_add(&out, text + at, strlen(text + at));
	if (out.oom || out.too_big) {
		free(out.s);
		errno = out.oom ? ENOMEM : E2BIG;
		return NULL;
	}
	return out.s ? out.s : strdup("");
}

char *card_placeholders_expand(const char *text, const struct card_values *values, char **missing)
{
	return expand_within(text, values, YDOC_MAX_EXPANDED, missing);
}

/* Substitution: every string field of the struct, gathered first so that either all of them
 * change or none does. */
struct slot {
	char **ptr;
	char *field;
	int line, col;
	char *replacement;
};

struct slots {
	struct slot *items;
	size_t count, cap;
	bool oom;
	const struct card *card;
};

/* The place of a fixed field ("spec.tag", "spec.mounts.0.type") in the card's document: the
 * struct keeps places only for refs, map values and list items. */
static void doc_place(const struct card *card, const char *field, int *line, int *col)
{
	const struct ynode *node = card->doc;
	char *copy = strdup(field), *save = NULL;
	for (char *part = copy ? strtok_r(copy, ".", &save) : NULL; part && node;
	     part = strtok_r(NULL, ".", &save)) {
		if (node->kind == YNODE_SEQ) {
			char *end;
			unsigned long i = strtoul(part, &end, 10);
			node = *end == '\0' && i < node->count ? node->values[i] : NULL;
		} else {
			node = ynode_get(node, part);
		}
	}
	free(copy);
	*line = node ? node->line : card->line;
	*col = node ? node->col : card->col;
}

static void slot_add(struct slots *s, char **ptr, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Adds a field that holds a placeholder; line 0 means "look its place up in the document". */
static void slot_add(struct slots *s, char **ptr, int line, int col, const char *fmt, ...)
{
	if (s->oom || !*ptr || !strstr(*ptr, "{{"))
		return;
	if (s->count == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct slot *items = realloc(s->items, cap * sizeof(*items));
		if (!items) {
			s->oom = true;
			return;
		}
		s->items = items;
		s->cap = cap;
	}
	struct slot *slot = &s->items[s->count];
	va_list ap;
	va_start(ap, fmt);
	int rc = vasprintf(&slot->field, fmt, ap);
	va_end(ap);
	if (rc < 0) {
		s->oom = true;
		return;
	}
	slot->ptr = ptr;
	slot->replacement = NULL;
	if (line > 0) {
		slot->line = line;
		slot->col = col;
	} else {
		doc_place(s->card, slot->field, &slot->line, &slot->col);
	}
	s->count++;
}

static void slots_add_str(struct slots *s, struct card_str *str, const char *field)
{
	slot_add(s, &str->s, str->line, str->col, "%s", field);
}

static void slots_add_map(struct slots *s, struct card_map *map, const char *field)
{
	for (size_t i = 0; i < map->count; i++)
		slot_add(s, &map->items[i].value, map->items[i].line, map->items[i].col, "%s.%s",
			 field, map->items[i].key);
}

static void slots_add_list(struct slots *s, struct card_list *list, const char *field)
{
	for (size_t i = 0; i < list->count; i++)
		slot_add(s, &list->items[i].s, list->items[i].line, list->items[i].col, "%s.%zu",
			 field, i);
}

static void slots_image(struct slots *s, struct card_image_spec *spec)
{
	slot_add(s, &spec->tag, 0, 0, "spec.tag");
	slot_add(s, &spec->image, 0, 0, "spec.image");
	slot_add(s, &spec->context, 0, 0, "spec.context");
	slot_add(s, &spec->dockerfile, 0, 0, "spec.dockerfile");
	slots_add_map(s, &spec->build_args, "spec.build_args");
	for (size_t i = 0; i < spec->resource_count; i++) {
		struct card_build_resource *r = &spec->resources[i];
		slot_add(s, &r->src.s, r->src.line, r->src.col, "spec.buildtime_resources.%zu.src",
			 i);
		slot_add(s, &r->dest, 0, 0, "spec.buildtime_resources.%zu.dest", i);
	}
	slot_add(s, &spec->buildtime_dir, 0, 0, "spec.buildtime_dir");
	slot_add(s, &spec->network_mode, 0, 0, "spec.network_mode");
}

static void slots_container(struct slots *s, struct card_container_spec *spec)
{
	slot_add(s, &spec->network_mode, 0, 0, "spec.network_mode");
	slots_add_str(s, &spec->command, "spec.command");
	slot_add(s, &spec->hostname, 0, 0, "spec.hostname");
	slot_add(s, &spec->workdir, 0, 0, "spec.workdir");
	slots_add_list(s, &spec->cap_add, "spec.cap_add");
	slots_add_list(s, &spec->security_opts, "spec.security_opts");
	slots_add_map(s, &spec->ports, "spec.ports");
	slots_add_map(s, &spec->environment, "spec.environment");
	for (size_t i = 0; i < spec->mount_count; i++) {
		struct card_mount *m = &spec->mounts[i];
		slot_add(s, &m->source.s, m->source.line, m->source.col, "spec.mounts.%zu.source",
			 i);
		slot_add(s, &m->target.s, m->target.line, m->target.col, "spec.mounts.%zu.target",
			 i);
	}
	slots_add_map(s, &spec->volumes, "spec.volumes");
	slots_add_map(s, &spec->labels, "spec.labels");
	slot_add(s, &spec->restart_policy, 0, 0, "spec.restart_policy");
	slots_add_list(s, &spec->healthcheck.test, "spec.healthcheck.test");
	slot_add(s, &spec->user, 0, 0, "spec.user");
}

/* Every string field but identities (metadata.name and refs, which the registry keys on) and
 * the closed choices (image source, mount type), which a placeholder can never satisfy. */
static void slots_collect(struct slots *s, struct card *card)
{
	slots_add_map(s, &card->labels, "metadata.labels");
	switch (card->kind) {
	case CARD_IMAGE:
		slots_image(s, &card->spec.image);
		break;
	case CARD_CONTAINER:
		slots_container(s, &card->spec.container);
		break;
	case CARD_NETWORK:
		slot_add(s, &card->spec.network.driver, 0, 0, "spec.driver");
		slot_add(s, &card->spec.network.subnet, 0, 0, "spec.subnet");
		slot_add(s, &card->spec.network.gateway, 0, 0, "spec.gateway");
		break;
	case CARD_VOLUME:
		slot_add(s, &card->spec.volume.driver, 0, 0, "spec.driver");
		slots_add_map(s, &card->spec.volume.labels, "spec.labels");
		slots_add_map(s, &card->spec.volume.options, "spec.options");
		break;
	case CARD_UNIT:
		slot_add(s, &card->spec.unit.prehook, 0, 0, "spec.hooks.prehook");
		slot_add(s, &card->spec.unit.posthook, 0, 0, "spec.hooks.posthook");
		break;
	case CARD_GROUP:
		slot_add(s, &card->spec.group.workflow, 0, 0, "spec.workflow");
		slot_add(s, &card->spec.group.orchestrator, 0, 0, "spec.orchestrator");
		break;
	default:
		break;
	}
}

static void slots_free(struct slots *s)
{
	for (size_t i = 0; i < s->count; i++) {
		free(s->items[i].field);
		free(s->items[i].replacement);
	}
	free(s->items);
}

int card_placeholders_substitute(struct card *card, const struct card_values *values,
				 struct card_diags *diags)
{
	struct slots s = {.card = card};
	slots_collect(&s, card);
	size_t errors = 0;
	for (size_t i = 0; i < s.count; i++)
		errors += check_text(*s.items[i].ptr, values, card->file, s.items[i].line,
				     s.items[i].col, s.items[i].field, false, diags);
	/* The whole card's replacements share one budget, as aliases share theirs. */
	size_t budget = YDOC_MAX_EXPANDED;
	for (size_t i = 0; !errors && !s.oom && i < s.count; i++) {
		struct slot *slot = &s.items[i];
		char *missing = NULL;
		slot->replacement = expand_within(*slot->ptr, values, budget, &missing);
		free(missing); /* cannot be set: check_text found nothing missing */
		if (slot->replacement) {
			budget -= strlen(slot->replacement);
		} else if (errno == E2BIG) {
			card_diags_add(diags, CARD_ERROR, card->file, slot->line, slot->col,
				       "%s: placeholders expand the card past %d MiB of text",
				       slot->field, YDOC_MAX_EXPANDED / (1024 * 1024));
			errors++;
		} else {
			s.oom = true;
		}
	}
	if (s.oom)
		card_diags_add(diags, CARD_ERROR, card->file, card->line, card->col,
			       "out of memory");
	if (errors || s.oom) {
		slots_free(&s);
		return -1;
	}
	for (size_t i = 0; i < s.count; i++) {
		free(*s.items[i].ptr);
		*s.items[i].ptr = s.items[i].replacement;
		s.items[i].replacement = NULL;
	}
	slots_free(&s);
	return 0;
}

/* Values files. */

static void map_free(struct card_map *map)
{
	for (size_t i = 0; i < map->count; i++) {
		free(map->items[i].key);
		free(map->items[i].value);
	}
	free(map->items);
	memset(map, 0, sizeof(*map));
}

void card_values_free(struct card_values *values)
{
	map_free(&values->paths);
	map_free(&values->generated);
	map_free(&values->secrets);
}

/* Appends key -> value (key copied, value taken over, freed on failure). */
static int map_put(struct card_map *map, const char *key, char *value, const struct ynode *at)
{
	struct card_kv *items = realloc(map->items, (map->count + 1) * sizeof(*items));
	if (!items) {
		free(value);
		return -1;
	}
	map->items = items;
	char *k = strdup(key);
	if (!k) {
		free(value);
		return -1;
	}
	items[map->count++] =
	    (struct card_kv){.key = k, .value = value, .line = at->line, .col = at->col};
	return 0;
}

/* Reads one section (a mapping of scalars) into map. `field` prefixes messages ("required.").
 * generated: values are made absolute against root. Returns the errors added. */
static int load_section(const struct ynode *node, const char *field, const char *file,
			const char *root, bool generated, struct card_map *map,
			struct card_diags *diags)
{
	if (!node || ynode_is_null(node))
		return 0;
	if (node->kind != YNODE_MAP) {
		card_diags_add(diags, CARD_ERROR, file, node->line, node->col,
			       "%s: expected a mapping, got %s", field, ynode_describe(node));
		return 1;
	}
	int errors = 0;
	for (size_t i = 0; i < node->count; i++) {
		const struct ynode *key = node->keys[i], *value = node->values[i];
		const char *name = key->kind == YNODE_SCALAR ? key->text : "?";
		if (key->kind != YNODE_SCALAR || value->kind != YNODE_SCALAR) {
			card_diags_add(diags, CARD_ERROR, file, value->line, value->col,
				       "%s%s%s: expected a scalar value, got %s", field,
				       *field ? "." : "", name, ynode_describe(value));
			errors++;
			continue;
		}
		/* Any scalar counts by its text (port: 5432 is "5432"); null is empty. */
		const char *text = value->type == YS_NULL ? "" : value->text;
		if (generated && !*text) {
			card_diags_add(diags, CARD_ERROR, file, value->line, value->col,
				       "%s.%s: generated path is empty", field, name);
			errors++;
			continue;
		}
		char *copy = generated ? card_path_join(root, text) : strdup(text);
		if (!copy || map_put(map, name, copy, value) < 0) {
			card_diags_add(diags, CARD_ERROR, file, value->line, value->col,
				       "out of memory");
			errors++;
		}
	}
	return errors;
}

/* Whether the file uses sections (required:, generated:) rather than the flat legacy form. */
static bool structured(const struct ynode *doc, bool with_generated)
{
	const struct ynode *required = ynode_get(doc, "required");
	const struct ynode *generated = with_generated ? ynode_get(doc, "generated") : NULL;
	return (required && (required->kind == YNODE_MAP || ynode_is_null(required))) ||
	       (generated && (generated->kind == YNODE_MAP || ynode_is_null(generated)));
}

/* Loads <cutip_dir>/<name>; a missing file defines nothing. Returns the errors added. */
static int load_values_file(const char *cutip_dir, const char *name, const char *root,
			    struct card_map *required, struct card_map *generated, bool *have,
			    struct card_diags *diags)
{
	char *file = NULL;
	if (asprintf(&file, "%s/%s", cutip_dir, name) < 0)
		return 1;
	struct stat st;
	*have = stat(file, &st) == 0;
	if (!*have && errno == ENOENT) {
		free(file);
		return 0;
	}
	struct ynode *doc = NULL;
	int errors = 0;
	if (ydoc_load_file(file, &doc, diags) < 0) {
		errors = 1;
	} else if (ynode_is_null(doc)) {
		/* An empty file: nothing defined. */
	} else if (doc->kind != YNODE_MAP) {
		card_diags_add(diags, CARD_ERROR, file, doc->line, doc->col,
			       "Expected a YAML mapping at the top level");
		errors = 1;
	} else if (structured(doc, generated != NULL)) {
		errors += load_section(ynode_get(doc, "required"), "required", file, root, false,
				       required, diags);
		if (generated)
			errors += load_section(ynode_get(doc, "generated"), "generated", file, root,
					       true, generated, diags);
	} else {
		errors += load_section(doc, "", file, root, false, required, diags);
	}
	ynode_free(doc);
	free(file);
	return errors;
}

int card_values_load(struct card_values *values, const char *cutip_dir, const char *root,
		     struct card_diags *diags)
{
	memset(values, 0, sizeof(*values));
	int errors = load_values_file(cutip_dir, "paths.yaml", root, &values->paths,
				      &values->generated, &values->have_paths, diags);
	errors += load_values_file(cutip_dir, "secrets.yaml", root, &values->secrets, NULL,
				   &values->have_secrets, diags);
	return errors ? -1 : 0;
}
