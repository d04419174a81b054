/* units/NAME/ctl and groups/NAME/ctl: up, down, down --rm, restart, as `cutip run`, `cutip
 * stop [--rm]` do for a group. They run on the applier thread, as card changes do, so that no
 * commit changes the cards under them; each card's apply still goes to the pool, and each
 * step waits for the one before it (a container's image must be there before its create, the
 * Group's order is the order of the starts). No lock is held across an engine call. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws-int.h"

enum group_cmd { GROUP_UP, GROUP_DOWN, GROUP_DOWN_RM, GROUP_RESTART };

static const char *const cmd_words[] = {"up", "down", "down --rm", "restart"};

/* "down  --rm\n" -> GROUP_DOWN_RM: words split on blanks; -EINVAL for anything else. */
static int parse(const char *command, enum group_cmd *cmd)
{
	char buf[64], *w[3] = {NULL}, *save = NULL;
	size_t n = 0;

	if (!command || strlen(command) >= sizeof(buf))
		return -EINVAL;
	ws_fmt(buf, sizeof(buf), "%s", command);
	for (char *t = strtok_r(buf, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == 2)
			return -EINVAL;
		w[n++] = t;
	}
	if (n == 1 && strcmp(w[0], "up") == 0)
		*cmd = GROUP_UP;
	else if (n == 1 && strcmp(w[0], "down") == 0)
		*cmd = GROUP_DOWN;
	else if (n == 2 && strcmp(w[0], "down") == 0 && strcmp(w[1], "--rm") == 0)
		*cmd = GROUP_DOWN_RM;
	else if (n == 1 && strcmp(w[0], "restart") == 0)
		*cmd = GROUP_RESTART;
	else
		return -EINVAL;
	return 0;
}

/* What a ctl acts on: the members as they were when it began (entries stay while the applier
 * runs it: only the applier drops them). */
struct ctl_ctx {
	struct workspace *ws;
	enum ws_kind kind;
	const char *name;
	const char *word; /* "up", "down", ... for the errors log */
	struct ws_member *m;
	size_t n;
	struct ws_values *values;
};

static int fail(struct ctl_ctx *c, int rc, const char *step, const char *target, const char *why)
{
	ws_error_add(c->ws, "%s/%s/ctl: %s: %s %s: %s", ws_kind_dir(c->kind), c->name, c->word,
		     step, target, why && *why ? why : strerror(-rc));
	return rc;
}

/* Applies e on the pool and waits for it to end; its state after (lock taken here). */
static enum ws_state apply_wait(struct ctl_ctx *c, struct ws_entry *e, int *rc, char *why,
				size_t whylen)
{
	ws_pool_wait_entry(c->ws, e);
	pthread_mutex_lock(&c->ws->lock);
	bool applied = e->state == WS_ST_APPLIED;
	pthread_mutex_unlock(&c->ws->lock);
	/* Applied already (images, networks): nothing to ask the engine again. */
	if (!applied || e->card->kind == CARD_CONTAINER) {
		*rc = ws_pool_apply(c->ws, e, c->values, WS_POOL_SET);
		if (*rc < 0)
			return WS_ST_ERROR;
		ws_pool_wait_entry(c->ws, e);
	}
	pthread_mutex_lock(&c->ws->lock);
	enum ws_state st = e->state;
	*rc = st == WS_ST_APPLIED ? 0
	      : e->pool_rc < 0	  ? e->pool_rc
	      : e->engine_wait	  ? -ECONNREFUSED
				  : -ENOENT;
	ws_fmt(why, whylen, "%s", e->reason);
	pthread_mutex_unlock(&c->ws->lock);
	return st;
}

/* The engine state of a container (slock taken here): whether it is there, its id, state. */
static bool container_now(struct workspace *ws, const char *name, char *id, size_t idlen,
			  char *state, size_t statelen)
{
	pthread_mutex_lock(&ws->slock);
	struct ws_sobj *o = ws_store_name(&ws->store[WS_CONTAINER], name);
	if (o) {
		ws_fmt(id, idlen, "%s", o->id);
		ws_fmt(state, statelen, "%s", o->state);
	}
	pthread_mutex_unlock(&ws->slock);
	return o != NULL;
}

/* The images and networks of the members, applied first, each once. */
static int up_deps(struct ctl_ctx *c)
{
	static const char *const steps[] = {"pull_image", "ensure_network"};
	char why[512];
	int rc;

	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < c->n; i++) {
			if (!c->m[i].cent)
				continue;
			const struct card_container_spec *cs = &c->m[i].cent->card->spec.container;
			const char *ref = pass == 0 ? cs->image_ref.s : cs->network_ref.s;
			if (!ref)
				continue;
			char *reason = NULL;
			enum card_kind kind = pass == 0 ? CARD_IMAGE : CARD_NETWORK;
			pthread_mutex_lock(&c->ws->lock);
			struct card *card = card_resolve(&c->ws->reg, ref, kind, &reason);
			struct ws_entry *e = card ? ws_entry_for(c->ws, kind, card->name.s) : NULL;
			pthread_mutex_unlock(&c->ws->lock);
			if (!e) {
				rc =
				    fail(c, -ENOENT, "create_container", c->m[i].cent->card->name.s,
					 reason ? reason : "a ref names no card");
				free(reason);
				return rc;
			}
			free(reason);
			const char *step = steps[pass];
			if (pass == 0 && strcmp(e->card->spec.image.source, "pull") != 0)
				step = "build_image";
			if (apply_wait(c, e, &rc, why, sizeof(why)) != WS_ST_APPLIED)
				return fail(c, rc, step, e->card->name.s, why);
		}
	return 0;
}

static int up(struct ctl_ctx *c)
{
	char why[512], id[BE_ID_SIZE], state[16];
	int rc;

	for (size_t i = 0; i < c->n; i++)
		if (c->m[i].uent && (rc = ws_down_set(c->ws, c->m[i].unit, false)) < 0)
			return rc;
	for (size_t i = 0; i < c->n; i++)
		if (c->m[i].missing[0]) {
			ws_fmt(why, sizeof(why), "%s names no card", c->m[i].missing);
			return fail(c, -ENOENT, "create_container", c->m[i].unit, why);
		}
	if ((rc = up_deps(c)) < 0)
		return rc;
	for (size_t i = 0; i < c->n; i++) {
		const char *name = c->m[i].cent->card->name.s;
		if (apply_wait(c, c->m[i].cent, &rc, why, sizeof(why)) != WS_ST_APPLIED)
			return fail(c, rc, "create_container", name, why);
		/* A container that matches its card is left as it is by its apply: stopped, it is
		 * started here. */
		if (container_now(c->ws, name, id, sizeof(id), state, sizeof(state)) &&
		    strcmp(state, "running") == 0)
			continue;
		rc = ws_container_ctl(c->ws, name, "start", NULL);
		if (rc < 0)
			return fail(c, rc, "start_container", name, NULL);
	}
	return 0;
}

static int down(struct ctl_ctx *c, bool rm)
{
	char id[BE_ID_SIZE], state[16], err[512] = "";
	int rc;

	/* Held first: no apply (a commit, a retry) starts them again meanwhile. */
	for (size_t i = 0; i < c->n; i++)
		if (c->m[i].uent && (rc = ws_down_set(c->ws, c->m[i].unit, true)) < 0)
			return rc;
	for (size_t i = c->n; i-- > 0;) {
		struct ws_entry *e = c->m[i].cent;
		if (!e)
			continue;
		const char *name = e->card->name.s;
		ws_pool_wait_entry(c->ws, e);
		if (!container_now(c->ws, name, id, sizeof(id), state, sizeof(state)))
			continue;
		bool up = strcmp(state, "running") == 0 || strcmp(state, "paused") == 0 ||
			  strcmp(state, "restarting") == 0;
		if (up && !rm) {
			char grace[24];
			const struct card_container_spec *cs = &e->card->spec.container;
			ws_fmt(grace, sizeof(grace), "%lld",
			       cs->has_stop_timeout ? cs->stop_timeout
						    : (long long)WS_STOP_GRACE_S);
			if ((rc = ws_container_ctl(c->ws, name, "stop", grace)) < 0 &&
			    rc != -ENOENT)
				return fail(c, rc, "stop_container", name, NULL);
		}
		if (!rm)
			continue;
		rc = ws_container_destroy(c->ws, id, err, sizeof(err));
		if (rc < 0 && rc != -ENOENT)
			return fail(c, rc, "remove_container", name, err);
		ws_refresh_container(c->ws, id);
		/* Its card is held now: the apply says so (pending, not "gone"). */
		ws_pool_apply(c->ws, e, c->values, WS_POOL_KEEP);
		ws_pool_wait_entry(c->ws, e);
	}
	return 0;
}

int ws_do_group_ctl(struct workspace *ws, enum ws_kind kind, const char *name, const char *command)
{
	struct ctl_ctx c = {.ws = ws, .kind = kind, .name = name};
	enum group_cmd cmd;
	int rc = parse(command, &cmd);

	if (rc < 0)
		return rc;
	c.word = cmd_words[cmd];
	pthread_mutex_lock(&ws->lock);
	rc = ws_group_members_locked(ws, kind, name, &c.m);
	pthread_mutex_unlock(&ws->lock);
	if (rc < 0)
		return rc;
	c.n = (size_t)rc;
	c.values = ws_values_new(ws);
	if (!c.values) {
		free(c.m);
		return -ENOMEM;
	}
	if (cmd == GROUP_UP)
		rc = up(&c);
	else
		rc = down(&c, cmd == GROUP_DOWN_RM);
	if (rc == 0 && cmd == GROUP_RESTART)
		rc = up(&c);
	ws_values_put(c.values);
	free(c.m);
	return rc;
}

int ws_group_ctl_check(struct workspace *ws, enum ws_kind kind, const char *name,
		       const char *command)
{
	enum group_cmd cmd;

	if ((kind != WS_UNIT && kind != WS_GROUP) || !name || !*name || strchr(name, '/'))
		return -ENOENT;
	if (parse(command, &cmd) < 0)
		return -EINVAL;
	/* A Swarm's container cards are services, which scale rather than stop. */
	return ws_swarm(ws) ? -EOPNOTSUPP : 0;
}
