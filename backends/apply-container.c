/* A ContainerCard in the engine: the create body built from every field of the card, and the
 * idempotent apply (same hash: left alone; another hash: replaced; someone else's container of
 * that name: refused). No lock is held here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws-int.h"

static const char *jstr(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static cJSON *string_array(const struct card_list *l)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && i < l->count; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(l->items[i].s));
	return a;
}

/* "8080" -> "8080/tcp": the engine keys ports with their protocol. */
static void port_key(const char *key, char *out, size_t len)
{
	ws_fmt(out, len, strchr(key, '/') ? "%s" : "%s/tcp", key);
}

static void add_ports(cJSON *config, cJSON *host, const struct card_map *ports)
{
	cJSON *exposed, *bindings;
	char key[64];

	if (!ports->count)
		return;
	exposed = cJSON_AddObjectToObject(config, "ExposedPorts");
	bindings = cJSON_AddObjectToObject(host, "PortBindings");
	for (size_t i = 0; i < ports->count; i++) {
		port_key(ports->items[i].key, key, sizeof(key));
		cJSON_AddItemToObject(exposed, key, cJSON_CreateObject());
		cJSON *list = cJSON_AddArrayToObject(bindings, key);
		cJSON *b = cJSON_CreateObject();
		cJSON_AddStringToObject(b, "HostIp", "");
		cJSON_AddStringToObject(b, "HostPort", ports->items[i].value);
		cJSON_AddItemToArray(list, b);
	}
}

static void add_mount(cJSON *mounts, const char *type, const char *source, const char *target,
		      bool read_only)
{
	cJSON *m = cJSON_CreateObject();

	cJSON_AddStringToObject(m, "Type", type);
	cJSON_AddStringToObject(m, "Source", source);
	cJSON_AddStringToObject(m, "Target", target);
	cJSON_AddBoolToObject(m, "ReadOnly", read_only);
	cJSON_AddItemToArray(mounts, m);
}

/* Bind sources are relative to the workspace root; create_host_path makes them first. */
static int add_mounts(struct workspace *ws, cJSON *host, const struct card_container_spec *c,
		      char *err, size_t errlen)
{
	cJSON *mounts;

	if (!c->mount_count && !c->volumes.count)
		return 0;
	mounts = cJSON_AddArrayToObject(host, "Mounts");
	for (size_t i = 0; i < c->mount_count; i++) {
		const struct card_mount *m = &c->mounts[i];
		if (strcmp(m->type, "bind") != 0) {
			add_mount(mounts, m->type, m->source.s, m->target.s, m->read_only);
			continue;
		}
		char *source = card_path_join(ws->root, m->source.s);
		if (!source)
			return -ENOMEM;
		int rc = m->create_host_path ? ws_mkdirs(source) : 0;
		if (rc < 0) {
			ws_fmt(err, errlen, "cannot create the bind source %s: %s", source,
			       strerror(-rc));
			free(source);
			return rc;
		}
		add_mount(mounts, "bind", source, m->target.s, m->read_only);
		free(source);
	}
	for (size_t i = 0; i < c->volumes.count; i++)
		add_mount(mounts, "volume", c->volumes.items[i].key, c->volumes.items[i].value,
			  false);
	return 0;
}

/* The create body: Config + HostConfig + NetworkingConfig (engine-api.md 1.3.1). */
static int build_config(struct workspace *ws, const char *relpath, const struct card *card,
			const char *hash, const struct ws_deps *deps, cJSON **out, char *err,
			size_t errlen)
{
	const struct card_container_spec *c = &card->spec.container;
	cJSON *config = cJSON_CreateObject(), *host, *env;
	int rc;

	*out = NULL;
	if (!config)
		return -ENOMEM;
	cJSON_AddStringToObject(config, "Image", deps->image);
	if (c->command.s) {
		const char *why = NULL;
		char **argv = card_shlex_split(c->command.s, &why);
		if (!argv) {
			ws_fmt(err, errlen, "spec.command: %s", why ? why : "cannot be split");
			cJSON_Delete(config);
			return -EINVAL;
		}
		cJSON *cmd = cJSON_AddArrayToObject(config, "Cmd");
		for (char **a = argv; *a; a++)
			cJSON_AddItemToArray(cmd, cJSON_CreateString(*a));
		card_argv_free(argv);
	}
	env = cJSON_AddArrayToObject(config, "Env");
	for (size_t i = 0; i < c->environment.count; i++) {
		char *kv = NULL;
		if (asprintf(&kv, "%s=%s", c->environment.items[i].key,
			     c->environment.items[i].value) < 0) {
			cJSON_Delete(config);
			return -ENOMEM;
		}
		cJSON_AddItemToArray(env, cJSON_CreateString(kv));
		free(kv);
	}
	cJSON_AddItemToObject(config, "Labels", ws_labels(ws, relpath, hash, &c->labels));
	if (c->hostname)
		cJSON_AddStringToObject(config, "Hostname", c->hostname);
	if (c->workdir)
		cJSON_AddStringToObject(config, "WorkingDir", c->workdir);
	/* No TTY: the logs stay demultiplexable into stdout and stderr. */
	cJSON_AddFalseToObject(config, "Tty");
	cJSON_AddFalseToObject(config, "OpenStdin");

	host = cJSON_AddObjectToObject(config, "HostConfig");
	add_ports(config, host, &c->ports);
	rc = add_mounts(ws, host, c, err, errlen);
	if (rc < 0) {
		cJSON_Delete(config);
		return rc;
	}
	if (deps->network[0]) {
		cJSON_AddStringToObject(host, "NetworkMode", deps->network);
		cJSON *eps = cJSON_AddObjectToObject(
		    cJSON_AddObjectToObject(config, "NetworkingConfig"), "EndpointsConfig");
		cJSON_AddItemToObject(eps, deps->network, cJSON_CreateObject());
	} else if (c->network_mode) {
		cJSON_AddStringToObject(host, "NetworkMode", c->network_mode);
	}
	cJSON_AddBoolToObject(host, "Privileged", c->privileged);
	if (c->cap_add.count)
		cJSON_AddItemToObject(host, "CapAdd", string_array(&c->cap_add));
	if (c->security_opts.count)
		cJSON_AddItemToObject(host, "SecurityOpt", string_array(&c->security_opts));
	if (c->restart_policy)
		cJSON_AddStringToObject(cJSON_AddObjectToObject(host, "RestartPolicy"), "Name",
					c->restart_policy);
	*out = config;
	return 0;
}

/* The named volumes of spec.volumes exist before the container names them. */
static int ensure_volumes(struct workspace *ws, const char *relpath,
			  const struct card_container_spec *c, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->volumes.count; i++) {
		cJSON *labels = ws_labels(ws, relpath, NULL, NULL);
		int rc = engine_volume_create(ws->engine, c->volumes.items[i].key, labels, NULL,
					      err, errlen);
		cJSON_Delete(labels);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* What the existing container is to the card: 1 the same, 0 to be replaced, or -EEXIST. */
static int compare(struct workspace *ws, const cJSON *ctr, const char *hash,
		   const struct ws_deps *deps, const char *name, struct ws_result *res)
{
	const cJSON *config = cJSON_GetObjectItemCaseSensitive(ctr, "Config");
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(config, "Labels");
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(labels, WS_LABEL_HASH);

	if (!ws_labels_ours(ws, labels)) {
		ws_fmt(res->err, sizeof(res->err),
		       "container '%s' exists and was not made by this workspace: it is left "
		       "alone (remove or rename it, or rename the card)",
		       name);
		return -EEXIST;
	}
	if (!cJSON_IsString(h) || strcmp(h->valuestring, hash) != 0)
		return 0;
	if (strcmp(ws_image_short(jstr(config, "Image")), ws_image_short(deps->image)) != 0)
		return 0;
	/* The image under that name was rebuilt or re-tagged since. */
	if (deps->image_id[0] && *jstr(ctr, "Image") &&
	    strcmp(ws_id_short(jstr(ctr, "Image")), ws_id_short(deps->image_id)) != 0)
		return 0;
	return 1;
}

int ws_apply_container(struct workspace *ws, const char *relpath, const struct card *card,
		       const char *hash, const struct ws_deps *deps, struct ws_result *res)
{
	const char *name = card->name.s;
	cJSON *ctr = NULL, *config = NULL;
	int rc;

	ws_fmt(res->object, sizeof(res->object), "%s", name);
	rc = engine_container_inspect(ws->engine, name, &ctr, res->err, sizeof(res->err));
	if (rc < 0 && rc != -ENOENT)
		return rc;
	if (rc == 0) {
		int same = compare(ws, ctr, hash, deps, name, res);
		const cJSON *state = cJSON_GetObjectItemCaseSensitive(ctr, "State");
		bool never_started = strcmp(jstr(state, "Status"), "created") == 0;
		ws_fmt(res->id, sizeof(res->id), "%s", jstr(ctr, "Id"));
		cJSON_Delete(ctr);
		if (same < 0)
			return same;
		if (same) {
			/* Left as it is, running or not (a stopped container is the user's
			 * business); one that never started (a failed start) gets its start. */
			if (never_started)
				return engine_container_start(ws->engine, res->id, res->err,
							      sizeof(res->err));
			return 0;
		}
		rc = ws_container_destroy(ws, res->id, res->err, sizeof(res->err));
		if (rc < 0 && rc != -ENOENT)
			return rc;
		res->id[0] = '\0';
	}

	rc = ensure_volumes(ws, relpath, &card->spec.container, res->err, sizeof(res->err));
	if (rc == 0)
		rc = build_config(ws, relpath, card, hash, deps, &config, res->err,
				  sizeof(res->err));
	if (rc == 0)
		rc = engine_container_create(ws->engine, name, config, res->id, sizeof(res->id),
					     res->err, sizeof(res->err));
	cJSON_Delete(config);
	if (rc == -EEXIST)
		ws_fmt(res->err, sizeof(res->err),
		       "container '%s' appeared while cutipfs created it; save the card again",
		       name);
	if (rc < 0)
		return rc == -EEXIST ? -EIO : rc;
	rc = engine_container_start(ws->engine, res->id, res->err, sizeof(res->err));
	if (rc < 0) {
		char why[600];
		ws_fmt(why, sizeof(why), "created, but start failed: %s", res->err);
		ws_fmt(res->err, sizeof(res->err), "%s", why);
	}
	return rc;
}
