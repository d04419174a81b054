/* The card registry, CUTIP's ref resolution (resolver/refs.py) and its GraphValidator
 * (validation/graph.py), with their messages kept word for word. */
#include "registry.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* The prefixes CUTIP's resolver knows, in the order its message lists them. There is no
 * "groups" prefix: nothing refers to a group. */
static const struct {
	const char *prefix;
	enum card_kind kind;
} ref_prefixes[] = {
    {"images", CARD_IMAGE},   {"containers", CARD_CONTAINER}, {"networks", CARD_NETWORK},
    {"volumes", CARD_VOLUME}, {"units", CARD_UNIT},
};

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* Whether card's ref ("<prefix>/<name>") equals ref, without building the string. */
static bool card_has_ref(const struct card *card, const char *ref)
{
	const char *prefix = card_kind_prefix(card->kind);
	size_t n = strlen(prefix);
	return card->name.s && strncmp(ref, prefix, n) == 0 && ref[n] == '/' &&
	       strcmp(ref + n + 1, card->name.s) == 0;
}

static ssize_t registry_index(const struct card_registry *reg, const struct card *card)
{
	for (size_t i = 0; i < reg->count; i++)
		if (reg->cards[i] == card)
			return (ssize_t)i;
	return -1;
}

static ssize_t registry_index_of_ref(const struct card_registry *reg, const char *ref)
{
	for (size_t i = 0; i < reg->count; i++)
		if (card_has_ref(reg->cards[i], ref))
			return (ssize_t)i;
	return -1;
}

struct card *card_registry_find(const struct card_registry *reg, const char *ref)
{
	ssize_t i = ref ? registry_index_of_ref(reg, ref) : -1;
	return i < 0 ? NULL : reg->cards[i];
}

struct card *card_registry_find_file(const struct card_registry *reg, const char *file)
{
	for (size_t i = 0; file && i < reg->count; i++)
		if (reg->cards[i]->file && strcmp(reg->cards[i]->file, file) == 0)
			return reg->cards[i];
	return NULL;
}

/* CUTIP keeps units and groups in their own tables, keyed by name, and says so. */
static void report_duplicate(const struct card *old, const struct card *card,
			     struct card_diags *diags)
{
	const char *in = old->file ? " in " : "";
	const char *where = old->file ? old->file : "";
	int line = card->name.line, col = card->name.col;
	struct card_diag *d;
	if (card->kind == CARD_UNIT || card->kind == CARD_GROUP)
		d = card_diags_add(diags, CARD_ERROR, card->file, line, col,
				   "Duplicate %s name '%s' (already registered)%s%s",
				   card_kind_name(card->kind), card->name.s, in, where);
	else
		d = card_diags_add(diags, CARD_ERROR, card->file, line, col,
				   "Duplicate card ref '%s/%s' (already registered)%s%s",
				   card_kind_prefix(card->kind), card->name.s, in, where);
	card_diag_label(d, "duplicate-name", "metadata.name");
}

int card_registry_add(struct card_registry *reg, struct card *card, struct card_diags *diags)
{
	for (size_t i = 0; i < reg->count; i++) {
		const struct card *old = reg->cards[i];
		if (old->kind == card->kind && old->name.s && card->name.s &&
		    strcmp(old->name.s, card->name.s) == 0) {
			report_duplicate(old, card, diags);
			card_free(card);
			return -1;
		}
	}
	if (reg->count == reg->capacity) {
		size_t capacity = reg->capacity ? reg->capacity * 2 : 16;
		struct card **cards = realloc(reg->cards, capacity * sizeof(*cards));
		if (!cards) {
			card_diags_add(diags, CARD_ERROR, card->file, card->line, card->col,
				       "out of memory");
			card_free(card);
			return -1;
		}
		reg->cards = cards;
		reg->capacity = capacity;
	}
	reg->cards[reg->count++] = card;
	return 0;
}

struct card *card_registry_take(struct card_registry *reg, const char *ref)
{
	ssize_t i = ref ? registry_index_of_ref(reg, ref) : -1;
	if (i < 0)
		return NULL;
	struct card *card = reg->cards[i];
	/* Keep the rest in discovery order: validation reports follow it. */
	memmove(&reg->cards[i], &reg->cards[i + 1], (reg->count - (size_t)i - 1) * sizeof(card));
	reg->count--;
	return card;
}

void card_registry_free(struct card_registry *reg)
{
	for (size_t i = 0; i < reg->count; i++)
		card_free(reg->cards[i]);
	free(reg->cards);
	memset(reg, 0, sizeof(*reg));
}

/* Splits "<prefix>/<name>" on the first '/'. Returns the prefix length, or 0 (and *reason)
 * when either part is empty. */
static size_t ref_split(const char *ref, char **reason)
{
	const char *slash = ref ? strchr(ref, '/') : NULL;
	if (!slash || slash == ref || slash[1] == '\0') {
		*reason = xasprintf("ref must be in the format '<kind>/<name>'");
		return 0;
	}
	return (size_t)(slash - ref);
}

struct card *card_resolve(const struct card_registry *reg, const char *ref, enum card_kind expected,
			  char **reason)
{
	*reason = NULL;
	size_t n = ref_split(ref, reason);
	if (n == 0)
		return NULL;
	int kind = -1;
	for (size_t i = 0; i < sizeof(ref_prefixes) / sizeof(ref_prefixes[0]); i++)
		if (strlen(ref_prefixes[i].prefix) == n &&
		    strncmp(ref, ref_prefixes[i].prefix, n) == 0)
			kind = (int)ref_prefixes[i].kind;
	if (kind < 0) {
		*reason = xasprintf("Unknown ref prefix '%.*s'. Known: images, containers, "
				    "networks, volumes, units",
				    (int)n, ref);
		return NULL;
	}
	/* The whole ref is the key, so a name that holds a '/' still resolves, as in CUTIP. */
	struct card *card = card_registry_find(reg, ref);
	if (!card) {
		if (kind == CARD_UNIT)
			*reason = xasprintf("Unit '%s' not found in registry", ref + n + 1);
		else
			*reason = xasprintf("Card '%s' not found in registry", ref);
		return NULL;
	}
	if (expected != CARD_KIND_COUNT && card->kind != expected) {
		*reason = xasprintf("Expected %s but found %s", card_kind_name(expected),
				    card_kind_name(card->kind));
		return NULL;
	}
	return card;
}

/* CUTIP's resolve_unit: a group may only name units. */
static struct card *resolve_unit(const struct card_registry *reg, const char *ref, char **reason)
{
	*reason = NULL;
	size_t n = ref_split(ref, reason);
	if (n == 0)
		return NULL;
	if (n != strlen("units") || strncmp(ref, "units", n) != 0) {
		*reason = xasprintf("Expected a 'units/' ref, got prefix '%.*s'", (int)n, ref);
		return NULL;
	}
	return card_resolve(reg, ref, CARD_UNIT, reason);
}

/* One ref of a card; adds "<field>: <reason>" at the ref when it does not resolve. */
static size_t unresolved_ref(const struct card_registry *reg, const struct card *card,
			     const struct card_str *ref, enum card_kind expected, const char *field,
			     struct card_diags *diags)
{
	if (!ref->s)
		return 0;
	char *reason = NULL;
	struct card *target = expected == CARD_UNIT ? resolve_unit(reg, ref->s, &reason)
						    : card_resolve(reg, ref->s, expected, &reason);
	if (target)
		return 0;
	card_diag_label(card_diags_add(diags, CARD_ERROR, card->file, ref->line, ref->col, "%s: %s",
				       field, reason ? reason : "out of memory"),
			"ref-unresolved", field);
	free(reason);
	return 1;
}

size_t card_unresolved_refs(const struct card_registry *reg, const struct card *card,
			    struct card_diags *diags)
{
	size_t n = 0;
	switch (card->kind) {
	case CARD_CONTAINER:
		n += unresolved_ref(reg, card, &card->spec.container.image_ref, CARD_IMAGE,
				    "spec.imageRef", diags);
		n += unresolved_ref(reg, card, &card->spec.container.network_ref, CARD_NETWORK,
				    "spec.networkRef", diags);
		break;
	case CARD_UNIT:
		n += unresolved_ref(reg, card, &card->spec.unit.container_ref, CARD_CONTAINER,
				    "spec.containerRef", diags);
		break;
	case CARD_GROUP:
		for (size_t i = 0; i < card->spec.group.units.count; i++) {
			char field[48];
			snprintf(field, sizeof(field), "spec.units.%zu", i);
			n += unresolved_ref(reg, card, &card->spec.group.units.items[i], CARD_UNIT,
					    field, diags);
		}
		break;
	default:
		break;
	}
	return n;
}

char *card_path_join(const char *base, const char *path)
{
	char cwd[PATH_MAX] = "";
	bool need_cwd = path[0] != '/' && (!base || base[0] != '/');
	if (need_cwd && !getcwd(cwd, sizeof(cwd)))
		cwd[0] = '\0'; /* no working directory: the result stays relative */
	char *joined;
	if (path[0] == '/')
		joined = strdup(path);
	else
		joined = xasprintf("%s/%s/%s", need_cwd ? cwd : "", base ? base : "", path);
	if (!joined)
		return NULL;
	/* Drop empty and "." components in place; the result never grows. */
	char *out = joined, *w = joined;
	bool absolute = joined[0] == '/';
	for (char *part = joined; *part;) {
		size_t len = strcspn(part, "/");
		bool skip = len == 0 || (len == 1 && part[0] == '.');
		if (!skip) {
			if (w != out || absolute)
				*w++ = '/';
			memmove(w, part, len);
			w += len;
		}
		part += len;
		if (*part == '/')
			part++;
	}
	if (w == out && absolute)
		*w++ = '/';
	*w = '\0';
	return out;
}

/* The state of one validation pass. `checked` marks container cards whose refs were already
 * looked at, so a container named by two units (or by none) is reported once. */
struct validator {
	const struct card_registry *reg;
	const char *root;
	struct card_diags *diags;
	bool *checked;
	size_t errors;
};

/* A container card's imageRef or networkRef. `who` is "<unit> → <container>" as CUTIP writes
 * it, or just the container's name for one no unit names. */
static void validate_container_ref(struct validator *v, const struct card *container,
				   const char *who, const struct card_str *ref,
				   enum card_kind expected, const char *field)
{
	if (!ref->s)
		return;
	char *reason = NULL;
	if (card_resolve(v->reg, ref->s, expected, &reason))
		return;
	struct card_diag *d = card_diags_add(v->diags, CARD_ERROR, container->file, ref->line,
					     ref->col, "[CardResolve] %s: %s (%s: '%s')", who,
					     reason ? reason : "out of memory", field, ref->s);
	char path[32];
	snprintf(path, sizeof(path), "spec.%s", field);
	card_diag_label(d, "ref-unresolved", path);
	free(reason);
	v->errors++;
}

static void validate_container(struct validator *v, const struct card *container, const char *who)
{
	ssize_t i = registry_index(v->reg, container);
	if (i < 0 || v->checked[i])
		return;
	v->checked[i] = true;
	const struct card_container_spec *spec = &container->spec.container;
	validate_container_ref(v, container, who, &spec->image_ref, CARD_IMAGE, "imageRef");
	validate_container_ref(v, container, who, &spec->network_ref, CARD_NETWORK, "networkRef");
}

static void validate_unit(struct validator *v, const struct card *unit)
{
	const struct card_str *ref = &unit->spec.unit.container_ref;
	char *reason = NULL;
	const struct card *container =
	    card_resolve(v->reg, ref->s ? ref->s : "", CARD_CONTAINER, &reason);
	if (!container) {
		card_diag_label(card_diags_add(v->diags, CARD_ERROR, unit->file, ref->line,
					       ref->col, "[UnitResolve] %s: %s (ref: '%s')",
					       unit->name.s, reason ? reason : "out of memory",
					       ref->s ? ref->s : ""),
				"ref-unresolved", "spec.containerRef");
		free(reason);
		v->errors++;
		return;
	}
	char *who = xasprintf("%s → %s", unit->name.s, container->name.s);
	if (who)
		validate_container(v, container, who);
	free(who);
}

/* Where a node of the card's document is, for messages about fields the struct keeps no place
 * for; the document's own place when the key is absent (a default). */
static void spec_field_place(const struct card *card, const char *key, int *line, int *col)
{
	const struct ynode *node = ynode_get(ynode_get(card->doc, "spec"), key);
	*line = node ? node->line : card->line;
	*col = node ? node->col : card->col;
}

static bool path_exists(const char *path)
{
	struct stat st;
	return path && stat(path, &st) == 0;
}

/* The directory of a file path as given ("." for a bare name). */
static char *dir_of(const char *file)
{
	const char *slash = strrchr(file, '/');
	if (!slash)
		return strdup(".");
	if (slash == file)
		return strdup("/");
	return strndup(file, (size_t)(slash - file));
}

/* CUTIP looks next to the group file, else under root/cutip/groups/<group>/. The message
 * names the first place looked. */
static void validate_workflow(struct validator *v, const struct card *group)
{
	const char *workflow =
	    group->spec.group.workflow ? group->spec.group.workflow : "workflow.py";
	char *fallback_dir =
	    v->root ? xasprintf("%s/cutip/groups/%s", v->root, group->name.s) : NULL;
	char *dir = group->file ? dir_of(group->file) : NULL;
	char *primary = dir	       ? card_path_join(dir, workflow)
			: fallback_dir ? card_path_join(fallback_dir, workflow)
				       : NULL;
	char *fallback = dir && fallback_dir ? card_path_join(fallback_dir, workflow) : NULL;
	if (primary && !path_exists(primary) && !path_exists(fallback)) {
		int line, col;
		spec_field_place(group, "workflow", &line, &col);
		card_diag_label(card_diags_add(v->diags, CARD_ERROR, group->file, line, col,
					       "[WorkflowPath] %s: workflow file not found: '%s'",
					       group->name.s, primary),
				"workflow-missing", "spec.workflow");
		v->errors++;
	}
	free(fallback_dir);
	free(dir);
	free(primary);
	free(fallback);
}

static void validate_group(struct validator *v, const struct card *group)
{
	const struct card_list *units = &group->spec.group.units;
	for (size_t i = 0; i < units->count; i++) {
		const struct card_str *ref = &units->items[i];
		char *reason = NULL;
		if (resolve_unit(v->reg, ref->s ? ref->s : "", &reason))
			continue;
		struct card_diag *d =
		    card_diags_add(v->diags, CARD_ERROR, group->file, ref->line, ref->col,
				   "[GroupResolve] %s: %s (ref: '%s')", group->name.s,
				   reason ? reason : "out of memory", ref->s ? ref->s : "");
		char field[48];
		snprintf(field, sizeof(field), "spec.units.%zu", i);
		card_diag_label(d, "ref-unresolved", field);
		free(reason);
		v->errors++;
	}
	validate_workflow(v, group);
}

size_t card_registry_validate(const struct card_registry *reg, const char *root,
			      struct card_diags *diags)
{
	struct validator v = {.reg = reg, .root = root, .diags = diags};
	v.checked = calloc(reg->count ? reg->count : 1, sizeof(*v.checked));
	if (!v.checked) {
		card_diags_add(diags, CARD_ERROR, NULL, 0, 0, "out of memory");
		return 1;
	}
	/* CUTIP's order: units, then groups; then what cutipfs adds, the containers no unit
	 * reached. */
	for (size_t i = 0; i < reg->count; i++)
		if (reg->cards[i]->kind == CARD_UNIT)
			validate_unit(&v, reg->cards[i]);
	for (size_t i = 0; i < reg->count; i++)
		if (reg->cards[i]->kind == CARD_GROUP)
			validate_group(&v, reg->cards[i]);
	for (size_t i = 0; i < reg->count; i++)
		if (reg->cards[i]->kind == CARD_CONTAINER)
			validate_container(&v, reg->cards[i], reg->cards[i]->name.s);
	free(v.checked);
	return v.errors;
}
