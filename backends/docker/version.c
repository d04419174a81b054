/* Engine API versions: the window spoken (engine.h) and the negotiation with what a server
 * offers. Pure: no request. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine-int.h"

/* ---- API versions ---- */

int engine_api_num(const char *v)
{
	unsigned maj, min;
	char tail;

	if (!v || sscanf(v, "%u.%u%c", &maj, &min, &tail) != 2 || maj > 99 || min > 999)
		return -1;
	return (int)(maj * 1000 + min);
}

int engine_negotiate(const char *server_max, const char *server_min, char *out, size_t outlen,
		     char *err, size_t errlen)
{
	int lo = engine_api_num(ENGINE_API_MIN), hi = engine_api_num(ENGINE_API_MAX);
	int smax = engine_api_num(server_max);
	int smin = server_min && *server_min ? engine_api_num(server_min) : -1;
	int v;

	if (smax < 0) {
		engine_seterr(err, errlen, "engine reported no usable API version (\"%s\")",
			      server_max ? server_max : "");
		return -EPROTONOSUPPORT;
	}
	if (smax < lo) {
		engine_seterr(err, errlen,
			      "engine speaks Docker API %s at most; cutipfs needs %s to %s "
			      "(upgrade the engine)",
			      server_max, ENGINE_API_MIN, ENGINE_API_MAX);
		return -EPROTONOSUPPORT;
	}
	v = smax < hi ? smax : hi;
	/* Docker 29.0-29.2 refuse anything below 1.44 although they speak ours: go up to their
	 * minimum when it is still inside our window. */
	if (smin > v) {
		if (smin > hi || smin > smax) {
			engine_seterr(
			    err, errlen,
			    "engine requires Docker API %s or newer; cutipfs speaks %s to "
			    "%s",
			    server_min, ENGINE_API_MIN, ENGINE_API_MAX);
			return -EPROTONOSUPPORT;
		}
		v = smin;
	}
	snprintf(out, outlen, "%d.%d", v / 1000, v % 1000);
	return 0;
}
