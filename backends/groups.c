/* units/ and groups/: what a Unit or Group card names (its members), the word for the whole
 * and each member's line in status, the held marks of units taken down, and the change feed's
 * unit and group lines.
 *
 * A unit names one container card; a group names units in order. Nothing in the engine is a
 * unit's own: its state is its container's, read from the engine state (no request). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ws-int.h"

/* ---- members ---- */

struct ws_entry *ws_ref_entry_locked(struct workspace *ws, const char *ref, enum card_kind kind)
{
	char *reason = NULL;
	struct card *card = ref ? card_resolve(&ws->reg, ref, kind, &reason) : NULL;

	free(reason);
	return card ? ws_entry_for(ws, kind, card->name.s) : NULL;
}

/* A unit's member: the container card it names (lock held). */
static void unit_member(struct workspace *ws, struct ws_entry *u, struct ws_member *m)
{
	const char *ref = u->card->spec.unit.container_ref.s;

	m->uent = u;
	ws_fmt(m->unit, sizeof(m->unit), "%s", u->card->name.s);
	m->cent = ws_ref_entry_locked(ws, ref, CARD_CONTAINER);
	if (!m->cent)
		ws_fmt(m->missing, sizeof(m->missing), "%s", ref ? ref : "spec.containerRef");
}

int ws_group_members_locked(struct workspace *ws, enum ws_kind kind, const char *name,
			    struct ws_member **out)
{
	struct ws_entry *e = NULL;

	*out = NULL;
	if (name && (kind == WS_UNIT || kind == WS_GROUP))
		e = ws_entry_for(ws, kind == WS_UNIT ? CARD_UNIT : CARD_GROUP, name);
	if (!e || e->backup)
		return -ENOENT;
	size_t n = kind == WS_UNIT ? 1 : e->card->spec.group.units.count;
	struct ws_member *v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (kind == WS_UNIT) {
		unit_member(ws, e, &v[0]);
	} else {
		const struct card_list *units = &e->card->spec.group.units;
		for (size_t i = 0; i < n; i++) {
			const char *ref = units->items[i].s;
			struct ws_entry *u = ws_ref_entry_locked(ws, ref, CARD_UNIT);
			if (u) {
				unit_member(ws, u, &v[i]);
				continue;
			}
			const char *slash = ref ? strchr(ref, '/') : NULL;
			ws_fmt(v[i].unit, sizeof(v[i].unit), "%s",
			       slash ? slash + 1
			       : ref ? ref
				     : "");
			ws_fmt(v[i].missing, sizeof(v[i].missing), "%s", ref ? ref : "spec.units");
		}
	}
	*out = v;
	return (int)n;
}

/* ---- each member's state ---- */

struct view {
	char state[16];
	char reason[300];
	int exit_code;
	bool has_exit;
	enum ws_word_kind word;
};

/* Lock and slock held. */
static void view_of(struct workspace *ws, const struct ws_member *m, struct view *v)
{
	memset(v, 0, sizeof(*v));
	if (m->missing[0]) {
		ws_fmt(v->state, sizeof(v->state), "pending");
		ws_fmt(v->reason, sizeof(v->reason), "waits for %s", m->missing);
		v->word = WS_W_PENDING;
		return;
	}
	const struct ws_entry *c = m->cent;
	/* On a Swarm a container card makes a service: running when converged. */
	const struct ws_store *s = &ws->store[ws_swarm(ws) ? WS_SERVICE : WS_CONTAINER];
	const struct ws_sobj *so = ws_store_name((struct ws_store *)s, c->card->name.s);
	if (so) {
		ws_fmt(v->state, sizeof(v->state), "%s", so->state);
		v->has_exit = strcmp(so->state, "exited") == 0 || strcmp(so->state, "dead") == 0;
		v->exit_code = so->exit_code;
		if (strcmp(so->state, "running") == 0)
			v->word = WS_W_UP;
		else if (strcmp(so->state, "failed") == 0)
			v->word = WS_W_ERROR;
		else if (strcmp(so->state, "paused") == 0 || strcmp(so->state, "restarting") == 0 ||
			 ws_swarm(ws))
			v->word = WS_W_PARTIAL; /* a service converging or paused */
		else
			v->word = WS_W_DOWN;
		if (c->state == WS_ST_ERROR) {
			ws_fmt(v->reason, sizeof(v->reason), "%s", c->reason);
			v->word = WS_W_ERROR;
		}
		return;
	}
	bool held = m->uent && ws_down_locked(ws, m->unit);
	switch (c->state) {
	case WS_ST_ERROR:
		ws_fmt(v->state, sizeof(v->state), "error");
		ws_fmt(v->reason, sizeof(v->reason), "%s", c->reason);
		v->word = WS_W_ERROR;
		break;
	case WS_ST_PENDING:
		if (held && !c->engine_wait) {
			ws_fmt(v->state, sizeof(v->state), "absent");
			v->word = WS_W_DOWN;
			break;
		}
		ws_fmt(v->state, sizeof(v->state), "pending");
		ws_fmt(v->reason, sizeof(v->reason), "%s", c->reason);
		v->word = WS_W_PENDING;
		break;
	case WS_ST_APPLYING:
		ws_fmt(v->state, sizeof(v->state), "pending");
		ws_fmt(v->reason, sizeof(v->reason), "being made");
		v->word = WS_W_PENDING;
		break;
	default:
		/* Applied: not listed yet, or removed outside cutipfs since. */
		ws_fmt(v->state, sizeof(v->state), s->listed ? "error" : "unknown");
		if (s->listed)
			ws_fmt(v->reason, sizeof(v->reason),
			       "it is gone (removed outside cutipfs)");
		v->word = s->listed ? WS_W_ERROR : WS_W_PENDING;
		break;
	}
}

const char *ws_word_name(enum ws_word_kind word)
{
	static const char *const names[] = {"up", "down", "partial", "pending", "error"};
	return names[word];
}

/* The whole from its members: an error or a wait shows first; up or down only when all are. */
static enum ws_word_kind whole(const struct view *v, size_t n)
{
	size_t up = 0, down = 0;
	bool pending = false;

	for (size_t i = 0; i < n; i++) {
		if (v[i].word == WS_W_ERROR)
			return WS_W_ERROR;
		pending |= v[i].word == WS_W_PENDING;
		up += v[i].word == WS_W_UP;
		down += v[i].word == WS_W_DOWN;
	}
	if (pending)
		return WS_W_PENDING;
	if (up == n)
		return WS_W_UP;
	return down == n ? WS_W_DOWN : WS_W_PARTIAL;
}

/* Every member's view (lock and slock held): malloc'd, with the members. */
static int views_of(struct workspace *ws, enum ws_kind kind, const char *name,
		    struct ws_member **members, struct view **views)
{
	int n = ws_group_members_locked(ws, kind, name, members);

	*views = NULL;
	if (n < 0)
		return n;
	*views = calloc(n ? (size_t)n : 1, sizeof(**views));
	if (!*views) {
		free(*members);
		*members = NULL;
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++)
		view_of(ws, &(*members)[i], &(*views)[i]);
	return n;
}

int ws_group_word_locked(struct workspace *ws, enum ws_kind kind, const char *name,
			 enum ws_word_kind *word)
{
	struct ws_member *m;
	struct view *v;
	int n = views_of(ws, kind, name, &m, &v);

	if (n >= 0)
		*word = whole(v, (size_t)n);
	free(m);
	free(v);
	return n < 0 ? n : 0;
}

void ws_group_status_locked(struct workspace *ws, enum ws_kind kind, const char *name, FILE *f)
{
	struct ws_member *m;
	struct view *v;
	int n = views_of(ws, kind, name, &m, &v);

	for (int i = 0; i < n; i++) {
		char attrs[512] = "", code[16];
		if (v[i].has_exit) {
			ws_fmt(code, sizeof(code), "%d", v[i].exit_code);
			ws_attr(attrs, sizeof(attrs), "exit_code", code);
		}
		if (v[i].reason[0])
			ws_attr(attrs, sizeof(attrs), "reason", v[i].reason);
		/* A unit's line names its container, a group's its unit. */
		const char *who =
		    kind == WS_GROUP || !m[i].cent ? m[i].unit : m[i].cent->card->name.s;
		fprintf(f, "%s %s%s%s\n", who, v[i].state, attrs[0] ? " " : "", attrs);
	}
	free(m);
	free(v);
}

/* ---- held units ---- */

bool ws_down_locked(struct workspace *ws, const char *unit)
{
	for (size_t i = 0; i < ws->ndown; i++)
		if (strcmp(ws->down[i], unit) == 0)
			return true;
	return false;
}

bool ws_container_held_locked(struct workspace *ws, const struct card *container, char *why,
			      size_t whylen)
{
	const char *held = NULL;

	for (size_t i = 0; i < ws->reg.count; i++) {
		const struct card *u = ws->reg.cards[i];
		const char *ref = u->kind == CARD_UNIT ? u->spec.unit.container_ref.s : NULL;
		if (!ref || strncmp(ref, "containers/", 11) != 0 ||
		    strcmp(ref + 11, container->name.s) != 0)
			continue;
		if (!ws_down_locked(ws, u->name.s))
			return false; /* a unit that is up wants it */
		held = u->name.s;
	}
	if (held)
		ws_fmt(why, whylen, "held: unit %s is down (up in units/%s/ctl makes it)", held,
		       held);
	return held != NULL;
}

static char *mark_path(const struct workspace *ws, const char *unit)
{
	char *path = NULL;
	return asprintf(&path, "%s/.cutip/down%s%s", ws->root, unit ? "/" : "", unit ? unit : "") <
		       0
		   ? NULL
		   : path;
}

/* Lock held. */
static int down_add_locked(struct workspace *ws, const char *unit)
{
	if (ws_down_locked(ws, unit))
		return 0;
	if (ws->ndown == ws->capdown) {
		size_t cap = ws->capdown ? ws->capdown * 2 : 8;
		char **v = realloc(ws->down, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		ws->down = v;
		ws->capdown = cap;
	}
	if (!(ws->down[ws->ndown] = strdup(unit)))
		return -ENOMEM;
	ws->ndown++;
	ws_invalidate(ws);
	return 0;
}

static void down_drop_locked(struct workspace *ws, const char *unit)
{
	for (size_t i = 0; i < ws->ndown; i++)
		if (strcmp(ws->down[i], unit) == 0) {
			free(ws->down[i]);
			ws->down[i] = ws->down[--ws->ndown];
			ws_invalidate(ws);
			return;
		}
}

void ws_down_load(struct workspace *ws)
{
	char *dir = mark_path(ws, NULL);
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.') {
			pthread_mutex_lock(&ws->lock);
			if (down_add_locked(ws, de->d_name) < 0)
				ws_error_add(ws, "cannot keep unit %s down: out of memory",
					     de->d_name);
			pthread_mutex_unlock(&ws->lock);
		}
	if (d)
		closedir(d);
	free(dir);
}

int ws_down_set(struct workspace *ws, const char *unit, bool down)
{
	char *path = mark_path(ws, unit), *dir = mark_path(ws, NULL);
	int rc = path && dir ? 0 : -ENOMEM;

	/* On disk first: a mark that is only in memory would be lost by a remount. */
	if (rc == 0 && down && (rc = ws_mkdirs(dir)) == 0) {
		FILE *f = fopen(path, "w");
		if (!f || fclose(f) != 0)
			rc = -errno;
	} else if (rc == 0 && !down && unlink(path) < 0 && errno != ENOENT) {
		rc = -errno;
	}
	if (rc < 0)
		ws_error_add(ws, "units/%s: cannot keep its desired state in %s: %s", unit,
			     dir ? dir : "the workspace", strerror(-rc));
	pthread_mutex_lock(&ws->lock);
	if (rc == 0 && down)
		rc = down_add_locked(ws, unit);
	else if (rc == 0)
		down_drop_locked(ws, unit);
	pthread_mutex_unlock(&ws->lock);
	free(path);
	free(dir);
	return rc;
}

void ws_down_free(struct workspace *ws)
{
	for (size_t i = 0; i < ws->ndown; i++)
		free(ws->down[i]);
	free(ws->down);
	ws->down = NULL;
	ws->ndown = ws->capdown = 0;
	free(ws->words);
	ws->words = NULL;
	ws->nwords = 0;
}

/* ---- the change feed ---- */

/* The words of every unit and group now (lock and slock held): malloc'd. */
static struct ws_word *words_now(struct workspace *ws, size_t *count)
{
	struct ws_word *v = calloc(ws->nentries ? ws->nentries : 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; v && i < ws->nentries; i++) {
		const struct ws_entry *e = ws->entries[i];
		if (!e->card || e->backup ||
		    (e->card->kind != CARD_UNIT && e->card->kind != CARD_GROUP))
			continue;
		v[n].kind = e->card->kind == CARD_UNIT ? WS_UNIT : WS_GROUP;
		ws_fmt(v[n].name, sizeof(v[n].name), "%s", e->card->name.s);
		if (ws_group_word_locked(ws, v[n].kind, v[n].name, &v[n].word) == 0)
			n++;
	}
	*count = n;
	return v;
}

static const struct ws_word *word_find(const struct ws_word *v, size_t n, const struct ws_word *w)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].kind == w->kind && strcmp(v[i].name, w->name) == 0)
			return &v[i];
	return NULL;
}

void ws_groups_track(struct workspace *ws)
{
	size_t n;

	pthread_mutex_lock(&ws->lock);
	pthread_mutex_lock(&ws->slock);
	struct ws_word *now = words_now(ws, &n);
	pthread_mutex_unlock(&ws->slock);
	pthread_mutex_unlock(&ws->lock);
	if (!now)
		return;
	/* The first look is the baseline: a mount does not announce what was so before it. */
	for (size_t i = 0; ws->words_seen && i < n; i++) {
		const struct ws_word *was = word_find(ws->words, ws->nwords, &now[i]);
		if (!was || was->word != now[i].word)
			ws_emit(ws, now[i].kind, now[i].name, ws_word_name(now[i].word), "", false,
				NULL);
	}
	free(ws->words);
	ws->words = now;
	ws->nwords = n;
	ws->words_seen = true;
}
