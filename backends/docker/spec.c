/* Cards -> the Docker Engine API's create bodies: every field of a ContainerCard in Config,
 * HostConfig and NetworkingConfig (the Engine API's POST /containers/create), cutipfs's limits
 * included. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docker.h"
#include "registry.h"

cJSON *docker_labels(const struct be_labels *l)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; o && l && i < l->n; i++) {
		cJSON_DeleteItemFromObjectCaseSensitive(o, l->v[i].key);
		cJSON_AddStringToObject(o, l->v[i].key, l->v[i].value);
	}
	return o;
}

cJSON *docker_map(const struct card_map *m)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; o && m && i < m->count; i++)
		cJSON_AddStringToObject(o, m->items[i].key, m->items[i].value);
	return o;
}

static cJSON *string_array(const struct card_list *l)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && i < l->count; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(l->items[i].s));
	return a;
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
		/* "8080" -> "8080/tcp": the engine keys ports with their protocol. */
		const char *k = ports->items[i].key;
		snprintf(key, sizeof(key), strchr(k, '/') ? "%s" : "%s/tcp", k);
		cJSON_AddItemToObject(exposed, key, cJSON_CreateObject());
		cJSON *list = cJSON_AddArrayToObject(bindings, key);
		cJSON *b = cJSON_CreateObject();
		cJSON_AddStringToObject(b, "HostIp", "");
		cJSON_AddStringToObject(b, "HostPort", ports->items[i].value);
		cJSON_AddItemToArray(list, b);
	}
}

void docker_add_mount(cJSON *mounts, const char *type, const char *source, const char *target,
		      bool read_only)
{
	cJSON *m = cJSON_CreateObject();

	cJSON_AddStringToObject(m, "Type", type);
	cJSON_AddStringToObject(m, "Source", source);
	cJSON_AddStringToObject(m, "Target", target);
	cJSON_AddBoolToObject(m, "ReadOnly", read_only);
	cJSON_AddItemToArray(mounts, m);
}

/* Bind sources are relative to the workspace root (the core made them when asked to); on a
 * Swarm that is the same path on whichever node runs a task. */
int docker_add_mounts(cJSON *host, const struct be_container *b)
{
	const struct card_container_spec *c = &b->card->spec.container;
	cJSON *mounts;

	if (!c->mount_count && !c->volumes.count)
		return 0;
	mounts = cJSON_AddArrayToObject(host, "Mounts");
	for (size_t i = 0; i < c->mount_count; i++) {
		const struct card_mount *m = &c->mounts[i];
		if (strcmp(m->type, "bind") != 0) {
			docker_add_mount(mounts, m->type, m->source.s, m->target.s, m->read_only);
			continue;
		}
		char *source = card_path_join(b->root, m->source.s);
		if (!source)
			return -ENOMEM;
		docker_add_mount(mounts, "bind", source, m->target.s, m->read_only);
		free(source);
	}
	for (size_t i = 0; i < c->volumes.count; i++)
		docker_add_mount(mounts, "volume", c->volumes.items[i].key, c->volumes.items[i].value,
			  false);
	return 0;
}

int docker_add_argv(cJSON *obj, const char *key, const char *command, char *err, size_t errlen)
{
	const char *why = NULL;
	char **argv;

	if (!command)
		return 0;
	argv = card_shlex_split(command, &why);
	if (!argv) {
		snprintf(err, errlen, "spec.command: %s", why ? why : "cannot be split");
		return -EINVAL;
	}
	cJSON *cmd = cJSON_AddArrayToObject(obj, key);
	for (char **a = argv; *a; a++)
		cJSON_AddItemToArray(cmd, cJSON_CreateString(*a));
	card_argv_free(argv);
	return 0;
}

int docker_add_env(cJSON *obj, const struct card_map *environment)
{
	cJSON *env = cJSON_AddArrayToObject(obj, "Env");

	for (size_t i = 0; i < environment->count; i++) {
		char *kv = NULL;
		if (asprintf(&kv, "%s=%s", environment->items[i].key,
			     environment->items[i].value) < 0)
			return -ENOMEM;
		cJSON_AddItemToArray(env, cJSON_CreateString(kv));
		free(kv);
	}
	return 0;
}

static void add_host(cJSON *config, cJSON *host, const struct be_container *b)
{
	const struct card_container_spec *c = &b->card->spec.container;

	add_ports(config, host, &c->ports);
	if (b->network && *b->network) {
		cJSON_AddStringToObject(host, "NetworkMode", b->network);
		cJSON *eps = cJSON_AddObjectToObject(
		    cJSON_AddObjectToObject(config, "NetworkingConfig"), "EndpointsConfig");
		cJSON_AddItemToObject(eps, b->network, cJSON_CreateObject());
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
}

cJSON *docker_card_labels(const struct card_container_spec *c, const struct be_labels *own)
{
	cJSON *o = docker_labels(own);
	for (size_t i = 0; o && i < c->labels.count; i++)
		if (!cJSON_GetObjectItemCaseSensitive(o, c->labels.items[i].key))
			cJSON_AddStringToObject(o, c->labels.items[i].key, c->labels.items[i].value);
	return o;
}

cJSON *docker_healthcheck(const struct card_healthcheck *h)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddItemToObject(o, "Test", string_array(&h->test));
	/* The Engine API's durations are nanoseconds; 0 is the engine's default. */
	cJSON_AddNumberToObject(o, "Interval", (double)h->interval);
	cJSON_AddNumberToObject(o, "Timeout", (double)h->timeout);
	cJSON_AddNumberToObject(o, "StartPeriod", (double)h->start_period);
	cJSON_AddNumberToObject(o, "Retries", (double)h->retries);
	return o;
}

/* resources, healthcheck, user, stop_signal, stop_timeout: only what the card sets, so that the
 * engine's defaults stay the defaults. */
static void add_limits(cJSON *config, cJSON *host, const struct card_container_spec *c)
{
	const struct card_resources *r = &c->resources;
	if (r->memory)
		cJSON_AddNumberToObject(host, "Memory", (double)r->memory);
	if (r->memory_swap)
		cJSON_AddNumberToObject(host, "MemorySwap", (double)r->memory_swap);
	if (r->nano_cpus)
		cJSON_AddNumberToObject(host, "NanoCpus", (double)r->nano_cpus);
	if (r->pids)
		cJSON_AddNumberToObject(host, "PidsLimit", (double)r->pids);
	if (c->healthcheck.test.count)
		cJSON_AddItemToObject(config, "Healthcheck", docker_healthcheck(&c->healthcheck));
	if (c->user)
		cJSON_AddStringToObject(config, "User", c->user);
	if (c->stop_signal)
		cJSON_AddStringToObject(config, "StopSignal", c->stop_signal);
	if (c->has_stop_timeout)
		cJSON_AddNumberToObject(config, "StopTimeout", (double)c->stop_timeout);
}

int docker_container_body(const struct be_container *b, cJSON **out, char *err, size_t errlen)
{
	const struct card_container_spec *c = &b->card->spec.container;
	cJSON *config = cJSON_CreateObject(), *host;
	int rc;

	*out = NULL;
	if (!config)
		return -ENOMEM;
	cJSON_AddStringToObject(config, "Image", b->image);
	rc = docker_add_argv(config, "Cmd", c->command.s, err, errlen);
	if (rc == 0)
		rc = docker_add_env(config, &c->environment);
	if (rc < 0) {
		cJSON_Delete(config);
		return rc;
	}
	cJSON_AddItemToObject(config, "Labels", docker_card_labels(c, &b->labels));
	if (c->hostname)
		cJSON_AddStringToObject(config, "Hostname", c->hostname);
	if (c->workdir)
		cJSON_AddStringToObject(config, "WorkingDir", c->workdir);
	/* No TTY: the logs stay demultiplexable into stdout and stderr. */
	cJSON_AddFalseToObject(config, "Tty");
	cJSON_AddFalseToObject(config, "OpenStdin");
	host = cJSON_AddObjectToObject(config, "HostConfig");
	add_host(config, host, b);
	add_limits(config, host, c);
	rc = docker_add_mounts(host, b);
	if (rc < 0) {
		cJSON_Delete(config);
		return rc;
	}
	*out = config;
	return 0;
}
