/* Image, network and volume cards in the engine, the labels that mark what cutipfs made, and
 * removal of what a card made. No lock is held here, except briefly to append to an image's
 * log. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws-int.h"

/* Pulls from a registry may be slow; a pull that has not finished in half an hour is stuck. */
#define WS_PULL_TIMEOUT_S 1800

/* ---- images ---- */

struct log_ctx {
	struct workspace *ws;
	struct ws_entry *e;
};

static void log_append(struct workspace *ws, struct ws_entry *e, const char *text)
{
	pthread_mutex_lock(&ws->lock);
	ws_buf_append(&e->log, text, strlen(text), WS_IMAGE_LOG_MAX);
	pthread_mutex_unlock(&ws->lock);
}

/* A new pull or build: the log shows that one only. */
static void log_start(struct workspace *ws, struct ws_entry *e, const char *activity,
		      const char *what)
{
	pthread_mutex_lock(&ws->lock);
	e->log.len = 0;
	e->activity = activity;
	e->progress[0] = '\0';
	ws_invalidate(ws);
	pthread_mutex_unlock(&ws->lock);
	log_append(ws, e, what);
}

/* Progress of a pull or build: the driver's lines to the log, its counts to the status (read
 * at each open of status: a count that moves is no change to notify). */
static int on_progress(const char *line, const struct be_progress *p, void *arg)
{
	struct log_ctx *c = arg;

	pthread_mutex_lock(&c->ws->lock);
	ws_progress_text(c->e->activity, p, c->e->progress, sizeof(c->e->progress));
	if (line)
		ws_buf_append(&c->e->log, line, strlen(line), WS_IMAGE_LOG_MAX);
	pthread_mutex_unlock(&c->ws->lock);
	return 0;
}

/* The image id behind a name, or -ENOENT. */
static int image_id(struct workspace *ws, const char *name, char *id, size_t idlen,
		    struct be_obj **inspect, char *err, size_t errlen)
{
	struct be_obj *img = NULL;
	int rc = ws->be->ops->inspect(ws->be, BE_IMAGE, name, &img, err, errlen);

	if (rc == 0)
		ws_fmt(id, idlen, "%s", img->id);
	if (inspect)
		*inspect = img;
	else
		be_obj_free(img);
	return rc;
}

/* source: pull. <name>:<tag> present and nothing newer under <image>:<tag> here: done; the
 * source present locally: tag it; else pull it and tag it. */
static int apply_pull(struct workspace *ws, struct ws_entry *e, const struct card *card,
		      struct ws_result *res)
{
	const struct card_image_spec *im = &card->spec.image;
	char src[512], aid[BE_ID_SIZE] = "", sid[BE_ID_SIZE] = "", line[1100];
	struct log_ctx lc = {ws, e};
	int ra, rs, rc;

	ws_fmt(src, sizeof(src), "%s:%s", im->image, im->tag);
	ra = image_id(ws, res->object, aid, sizeof(aid), NULL, res->err, sizeof(res->err));
	if (ra < 0 && ra != -ENOENT)
		return ra;
	rs = strcmp(src, res->object) == 0
		 ? ra
		 : image_id(ws, src, sid, sizeof(sid), NULL, res->err, sizeof(res->err));
	if (rs < 0 && rs != -ENOENT)
		return rs;
	if (ra == 0 && (rs == -ENOENT || strcmp(aid, sid) == 0 || strcmp(src, res->object) == 0)) {
		ws_fmt(res->id, sizeof(res->id), "%s", aid);
		return 0;
	}
	if (rs == -ENOENT) {
		ws_fmt(line, sizeof(line), "pulling %s\n", src);
		log_start(ws, e, "pulling", line);
		/* The change the images/ name gets: "pulled", not "tagged". */
		ws_state_hint(ws, src, "pulled");
		ws_state_hint(ws, res->object, "pulled");
		rc = ws->be->ops->image_pull(ws->be, im->image, im->tag, on_progress, &lc,
					     WS_PULL_TIMEOUT_S, res->err, sizeof(res->err));
		if (rc < 0) {
			ws_fmt(line, sizeof(line), "pull of %s failed: %s\n", src, res->err);
			log_append(ws, e, line);
			if (rc != -ECONNREFUSED && rc != -ETIMEDOUT) {
				char why[600];
				ws_fmt(why, sizeof(why), "pull of %s failed: %s", src, res->err);
				ws_fmt(res->err, sizeof(res->err), "%s", why);
			}
			return rc;
		}
	} else {
		ws_fmt(line, sizeof(line), "%s is here: tagging it as %s\n", src, res->object);
		log_start(ws, e, NULL, line);
	}
	if (strcmp(src, res->object) != 0) {
		rc = ws->be->ops->image_tag(ws->be, src, card->name.s, im->tag, res->err,
					    sizeof(res->err));
		if (rc < 0)
			return rc;
	}
	return image_id(ws, res->object, res->id, sizeof(res->id), NULL, res->err,
			sizeof(res->err));
}

/* source: build. Rebuilt only when the card changed: the image carries the card's hash. */
static int apply_build(struct workspace *ws, struct ws_entry *e, const struct card *card,
		       const char *hash, struct ws_result *res)
{
	const struct card_image_spec *im = &card->spec.image;
	struct log_ctx lc = {ws, e};
	struct be_obj *img = NULL;
	char line[1200];
	int rc;

	rc = image_id(ws, res->object, res->id, sizeof(res->id), &img, res->err, sizeof(res->err));
	if (rc < 0 && rc != -ENOENT)
		return rc;
	if (rc == 0) {
		const char *have = be_obj_label(img, WS_LABEL_HASH);
		bool ours = ws_labels_ours(ws, img);
		bool same = ours && have && strcmp(have, hash) == 0;
		be_obj_free(img);
		if (same)
			return 0;
		/* Our previous build: once its containers are made again, nothing uses it. */
		if (ours)
			ws_fmt(res->replaced, sizeof(res->replaced), "%s", res->id);
	}
	res->id[0] = '\0';

	char *context = card_path_join(ws->root, im->context);
	if (!context)
		return -ENOMEM;
	ws_fmt(line, sizeof(line), "building %s from %s (%s)\n", res->object, context,
	       im->dockerfile);
	log_start(ws, e, "building", line);
	ws_state_hint(ws, res->object, "built");
	char *staged = NULL;
	const char *dockerfile = im->dockerfile;
	if (im->resource_count) {
		rc = ws_stage_build(ws, card, context, &staged, &dockerfile, res->err,
				    sizeof(res->err));
		if (rc < 0) {
			ws_fmt(line, sizeof(line), "%s\n", res->err);
			log_append(ws, e, line);
			free(context);
			return rc;
		}
		ws_fmt(line, sizeof(line), "buildtime_resources staged in %s (the build context)\n",
		       staged);
		log_append(ws, e, line);
	}
	struct be_build o = {
	    .context_dir = staged ? staged : context,
	    .dockerfile = dockerfile,
	    .tag = res->object,
	    .build_args = &im->build_args,
	    .labels = ws_labels(ws, e->relpath, hash, &card->labels),
	    .network_mode = im->network_mode,
	};
	rc = ws->be->ops->image_build(ws->be, &o, on_progress, &lc, res->id, sizeof(res->id),
				      res->err, sizeof(res->err));
	if (rc < 0) {
		ws_fmt(line, sizeof(line), "build failed: %s\n", res->err);
		log_append(ws, e, line);
		if (rc != -ECONNREFUSED && rc != -ETIMEDOUT) {
			ws_fmt(line, sizeof(line), "build of %s failed: %s", res->object, res->err);
			ws_fmt(res->err, sizeof(res->err), "%s", line);
		}
	} else if (!res->id[0]) {
		rc = image_id(ws, res->object, res->id, sizeof(res->id), NULL, res->err,
			      sizeof(res->err));
	}
	ws_labels_free(&o.labels);
	ws_stage_free(staged);
	free(context);
	return rc;
}

int ws_apply_image(struct workspace *ws, struct ws_entry *e, const struct card *card,
		   const char *hash, struct ws_result *res)
{
	ws_fmt(res->object, sizeof(res->object), "%s:%s", card->name.s, card->spec.image.tag);
	if (strcmp(card->spec.image.source, "build") == 0)
		return apply_build(ws, e, card, hash, res);
	return apply_pull(ws, e, card, res);
}

/* ---- networks ---- */

/* "10.1.2.3/24" -> network 10.1.2.0, prefix 24. */
static bool parse_cidr(const char *text, unsigned long *net, int *prefix)
{
	unsigned a, b, c, d;
	int n = 0, p;

	if (!text || sscanf(text, "%u.%u.%u.%u/%d%n", &a, &b, &c, &d, &p, &n) != 5 || text[n] ||
	    a > 255 || b > 255 || c > 255 || d > 255 || p < 0 || p > 32)
		return false;
	unsigned long mask = p ? (0xffffffffUL << (32 - p)) & 0xffffffffUL : 0;
	*net = ((unsigned long)a << 24 | b << 16 | c << 8 | d) & mask;
	*prefix = p;
	return true;
}

static void format_ip(unsigned long ip, char *out, size_t len)
{
	ws_fmt(out, len, "%lu.%lu.%lu.%lu", ip >> 24 & 255, ip >> 16 & 255, ip >> 8 & 255,
	       ip & 255);
}

/* The subnet as an engine writes it ("10.1.2.0/24"), or the text as it is. */
static void canon_subnet(const char *text, char *out, size_t len)
{
	unsigned long net;
	int prefix;
	char ip[16];

	if (!parse_cidr(text, &net, &prefix)) {
		ws_fmt(out, len, "%s", text ? text : "");
		return;
	}
	format_ip(net, ip, sizeof(ip));
	ws_fmt(out, len, "%s/%d", ip, prefix);
}

/* Whether an existing network has the subnet; *have gets its first one for the message. */
static bool network_has_subnet(const struct be_obj *net, const char *want, char *have, size_t len)
{
	const char *p = net->subnets ? net->subnets : "";
	char sub[64], s[64];
	bool first = true;

	ws_fmt(have, len, "none");
	while (*p) {
		size_t n = strcspn(p, "\n");
		if (n && n < sizeof(sub)) {
			ws_fmt(sub, sizeof(sub), "%.*s", (int)n, p);
			canon_subnet(sub, s, sizeof(s));
			if (strcmp(s, want) == 0)
				return true;
			if (first)
				ws_fmt(have, len, "%s", s);
			first = false;
		}
		p += n + (p[n] == '\n');
	}
	return false;
}

static int create_network(struct workspace *ws, const char *relpath, const struct card *card,
			  const char *hash, const char *subnet, struct ws_result *res)
{
	const struct card_network_spec *n = &card->spec.network;
	unsigned long net;
	int prefix;
	char gateway[16] = "";
	bool created;
	int rc;

	if (n->gateway) {
		ws_fmt(gateway, sizeof(gateway), "%s", n->gateway);
	} else if (parse_cidr(n->subnet, &net, &prefix) && prefix < 31) {
		/* As CUTIP does: the first host of the subnet. */
		format_ip(net + 1, gateway, sizeof(gateway));
	}
	struct be_network req = {
	    .name = card->name.s,
	    .driver = n->driver,
	    .subnet = subnet,
	    .gateway = gateway[0] ? gateway : NULL,
	    .labels = ws_labels(ws, relpath, hash, &card->labels),
	};
	rc = ws->be->ops->network_create(ws->be, &req, res->id, sizeof(res->id), &created,
					 res->err, sizeof(res->err));
	ws_labels_free(&req.labels);
	return rc;
}

int ws_apply_network(struct workspace *ws, const char *relpath, const struct card *card,
		     const char *hash, struct ws_result *res)
{
	char subnet[64], have[64];
	struct be_obj *net = NULL;
	int rc;

	ws_fmt(res->object, sizeof(res->object), "%s", card->name.s);
	canon_subnet(card->spec.network.subnet, subnet, sizeof(subnet));
	rc = ws->be->ops->inspect(ws->be, BE_NETWORK, card->name.s, &net, res->err,
				  sizeof(res->err));
	if (rc == -ENOENT)
		return create_network(ws, relpath, card, hash, subnet, res);
	if (rc < 0)
		return rc;
	ws_fmt(res->id, sizeof(res->id), "%s", net->id);
	if (!network_has_subnet(net, subnet, have, sizeof(have))) {
		/* Never silently kept: containers would land on an address plan nobody wrote. */
		ws_fmt(res->err, sizeof(res->err),
		       "network '%s' exists with subnet %s, card wants %s", card->name.s, have,
		       subnet);
		be_obj_free(net);
		return -EEXIST;
	}
	const char *have_hash = be_obj_label(net, WS_LABEL_HASH);
	bool ours = ws_labels_ours(ws, net);
	bool same = !ours || (have_hash && strcmp(have_hash, hash) == 0);
	be_obj_free(net);
	/* Someone else's network with the same subnet is adopted as it is (and never removed
	 * for the card). Ours with another hash (driver, gateway) is made again. */
	if (same)
		return 0;
	rc = ws->be->ops->remove(ws->be, BE_NETWORK, card->name.s, 0, res->err, sizeof(res->err));
	if (rc == -EBUSY)
		ws_fmt(res->err, sizeof(res->err),
		       "network '%s' must be made again for the card's change, but containers "
		       "use it",
		       card->name.s);
	if (rc < 0 && rc != -ENOENT)
		return rc;
	return create_network(ws, relpath, card, hash, subnet, res);
}

/* ---- volumes ---- */

int ws_apply_volume(struct workspace *ws, const char *relpath, const struct card *card,
		    const char *hash, struct ws_result *res)
{
	const struct card_volume_spec *v = &card->spec.volume;
	struct be_volume req = {
	    .name = card->name.s,
	    .driver = v->driver,
	    .options = &v->options,
	    .labels = ws_labels(ws, relpath, hash, &v->labels),
	};
	int rc;

	ws_fmt(res->object, sizeof(res->object), "%s", card->name.s);
	ws_fmt(res->id, sizeof(res->id), "%s", card->name.s);
	/* An existing volume is data: it is kept as it is, whoever made it. */
	rc = ws->be->ops->volume_create(ws->be, &req, NULL, res->err, sizeof(res->err));
	ws_labels_free(&req.labels);
	return rc;
}

/* ---- removal ---- */

/* Whether some container (any state) was made from this image name. */
static int image_in_use(struct workspace *ws, const char *name, char *err, size_t errlen)
{
	struct be_obj **list = NULL;
	size_t n = 0;
	int rc = ws->be->ops->list(ws->be, BE_CONTAINER, &list, &n, err, errlen);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (strcmp(list[i]->image, be_image_short(name)) == 0) {
			ws_fmt(err, errlen, "image '%s' is used by container %s", name,
			       list[i]->name[0] ? list[i]->name : list[i]->id);
			rc = -EBUSY;
		}
	}
	be_objv_free(list, n);
	return rc;
}

static int unapply_image(struct workspace *ws, const char *name, bool force, char *err,
			 size_t errlen)
{
	struct be_obj *img = NULL;
	int rc = ws->be->ops->inspect(ws->be, BE_IMAGE, name, &img, err, errlen);

	if (rc < 0)
		return rc;
	size_t tags = 0;
	for (const char *p = img->tags ? img->tags : ""; (p = strchr(p, '\n')) && p[1]; p++)
		tags++;
	/* Built here, or an alias of an image that keeps another name (untagging loses
	 * nothing). A pulled image known only by this name stays: pulling costs. */
	bool ours = ws_labels_ours(ws, img) || tags > 1;
	be_obj_free(img);
	if (!ours && !force)
		return 0;
	rc = image_in_use(ws, name, err, errlen);
	if (rc == 0)
		rc = ws->be->ops->remove(ws->be, BE_IMAGE, name, 0, err, errlen);
	return rc;
}

int ws_container_destroy(struct workspace *ws, const char *id, char *err, size_t errlen)
{
	struct be_ctl stop = {.op = BE_STOP, .timeout_s = WS_STOP_GRACE_S};
	int rc = ws->be->ops->ctl(ws->be, BE_CONTAINER, id, &stop, err, errlen);

	/* A stop that failed (a paused container, say) is settled by the forced remove. */
	if (rc != -ENOENT)
		rc = ws->be->ops->remove(ws->be, BE_CONTAINER, id, BE_RM_FORCE, err, errlen);
	/* Gone: an adoption of it is over (adopted.c). */
	if (rc == 0 || rc == -ENOENT)
		ws_adopted_forget(ws, id);
	return rc;
}

static int unapply(struct workspace *ws, enum card_kind kind, const char *object, bool force,
		   char *err, size_t errlen)
{
	struct be_obj *obj = NULL;
	enum be_kind bk;
	int rc;

	switch (kind) {
	case CARD_IMAGE:
		return unapply_image(ws, object, force, err, errlen);
	case CARD_CONTAINER:
		bk = ws_swarm(ws) ? BE_SERVICE : BE_CONTAINER;
		break;
	case CARD_NETWORK:
		bk = BE_NETWORK;
		break;
	case CARD_VOLUME:
		bk = BE_VOLUME;
		break;
	default:
		return 0;
	}
	rc = ws->be->ops->inspect(ws->be, bk, object, &obj, err, errlen);
	if (rc < 0)
		return rc;
	bool ours = ws_labels_ours(ws, obj);
	char id[BE_ID_SIZE];
	ws_fmt(id, sizeof(id), "%s", obj->id[0] ? obj->id : object);
	be_obj_free(obj);
	if (!ours && !force)
		return 0; /* not ours: the card is forgotten, the object stays */
	if (bk == BE_CONTAINER)
		return ws_container_destroy(ws, id, err, errlen);
	if (bk == BE_SERVICE)
		return ws->be->ops->remove(ws->be, bk, id, 0, err, errlen);
	return ws->be->ops->remove(ws->be, bk, object, 0, err, errlen);
}

int ws_unapply(struct workspace *ws, enum card_kind kind, const char *object, bool force, char *err,
	       size_t errlen)
{
	int rc = unapply(ws, kind, object, force, err, errlen);

	/* The state shows what the engine has now (the events publish the changes). */
	if (rc != -ECONNREFUSED && rc != -ETIMEDOUT)
		ws_refresh_kind(ws, kind, object);
	return rc;
}
