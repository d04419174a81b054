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

cJSON *ws_labels(struct workspace *ws, const char *relpath, const char *hash,
		 const struct card_map *extra)
{
	cJSON *l = cJSON_CreateObject();

	for (size_t i = 0; l && extra && i < extra->count; i++)
		cJSON_AddStringToObject(l, extra->items[i].key, extra->items[i].value);
	/* Ours last, so that a card's own labels cannot fake or hide them. */
	cJSON_DeleteItemFromObjectCaseSensitive(l, WS_LABEL_MANAGED);
	cJSON_DeleteItemFromObjectCaseSensitive(l, WS_LABEL_WORKSPACE);
	cJSON_DeleteItemFromObjectCaseSensitive(l, WS_LABEL_CARD);
	cJSON_DeleteItemFromObjectCaseSensitive(l, WS_LABEL_HASH);
	cJSON_AddStringToObject(l, WS_LABEL_MANAGED, "1");
	cJSON_AddStringToObject(l, WS_LABEL_WORKSPACE, ws->root);
	if (relpath)
		cJSON_AddStringToObject(l, WS_LABEL_CARD, relpath);
	if (hash)
		cJSON_AddStringToObject(l, WS_LABEL_HASH, hash);
	return l;
}

static const char *label(const cJSON *labels, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(labels, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool ws_labels_ours(struct workspace *ws, const cJSON *labels)
{
	const char *managed = label(labels, WS_LABEL_MANAGED);
	const char *root = label(labels, WS_LABEL_WORKSPACE);
	return managed && strcmp(managed, "1") == 0 && root && strcmp(root, ws->root) == 0;
}

const char *ws_image_short(const char *ref)
{
	static const char *const prefixes[] = {"docker.io/library/", "localhost/", "docker.io/"};

	for (size_t i = 0; ref && i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(ref, prefixes[i], strlen(prefixes[i])) == 0)
			return ref + strlen(prefixes[i]);
	return ref ? ref : "";
}

const char *ws_id_short(const char *id)
{
	if (id && strncmp(id, "sha256:", 7) == 0)
		return id + 7;
	return id ? id : "";
}

static const char *jstr(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

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
	ws_invalidate(ws);
	pthread_mutex_unlock(&ws->lock);
	log_append(ws, e, what);
}

/* Progress messages of a pull or build, as lines a person reads. */
static int on_progress(const cJSON *msg, void *arg)
{
	struct log_ctx *c = arg;
	const cJSON *detail = cJSON_GetObjectItemCaseSensitive(msg, "progressDetail");
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(msg, "errorDetail");
	char *line = NULL;

	if (*jstr(msg, "stream")) {
		log_append(c->ws, c->e, jstr(msg, "stream"));
		return 0;
	}
	if (error || *jstr(msg, "error")) {
		const char *m =
		    *jstr(error, "message") ? jstr(error, "message") : jstr(msg, "error");
		if (asprintf(&line, "error: %s\n", m) < 0)
			line = NULL;
	} else if (*jstr(msg, "status") && !cJSON_GetObjectItemCaseSensitive(detail, "current")) {
		/* Download and extract progress bars would bury the lines that matter. */
		const char *id = jstr(msg, "id");
		if (asprintf(&line, "%s%s%s\n", id, *id ? ": " : "", jstr(msg, "status")) < 0)
			line = NULL;
	}
	if (line)
		log_append(c->ws, c->e, line);
	free(line);
	return 0;
}

/* The image id behind a name, or -ENOENT. */
static int image_id(struct workspace *ws, const char *name, char *id, size_t idlen, cJSON **inspect,
		    char *err, size_t errlen)
{
	cJSON *img = NULL;
	int rc = engine_image_inspect(ws->engine, name, &img, err, errlen);

	if (rc == 0)
		ws_fmt(id, idlen, "%s", jstr(img, "Id"));
	if (inspect)
		*inspect = img;
	else
		cJSON_Delete(img);
	return rc;
}

/* source: pull. <name>:<tag> present and nothing newer under <image>:<tag> here: done; the
 * source present locally: tag it; else pull it and tag it. */
static int apply_pull(struct workspace *ws, struct ws_entry *e, const struct card *card,
		      struct ws_result *res)
{
	const struct card_image_spec *im = &card->spec.image;
	char src[512], aid[ENGINE_ID_SIZE] = "", sid[ENGINE_ID_SIZE] = "", line[1100];
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
		rc = engine_image_pull(ws->engine, im->image, im->tag, on_progress, &lc,
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
		rc = engine_image_tag(ws->engine, src, card->name.s, im->tag, res->err,
				      sizeof(res->err));
		if (rc < 0)
			return rc;
	}
	return image_id(ws, res->object, res->id, sizeof(res->id), NULL, res->err,
			sizeof(res->err));
}

static cJSON *map_json(const struct card_map *m)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; o && i < m->count; i++)
		cJSON_AddStringToObject(o, m->items[i].key, m->items[i].value);
	return o;
}

/* source: build. Rebuilt only when the card changed: the image carries the card's hash. */
static int apply_build(struct workspace *ws, struct ws_entry *e, const struct card *card,
		       const char *hash, struct ws_result *res)
{
	const struct card_image_spec *im = &card->spec.image;
	struct log_ctx lc = {ws, e};
	cJSON *img = NULL;
	char line[1200];
	int rc;

	rc = image_id(ws, res->object, res->id, sizeof(res->id), &img, res->err, sizeof(res->err));
	if (rc < 0 && rc != -ENOENT)
		return rc;
	if (rc == 0) {
		const cJSON *labels = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(img, "Config"), "Labels");
		const char *have = label(labels, WS_LABEL_HASH);
		bool ours = ws_labels_ours(ws, labels);
		bool same = ours && have && strcmp(have, hash) == 0;
		cJSON_Delete(img);
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
	cJSON *labels = ws_labels(ws, e->relpath, hash, &card->labels);
	cJSON *args = im->build_args.count ? map_json(&im->build_args) : NULL;
	struct engine_build_opts o = {
	    .context_dir = staged ? staged : context,
	    .dockerfile = dockerfile,
	    .tag = res->object,
	    .buildargs = args,
	    .labels = labels,
	    .networkmode = im->network_mode,
	};
	rc = engine_image_build(ws->engine, &o, on_progress, &lc, res->id, sizeof(res->id),
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
	cJSON_Delete(labels);
	cJSON_Delete(args);
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
static bool network_has_subnet(const cJSON *net, const char *want, char *have, size_t len)
{
	const cJSON *configs = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(net, "IPAM"), "Config");
	const cJSON *cfg;
	char s[64];

	ws_fmt(have, len, "none");
	cJSON_ArrayForEach(cfg, configs)
	{
		const char *sub = jstr(cfg, "Subnet");
		if (!*sub)
			continue;
		canon_subnet(sub, s, sizeof(s));
		if (strcmp(s, want) == 0)
			return true;
		if (cfg == configs->child)
			ws_fmt(have, len, "%s", s);
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
	cJSON *labels = ws_labels(ws, relpath, hash, &card->labels);
	rc = engine_network_create(ws->engine, card->name.s, n->driver, subnet,
				   gateway[0] ? gateway : NULL, labels, res->id, sizeof(res->id),
				   &created, res->err, sizeof(res->err));
	cJSON_Delete(labels);
	return rc;
}

int ws_apply_network(struct workspace *ws, const char *relpath, const struct card *card,
		     const char *hash, struct ws_result *res)
{
	char subnet[64], have[64];
	cJSON *net = NULL;
	int rc;

	ws_fmt(res->object, sizeof(res->object), "%s", card->name.s);
	canon_subnet(card->spec.network.subnet, subnet, sizeof(subnet));
	rc = engine_network_inspect(ws->engine, card->name.s, &net, res->err, sizeof(res->err));
	if (rc == -ENOENT)
		return create_network(ws, relpath, card, hash, subnet, res);
	if (rc < 0)
		return rc;
	ws_fmt(res->id, sizeof(res->id), "%s", jstr(net, "Id"));
	if (!network_has_subnet(net, subnet, have, sizeof(have))) {
		/* Never silently kept: containers would land on an address plan nobody wrote. */
		ws_fmt(res->err, sizeof(res->err),
		       "network '%s' exists with subnet %s, card wants %s", card->name.s, have,
		       subnet);
		cJSON_Delete(net);
		return -EEXIST;
	}
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(net, "Labels");
	const char *have_hash = label(labels, WS_LABEL_HASH);
	bool ours = ws_labels_ours(ws, labels);
	bool same = !ours || (have_hash && strcmp(have_hash, hash) == 0);
	cJSON_Delete(net);
	/* Someone else's network with the same subnet is adopted as it is (and never removed
	 * for the card). Ours with another hash (driver, gateway) is made again. */
	if (same)
		return 0;
	rc = engine_network_remove(ws->engine, card->name.s, res->err, sizeof(res->err));
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
	cJSON *vol = NULL, *body;
	int rc;

	ws_fmt(res->object, sizeof(res->object), "%s", card->name.s);
	ws_fmt(res->id, sizeof(res->id), "%s", card->name.s);
	/* An existing volume is data: it is kept as it is, whoever made it. */
	rc = engine_volume_inspect(ws->engine, card->name.s, &vol, res->err, sizeof(res->err));
	cJSON_Delete(vol);
	if (rc != -ENOENT)
		return rc;
	body = cJSON_CreateObject();
	if (!body)
		return -ENOMEM;
	cJSON_AddStringToObject(body, "Name", card->name.s);
	cJSON_AddStringToObject(body, "Driver", v->driver);
	cJSON_AddItemToObject(body, "DriverOpts", map_json(&v->options));
	cJSON_AddItemToObject(body, "Labels", ws_labels(ws, relpath, hash, &v->labels));
	rc = engine_request(ws->engine, "POST", "/volumes/create", body, NULL, res->err,
			    sizeof(res->err));
	cJSON_Delete(body);
	return rc == -EEXIST || rc == -EBUSY ? 0 : rc;
}

/* ---- removal ---- */

/* Whether some container (any state) was made from this image name. */
static int image_in_use(struct workspace *ws, const char *name, char *err, size_t errlen)
{
	cJSON *list = NULL;
	const cJSON *c;
	int rc = engine_container_list(ws->engine, NULL, &list, err, errlen);

	if (rc < 0)
		return rc;
	cJSON_ArrayForEach(c, list)
	{
		if (strcmp(ws_image_short(jstr(c, "Image")), ws_image_short(name)) == 0) {
			const cJSON *names = cJSON_GetObjectItemCaseSensitive(c, "Names");
			const char *who = cJSON_IsArray(names) && cJSON_IsString(names->child)
					      ? names->child->valuestring
					      : jstr(c, "Id");
			ws_fmt(err, errlen, "image '%s' is used by container %s", name,
			       *who == '/' ? who + 1 : who);
			rc = -EBUSY;
			break;
		}
	}
	cJSON_Delete(list);
	return rc;
}

static int unapply_image(struct workspace *ws, const char *name, bool force, char *err,
			 size_t errlen)
{
	cJSON *img = NULL;
	int rc = engine_image_inspect(ws->engine, name, &img, err, errlen);

	if (rc < 0)
		return rc;
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(img, "Config"), "Labels");
	int tags = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(img, "RepoTags"));
	/* Built here, or an alias of an image that keeps another name (untagging loses
	 * nothing). A pulled image known only by this name stays: pulling costs. */
	bool ours = ws_labels_ours(ws, labels) || tags > 1;
	cJSON_Delete(img);
	if (!ours && !force)
		return 0;
	rc = image_in_use(ws, name, err, errlen);
	if (rc == 0)
		rc = engine_image_remove(ws->engine, name, false, err, errlen);
	return rc;
}

int ws_container_destroy(struct workspace *ws, const char *id, char *err, size_t errlen)
{
	int rc = engine_container_stop(ws->engine, id, WS_STOP_GRACE_S, err, errlen);

	if (rc == -ENOENT)
		return rc;
	/* A stop that failed (a paused container, say) is settled by the forced remove. */
	return engine_container_remove(ws->engine, id, true, false, err, errlen);
}

static int unapply(struct workspace *ws, enum card_kind kind, const char *object, bool force,
		   char *err, size_t errlen)
{
	cJSON *obj = NULL;
	const cJSON *labels;
	int rc;

	switch (kind) {
	case CARD_IMAGE:
		return unapply_image(ws, object, force, err, errlen);
	case CARD_CONTAINER:
		rc = engine_container_inspect(ws->engine, object, &obj, err, errlen);
		labels = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(obj, "Config"), "Labels");
		break;
	case CARD_NETWORK:
		rc = engine_network_inspect(ws->engine, object, &obj, err, errlen);
		labels = cJSON_GetObjectItemCaseSensitive(obj, "Labels");
		break;
	case CARD_VOLUME:
		rc = engine_volume_inspect(ws->engine, object, &obj, err, errlen);
		labels = cJSON_GetObjectItemCaseSensitive(obj, "Labels");
		break;
	default:
		return 0;
	}
	if (rc < 0)
		return rc;
	bool ours = ws_labels_ours(ws, labels);
	char id[ENGINE_ID_SIZE];
	ws_fmt(id, sizeof(id), "%s", *jstr(obj, "Id") ? jstr(obj, "Id") : object);
	cJSON_Delete(obj);
	if (!ours && !force)
		return 0; /* not ours: the card is forgotten, the object stays */
	if (kind == CARD_CONTAINER)
		return ws_container_destroy(ws, id, err, errlen);
	if (kind == CARD_NETWORK)
		return engine_network_remove(ws->engine, object, err, errlen);
	return engine_volume_remove(ws->engine, object, false, err, errlen);
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
