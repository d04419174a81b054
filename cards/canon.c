/* The canonical JSON of a card and its SHA-256.
 *
 * The shape mirrors the YAML a user writes, so the JSON reads like the card:
 *   {"apiVersion":"cutip/v1","kind":"ImageCard","metadata":{"labels":{},"name":"web"},
 *    "spec":{"build_args":{},"buildtime_dir":null,...,"tag":"latest"}}
 * - every field of the kind's spec is present, with the value card.c settled on (defaults
 *   included), so writing a default out and leaving it away hash the same;
 * - except cutipfs's own ContainerCard fields (replicas, resources, healthcheck, user,
 *   stop_signal, stop_timeout), each present only when the card gives it: a field added later
 *   must not change the hash of every card written before it, or every running object would
 *   look stale after an upgrade. So `replicas: 1` and no replicas hash differently although
 *   both run one task;
 * - an absent optional is null, a bool is true/false, an empty map {} and an empty list [];
 * - refs keep their YAML shape {"ref":"images/web"} (null when an optional ref is absent);
 * - object keys are sorted by bytes at every level; lists keep their order, which matters;
 * - a map key written twice keeps its last value, as PyYAML (and so CUTIP) does;
 * - the command stays the string it was written as: the hash is about the card, not the argv.
 * Nothing outside struct card can leak in, so unknown keys, comments, quoting and YAML style
 * never change the result. The key names are the YAML ones, which is also what keeps this
 * stable: renaming a C field must not change a hash a running object is labelled with. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <openssl/evp.h>

#include "canon.h"

/* Adds item under key, taking ownership of it either way; false when item is NULL (a failed
 * allocation upstream) or the add fails. */
static bool add(cJSON *obj, const char *key, cJSON *item)
{
	if (!item)
		return false;
	if (!cJSON_AddItemToObject(obj, key, item)) {
		cJSON_Delete(item);
		return false;
	}
	return true;
}

static cJSON *str_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* {"ref":"images/web"}, the YAML shape of a Ref; null when the ref is absent. */
static cJSON *ref_obj(const struct card_str *ref)
{
	if (!ref->s)
		return cJSON_CreateNull();
	cJSON *obj = cJSON_CreateObject();
	if (obj && !add(obj, "ref", cJSON_CreateString(ref->s))) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

/* Orders map entries by key, and among equal keys by position, so the last of a run is the one
 * written last. */
static int kv_cmp(const void *a, const void *b)
{
	const struct card_kv *x = *(const struct card_kv *const *)a;
	const struct card_kv *y = *(const struct card_kv *const *)b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	return (x > y) - (x < y); /* items sit in one array: address order is file order */
}

static cJSON *map_obj(const struct card_map *map)
{
	cJSON *obj = cJSON_CreateObject();
	if (!obj || map->count == 0)
		return obj;
	const struct card_kv **sorted = malloc(map->count * sizeof(*sorted));
	if (!sorted) {
		cJSON_Delete(obj);
		return NULL;
	}
	for (size_t i = 0; i < map->count; i++)
		sorted[i] = &map->items[i];
	qsort(sorted, map->count, sizeof(*sorted), kv_cmp);
	for (size_t i = 0; i < map->count; i++) {
		const struct card_kv *kv = sorted[i];
		if (i + 1 < map->count && strcmp(kv->key, sorted[i + 1]->key) == 0)
			continue; /* a later duplicate wins */
		if (!add(obj, kv->key, str_or_null(kv->value))) {
			free(sorted);
			cJSON_Delete(obj);
			return NULL;
		}
	}
	free(sorted);
	return obj;
}

static cJSON *list_arr(const struct card_list *list)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; arr && i < list->count; i++) {
		cJSON *item = str_or_null(list->items[i].s);
		if (!item || !cJSON_AddItemToArray(arr, item)) {
			cJSON_Delete(item);
			cJSON_Delete(arr);
			arr = NULL;
		}
	}
	return arr;
}

/* Appends item to arr, deleting arr (and item) on failure; returns arr or NULL. */
static cJSON *push(cJSON *arr, cJSON *item)
{
	if (!item || !cJSON_AddItemToArray(arr, item)) {
		cJSON_Delete(item);
		cJSON_Delete(arr);
		return NULL;
	}
	return arr;
}

static cJSON *resource_obj(const struct card_build_resource *res)
{
	cJSON *obj = cJSON_CreateObject();
	if (obj && !(add(obj, "src", str_or_null(res->src.s)) &&
		     add(obj, "dest", str_or_null(res->dest)))) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

static cJSON *mount_obj(const struct card_mount *m)
{
	cJSON *obj = cJSON_CreateObject();
	if (obj && !(add(obj, "type", str_or_null(m->type)) &&
		     add(obj, "source", str_or_null(m->source.s)) &&
		     add(obj, "target", str_or_null(m->target.s)) &&
		     add(obj, "read_only", cJSON_CreateBool(m->read_only)) &&
		     add(obj, "create_host_path", cJSON_CreateBool(m->create_host_path)))) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

static bool image_spec(cJSON *o, const struct card_image_spec *s)
{
	cJSON *resources = cJSON_CreateArray();
	for (size_t i = 0; resources && i < s->resource_count; i++)
		resources = push(resources, resource_obj(&s->resources[i]));
	/* resources goes in first: once an add fails the chain stops, and it must not leak. */
	return add(o, "buildtime_resources", resources) &&
	       add(o, "source", str_or_null(s->source)) && add(o, "tag", str_or_null(s->tag)) &&
	       add(o, "image", str_or_null(s->image)) &&
	       add(o, "context", str_or_null(s->context)) &&
	       add(o, "dockerfile", str_or_null(s->dockerfile)) &&
	       add(o, "build_args", map_obj(&s->build_args)) &&
	       add(o, "buildtime_dir", str_or_null(s->buildtime_dir)) &&
	       add(o, "network_mode", str_or_null(s->network_mode));
}

/* An integer as Python's json.dumps writes it: plain decimal digits. Raw rather than a cJSON
 * number, which goes through a double and %g: exact for an unsigned, but not for a wider type
 * (past 2^53, and "1e+15" from 10^15), and a hash must not hang on that staying true. */
static cJSON *uint_raw(unsigned value)
{
	char text[32];
	snprintf(text, sizeof(text), "%u", value);
	return cJSON_CreateRaw(text);
}

static cJSON *ll_raw(long long value)
{
	char text[32];
	snprintf(text, sizeof(text), "%lld", value);
	return cJSON_CreateRaw(text);
}

/* key: value in obj when value is set (not 0); false when an add fails. */
static bool add_set(cJSON *obj, const char *key, long long value)
{
	return !value || add(obj, key, ll_raw(value));
}

/* The limits, each only when set (card.h): a card written before they existed keeps its hash.
 * Sizes and durations as the numbers they mean, so 512m and 536870912 hash the same. */
static bool limits(cJSON *o, const struct card_container_spec *s)
{
	const struct card_resources *r = &s->resources;
	const struct card_healthcheck *h = &s->healthcheck;
	if (r->memory || r->memory_swap || r->nano_cpus || r->pids) {
		cJSON *res = cJSON_CreateObject();
		if (!add(o, "resources", res) || !add_set(res, "memory", r->memory) ||
		    !add_set(res, "memory_swap", r->memory_swap) ||
		    !add_set(res, "cpus_nano", r->nano_cpus) || !add_set(res, "pids", r->pids))
			return false;
	}
	if (h->test.count) {
		cJSON *hc = cJSON_CreateObject();
		if (!add(o, "healthcheck", hc) || !add(hc, "test", list_arr(&h->test)) ||
		    !add_set(hc, "interval", h->interval) || !add_set(hc, "timeout", h->timeout) ||
		    !add_set(hc, "start_period", h->start_period) ||
		    !add_set(hc, "retries", h->retries))
			return false;
	}
	return (!s->user || add(o, "user", cJSON_CreateString(s->user))) &&
	       (!s->stop_signal || add(o, "stop_signal", cJSON_CreateString(s->stop_signal))) &&
	       (!s->has_stop_timeout || add(o, "stop_timeout", ll_raw(s->stop_timeout)));
}

static bool container_spec(cJSON *o, const struct card_container_spec *s)
{
	if (s->has_replicas && !add(o, "replicas", uint_raw(s->replicas)))
		return false;
	if (!limits(o, s))
		return false;
	cJSON *mounts = cJSON_CreateArray();
	for (size_t i = 0; mounts && i < s->mount_count; i++)
		mounts = push(mounts, mount_obj(&s->mounts[i]));
	/* mounts goes in first: once an add fails the chain stops, and it must not leak. */
	return add(o, "mounts", mounts) && add(o, "imageRef", ref_obj(&s->image_ref)) &&
	       add(o, "networkRef", ref_obj(&s->network_ref)) &&
	       add(o, "network_mode", str_or_null(s->network_mode)) &&
	       add(o, "command", str_or_null(s->command.s)) &&
	       add(o, "hostname", str_or_null(s->hostname)) &&
	       add(o, "workdir", str_or_null(s->workdir)) &&
	       add(o, "privileged", cJSON_CreateBool(s->privileged)) &&
	       add(o, "cap_add", list_arr(&s->cap_add)) &&
	       add(o, "security_opts", list_arr(&s->security_opts)) &&
	       add(o, "ports", map_obj(&s->ports)) &&
	       add(o, "environment", map_obj(&s->environment)) &&
	       add(o, "volumes", map_obj(&s->volumes)) && add(o, "labels", map_obj(&s->labels)) &&
	       add(o, "restart_policy", str_or_null(s->restart_policy));
}

static bool network_spec(cJSON *o, const struct card_network_spec *s)
{
	return add(o, "driver", str_or_null(s->driver)) &&
	       add(o, "subnet", str_or_null(s->subnet)) &&
	       add(o, "gateway", str_or_null(s->gateway));
}

static bool volume_spec(cJSON *o, const struct card_volume_spec *s)
{
	return add(o, "driver", str_or_null(s->driver)) && add(o, "labels", map_obj(&s->labels)) &&
	       add(o, "options", map_obj(&s->options));
}

static bool unit_spec(cJSON *o, const struct card_unit_spec *s)
{
	/* hooks is {} when absent in YAML; both keys are always written so that {} and
	 * {prehook: null} mean the same. */
	cJSON *hooks = cJSON_CreateObject();
	if (hooks && !(add(hooks, "prehook", str_or_null(s->prehook)) &&
		       add(hooks, "posthook", str_or_null(s->posthook)))) {
		cJSON_Delete(hooks);
		hooks = NULL;
	}
	return add(o, "hooks", hooks) && add(o, "containerRef", ref_obj(&s->container_ref));
}

static bool group_spec(cJSON *o, const struct card_group_spec *s)
{
	cJSON *units = cJSON_CreateArray();
	for (size_t i = 0; units && i < s->units.count; i++)
		units = push(units, ref_obj(&s->units.items[i]));
	return add(o, "units", units) && add(o, "workflow", str_or_null(s->workflow)) &&
	       add(o, "orchestrator", str_or_null(s->orchestrator));
}

static int key_cmp(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a;
	const cJSON *y = *(const cJSON *const *)b;
	return strcmp(x->string, y->string);
}

/* Sorts the keys of every object in the tree by bytes (strcmp compares as unsigned char).
 * Builders add keys in reading order; sorting once here keeps that order from mattering. */
static bool sort_keys(cJSON *node)
{
	size_t n = 0;
	for (cJSON *c = node->child; c; c = c->next) {
		if (!sort_keys(c))
			return false;
		n++;
	}
	if (!cJSON_IsObject(node) || n < 2)
		return true;
	cJSON **items = malloc(n * sizeof(*items));
	if (!items)
		return false;
	n = 0;
	for (cJSON *c = node->child; c; c = c->next)
		items[n++] = c;
	qsort(items, n, sizeof(*items), key_cmp);
	/* Relink as cJSON expects: the first child's prev points at the last one. */
	for (size_t i = 0; i < n; i++) {
		items[i]->prev = items[i ? i - 1 : n - 1];
		items[i]->next = i + 1 < n ? items[i + 1] : NULL;
	}
	node->child = items[0];
	free(items);
	return true;
}

static cJSON *card_to_json(const struct card *card)
{
	const char *kind = card_kind_name(card->kind);
	if (!kind)
		return NULL;
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return NULL;
	/* Children join root as soon as they exist, so deleting root frees everything. */
	cJSON *metadata = cJSON_CreateObject();
	cJSON *spec = NULL;
	bool ok = add(root, "metadata", metadata) &&
		  add(root, "spec", spec = cJSON_CreateObject()) &&
		  add(root, "apiVersion", cJSON_CreateString("cutip/v1")) &&
		  add(root, "kind", cJSON_CreateString(kind)) &&
		  add(metadata, "name", str_or_null(card->name.s)) &&
		  add(metadata, "labels", map_obj(&card->labels));
	if (ok) {
		switch (card->kind) {
		case CARD_IMAGE:
			ok = image_spec(spec, &card->spec.image);
			break;
		case CARD_CONTAINER:
			ok = container_spec(spec, &card->spec.container);
			break;
		case CARD_NETWORK:
			ok = network_spec(spec, &card->spec.network);
			break;
		case CARD_VOLUME:
			ok = volume_spec(spec, &card->spec.volume);
			break;
		case CARD_UNIT:
			ok = unit_spec(spec, &card->spec.unit);
			break;
		case CARD_GROUP:
			ok = group_spec(spec, &card->spec.group);
			break;
		default:
			ok = false;
		}
	}
	if (!ok || !sort_keys(root)) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

char *card_canonical_json(const struct card *card)
{
	if (!card)
		return NULL;
	cJSON *root = card_to_json(card);
	if (!root)
		return NULL;
	char *json = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return json;
}

int card_hash(const struct card *card, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	char *json = card_canonical_json(card);
	if (!json)
		return -1;
	int ok = EVP_Digest(json, strlen(json), md, &md_len, EVP_sha256(), NULL);
	free(json);
	if (!ok || md_len != 32)
		return -1;
	for (unsigned int i = 0; i < md_len; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[64] = '\0';
	return 0;
}
