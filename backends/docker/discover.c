/*
 * Finding the engine: opening the resolved endpoint (endpoint.c) or probing the usual sockets.
 * The probe itself (the unversioned ping, backend detection from its headers) is engine.c's,
 * version negotiation version.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "engine-int.h"
#include "ssh.h"

/* ---- opening ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int parse_backend(const char *s, enum engine_backend *b, char *err, size_t errlen)
{
	*b = ENGINE_UNKNOWN;
	if (!s || !*s || !strcmp(s, "auto"))
		return 0;
	if (!strcmp(s, "docker")) {
		*b = ENGINE_DOCKER;
		return 0;
	}
	if (!strcmp(s, "podman")) {
		*b = ENGINE_PODMAN;
		return 0;
	}
	engine_seterr(err, errlen, "unknown engine backend \"%s\" (docker or podman)", s);
	return -EINVAL;
}

/*
 * A named endpoint: opened whether it answers or not (the mount reports it and recovers); only an
 * engine that answers but speaks no API version we know is refused, since waiting will not help.
 * @err gets why it is unreachable, for the caller to show.
 */
static int open_named(struct endpoint *ep, enum engine_backend forced, struct engine **out,
		      char *err, size_t errlen)
{
	struct engine *e;
	int rc;

	rc = engine_alloc_ep(ep, forced, &e, err, errlen);
	if (rc < 0)
		return rc;
	/* The first ssh needs a moment to log in and bind its socket; its outcome (forwarding, or
	 * "Host key verification failed.") is what the first ping should see. */
	if (e->ssh)
		ssh_tunnel_wait_first(e->ssh, ENGINE_SSH_START_MS);
	rc = engine_probe(e, err, errlen);
	if (rc == -EPROTONOSUPPORT) {
		engine_close(e);
		return rc;
	}
	*out = e;
	return 0;
}

int engine_discover(const char *const *candidates, enum engine_backend forced, struct engine **out,
		    char *err, size_t errlen)
{
	char tried[1024] = "", msg[256];
	size_t used = 0;
	int i, n;

	for (i = 0; candidates[i]; i++) {
		struct stat st;
		struct engine *e;
		const char *why;

		if (stat(candidates[i], &st) < 0 || !S_ISSOCK(st.st_mode))
			continue;
		e = engine_alloc(candidates[i], forced);
		if (!e)
			return -ENOMEM;
		if (engine_probe(e, msg, sizeof(msg)) == 0) {
			*out = e;
			return 0;
		}
		engine_close(e);
		why = msg;
		n = snprintf(tried + used, sizeof(tried) - used, "%s%s (%s)", used ? "; " : "",
			     candidates[i], why);
		if (n > 0 && (size_t)n < sizeof(tried) - used)
			used += (size_t)n;
	}
	engine_seterr(err, errlen,
		      "no container engine answered%s%s; start Docker or Podman, or set "
		      "DOCKER_HOST=unix:///path/to/socket",
		      used ? ": " : " (no engine socket found)", tried);
	return -ECONNREFUSED;
}

/* Nothing named: the usual local sockets, the first that answers. */
static int discover_local(enum engine_backend forced, struct engine **out, char *err,
			  size_t errlen)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME");
	char xdg_docker[256] = "", xdg_podman[256] = "", colima[256] = "", drun[256] = "",
	     ddesk[256] = "";
	const char *cands[12];
	int n = 0;

	if (xdg && *xdg) {
		snprintf(xdg_docker, sizeof(xdg_docker), "%s/docker.sock", xdg);
		snprintf(xdg_podman, sizeof(xdg_podman), "%s/podman/podman.sock", xdg);
	}
	if (home && *home) {
		snprintf(colima, sizeof(colima), "%s/.colima/default/docker.sock", home);
		snprintf(drun, sizeof(drun), "%s/.docker/run/docker.sock", home);
		snprintf(ddesk, sizeof(ddesk), "%s/.docker/desktop/docker.sock", home);
	}
	cands[n++] = "/var/run/docker.sock";
	cands[n++] = "/run/docker.sock";
	if (xdg_docker[0])
		cands[n++] = xdg_docker;
	if (xdg_podman[0])
		cands[n++] = xdg_podman;
	cands[n++] = "/run/podman/podman.sock";
	if (home && *home) {
		cands[n++] = colima;
		cands[n++] = drun;
		cands[n++] = ddesk;
	}
	cands[n] = NULL;
	return engine_discover(cands, forced, out, err, errlen);
}

int engine_open_ex(const struct engine_open_opts *o, struct engine **out, char *err,
		   size_t errlen)
{
	struct endpoint ep;
	enum engine_backend forced;
	char why[512] = "";
	int rc;

	*out = NULL;
	pthread_once(&curl_once, curl_init_once);
	rc = parse_backend(o->backend, &forced, err, errlen);
	if (rc < 0)
		return rc;
	rc = endpoint_resolve(o, &ep, err, errlen);
	if (rc < 0) {
		endpoint_free(&ep);
		return rc;
	}
	/* Whatever names an endpoint (an option, a variable, a context) is the user's choice:
	 * it is used even when down, never swapped for another that happens to answer. */
	if (!ep.discover)
		return open_named(&ep, forced, out, err, errlen);
	endpoint_free(&ep);
	rc = discover_local(forced, out, why, sizeof(why));
	if (rc != -ECONNREFUSED || !o->wait_default) {
		if (rc < 0)
			engine_seterr(err, errlen, "%s", why);
		return rc;
	}
	/* Nobody answers: wait on the conventional socket, which comes up later or not; the
	 * engine file says which. */
	rc = endpoint_parse_url("unix:///var/run/docker.sock", ENDPOINT_SRC_DISCOVERED, false, &ep,
				err, errlen);
	ep.source = ENDPOINT_SRC_DISCOVERED;
	if (rc == 0)
		rc = engine_alloc_ep(&ep, forced, out, err, errlen);
	else
		endpoint_free(&ep);
	if (rc == 0)
		engine_seterr(err, errlen, "%s", why);
	return rc;
}

int engine_check_opts(const struct engine_open_opts *o, char *err, size_t errlen)
{
	enum engine_backend forced;
	struct endpoint ep = {.discover = false};
	int rc = parse_backend(o->backend, &forced, err, errlen);

	if (rc == 0)
		rc = endpoint_resolve(o, &ep, err, errlen);
	endpoint_free(&ep);
	return rc;
}

int engine_open(const char *url, const char *force_backend, struct engine **out, char *err,
		size_t errlen)
{
	struct engine_open_opts o = {.engine = url, .backend = force_backend};

	return engine_open_ex(&o, out, err, errlen);
}
