/* The card files: which file holds which card, validation at commit, the registry of valid
 * cards, and what unlink and rename of a card file mean. Runs on the applier thread; a card's
 * apply goes to the pool (pool.c), and the applier waits for it before it changes or drops
 * that card's entry. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "ws-int.h"

/* Lock held. */
static struct ws_entry *entry_new(struct workspace *ws, const char *relpath)
{
	struct ws_entry *e = calloc(1, sizeof(*e));

	if (!e || !(e->relpath = strdup(relpath))) {
		free(e);
		return NULL;
	}
	if (ws->nentries == ws->capentries) {
		size_t cap = ws->capentries ? ws->capentries * 2 : 32;
		struct ws_entry **entries = realloc(ws->entries, cap * sizeof(*entries));
		if (!entries) {
			free(e->relpath);
			free(e);
			return NULL;
		}
		ws->entries = entries;
		ws->capentries = cap;
	}
	e->changed = time(NULL);
	ws->entries[ws->nentries++] = e;
	return e;
}

/* Takes the entry's card out of the registry and frees it (lock held). */
static void entry_forget_card(struct workspace *ws, struct ws_entry *e)
{
	struct card_registry *reg = &ws->reg;

	if (!e->card)
		return;
	for (size_t i = 0; i < reg->count; i++)
		if (reg->cards[i] == e->card) {
			/* Keep the others in discovery order, as card_registry_take does. */
			memmove(&reg->cards[i], &reg->cards[i + 1],
				(reg->count - i - 1) * sizeof(*reg->cards));
			reg->count--;
			break;
		}
	card_free(e->card);
	e->card = NULL;
	free(e->text);
	e->text = NULL;
	e->len = 0;
}

/* The directory a card kind's objects show in (WS_CARD: none). */
static enum ws_kind shown_in(const struct card *card)
{
	switch (card ? card->kind : CARD_KIND_COUNT) {
	case CARD_IMAGE:
		return WS_IMAGE;
	case CARD_NETWORK:
		return WS_NETWORK;
	case CARD_CONTAINER:
		return WS_CONTAINER;
	case CARD_UNIT:
		return WS_UNIT;
	case CARD_GROUP:
		return WS_GROUP;
	default:
		return WS_CARD;
	}
}

/* Whether a card's object is listed only because of the card: images always, containers and
 * networks while the engine has none of that name (no lock held). */
static bool card_makes_entry(struct workspace *ws, enum ws_kind kind, const char *name)
{
	return kind == WS_IMAGE || (kind != WS_CARD && !ws_state_has(ws, kind, name));
}

void ws_entry_drop(struct workspace *ws, struct ws_entry *e)
{
	char *ref = NULL, name[128] = "";
	enum ws_kind kind;

	pthread_mutex_lock(&ws->lock);
	ws_pool_wait_entry_locked(ws, e); /* its worker holds a pointer to it */
	kind = shown_in(e->card);
	if (e->card) {
		ref = card_ref_of(e->card);
		ws_fmt(name, sizeof(name), "%s", e->card->name.s);
	}
	bool unit = e->card && e->card->kind == CARD_UNIT;
	entry_forget_card(ws, e);
	/* A unit's desired state goes with the last card of that name (an editor's new file
	 * took over from its backup without dropping one). */
	unit = unit && !ws_entry_for(ws, CARD_UNIT, name);
	for (size_t i = 0; i < ws->nentries; i++)
		if (ws->entries[i] == e) {
			memmove(&ws->entries[i], &ws->entries[i + 1],
				(ws->nentries - i - 1) * sizeof(e));
			ws->nentries--;
			break;
		}
	ws_invalidate(ws);
	pthread_mutex_unlock(&ws->lock);
	if (unit)
		ws_down_set(ws, name, false);
	ws_card_change(ws, e->relpath, ref, "removed", NULL, NULL,
		       card_makes_entry(ws, kind, name));
	free(ref);
	free(e->relpath);
	ws_buf_free(&e->log);
	free(e);
}

void ws_entry_delete_file(struct workspace *ws, struct ws_entry *e)
{
	char *path = NULL;

	if (asprintf(&path, "%s/%s", ws->cards_dir, e->relpath) >= 0) {
		if (unlink(path) < 0 && errno != ENOENT)
			ws_error_add(ws, "cards/%s: cannot delete the card: %s", e->relpath,
				     strerror(errno));
		free(path);
	}
	ws_entry_drop(ws, e);
}

/* A ref field must name the kind it is for; anything else can never resolve. */
static void check_ref_prefix(const struct card *card, const struct card_str *ref,
			     enum card_kind want, const char *field, struct card_diags *diags)
{
	const char *prefix = card_kind_prefix(want);
	size_t n = strlen(prefix);

	if (!ref->s || (strncmp(ref->s, prefix, n) == 0 && ref->s[n] == '/' && ref->s[n + 1]))
		return;
	card_diags_add(diags, CARD_ERROR, card->file, ref->line, ref->col,
		       "%s: must name %s '%s/<name>', got '%s'", field, card_kind_name(want),
		       prefix, ref->s);
}

/* Parses and validates a card file's content; every message goes to the errors log. */
static int validate(struct workspace *ws, const char *relpath, const char *buf, size_t len,
		    const struct card_values *values, struct card **out, char *why, size_t whylen)
{
	struct card_diags diags = {0};
	struct card *card = NULL;
	char *file = NULL;
	int rc = -EINVAL;

	*out = NULL;
	if (asprintf(&file, "cards/%s", relpath) < 0)
		return -ENOMEM;
	if (card_parse(buf, len, file, &card, &diags) == 0) {
		card_placeholders_check(card, values, &diags);
		if (card->kind == CARD_CONTAINER) {
			check_ref_prefix(card, &card->spec.container.image_ref, CARD_IMAGE,
					 "spec.imageRef", &diags);
			check_ref_prefix(card, &card->spec.container.network_ref, CARD_NETWORK,
					 "spec.networkRef", &diags);
		} else if (card->kind == CARD_UNIT) {
			check_ref_prefix(card, &card->spec.unit.container_ref, CARD_CONTAINER,
					 "spec.containerRef", &diags);
		}
		if (card_diags_errors(&diags) == 0)
			rc = 0;
	}
	for (size_t i = 0; rc < 0 && why && i < diags.count; i++)
		if (diags.items[i].severity == CARD_ERROR) {
			const struct card_diag *d = &diags.items[i];
			if (d->line > 0)
				ws_fmt(why, whylen, "%d:%d: %.200s", d->line, d->col, d->message);
			else
				ws_fmt(why, whylen, "%.200s", d->message);
			break;
		}
	ws_error_diags(ws, &diags);
	card_diags_free(&diags);
	free(file);
	if (rc == 0)
		*out = card;
	else
		card_free(card);
	return rc;
}

/* The engine name of what an entry's card makes (for removal). */
static void entry_object(const struct ws_entry *e, char *out, size_t len)
{
	if (e->object[0])
		ws_fmt(out, len, "%s", e->object);
	else if (e->card->kind == CARD_IMAGE)
		ws_fmt(out, len, "%s:%s", e->card->name.s, e->card->spec.image.tag);
	else
		ws_fmt(out, len, "%s", e->card->name.s);
}

/* Removes what an entry's card made (only what carries our labels). ENOENT is success. */
static int unapply_entry(struct workspace *ws, struct ws_entry *e)
{
	char object[256], err[512] = "";
	int rc;

	if (!e->card || !ws_makes_objects(e->card->kind))
		return 0;
	entry_object(e, object, sizeof(object));
	rc = ws_unapply(ws, e->card->kind, object, false, err, sizeof(err));
	if (rc == -ENOENT)
		rc = 0;
	if (rc < 0)
		ws_error_add(ws, "cards/%s: cannot remove %s '%s': %s", e->relpath,
			     card_kind_prefix(e->card->kind), object, err[0] ? err : strerror(-rc));
	return rc;
}

/* Registers a validated card as the content of relpath (lock held). Returns the entry, or
 * NULL with *rc set (duplicate ref). *retired gets the card the file held before when it had
 * another ref (its objects must go), with its entry's object name. */
static struct ws_entry *register_card(struct workspace *ws, const char *relpath, struct card *card,
				      const char *buf, size_t len, struct card *retired_out[1],
				      char *retired_obj, size_t objlen, int *rc, char *why,
				      size_t whylen)
{
	struct ws_entry *e = ws_entry_find(ws, relpath);
	struct ws_entry *owner = ws_entry_for(ws, card->kind, card->name.s);
	char *text = malloc(len + 1);

	*retired_out = NULL;
	if (!text) {
		card_free(card);
		*rc = -ENOMEM;
		return NULL;
	}
	memcpy(text, buf, len);
	text[len] = '\0';
	if (owner && owner != e) {
		if (!owner->backup) {
			/* The registry words the message as CUTIP does. */
			struct card_diags diags = {0};
			card_registry_add(&ws->reg, card, &diags);
			if (why && diags.count)
				ws_fmt(why, whylen, "%.200s", diags.items[0].message);
			ws_error_diags(ws, &diags); /* errlock is a leaf: fine under ws->lock */
			card_diags_free(&diags);
			free(text);
			*rc = -EINVAL;
			return NULL;
		}
		/* An editor's backup holds it: the new file takes over what it made. */
		entry_forget_card(ws, owner);
		owner->result = 0;
	}
	if (e && e->card) {
		bool same =
		    e->card->kind == card->kind && strcmp(e->card->name.s, card->name.s) == 0;
		if (!same) {
			entry_object(e, retired_obj, objlen);
			char *ref = card_ref_of(e->card);
			*retired_out = card_registry_take(&ws->reg, ref);
			free(ref);
			e->card = NULL;
			e->object[0] = e->id[0] = e->hash[0] = '\0';
		} else {
			entry_forget_card(ws, e);
		}
	}
	if (!e)
		e = entry_new(ws, relpath);
	if (!e) {
		free(text);
		card_free(card);
		*rc = -ENOMEM;
		return NULL;
	}
	free(e->text);
	e->text = text;
	e->len = len;
	e->backup = false;
	card_registry_add(&ws->reg, card, &(struct card_diags){0});
	e->card = card;
	ws_invalidate(ws);
	*rc = 0;
	return e;
}

/* Drops owner entries left without a card by a takeover (lock held). */
static void sweep_empty_backups(struct workspace *ws)
{
	for (size_t i = 0; i < ws->nentries;) {
		struct ws_entry *e = ws->entries[i];
		if (e->backup && !e->card) {
			memmove(&ws->entries[i], &ws->entries[i + 1],
				(ws->nentries - i - 1) * sizeof(e));
			ws->nentries--;
			free(e->relpath);
			free(e->text);
			ws_buf_free(&e->log);
			free(e);
		} else {
			i++;
		}
	}
}

int ws_do_commit(struct workspace *ws, const char *relpath, const char *buf, size_t len)
{
	struct ws_values *values = ws_values_new(ws);
	struct card *card = NULL, *retired = NULL;
	struct ws_entry *e = NULL;
	char retired_obj[256] = "", why[300] = "", name[128] = "";
	char *ref = NULL;
	bool had_ref = false;
	enum ws_kind kind = WS_CARD;
	int rc;

	if (!values)
		return -ENOMEM;
	/* A card at a path whose removal left its note (ws_do_remove): the user's new word. */
	ws_removal_end(ws, relpath);
	rc = validate(ws, relpath, buf, len, &values->v, &card, why, sizeof(why));
	pthread_mutex_lock(&ws->lock);
	/* The file's previous content may still be applied: that apply ends first (its card and
	 * text are the worker's until then, and its result must not overwrite this one). */
	if ((e = ws_entry_find(ws, relpath)))
		ws_pool_wait_entry_locked(ws, e);
	if (rc == 0) {
		had_ref = ws_entry_for(ws, card->kind, card->name.s) != NULL;
		kind = shown_in(card);
		ref = card_ref_of(card);
		ws_fmt(name, sizeof(name), "%s", card->name.s);
		e = register_card(ws, relpath, card, buf, len, &retired, retired_obj,
				  sizeof(retired_obj), &rc, why, sizeof(why));
		sweep_empty_backups(ws);
	}
	if (rc < 0) {
		/* Whatever the file's previous card made stays as it is. */
		e = ws_entry_find(ws, relpath);
		if (!e)
			e = entry_new(ws, relpath);
		if (e)
			e->result = rc;
		pthread_mutex_unlock(&ws->lock);
		ws_values_put(values);
		ws_card_change(ws, relpath, ref, "rejected", "error",
			       why[0] ? why : "invalid card (see errors)", false);
		free(ref);
		return rc;
	}
	pthread_mutex_unlock(&ws->lock);
	ws_card_change(ws, relpath, ref, "accepted", NULL, NULL,
		       !had_ref && card_makes_entry(ws, kind, name));
	free(ref);

	/* On the pool, so that the next commit can go on while this card's container starts:
	 * the caller waits until the apply's answer is known (all of it but a start); its
	 * worker records the result and clears announce. */
	pthread_mutex_lock(&ws->lock);
	e->announce = true;
	pthread_mutex_unlock(&ws->lock);
	rc = ws_pool_apply(ws, e, values, WS_POOL_SET);
	if (rc == 0)
		rc = ws_pool_wait_decided(ws, e);
	if (retired && ws_makes_objects(retired->kind) && retired_obj[0]) {
		char err[512] = "";
		int r = ws_unapply(ws, retired->kind, retired_obj, false, err, sizeof(err));
		if (r < 0 && r != -ENOENT)
			ws_error_add(ws,
				     "cards/%s: cannot remove %s '%s' (no longer in the card): %s",
				     relpath, card_kind_prefix(retired->kind), retired_obj,
				     err[0] ? err : strerror(-r));
	}
	card_free(retired);
	pthread_mutex_lock(&ws->lock);
	bool applied = e->state == WS_ST_APPLIED;
	pthread_mutex_unlock(&ws->lock);
	if (rc == 0 || applied)
		ws_reapply_dependents(ws, e, values);
	ws_retry_pending(ws, values);
	ws_prune_images(ws);
	ws_values_put(values);
	return rc;
}

int ws_do_remove(struct workspace *ws, const char *relpath)
{
	struct ws_entry *e;
	int rc;

	pthread_mutex_lock(&ws->lock);
	e = ws_entry_find(ws, relpath);
	/* An apply of it in flight ends first: what it makes is then there to remove. */
	if (e)
		ws_pool_wait_entry_locked(ws, e);
	pthread_mutex_unlock(&ws->lock);
	if (!e)
		return 0;
	ws_removal_begin(ws, relpath);
	rc = unapply_entry(ws, e);
	if (rc < 0) {
		/* The file must stay: its card still describes what is there. */
		ws_removal_end(ws, relpath);
		pthread_mutex_lock(&ws->lock);
		e->result = rc;
		pthread_mutex_unlock(&ws->lock);
		return rc;
	}
	/* The note stays: the caller unlinks the file after this returns, and a crash before
	 * that must still finish the removal. The next commit at this path drops it, and so does
	 * the next open or close once the file is gone (ws_removals_interrupted). */
	bool unit = e->card && e->card->kind == CARD_UNIT;
	ws_entry_drop(ws, e);
	if (unit) {
		/* Its container card, held by it, is applied as one no unit names. */
		struct ws_values *values = ws_values_new(ws);
		if (values)
			ws_retry_pending(ws, values);
		ws_values_put(values);
	}
	return 0;
}

void ws_finish_removals(struct workspace *ws)
{
	char **interrupted = ws_removals_interrupted(ws);

	for (size_t i = 0; interrupted && interrupted[i]; i++) {
		char *path = NULL;
		/* Refused: the card stays, and is applied as any card (the errors log says why). */
		if (ws_do_remove(ws, interrupted[i]) < 0 ||
		    asprintf(&path, "%s/%s", ws->cards_dir, interrupted[i]) < 0)
			continue;
		if (unlink(path) < 0 && errno != ENOENT)
			ws_error_add(ws, "cards/%s: cannot delete the card: %s", interrupted[i],
				     strerror(errno));
		else
			ws_removal_end(ws, interrupted[i]); /* finished: card and file gone */
		free(path);
	}
	ws_strv_free(interrupted);
}

static bool is_backup_name(const char *name)
{
	size_t n = strlen(name);
	return n > 1 && name[n - 1] == '~';
}

/* Renames an entry in place (lock taken here). */
static void entry_move(struct workspace *ws, struct ws_entry *e, const char *to, bool backup)
{
	char *name = strdup(to), *file = NULL;

	if (!name)
		return;
	if (e->card && asprintf(&file, "cards/%s", to) < 0)
		file = NULL;
	pthread_mutex_lock(&ws->lock);
	free(e->relpath);
	e->relpath = name;
	e->backup = backup;
	if (file) {
		free(e->card->file);
		e->card->file = file;
	}
	ws_invalidate(ws);
	pthread_mutex_unlock(&ws->lock);
}

/* The file at `to` was replaced by the rename: what its card made goes. A failure is in the
 * errors log; the card is forgotten all the same, since its file is gone. */
static void replaced(struct workspace *ws, struct ws_entry *et)
{
	if (!et)
		return;
	unapply_entry(ws, et);
	ws_entry_drop(ws, et);
}

/* A directory under cards/ renamed: its cards keep what they made under their new paths.
 * Returns whether any entry was under it. */
static bool move_dir(struct workspace *ws, const char *from, const char *to)
{
	size_t n = strlen(from);
	bool moved = false;

	pthread_mutex_lock(&ws->lock);
	for (size_t i = 0; i < ws->nentries; i++) {
		struct ws_entry *e = ws->entries[i];
		char *name = NULL, *file = NULL;
		if (strncmp(e->relpath, from, n) != 0 || e->relpath[n] != '/')
			continue;
		if (asprintf(&name, "%s%s", to, e->relpath + n) < 0)
			continue;
		if (e->card && asprintf(&file, "cards/%s", name) >= 0) {
			free(e->card->file);
			e->card->file = file;
		}
		free(e->relpath);
		e->relpath = name;
		moved = true;
	}
	if (moved)
		ws_invalidate(ws);
	pthread_mutex_unlock(&ws->lock);
	return moved;
}

int ws_do_rename(struct workspace *ws, const char *from, const char *to, const char *buf,
		 size_t len)
{
	struct ws_entry *ef, *et;
	int rc = 0;

	if (strcmp(from, to) == 0)
		return 0;
	pthread_mutex_lock(&ws->lock);
	ef = ws_entry_find(ws, from);
	et = ws_entry_find(ws, to);
	pthread_mutex_unlock(&ws->lock);
	if (!ef && move_dir(ws, from, to))
		return 0;

	if (!card_file_ignored(to)) {
		/* Onto a card name: the entry moves with its file, then the content commits
		 * there (same ref: replaced in place, nothing restarted when unchanged). */
		if (ef) {
			replaced(ws, et);
			entry_move(ws, ef, to, false);
		}
		if (buf)
			return ws_do_commit(ws, to, buf, len);
		/* The caller did not pass the content: it is on disk already. */
		char *path = NULL, *text = NULL;
		if (asprintf(&path, "%s/%s", ws->cards_dir, to) < 0)
			return -ENOMEM;
		text = ws_read_card_file(path, &len);
		rc = text ? ws_do_commit(ws, to, text, len) : -EIO;
		free(text);
		free(path);
		return rc;
	}
	replaced(ws, et);
	if (!ef)
		return 0;
	if (is_backup_name(to) && ef->card) {
		/* vim and emacs: card.yaml -> card.yaml~, write card.yaml, unlink card.yaml~. */
		entry_move(ws, ef, to, true);
		return 0;
	}
	rc = unapply_entry(ws, ef);
	if (rc < 0) {
		/* Still there: the renamed file holds it until it is unlinked. */
		entry_move(ws, ef, to, true);
		return rc;
	}
	ws_entry_drop(ws, ef);
	return 0;
}

void ws_load_all(struct workspace *ws)
{
	struct card_values values;
	char **files = NULL;
	size_t prefix = strlen(ws->cards_dir) + 1;
	int n = card_discover(ws->cards_dir, &files);

	if (n < 0) {
		ws_error_add(ws, "cards: %s", strerror(errno));
		return;
	}
	ws_values_load(ws, &values);
	for (int i = 0; i < n; i++) {
		const char *relpath = files[i] + prefix;
		struct card *card = NULL, *retired = NULL;
		char obj[256];
		size_t len = 0;
		char *buf = ws_read_card_file(files[i], &len);
		int rc = buf ? validate(ws, relpath, buf, len, &values, &card, NULL, 0) : -EIO;

		pthread_mutex_lock(&ws->lock);
		if (rc == 0)
			register_card(ws, relpath, card, buf, len, &retired, obj, sizeof(obj), &rc,
				      NULL, 0);
		if (rc < 0) {
			struct ws_entry *e = entry_new(ws, relpath);
			if (e)
				e->result = rc;
		}
		pthread_mutex_unlock(&ws->lock);
		card_free(retired);
		free(buf);
		free(files[i]);
	}
	free(files);
	card_values_free(&values);
}
