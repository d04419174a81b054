/* From registered cards to the engine: one card's apply with its state (pending on a ref or on
 * the engine, applied, error), and the passes that bring every card there in dependency order
 * (images, networks, volumes, then containers). The passes run on the applier thread and hand
 * each card's apply to the pool (pool.c); an apply runs on a worker. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "ws-int.h"

/* The order a workspace is brought up in: what a container names comes first. */
static const enum card_kind apply_order[] = {CARD_IMAGE,     CARD_NETWORK, CARD_VOLUME,
					     CARD_CONTAINER, CARD_UNIT,	   CARD_GROUP};

static bool engine_down(int rc)
{
	return rc == -ECONNREFUSED || rc == -ETIMEDOUT;
}

/* State change with the lock held. */
static void set_state(struct workspace *ws, struct ws_entry *e, enum ws_state state,
		      const char *reason)
{
	if (e->state != state || strcmp(e->reason, reason ? reason : "") != 0)
		e->changed = time(NULL);
	e->state = state;
	ws_fmt(e->reason, sizeof(e->reason), "%s", reason ? reason : "");
	if (state != WS_ST_PENDING)
		e->engine_wait = false;
	if (state != WS_ST_APPLYING)
		e->activity = NULL;
	ws_invalidate(ws);
}

/* The applied card a ref names, or a "waits for ..." reason (lock held). */
static struct ws_entry *dependency(struct workspace *ws, const char *ref, enum card_kind kind,
				   char *why, size_t whylen, bool *engine_wait)
{
	char *reason = NULL;
	struct card *card = card_resolve(&ws->reg, ref, kind, &reason);
	struct ws_entry *dep = card ? ws_entry_for(ws, kind, card->name.s) : NULL;

	free(reason);
	if (dep && dep->state == WS_ST_APPLIED)
		return dep;
	if (dep && dep->state == WS_ST_ERROR)
		ws_fmt(why, whylen, "waits for %s (in error: %s)", ref, dep->reason);
	else
		ws_fmt(why, whylen, "waits for %s", ref);
	if (dep && dep->engine_wait)
		*engine_wait = true;
	return NULL;
}

/* A container's refs: their engine names, or why it must wait (lock held). */
static bool container_deps(struct workspace *ws, const struct card *card, struct ws_deps *deps,
			   char *why, size_t whylen, bool *engine_wait)
{
	const struct card_container_spec *c = &card->spec.container;
	struct ws_entry *img, *net = NULL;

	memset(deps, 0, sizeof(*deps));
	img = dependency(ws, c->image_ref.s, CARD_IMAGE, why, whylen, engine_wait);
	if (!img)
		return false;
	ws_fmt(deps->image, sizeof(deps->image), "%s", img->object);
	ws_fmt(deps->image_id, sizeof(deps->image_id), "%s", img->id);
	if (strcmp(img->card->spec.image.source, "pull") == 0)
		ws_fmt(deps->pulled, sizeof(deps->pulled), "%s:%s", img->card->spec.image.image,
		       img->card->spec.image.tag);
	if (c->network_ref.s) {
		net = dependency(ws, c->network_ref.s, CARD_NETWORK, why, whylen, engine_wait);
		if (!net)
			return false;
		ws_fmt(deps->network, sizeof(deps->network), "%s", net->object);
	}
	return true;
}

/* The card as it is applied: a fresh copy with the placeholders substituted. */
static int effective(struct workspace *ws, struct ws_entry *e, const struct card_values *values,
		     struct card **out, char hash[65])
{
	struct card_diags diags = {0};
	struct card *card = NULL;
	int rc = -EINVAL;

	*out = NULL;
	if (card_parse(e->text, e->len, e->card->file, &card, &diags) == 0 &&
	    card_placeholders_substitute(card, values, &diags) == 0)
		rc = card_hash(card, hash) == 0 ? 0 : -ENOMEM;
	for (size_t i = 0; rc == -EINVAL && i < diags.count; i++)
		if (diags.items[i].severity == CARD_ERROR)
			ws_error_add(ws, "%s:%d:%d: %s", diags.items[i].file, diags.items[i].line,
				     diags.items[i].col, diags.items[i].message);
	card_diags_free(&diags);
	if (rc == 0)
		*out = card;
	else
		card_free(card);
	return rc;
}

/* An entry's outcome before an apply, to tell news from a retry that changed nothing. */
struct outcome {
	enum ws_state state;
	char reason[512];
	char id[BE_ID_SIZE];
	char hash[65];
};

static void outcome_of(const struct ws_entry *e, struct outcome *o)
{
	o->state = e->state;
	ws_fmt(o->reason, sizeof(o->reason), "%s", e->reason);
	ws_fmt(o->id, sizeof(o->id), "%s", e->id);
	ws_fmt(o->hash, sizeof(o->hash), "%s", e->hash);
}

/* "waits for images/web (in error: ...)" -> "images/web"; the engine -> "engine". */
static void waits_for(const struct ws_entry *e, char *out, size_t len)
{
	const char *p = strncmp(e->reason, "waits for ", 10) == 0 ? e->reason + 10 : e->reason;

	if (e->engine_wait || strncmp(p, "the engine", 10) == 0)
		ws_fmt(out, len, "engine");
	else
		ws_fmt(out, len, "%.*s", (int)strcspn(p, " :"), p);
}

/* The card's change after an apply: applied, pending (waits=REF) or rejected (error=...),
 * when it is news or the user just saved the card (e->announce). */
static void announce(struct workspace *ws, struct ws_entry *e, const struct outcome *before)
{
	struct outcome now;
	const char *action = NULL, *key = NULL;
	char value[240] = "", relpath[512];
	char *ref = NULL;

	pthread_mutex_lock(&ws->lock);
	outcome_of(e, &now);
	bool news = e->announce || now.state != before->state ||
		    strcmp(now.reason, before->reason) != 0 || strcmp(now.id, before->id) != 0 ||
		    strcmp(now.hash, before->hash) != 0;
	if (now.state == WS_ST_APPLIED) {
		action = "applied";
	} else if (now.state == WS_ST_PENDING) {
		action = "pending";
		key = "waits";
		waits_for(e, value, sizeof(value));
	} else if (now.state == WS_ST_ERROR) {
		action = "rejected";
		key = "error";
		ws_fmt(value, sizeof(value), "%.200s%s", e->reason,
		       strlen(e->reason) > 200 ? "..." : "");
	}
	ws_fmt(relpath, sizeof(relpath), "%s", e->relpath);
	if (e->card)
		ref = card_ref_of(e->card);
	pthread_mutex_unlock(&ws->lock);
	if (news && action)
		ws_card_change(ws, relpath, ref, action, key, value, false);
	free(ref);
}

/* What a failed apply returns from the commit: the errno set of workspace.h. */
static int commit_errno(int rc)
{
	switch (-rc) {
	case EEXIST:
	case EBUSY:
	case EACCES:
	case ENOMEM:
	case EOPNOTSUPP:
	case EADDRINUSE:
		return rc;
	default:
		return -EIO;
	}
}

/* What the card asks of the engine kind, before anything is asked of the engine: a card it
 * cannot apply whole is refused (-EOPNOTSUPP, with the reason), never half applied. */
static int supported(struct workspace *ws, const struct card *card, char *err, size_t errlen)
{
	unsigned caps = ws->be->ops->caps;

	switch (card->kind) {
	case CARD_IMAGE:
		if (strcmp(card->spec.image.source, "build") == 0 && !(caps & BE_CAP_BUILD))
			return backend_unsupported(ws->be, "image builds (source: build)", err,
						   errlen);
		return 0;
	case CARD_NETWORK:
		if (card->spec.network.subnet && !(caps & BE_CAP_SUBNETS))
			return backend_unsupported(ws->be, "networks with a subnet", err, errlen);
		return 0;
	case CARD_VOLUME:
		return caps & BE_CAP_VOLUMES ? 0
					     : backend_unsupported(ws->be, "named volumes", err,
								   errlen);
	case CARD_CONTAINER:
		if (card->spec.container.volumes.count && !(caps & BE_CAP_VOLUMES))
			return backend_unsupported(ws->be, "named volumes (spec.volumes)", err,
						   errlen);
		return 0;
	default:
		return 0;
	}
}

static int apply_entry(struct workspace *ws, struct ws_entry *e, const struct card_values *values)
{
	struct ws_result res = {0};
	struct ws_deps deps;
	struct card *card = NULL;
	char hash[65], why[512] = "";
	bool engine_wait = false;
	int rc;

	if (!ws_makes_objects(e->card->kind)) {
		/* Units and groups are kept for the graph; nothing in the engine is theirs. */
		pthread_mutex_lock(&ws->lock);
		set_state(ws, e, WS_ST_APPLIED, NULL);
		pthread_mutex_unlock(&ws->lock);
		return 0;
	}
	rc = effective(ws, e, values, &card, hash);
	if (rc < 0) {
		pthread_mutex_lock(&ws->lock);
		set_state(ws, e, WS_ST_ERROR, "a placeholder has no value (see errors)");
		pthread_mutex_unlock(&ws->lock);
		return rc;
	}

	pthread_mutex_lock(&ws->lock);
	if (card->kind == CARD_CONTAINER && !ws_swarm(ws) &&
	    ws_container_held_locked(ws, e->card, why, sizeof(why))) {
		/* Its unit is down: nothing is made or started until up (group-ctl.c). */
		set_state(ws, e, WS_ST_PENDING, why);
		ws_fmt(e->want, sizeof(e->want), "%s", hash);
		pthread_mutex_unlock(&ws->lock);
		card_free(card);
		return 0;
	}
	e->want[0] = '\0';
	if (card->kind == CARD_CONTAINER &&
	    !container_deps(ws, e->card, &deps, why, sizeof(why), &engine_wait)) {
		set_state(ws, e, WS_ST_PENDING, why);
		e->engine_wait = engine_wait;
		pthread_mutex_unlock(&ws->lock);
		card_free(card);
		return 0;
	}
	set_state(ws, e, WS_ST_APPLYING, NULL);
	pthread_mutex_unlock(&ws->lock);

	rc = supported(ws, card, res.err, sizeof(res.err));
	switch (rc < 0 ? CARD_UNIT : card->kind) {
	case CARD_UNIT:
		break; /* refused before anything was asked of the engine */
	case CARD_IMAGE:
		rc = ws_apply_image(ws, e, card, hash, &res);
		break;
	case CARD_NETWORK:
		rc = ws_apply_network(ws, e->relpath, card, hash, &res);
		break;
	case CARD_VOLUME:
		rc = ws_apply_volume(ws, e->relpath, card, hash, &res);
		break;
	default:
		rc = ws_swarm(ws) ? ws_apply_service(ws, e->relpath, card, hash, &deps, &res)
				  : ws_apply_container(ws, e->relpath, card, hash, &deps, &res);
		break;
	}
	enum card_kind kind = card->kind;
	card_free(card);

	pthread_mutex_lock(&ws->lock);
	if (rc == 0) {
		set_state(ws, e, WS_ST_APPLIED, NULL);
		if (strcmp(e->id, res.id) != 0 || strcmp(e->hash, hash) != 0)
			e->changed = time(NULL);
		ws_fmt(e->id, sizeof(e->id), "%s", res.id);
		ws_fmt(e->object, sizeof(e->object), "%s", res.object);
		ws_fmt(e->hash, sizeof(e->hash), "%s", hash);
		if (res.replaced[0] && strcmp(res.replaced, res.id) != 0)
			ws_fmt(e->prev_id, sizeof(e->prev_id), "%s", res.replaced);
		e->missing_logged = false;
	} else if (engine_down(rc)) {
		ws_fmt(why, sizeof(why), "waits for the engine: %s",
		       res.err[0] ? res.err : strerror(-rc));
		set_state(ws, e, WS_ST_PENDING, why);
		e->engine_wait = true;
	} else {
		set_state(ws, e, WS_ST_ERROR, res.err[0] ? res.err : strerror(-rc));
	}
	bool log_wait = e->engine_wait && !e->missing_logged;
	if (log_wait)
		e->missing_logged = true;
	pthread_mutex_unlock(&ws->lock);

	/* The state shows what the engine has now (the events publish the changes). */
	if (!engine_down(rc) && res.object[0])
		ws_refresh_kind(ws, kind, res.object);

	if (log_wait) {
		/* Once per outage: the retry every WS_RETRY_MS would flood the log. */
		ws_error_add(ws, "cards/%s: %s; it is applied when the engine answers", e->relpath,
			     why);
		return 0;
	}
	if (rc < 0) {
		ws_error_add(ws, "cards/%s: %s", e->relpath, res.err[0] ? res.err : strerror(-rc));
		return commit_errno(rc);
	}
	return 0;
}

int ws_apply_entry(struct workspace *ws, struct ws_entry *e, const struct card_values *values)
{
	struct outcome before;
	int rc;

	if (!e->card || e->backup)
		return 0;
	outcome_of(e, &before);
	rc = apply_entry(ws, e, values);
	announce(ws, e, &before);
	return rc;
}

/* Whether a container card names this image or network card. */
static bool names(const struct card *container, const struct card *target)
{
	const struct card_str *ref = target->kind == CARD_IMAGE
					 ? &container->spec.container.image_ref
					 : &container->spec.container.network_ref;
	const char *prefix = card_kind_prefix(target->kind);
	size_t n = strlen(prefix);

	return ref->s && strncmp(ref->s, prefix, n) == 0 && ref->s[n] == '/' &&
	       strcmp(ref->s + n + 1, target->name.s) == 0;
}

/* The entries a pass applies side by side (applier thread): what it queued, to wait for. */
struct batch {
	struct ws_entry **v;
	size_t n;
};

/* Queues e on the pool for the batch (a failed queue: the mount stops, or ENOMEM, and the card
 * stays as it is). */
static void batch_add(struct workspace *ws, struct batch *b, struct ws_entry *e,
		      struct ws_values *values, enum ws_pool_result mode)
{
	if (ws_pool_apply(ws, e, values, mode) == 0)
		b->v[b->n++] = e;
}

/* Waits for the batch's applies; how many of its cards are applied now. */
static size_t batch_wait(struct workspace *ws, struct batch *b)
{
	size_t applied = 0;

	for (size_t i = 0; i < b->n; i++)
		ws_pool_wait_entry(ws, b->v[i]);
	pthread_mutex_lock(&ws->lock);
	for (size_t i = 0; i < b->n; i++)
		applied += b->v[i]->state == WS_ST_APPLIED;
	pthread_mutex_unlock(&ws->lock);
	free(b->v);
	return applied;
}

static bool batch_init(struct workspace *ws, struct batch *b)
{
	b->n = 0;
	b->v = calloc(ws->nentries ? ws->nentries : 1, sizeof(*b->v));
	return b->v != NULL;
}

void ws_reapply_dependents(struct workspace *ws, struct ws_entry *e, struct ws_values *values)
{
	struct batch b;

	if (!e->card || (e->card->kind != CARD_IMAGE && e->card->kind != CARD_NETWORK) ||
	    !batch_init(ws, &b))
		return;
	/* A rebuilt or re-tagged image: containers compare their image id and are replaced. */
	for (size_t i = 0; i < ws->nentries; i++) {
		struct ws_entry *c = ws->entries[i];
		pthread_mutex_lock(&ws->lock);
		bool applied = c->state == WS_ST_APPLIED;
		pthread_mutex_unlock(&ws->lock);
		if (c->card && c->card->kind == CARD_CONTAINER && !c->backup && applied &&
		    names(c->card, e->card))
			batch_add(ws, &b, c, values, WS_POOL_KEEP);
	}
	batch_wait(ws, &b);
}

void ws_prune_images(struct workspace *ws)
{
	for (size_t i = 0; i < ws->nentries; i++) {
		struct ws_entry *e = ws->entries[i];
		char id[BE_ID_SIZE];
		pthread_mutex_lock(&ws->lock);
		ws_fmt(id, sizeof(id), "%s", e->prev_id);
		e->prev_id[0] = '\0';
		pthread_mutex_unlock(&ws->lock);
		if (!id[0])
			continue;
		/* Still used (a container the user stopped, say): it stays, unnamed, as the
		 * engine keeps any image a container needs. */
		ws->be->ops->remove(ws->be, BE_IMAGE, id, 0, NULL, 0);
	}
}

/* Whether a pass applies e now: a card of @kind (@pending: one that waits), that no apply is
 * queued for or running already (that one decides it). */
static bool due(struct workspace *ws, struct ws_entry *e, enum card_kind kind, bool pending)
{
	bool due;

	if (!e->card || e->backup || e->card->kind != kind)
		return false;
	pthread_mutex_lock(&ws->lock);
	due = !e->pool_queued && !e->pool_running && (!pending || e->state == WS_ST_PENDING);
	bool engine_wait = e->engine_wait;
	pthread_mutex_unlock(&ws->lock);
	/* A dead engine fails each call at once; no need to ask it for every card. */
	return due && !(pending && engine_wait && !ws->be->ops->reachable(ws->be));
}

/* One kind's cards side by side: a card names only kinds before its own in apply_order, all
 * applied (or waited for) by the time its kind's turn comes. How many are applied now. */
static size_t pass(struct workspace *ws, enum card_kind kind, bool pending,
		   struct ws_values *values, enum ws_pool_result mode)
{
	struct batch b;

	if (!batch_init(ws, &b))
		return 0;
	for (size_t i = 0; i < ws->nentries; i++)
		if (due(ws, ws->entries[i], kind, pending))
			batch_add(ws, &b, ws->entries[i], values, mode);
	return batch_wait(ws, &b);
}

void ws_retry_pending(struct workspace *ws, struct ws_values *values)
{
	bool progress = true;

	while (progress) {
		progress = false;
		for (size_t k = 0; k < sizeof(apply_order) / sizeof(apply_order[0]); k++)
			if (pass(ws, apply_order[k], true, values, WS_POOL_IF_APPLIED) > 0)
				progress = true;
	}
}

void ws_apply_all(struct workspace *ws, bool everything)
{
	struct ws_values *values = ws_values_new(ws);

	if (!values)
		return;
	for (size_t k = 0; everything && k < sizeof(apply_order) / sizeof(apply_order[0]); k++)
		pass(ws, apply_order[k], false, values, WS_POOL_SET);
	ws_retry_pending(ws, values);
	ws_prune_images(ws);
	ws_values_put(values);
}

bool ws_engine_waiting(struct workspace *ws)
{
	bool waiting = false;

	pthread_mutex_lock(&ws->lock);
	for (size_t i = 0; !waiting && i < ws->nentries; i++)
		waiting = ws->entries[i]->engine_wait && ws->entries[i]->state == WS_ST_PENDING;
	pthread_mutex_unlock(&ws->lock);
	return waiting;
}
