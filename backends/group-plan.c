/* units/NAME/plan and groups/NAME/plan: what up would do now, in the order up does it, from
 * the cards and the engine state alone (no request, nothing changed): each image and network
 * once, before the containers, then each container's create (or replace) and start in the
 * Group's order, as CUTIP's preview lists them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws-int.h"

/* The entries already planned, so that an image or network shared by units comes once. */
struct seen {
	const struct ws_entry **v;
	size_t n;
};

static bool seen_add(struct seen *s, const struct ws_entry *e)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == e)
			return false;
	s->v[s->n++] = e;
	return true;
}

/* The engine name of an ImageCard's image (lock held). */
static void image_name(const struct ws_entry *e, char *out, size_t len)
{
	if (e->object[0])
		ws_fmt(out, len, "%s", e->object);
	else
		ws_fmt(out, len, "%s:%s", e->card->name.s, e->card->spec.image.tag);
}

/* Lock and slock held. */
static void plan_image(struct workspace *ws, const struct ws_entry *e, FILE *f, size_t *steps)
{
	const struct card_image_spec *im = &e->card->spec.image;
	char object[300];

	image_name(e, object, sizeof(object));
	if (e->state == WS_ST_APPLIED && ws_store_tag(&ws->store[WS_IMAGE], object))
		return;
	if (strcmp(im->source, "pull") == 0)
		fprintf(f, "pull_image %s %s:%s\n", e->card->name.s, im->image, im->tag);
	else
		fprintf(f, "build_image %s %s\n", e->card->name.s, im->context);
	(*steps)++;
}

static void plan_network(struct workspace *ws, const struct ws_entry *e, FILE *f, size_t *steps)
{
	const char *name = e->card->name.s, *subnet = e->card->spec.network.subnet;

	if (e->state == WS_ST_APPLIED && ws_store_name(&ws->store[WS_NETWORK], name))
		return;
	fprintf(f, "ensure_network %s %s\n", name, subnet ? subnet : "-");
	(*steps)++;
}

/* A container's create (replace: one there that its card did not make as it is now) and
 * start. */
static void plan_container(struct workspace *ws, const struct ws_member *m, FILE *f, size_t *steps)
{
	const struct ws_entry *c = m->cent;
	const char *name = c->card->name.s;
	const struct ws_sobj *so = ws_store_name(&ws->store[WS_CONTAINER], name);
	const char *want = c->state == WS_ST_APPLIED ? c->hash : c->want;

	if (!so || !so->managed || !want[0] || strcmp(so->hash, want) != 0) {
		fprintf(f, "%s_container %s (unit %s)\n", so ? "replace" : "create", name, m->unit);
		(*steps)++;
		so = NULL;
	}
	if (!so || strcmp(so->state, "running") != 0) {
		fprintf(f, "start_container %s\n", name);
		(*steps)++;
	}
}

/* Lock and slock held. */
static void plan_locked(struct workspace *ws, const struct ws_member *m, size_t n, FILE *f)
{
	struct seen seen = {calloc(2 * n + 1, sizeof(*seen.v)), 0};
	size_t steps = 0;
	bool blocked = false;

	if (!seen.v)
		return;
	/* Images first, then networks, as up brings them; a missing card is said where it is
	 * needed, and nothing after it can be done. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			if (!m[i].cent)
				continue;
			const struct card_container_spec *cs = &m[i].cent->card->spec.container;
			const char *ref = pass == 0 ? cs->image_ref.s : cs->network_ref.s;
			if (!ref)
				continue;
			struct ws_entry *e = ws_ref_entry_locked(ws, ref, pass == 0 ? CARD_IMAGE : CARD_NETWORK);
			if (!e) {
				fprintf(f, "missing %s (unit %s)\n", ref, m[i].unit);
				blocked = true;
				steps++;
			} else if (seen_add(&seen, e)) {
				if (pass == 0)
					plan_image(ws, e, f, &steps);
				else
					plan_network(ws, e, f, &steps);
			}
		}
	for (size_t i = 0; i < n; i++) {
		if (m[i].missing[0]) {
			fprintf(f, "missing %s (unit %s)\n", m[i].missing, m[i].unit);
			steps++;
		} else if (!blocked) {
			plan_container(ws, &m[i], f, &steps);
		}
	}
	if (!steps)
		fputs("nothing to do\n", f);
	free(seen.v);
}

struct plan_ctx {
	enum ws_kind kind;
	const char *name;
};

static int plan_of(struct workspace *ws, FILE *f, void *arg)
{
	const struct plan_ctx *c = arg;
	struct ws_member *m = NULL;
	int n = ws_group_members_locked(ws, c->kind, c->name, &m);

	if (n >= 0)
		plan_locked(ws, m, (size_t)n, f);
	free(m);
	return n < 0 ? n : 0;
}

int ws_group_plan(struct workspace *ws, enum ws_kind kind, const char *name, char **text,
		  size_t *len)
{
	struct plan_ctx c = {kind, name};
	return ws_render_state(ws, plan_of, &c, text, len);
}
