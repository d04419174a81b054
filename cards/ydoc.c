/* YAML loading: libyaml events -> a tree of ynodes with marks, as PyYAML's safe_load would
 * see the document, with hard bounds on everything an attacker controls. */
#include "ydoc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#define TAG_PREFIX "tag:yaml.org,2002:"

struct anchor {
	char *name;
	struct ynode *node;
};

struct builder {
	yaml_parser_t parser;
	const char *file;
	struct card_diags *diags;
	struct anchor *anchors;
	size_t anchor_count;
	size_t nodes; /* nodes so far, aliases counted as their expansion */
	size_t bytes; /* scalar bytes so far, counted the same way */
	int depth;
	bool failed;
	struct ynode *merge_key; /* the last plain `<<` scalar parsed, if any */
};

/* ---- YAML 1.1 implicit typing of plain scalars (PyYAML's resolver.py) ---- */

static const char *const resolver_patterns[] = {
	[YS_NULL] = "^(~|null|Null|NULL|)$",
	[YS_BOOL] = "^(yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
	[YS_INT] = "^([-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
		   "|[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+)$",
	[YS_FLOAT] = "^([-+]?([0-9][0-9_]*)\\.[0-9_]*([eE][-+][0-9]+)?|\\.[0-9][0-9_]*([eE][-+][0-"
		     "9]+)?|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\\.[0-9_]*|[-+]?\\.(inf|Inf|INF)|\\.(nan|"
		     "NaN|NAN))$",
	[YS_TIMESTAMP] = "^([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt]|[ "
			 "\t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(\\.[0-9]*)?([ \t]*(Z|[-+][0-9]{1,2}(:["
			 "0-9]{2})?))?)$",
};

static regex_t resolvers[YS_TIMESTAMP + 1];
static bool resolvers_ok;
static pthread_once_t resolvers_once = PTHREAD_ONCE_INIT;

static void resolvers_compile(void)
{
	resolvers_ok = true;
	for (int t = YS_NULL; t <= YS_TIMESTAMP; t++)
		if (regcomp(&resolvers[t], resolver_patterns[t], REG_EXTENDED | REG_NOSUB) != 0)
			resolvers_ok = false;
}

static enum yscalar_type resolve_plain(const char *text)
{
	pthread_once(&resolvers_once, resolvers_compile);
	if (!resolvers_ok)
		return YS_STR;
	for (int t = YS_NULL; t <= YS_TIMESTAMP; t++)
		if (regexec(&resolvers[t], text, 0, NULL, 0) == 0)
			return (enum yscalar_type)t;
	return YS_STR;
}

/* ---- errors ---- */

__attribute__((format(printf, 4, 5))) static void fail(struct builder *b, int line, int col,
						       const char *fmt, ...)
{
	if (b->failed)
		return; /* the first problem is the one worth reading */
	b->failed = true;
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	card_diags_add(b->diags, CARD_ERROR, b->file, line, col, "%s", msg ? msg : "out of memory");
	free(msg);
}

static void fail_parser(struct builder *b)
{
	yaml_parser_t *p = &b->parser;
	yaml_mark_t mark = p->problem ? p->problem_mark : p->context_mark;
	if (p->error == YAML_MEMORY_ERROR) {
		fail(b, 0, 0, "out of memory");
		return;
	}
	if (p->context)
		fail(b, (int)mark.line + 1, (int)mark.column + 1, "YAML syntax error: %s: %s",
		     p->context, p->problem ? p->problem : "error");
	else
		fail(b, (int)mark.line + 1, (int)mark.column + 1, "YAML syntax error: %s",
		     p->problem ? p->problem : "error");
}

/* ---- nodes ---- */

/* Counts what an alias or a merge adds to the document as if expanded; false, with the error,
 * once that passes YDOC_MAX_NODES or YDOC_MAX_EXPANDED. */
static bool expand(struct builder *b, size_t nodes, size_t bytes, int line, int col)
{
	b->nodes += nodes;
	b->bytes += bytes;
	if (b->nodes > YDOC_MAX_NODES) {
		fail(b, line, col, "document expands past %d nodes through aliases",
		     YDOC_MAX_NODES);
		return false;
	}
	if (b->bytes > YDOC_MAX_EXPANDED) {
		fail(b, line, col, "document expands past %d MiB of text through aliases",
		     YDOC_MAX_EXPANDED / (1024 * 1024));
		return false;
	}
	return true;
}

static struct ynode *node_new(struct builder *b, enum ynode_kind kind, const yaml_mark_t *mark)
{
	if (++b->nodes > YDOC_MAX_NODES) {
		fail(b, (int)mark->line + 1, (int)mark->column + 1,
		     "document has more than %d nodes", YDOC_MAX_NODES);
		return NULL;
	}
	struct ynode *n = calloc(1, sizeof(*n));
	if (!n) {
		fail(b, 0, 0, "out of memory");
		return NULL;
	}
	n->kind = kind;
	n->line = (int)mark->line + 1;
	n->col = (int)mark->column + 1;
	n->refs = 1;
	n->weight = 1;
	return n;
}

void ynode_free(struct ynode *n)
{
	if (!n || --n->refs > 0)
		return;
	for (size_t i = 0; i < n->count; i++) {
		if (n->keys)
			ynode_free(n->keys[i]);
		ynode_free(n->values[i]);
	}
	free(n->keys);
	free(n->values);
	free(n->text);
	free(n);
}

static int node_append(struct ynode *n, struct ynode *key, struct ynode *value)
{
	/* Nodes are bounded by YDOC_MAX_NODES, so growing one at a time by doubling is fine. */
	if ((n->count & (n->count - 1)) == 0) {
		size_t cap = n->count ? n->count * 2 : 4;
		struct ynode **values = realloc(n->values, cap * sizeof(*values));
		if (!values)
			return -1;
		n->values = values;
		if (n->kind == YNODE_MAP) {
			struct ynode **keys = realloc(n->keys, cap * sizeof(*keys));
			if (!keys)
				return -1;
			n->keys = keys;
		}
	}
	if (n->kind == YNODE_MAP)
		n->keys[n->count] = key;
	n->values[n->count++] = value;
	n->weight += value->weight + (key ? key->weight : 0);
	n->bytes += value->bytes + (key ? key->bytes : 0);
	return 0;
}

static bool scalar_equal(const struct ynode *a, const struct ynode *b)
{
	return a->kind == YNODE_SCALAR && b->kind == YNODE_SCALAR && a->type == b->type &&
	       a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
}

static ssize_t map_index(const struct ynode *map, const struct ynode *key)
{
	for (size_t i = 0; i < map->count; i++)
		if (scalar_equal(map->keys[i], key))
			return (ssize_t)i;
	return -1;
}

static void anchor_register(struct builder *b, const yaml_char_t *name, struct ynode *node)
{
	if (!name)
		return;
	struct anchor *a = realloc(b->anchors, (b->anchor_count + 1) * sizeof(*a));
	if (!a) {
		fail(b, 0, 0, "out of memory");
		return;
	}
	b->anchors = a;
	a[b->anchor_count].name = strdup((const char *)name);
	a[b->anchor_count].node = node;
	node->refs++;
	b->anchor_count++;
}

static struct ynode *anchor_find(struct builder *b, const char *name)
{
	/* The newest definition wins: YAML allows an anchor to be redefined. */
	for (size_t i = b->anchor_count; i-- > 0;)
		if (b->anchors[i].name && strcmp(b->anchors[i].name, name) == 0)
			return b->anchors[i].node;
	return NULL;
}

/* A scalar's type from its explicit tag, or from its text when plain and untagged. */
static int scalar_type(struct builder *b, const yaml_event_t *ev, enum yscalar_type *type)
{
	const char *tag = (const char *)ev->data.scalar.tag;
	if (!tag || strcmp(tag, "!") == 0) {
		*type = ev->data.scalar.plain_implicit && !tag ? resolve_plain((char *)ev->data.scalar.value)
							       : YS_STR;
		return 0;
	}
	static const struct {
		const char *name;
		enum yscalar_type type;
	} tags[] = {{"str", YS_STR},	 {"null", YS_NULL},   {"bool", YS_BOOL},
		    {"int", YS_INT},	 {"float", YS_FLOAT}, {"timestamp", YS_TIMESTAMP}};
	if (strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) == 0)
		for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
			if (strcmp(tag + strlen(TAG_PREFIX), tags[i].name) == 0) {
				*type = tags[i].type;
				return 0;
			}
	fail(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
	     "YAML syntax error: could not determine a constructor for the tag '%s'", tag);
	return -1;
}

static bool collection_tag_ok(struct builder *b, const yaml_char_t *tag, const char *expected,
			      const yaml_mark_t *mark)
{
	if (!tag || strcmp((const char *)tag, "!") == 0)
		return true;
	if (strncmp((const char *)tag, TAG_PREFIX, strlen(TAG_PREFIX)) == 0 &&
	    strcmp((const char *)tag + strlen(TAG_PREFIX), expected) == 0)
		return true;
	fail(b, (int)mark->line + 1, (int)mark->column + 1,
	     "YAML syntax error: could not determine a constructor for the tag '%s'",
	     (const char *)tag);
	return false;
}

static struct ynode *parse_node(struct builder *b, yaml_event_t *ev);

static bool next_event(struct builder *b, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&b->parser, ev)) {
		fail_parser(b);
		return false;
	}
	return true;
}

/* Sets map[key] = value: a repeated key keeps its first position and takes the last value,
 * as a Python dict does, with a warning (CUTIP would drop the first one silently). */
static int map_set(struct builder *b, struct ynode *map, struct ynode *key, struct ynode *value,
		   bool warn)
{
	ssize_t i = map_index(map, key);
	if (i < 0)
		return node_append(map, key, value);
	if (warn)
		card_diags_add(b->diags, CARD_WARNING, b->file, key->line, key->col,
			       "duplicate key '%s': the last one wins", key->text);
	map->weight += value->weight;
	map->weight -= map->values[i]->weight;
	map->bytes += value->bytes;
	map->bytes -= map->values[i]->bytes;
	ynode_free(map->values[i]);
	ynode_free(key);
	map->values[i] = value;
	return 0;
}

/* Adds the pairs of a merge source (`<<: *base` or `<<: [*a, *b]`) that `map` lacks: in
 * PyYAML earlier sources win over later ones, and the mapping's own keys over all of them. */
static int merge_from(struct builder *b, struct ynode *map, const struct ynode *src)
{
	if (src->kind == YNODE_SEQ) {
		for (size_t i = 0; i < src->count; i++) {
			if (src->values[i]->kind != YNODE_MAP)
				goto bad;
			if (merge_from(b, map, src->values[i]) < 0)
				return -1;
		}
		return 0;
	}
	if (src->kind != YNODE_MAP)
		goto bad;
	for (size_t i = 0; i < src->count; i++) {
		if (map_index(map, src->keys[i]) >= 0)
			continue;
		src->keys[i]->refs++;
		src->values[i]->refs++;
		if (node_append(map, src->keys[i], src->values[i]) < 0)
			return -1;
	}
	return 0;
bad:
	fail(b, src->line, src->col,
	     "YAML syntax error: while constructing a mapping: expected a mapping or list of "
	     "mappings for merging");
	return -1;
}

/* Rebuilds map with the merged pairs first and its own pairs after, overriding them. Takes
 * map: freed whether the merge succeeds or not. */
static struct ynode *apply_merges(struct builder *b, struct ynode *map, struct ynode **sources,
				  size_t source_count)
{
	struct ynode *result = calloc(1, sizeof(*result));
	if (!result) {
		fail(b, 0, 0, "out of memory");
		ynode_free(map);
		return NULL;
	}
	*result = (struct ynode){.kind = YNODE_MAP, .line = map->line, .col = map->col,
				 .refs = 1, .weight = 1};
	for (size_t i = 0; i < source_count; i++)
		if (merge_from(b, result, sources[i]) < 0)
			goto err;
	for (size_t i = 0; i < map->count; i++) {
		map->keys[i]->refs++;
		map->values[i]->refs++;
		if (map_set(b, result, map->keys[i], map->values[i], false) < 0)
			goto err;
	}
	if (!expand(b, result->weight > map->weight ? result->weight - map->weight : 0,
		    result->bytes > map->bytes ? result->bytes - map->bytes : 0, map->line,
		    map->col))
		goto err;
	ynode_free(map);
	return result;
err:
	ynode_free(result);
	ynode_free(map);
	return NULL;
}

static struct ynode *parse_mapping(struct builder *b, yaml_event_t *start)
{
	if (!collection_tag_ok(b, start->data.mapping_start.tag, "map", &start->start_mark))
		return NULL;
	struct ynode *map = node_new(b, YNODE_MAP, &start->start_mark);
	struct ynode *sources[8]; /* merge sources, applied once the mapping is complete */
	size_t source_count = 0;
	if (!map)
		return NULL;
	for (;;) {
		yaml_event_t ev;
		if (!next_event(b, &ev))
			goto err;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		b->merge_key = NULL;
		struct ynode *key = parse_node(b, &ev);
		bool is_merge = key && key == b->merge_key;
		yaml_event_delete(&ev);
		if (!key)
			goto err;
		if (!next_event(b, &ev)) {
			ynode_free(key);
			goto err;
		}
		struct ynode *value = parse_node(b, &ev);
		yaml_event_delete(&ev);
		if (!value) {
			ynode_free(key);
			goto err;
		}
		if (key->kind != YNODE_SCALAR) {
			fail(b, key->line, key->col,
			     "YAML syntax error: while constructing a mapping: found unhashable key");
			ynode_free(key);
			ynode_free(value);
			goto err;
		}
		/* Only a plain, untagged `<<` is a merge key; a quoted "<<" is an ordinary key. */
		if (is_merge) {
			bool mergeable = value->kind == YNODE_MAP || value->kind == YNODE_SEQ;
			for (size_t i = 0; value->kind == YNODE_SEQ && i < value->count; i++)
				mergeable = mergeable && value->values[i]->kind == YNODE_MAP;
			if (!mergeable) {
				/* point at the `<<`: an alias's own mark is where its anchor was */
				fail(b, key->line, key->col,
				     "YAML syntax error: while constructing a mapping: expected a "
				     "mapping or list of mappings for merging");
				ynode_free(key);
				ynode_free(value);
				goto err;
			}
			ynode_free(key);
			if (source_count == sizeof(sources) / sizeof(sources[0])) {
				fail(b, value->line, value->col, "too many merge keys in one mapping");
				ynode_free(value);
				goto err;
			}
			sources[source_count++] = value;
			continue;
		}
		if (map_set(b, map, key, value, true) < 0)
			goto err;
	}
	if (source_count) {
		struct ynode *merged = apply_merges(b, map, sources, source_count);
		map = NULL;
		if (!merged)
			goto err;
		map = merged;
	}
	for (size_t i = 0; i < source_count; i++)
		ynode_free(sources[i]);
	return map;
err:
	for (size_t i = 0; i < source_count; i++)
		ynode_free(sources[i]);
	ynode_free(map);
	return NULL;
}

static struct ynode *parse_sequence(struct builder *b, yaml_event_t *start)
{
	if (!collection_tag_ok(b, start->data.sequence_start.tag, "seq", &start->start_mark))
		return NULL;
	struct ynode *seq = node_new(b, YNODE_SEQ, &start->start_mark);
	if (!seq)
		return NULL;
	for (;;) {
		yaml_event_t ev;
		if (!next_event(b, &ev))
			goto err;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return seq;
		}
		struct ynode *item = parse_node(b, &ev);
		yaml_event_delete(&ev);
		if (!item || node_append(seq, NULL, item) < 0) {
			ynode_free(item);
			goto err;
		}
	}
err:
	ynode_free(seq);
	return NULL;
}

static struct ynode *parse_scalar(struct builder *b, yaml_event_t *ev)
{
	enum yscalar_type type;
	if (scalar_type(b, ev, &type) < 0)
		return NULL;
	struct ynode *n = node_new(b, YNODE_SCALAR, &ev->start_mark);
	if (!n)
		return NULL;
	n->len = ev->data.scalar.length;
	n->text = malloc(n->len + 1);
	if (!n->text) {
		ynode_free(n);
		fail(b, 0, 0, "out of memory");
		return NULL;
	}
	memcpy(n->text, ev->data.scalar.value, n->len);
	n->text[n->len] = '\0';
	n->bytes = n->len;
	b->bytes += n->len; /* at most the file's size: no bound to check */
	n->type = type;
	if (ev->data.scalar.plain_implicit && !ev->data.scalar.tag && strcmp(n->text, "<<") == 0)
		b->merge_key = n;
	return n;
}

static struct ynode *parse_node(struct builder *b, yaml_event_t *ev)
{
	struct ynode *n = NULL;
	const yaml_char_t *anchor = NULL;
	switch (ev->type) {
	case YAML_ALIAS_EVENT: {
		n = anchor_find(b, (const char *)ev->data.alias.anchor);
		if (!n) {
			fail(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
			     "YAML syntax error: found undefined alias '%s'",
			     (const char *)ev->data.alias.anchor);
			return NULL;
		}
		if (!expand(b, n->weight, n->bytes, (int)ev->start_mark.line + 1,
			    (int)ev->start_mark.column + 1))
			return NULL;
		n->refs++;
		return n;
	}
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		n = parse_scalar(b, ev);
		break;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		if (++b->depth > YDOC_MAX_DEPTH) {
			fail(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
			     "document nests deeper than %d levels", YDOC_MAX_DEPTH);
			return NULL;
		}
		if (ev->type == YAML_MAPPING_START_EVENT) {
			anchor = ev->data.mapping_start.anchor;
			n = parse_mapping(b, ev);
		} else {
			anchor = ev->data.sequence_start.anchor;
			n = parse_sequence(b, ev);
		}
		b->depth--;
		break;
	default:
		fail(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
		     "YAML syntax error: unexpected event");
		return NULL;
	}
	/* Registered only once complete, so an alias can never point into its own anchor. */
	if (n && anchor)
		anchor_register(b, anchor, n);
	return n;
}

/* ---- input checks that libyaml would report less clearly, or not at all ---- */

static void position_of(const char *buf, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)buf[i] & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0 when it is not one. */
static size_t utf8_sequence(const unsigned char *p, size_t n)
{
	if (p[0] < 0x80)
		return 1;
	size_t len;
	uint32_t cp;
	if ((p[0] & 0xE0) == 0xC0) {
		len = 2;
		cp = p[0] & 0x1F;
	} else if ((p[0] & 0xF0) == 0xE0) {
		len = 3;
		cp = p[0] & 0x0F;
	} else if ((p[0] & 0xF8) == 0xF0) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	static const uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

static int check_bytes(const char *buf, size_t len, const char *file, struct card_diags *diags)
{
	if (len > YDOC_MAX_BYTES) {
		card_diags_add(diags, CARD_ERROR, file, 1, 1,
			       "file is larger than 1 MiB (%zu bytes); a card is refused", len);
		return -1;
	}
	const char *nul = memchr(buf, '\0', len);
	if (nul) {
		int line, col;
		position_of(buf, (size_t)(nul - buf), &line, &col);
		card_diags_add(diags, CARD_ERROR, file, line, col,
			       "file contains a NUL byte; a card is UTF-8 text");
		return -1;
	}
	for (size_t i = 0; i < len;) {
		size_t n = utf8_sequence((const unsigned char *)buf + i, len - i);
		if (n == 0) {
			int line, col;
			position_of(buf, i, &line, &col);
			card_diags_add(diags, CARD_ERROR, file, line, col,
				       "invalid UTF-8 (byte 0x%02x); a card is UTF-8 text",
				       (unsigned char)buf[i]);
			return -1;
		}
		i += n;
	}
	return 0;
}

/* ---- entry points ---- */

static void builder_free(struct builder *b)
{
	for (size_t i = 0; i < b->anchor_count; i++) {
		free(b->anchors[i].name);
		ynode_free(b->anchors[i].node);
	}
	free(b->anchors);
	yaml_parser_delete(&b->parser);
}

static struct ynode *empty_document(const yaml_mark_t *mark)
{
	struct ynode *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->kind = YNODE_SCALAR;
	n->type = YS_NULL;
	n->text = strdup("");
	n->line = (int)mark->line + 1;
	n->col = (int)mark->column + 1;
	n->refs = 1;
	n->weight = 1;
	return n;
}

/* Walks stream start, one document, stream end. */
static struct ynode *parse_stream(struct builder *b)
{
	yaml_event_t ev;
	struct ynode *root = NULL;
	if (!next_event(b, &ev))
		return NULL;
	yaml_event_delete(&ev); /* STREAM-START */
	if (!next_event(b, &ev))
		return NULL;
	if (ev.type == YAML_STREAM_END_EVENT) {
		root = empty_document(&ev.start_mark);
		yaml_event_delete(&ev);
		return root;
	}
	yaml_event_delete(&ev); /* DOCUMENT-START */
	if (!next_event(b, &ev))
		return NULL;
	root = parse_node(b, &ev);
	yaml_event_delete(&ev);
	if (!root)
		return NULL;
	if (!next_event(b, &ev)) /* DOCUMENT-END */
		goto err;
	yaml_event_delete(&ev);
	if (!next_event(b, &ev))
		goto err;
	if (ev.type == YAML_DOCUMENT_START_EVENT) {
		fail(b, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
		     "YAML syntax error: expected a single document in the stream, but found "
		     "another document (one card per file)");
		yaml_event_delete(&ev);
		goto err;
	}
	yaml_event_delete(&ev);
	return root;
err:
	ynode_free(root);
	return NULL;
}

int ydoc_load(const char *buf, size_t len, const char *file, struct ynode **root,
	      struct card_diags *diags)
{
	*root = NULL;
	if (check_bytes(buf, len, file, diags) < 0)
		return -1;
	struct builder b = {.file = file, .diags = diags};
	if (!yaml_parser_initialize(&b.parser)) {
		card_diags_add(diags, CARD_ERROR, file, 0, 0, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&b.parser, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&b.parser, YAML_UTF8_ENCODING);
	struct ynode *doc = parse_stream(&b);
	builder_free(&b);
	if (!doc) {
		if (!b.failed)
			card_diags_add(diags, CARD_ERROR, file, 0, 0, "YAML syntax error");
		return -1;
	}
	*root = doc;
	return 0;
}

int ydoc_load_file(const char *path, struct ynode **root, struct card_diags *diags)
{
	*root = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		card_diags_add(diags, CARD_ERROR, path, 0, 0, "%s", strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		card_diags_add(diags, CARD_ERROR, path, 0, 0, "not a regular file");
		close(fd);
		return -1;
	}
	/* Read at most one byte past the limit: enough to know it is too large, whatever
	 * st_size says (it may be growing, or a /proc-like file). */
	size_t cap = YDOC_MAX_BYTES + 1, len = 0;
	char *buf = malloc(cap);
	if (!buf) {
		close(fd);
		card_diags_add(diags, CARD_ERROR, path, 0, 0, "out of memory");
		return -1;
	}
	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			card_diags_add(diags, CARD_ERROR, path, 0, 0, "%s", strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	int rc = ydoc_load(buf, len, path, root, diags);
	free(buf);
	return rc;
}

const struct ynode *ynode_get(const struct ynode *map, const char *key)
{
	if (!map || map->kind != YNODE_MAP)
		return NULL;
	for (size_t i = 0; i < map->count; i++) {
		const struct ynode *k = map->keys[i];
		if (k->type == YS_STR && strcmp(k->text, key) == 0)
			return map->values[i];
	}
	return NULL;
}

bool ynode_is_null(const struct ynode *node)
{
	return node && node->kind == YNODE_SCALAR && node->type == YS_NULL;
}

const char *ynode_describe(const struct ynode *node)
{
	if (node->kind == YNODE_MAP)
		return "a mapping";
	if (node->kind == YNODE_SEQ)
		return "a list";
	switch (node->type) {
	case YS_NULL:
		return "null";
	case YS_BOOL:
		return "a boolean";
	case YS_INT:
		return "an integer";
	case YS_FLOAT:
		return "a number";
	case YS_TIMESTAMP:
		return "a date";
	default:
		return "a string";
	}
}
