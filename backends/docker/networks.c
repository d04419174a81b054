/*
 * Networks: list, inspect, idempotent create (with IPAM subnet/gateway), remove.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine-int.h"

int engine_network_list(struct engine *e, const char *label, cJSON **out, char *err, size_t errlen)
{
	return engine_list(e, "/networks", label, NULL, out, err, errlen);
}

int engine_network_inspect(struct engine *e, const char *name, cJSON **out, char *err,
			   size_t errlen)
{
	return engine_named_call(e, "GET", "networks", name, NULL, NULL, out, err, errlen);
}

int engine_network_remove(struct engine *e, const char *name, char *err, size_t errlen)
{
	return engine_named_call(e, "DELETE", "networks", name, NULL, NULL, NULL, err, errlen);
}

/* An existing network of that name: its id, and not created by us. */
static int existing(struct engine *e, const char *name, char *id, size_t idlen, bool *created,
		    char *err, size_t errlen)
{
	const cJSON *nid;
	cJSON *net = NULL;
	int rc;

	rc = engine_network_inspect(e, name, &net, err, errlen);
	if (rc == 0) {
		nid = cJSON_GetObjectItemCaseSensitive(net, "Id");
		if (id && idlen)
			snprintf(id, idlen, "%s", cJSON_IsString(nid) ? nid->valuestring : "");
		if (created)
			*created = false;
	}
	cJSON_Delete(net);
	return rc;
}

static cJSON *create_body(const char *name, const char *driver, const char *subnet,
			  const char *gateway, const cJSON *labels)
{
	cJSON *b = cJSON_CreateObject(), *ipam, *cfgs, *cfg;

	cJSON_AddStringToObject(b, "Name", name);
	cJSON_AddStringToObject(b, "Driver", driver && *driver ? driver : "bridge");
	/* Makes Docker < 1.44 refuse duplicates (and Podman 4 not return the existing network
	 * silently); we looked first, this covers a race with another creator. */
	cJSON_AddTrueToObject(b, "CheckDuplicate");
	if (labels)
		cJSON_AddItemToObject(b, "Labels", cJSON_Duplicate(labels, true));
	if ((subnet && *subnet) || (gateway && *gateway)) {
		ipam = cJSON_AddObjectToObject(b, "IPAM");
		cJSON_AddStringToObject(ipam, "Driver", "default");
		cfgs = cJSON_AddArrayToObject(ipam, "Config");
		cfg = cJSON_CreateObject();
		if (subnet && *subnet)
			cJSON_AddStringToObject(cfg, "Subnet", subnet);
		if (gateway && *gateway)
			cJSON_AddStringToObject(cfg, "Gateway", gateway);
		cJSON_AddItemToArray(cfgs, cfg);
	}
	return b;
}

int engine_network_create(struct engine *e, const char *name, const char *driver,
			  const char *subnet, const char *gateway, const cJSON *labels, char *id,
			  size_t idlen, bool *created, char *err, size_t errlen)
{
	struct ereq r = {.method = "POST", .path = "/networks/create", .on_conflict = EEXIST};
	const cJSON *nid;
	cJSON *body, *resp = NULL;
	int rc;

	if (!name || !*name) {
		engine_seterr(err, errlen, "no network name given");
		return -EINVAL;
	}
	rc = existing(e, name, id, idlen, created, err, errlen);
	if (rc != -ENOENT)
		return rc;

	body = create_body(name, driver, subnet, gateway, labels);
	if (!body)
		return -ENOMEM;
	r.json = body;
	rc = ereq_json(e, &r, &resp, err, errlen);
	if (rc == -EEXIST) {
		/* Someone else created it between our look and our create. */
		rc = existing(e, name, id, idlen, created, err, errlen);
	} else if (rc == 0) {
		nid = cJSON_GetObjectItemCaseSensitive(resp, "Id");
		if (id && idlen)
			snprintf(id, idlen, "%s", cJSON_IsString(nid) ? nid->valuestring : "");
		if (created)
			*created = true;
	}
	cJSON_Delete(resp);
	cJSON_Delete(body);
	ereq_free(&r);
	return rc;
}
