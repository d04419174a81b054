/* A ContainerCard -> a Swarm ServiceSpec (Engine API 1.41): the same image, command,
 * environment, mounts, ports, labels and restart policy as the container it would be on one
 * engine, with its replicas, rolled one task at a time on update. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docker.h"
#include "registry.h"
#include "swarm.h"

/* A container's restart policy in a service's words. */
static const char *restart_condition(const char *policy)
{
	if (!policy || strcmp(policy, "always") == 0 || strcmp(policy, "unless-stopped") == 0)
		return "any";
	if (strncmp(policy, "on-failure", 10) == 0)
		return "on-failure";
	return "none";
}

static void add_ports(cJSON *spec, const struct card_map *ports)
{
	if (!ports->count)
		return;
	cJSON *list = cJSON_AddArrayToObject(cJSON_AddObjectToObject(spec, "EndpointSpec"), "Ports");
	for (size_t i = 0; i < ports->count; i++) {
		const char *key = ports->items[i].key, *slash = strchr(key, '/');
		cJSON *p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "Protocol", slash ? slash + 1 : "tcp");
		cJSON_AddNumberToObject(p, "TargetPort", atoi(key));
		cJSON_AddNumberToObject(p, "PublishedPort", atoi(ports->items[i].value));
		cJSON_AddItemToArray(list, p);
	}
}

/* networkRef: the overlay network of the card; network_mode host/none: the nodes' own; bridge:
 * no attachment (each node's default bridge). */
static void add_networks(cJSON *tt, const struct be_container *b)
{
	const char *mode = b->card->spec.container.network_mode;
	const char *target = b->network && *b->network ? b->network
			     : mode && (strcmp(mode, "host") == 0 || strcmp(mode, "none") == 0)
				 ? mode
				 : NULL;

	if (!target)
		return;
	cJSON *n = cJSON_CreateObject();
	cJSON_AddStringToObject(n, "Target", target);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(tt, "Networks"), n);
}

/* The limits a task runs with: Resources.Limits, and the container's healthcheck, user and
 * stop. A Swarm has no memory+swap limit: refused, with nothing made. */
static int add_limits(cJSON *tt, cJSON *cs, const struct card_container_spec *c, char *err,
		      size_t errlen)
{
	const struct card_resources *r = &c->resources;
	if (r->memory_swap) {
		snprintf(err, errlen,
			 "spec.resources.memory_swap: a Swarm service has no memory+swap limit "
			 "(only memory)");
		return -EOPNOTSUPP;
	}
	if (r->memory || r->nano_cpus || r->pids) {
		cJSON *lim = cJSON_AddObjectToObject(cJSON_AddObjectToObject(tt, "Resources"), "Limits");
		if (r->memory)
			cJSON_AddNumberToObject(lim, "MemoryBytes", (double)r->memory);
		if (r->nano_cpus)
			cJSON_AddNumberToObject(lim, "NanoCPUs", (double)r->nano_cpus);
		if (r->pids > 0)
			cJSON_AddNumberToObject(lim, "Pids", (double)r->pids);
	}
	if (c->healthcheck.test.count)
		cJSON_AddItemToObject(cs, "Healthcheck", docker_healthcheck(&c->healthcheck));
	if (c->user)
		cJSON_AddStringToObject(cs, "User", c->user);
	if (c->stop_signal)
		cJSON_AddStringToObject(cs, "StopSignal", c->stop_signal);
	if (c->has_stop_timeout)
		cJSON_AddNumberToObject(cs, "StopGracePeriod", (double)c->stop_timeout * 1e9);
	return 0;
}

int swarm_service_spec(const struct be_container *b, unsigned replicas, cJSON **out, char *err,
		       size_t errlen)
{
	const struct card_container_spec *c = &b->card->spec.container;
	cJSON *spec = cJSON_CreateObject(), *tt, *cs;
	int rc;

	*out = NULL;
	if (!spec)
		return -ENOMEM;
	cJSON_AddStringToObject(spec, "Name", b->card->name.s);
	cJSON_AddItemToObject(spec, "Labels", docker_labels(&b->labels));
	tt = cJSON_AddObjectToObject(spec, "TaskTemplate");
	cs = cJSON_AddObjectToObject(tt, "ContainerSpec");
	cJSON_AddStringToObject(cs, "Image", b->image);
	cJSON_AddItemToObject(cs, "Labels", docker_card_labels(c, &b->labels));
	if (c->hostname)
		cJSON_AddStringToObject(cs, "Hostname", c->hostname);
	if (c->workdir)
		cJSON_AddStringToObject(cs, "Dir", c->workdir);
	if (c->cap_add.count) {
		cJSON *caps = cJSON_AddArrayToObject(cs, "CapabilityAdd");
		for (size_t i = 0; i < c->cap_add.count; i++)
			cJSON_AddItemToArray(caps, cJSON_CreateString(c->cap_add.items[i].s));
	}
	/* Args, as Cmd is for a container: the image's entrypoint stays. */
	rc = docker_add_argv(cs, "Args", c->command.s, err, errlen);
	if (rc == 0)
		rc = docker_add_env(cs, &c->environment);
	if (rc == 0)
		rc = docker_add_mounts(cs, b);
	if (rc == 0)
		rc = add_limits(tt, cs, c, err, errlen);
	if (rc < 0) {
		cJSON_Delete(spec);
		return rc;
	}
	cJSON_AddStringToObject(cJSON_AddObjectToObject(tt, "RestartPolicy"), "Condition",
				restart_condition(c->restart_policy));
	add_networks(tt, b);
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(cJSON_AddObjectToObject(spec, "Mode"),
							 "Replicated"),
				"Replicas", replicas);
	/* One task at a time, the old one stopped first: a rolling update, as `docker service
	 * update` does by default. */
	cJSON *uc = cJSON_AddObjectToObject(spec, "UpdateConfig");
	cJSON_AddNumberToObject(uc, "Parallelism", 1);
	cJSON_AddStringToObject(uc, "FailureAction", "pause");
	cJSON_AddStringToObject(uc, "Order", "stop-first");
	add_ports(spec, &c->ports);
	*out = spec;
	return 0;
}
