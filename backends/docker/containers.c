/*
 * Container lifecycle: list, inspect, create, start/stop/restart/kill/pause, remove, wait.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine-int.h"

/* Grace period of an engine's stop when none is given (Docker's default StopTimeout). */
#define DEFAULT_STOP_S 10

static bool bad_id(const char *id, char *err, size_t errlen)
{
	if (id && *id)
		return false;
	engine_seterr(err, errlen, "no container given");
	return true;
}

/* POST /containers/{id}/{action}{query}. */
static int action(struct engine *e, const char *id, const char *what, const char *query,
		  unsigned flags, int on_conflict, long timeout_ms, cJSON **out, char *err,
		  size_t errlen)
{
	struct ereq r = {0};
	char *esc, *path = NULL;
	int rc;

	if (bad_id(id, err, errlen))
		return -EINVAL;
	esc = engine_escape(id);
	if (!esc || asprintf(&path, "/containers/%s/%s%s", esc, what, query ? query : "") < 0) {
		curl_free(esc);
		return -ENOMEM;
	}
	r.method = "POST";
	r.path = path;
	r.flags = flags;
	r.on_conflict = on_conflict;
	r.timeout_ms = timeout_ms;
	rc = ereq_json(e, &r, out, err, errlen);
	ereq_free(&r);
	curl_free(esc);
	free(path);
	return rc;
}

int engine_container_list(struct engine *e, const char *label, cJSON **out, char *err,
			  size_t errlen)
{
	return engine_list(e, "/containers/json?all=1", label, NULL, out, err, errlen);
}

int engine_container_inspect(struct engine *e, const char *id, cJSON **out, char *err,
			     size_t errlen)
{
	*out = NULL;
	if (bad_id(id, err, errlen))
		return -EINVAL;
	return engine_named_call(e, "GET", "containers", id, "/json", NULL, out, err, errlen);
}

static void copy_id(const cJSON *resp, const char *key, char *id, size_t idlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(resp, key);

	if (id && idlen)
		snprintf(id, idlen, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

int engine_container_create(struct engine *e, const char *name, const cJSON *config, char *id,
			    size_t idlen, char *err, size_t errlen)
{
	struct ereq r = {.method = "POST", .on_conflict = EEXIST};
	char *esc = NULL, *path = NULL;
	cJSON *resp = NULL;
	int rc;

	if (!config) {
		engine_seterr(err, errlen, "no container configuration given");
		return -EINVAL;
	}
	if (name && *name && !(esc = engine_escape(name)))
		return -ENOMEM;
	if (asprintf(&path, "/containers/create%s%s", esc ? "?name=" : "", esc ? esc : "") < 0) {
		curl_free(esc);
		return -ENOMEM;
	}
	r.path = path;
	r.json = config;
	/* Creating may mean unpacking a large image's layers on a slow disk. */
	r.timeout_ms = 60000;
	rc = ereq_json(e, &r, &resp, err, errlen);
	if (rc == 0)
		copy_id(resp, "Id", id, idlen);
	cJSON_Delete(resp);
	ereq_free(&r);
	curl_free(esc);
	free(path);
	return rc;
}

int engine_container_start(struct engine *e, const char *id, char *err, size_t errlen)
{
	int rc = action(e, id, "start", NULL, EREQ_304_OK, EBUSY, 30000, NULL, err, errlen);
	if (rc == -EADDRINUSE)
		engine_port_holder(e, err, errlen);
	return rc;
}

/* The engine answers a stop only after the grace period (and the kill): wait that long plus
 * the usual budget. */
static long stop_budget_ms(int timeout_s)
{
	return (long)(timeout_s >= 0 ? timeout_s : 6 * DEFAULT_STOP_S) * 1000 + ENGINE_TIMEOUT_MS;
}

int engine_container_stop(struct engine *e, const char *id, int timeout_s, char *err, size_t errlen)
{
	char q[32] = "";

	if (timeout_s >= 0)
		snprintf(q, sizeof(q), "?t=%d", timeout_s);
	return action(e, id, "stop", q, EREQ_304_OK, EBUSY, stop_budget_ms(timeout_s), NULL, err,
		      errlen);
}

int engine_container_restart(struct engine *e, const char *id, int timeout_s, char *err,
			     size_t errlen)
{
	char q[32] = "";

	if (timeout_s >= 0)
		snprintf(q, sizeof(q), "?t=%d", timeout_s);
	return action(e, id, "restart", q, EREQ_304_OK, EBUSY, stop_budget_ms(timeout_s) + 30000,
		      NULL, err, errlen);
}

int engine_container_kill(struct engine *e, const char *id, const char *signal, char *err,
			  size_t errlen)
{
	char *esc = NULL, *q = NULL;
	int rc;

	if (signal && *signal) {
		esc = engine_escape(signal);
		if (!esc || asprintf(&q, "?signal=%s", esc) < 0) {
			curl_free(esc);
			return -ENOMEM;
		}
	}
	rc = action(e, id, "kill", q, 0, EBUSY, 0, NULL, err, errlen);
	curl_free(esc);
	free(q);
	return rc;
}

int engine_container_pause(struct engine *e, const char *id, char *err, size_t errlen)
{
	return action(e, id, "pause", NULL, 0, EBUSY, 0, NULL, err, errlen);
}

int engine_container_unpause(struct engine *e, const char *id, char *err, size_t errlen)
{
	return action(e, id, "unpause", NULL, 0, EBUSY, 0, NULL, err, errlen);
}

int engine_container_remove(struct engine *e, const char *id, bool force, bool volumes, char *err,
			    size_t errlen)
{
	struct ereq r = {.method = "DELETE", .on_conflict = EBUSY, .timeout_ms = 60000};
	char *esc, *path = NULL;
	int rc;

	if (bad_id(id, err, errlen))
		return -EINVAL;
	esc = engine_escape(id);
	if (!esc || asprintf(&path, "/containers/%s?force=%d&v=%d", esc, force, volumes) < 0) {
		curl_free(esc);
		return -ENOMEM;
	}
	r.path = path;
	rc = ereq_run(e, &r, err, errlen);
	ereq_free(&r);
	curl_free(esc);
	free(path);
	return rc;
}

int engine_container_wait(struct engine *e, const char *id, const char *condition, int timeout_s,
			  int *exit_code, char *err, size_t errlen)
{
	const cJSON *code;
	cJSON *resp = NULL;
	char q[64];
	int rc;

	snprintf(q, sizeof(q), "?condition=%s",
		 condition && *condition ? condition : "not-running");
	if (strspn(q + 11, "abcdefghijklmnopqrstuvwxyz-") != strlen(q + 11)) {
		engine_seterr(err, errlen, "bad wait condition \"%s\"", condition);
		return -EINVAL;
	}
	rc = action(e, id, "wait", q, 0, EBUSY, timeout_s > 0 ? timeout_s * 1000L : -1, &resp, err,
		    errlen);
	if (rc == 0 && exit_code) {
		code = cJSON_GetObjectItemCaseSensitive(resp, "StatusCode");
		*exit_code = cJSON_IsNumber(code) ? code->valueint : -1;
	}
	cJSON_Delete(resp);
	return rc;
}
