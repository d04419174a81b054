/*
 * Resolving the endpoint: the docker CLI's precedence between mount options and the
 * environment, and where a tcp:// endpoint's TLS material comes from (URLs: url.c). Files and
 * the environment only; nothing here connects.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "endpoint.h"
#include "engine-int.h"


static const char *getenv_set(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* ---- TLS for a URL (a context brings its own: context.c) ---- */

/* A file the user named, or one TLS cannot work without: it must be readable now. */
static int need_file(const char *what, const char *path, const char *from, char *err,
		     size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		engine_seterr(err, errlen, "TLS %s %s (%s): %s", what, path, from,
			      strerror(errno));
		return -ENOENT;
	}
	close(fd);
	return 0;
}

/* Option @opt if set (must be readable), else @dir/@file if it exists (must be readable when
 * @required). */
static int pick_file(const char *what, const char *opt, const char *optname, const char *dir,
		     const char *dirname, const char *file, bool required, char **out, char *err,
		     size_t errlen)
{
	char *p = NULL, from[64];
	int rc;

	if (opt) {
		snprintf(from, sizeof(from), "-o %s", optname);
		rc = need_file(what, opt, from, err, errlen);
		if (rc == 0 && !(*out = strdup(opt)))
			rc = -ENOMEM;
		return rc;
	}
	if (!dir)
		return required ? (engine_seterr(err, errlen,
						 "TLS %s: no certificate directory (set "
						 "DOCKER_CERT_PATH or HOME)",
						 what),
				   -ENOENT)
				: 0;
	if (asprintf(&p, "%s/%s", dir, file) < 0)
		return -ENOMEM;
	/* As the docker CLI: a default client certificate that is not there is no client
	 * certificate, but the CA it verifies with must be there. */
	if (!required && access(p, F_OK) < 0) {
		free(p);
		return 0;
	}
	rc = need_file(what, p, dirname, err, errlen);
	if (rc < 0) {
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

static int url_tls(const struct engine_open_opts *o, struct endpoint *ep, char *err,
		   size_t errlen)
{
	/* The docker CLI applies its TLS variables to -H and DOCKER_HOST only. */
	bool from_env = getenv_set("DOCKER_TLS_VERIFY") &&
			(!strcmp(ep->source, ENDPOINT_SRC_ENGINE) ||
			 !strcmp(ep->source, ENDPOINT_SRC_DOCKER_HOST));
	const char *certpath = getenv_set("DOCKER_CERT_PATH");
	char *dir;
	int rc;

	if (ep->kind != ENDPOINT_TCP ||
	    !(o->tlsverify || o->tlscacert || o->tlscert || o->tlskey || from_env))
		return 0;
	ep->tls = ep->tls_verify = true;
	dir = certpath ? strdup(certpath) : context_config_dir();
	rc = pick_file("CA certificate", o->tlscacert, "tlscacert", dir,
		       certpath ? "DOCKER_CERT_PATH" : "the default certificate directory",
		       "ca.pem", true, &ep->ca, err, errlen);
	if (rc == 0)
		rc = pick_file("client certificate", o->tlscert, "tlscert", dir,
			       certpath ? "DOCKER_CERT_PATH" : "the default certificate directory",
			       "cert.pem", false, &ep->cert, err, errlen);
	if (rc == 0)
		rc = pick_file("client key", o->tlskey, "tlskey", dir,
			       certpath ? "DOCKER_CERT_PATH" : "the default certificate directory",
			       "key.pem", false, &ep->key, err, errlen);
	if (rc == 0 && !ep->cert != !ep->key) {
		engine_seterr(err, errlen, "TLS: a client %s (%s) needs its %s too (-o %s)",
			      ep->cert ? "certificate" : "key", ep->cert ? ep->cert : ep->key,
			      ep->cert ? "key" : "certificate", ep->cert ? "tlskey" : "tlscert");
		rc = -ENOENT;
	}
	free(dir);
	return rc;
}

/* ---- precedence ---- */

static bool is_default_context(const char *name)
{
	return !strcmp(name, "default");
}

static int from_url(const struct engine_open_opts *o, const char *url, const char *source,
		    bool podman, struct endpoint *ep, char *err, size_t errlen)
{
	int rc = endpoint_parse_url(url, source, podman, ep, err, errlen);

	ep->source = source;
	if (rc == 0)
		rc = url_tls(o, ep, err, errlen);
	return rc;
}

static int from_context(const char *name, const char *source, struct endpoint *ep, char *err,
			size_t errlen)
{
	char *dir = context_config_dir();
	int rc = context_load(dir, name, source, ep, err, errlen);

	free(dir);
	return rc;
}

/* DOCKER_CONTEXT, then config.json's currentContext; 1 when neither names a context. */
static int from_docker_contexts(struct endpoint *ep, char *err, size_t errlen)
{
	const char *env = getenv_set("DOCKER_CONTEXT");
	char *dir, *cur;
	int rc = 1;

	if (env)
		return is_default_context(env)
			   ? 1
			   : from_context(env, ENDPOINT_SRC_DOCKER_CONTEXT, ep, err, errlen);
	dir = context_config_dir();
	cur = context_current(dir);
	if (cur && !is_default_context(cur))
		rc = context_load(dir, cur, ENDPOINT_SRC_CURRENT, ep, err, errlen);
	free(cur);
	free(dir);
	return rc;
}

static int resolve(const struct engine_open_opts *o, struct endpoint *ep, char *err,
		   size_t errlen)
{
	const char *engine = o->engine && *o->engine ? o->engine : NULL;
	const char *context = o->context && *o->context ? o->context : NULL;
	const char *env;
	int rc;

	if (engine && context) {
		engine_seterr(err, errlen,
			      "-o engine=%s and -o context=%s name two endpoints: give one", engine,
			      context);
		return -EINVAL;
	}
	if (engine)
		return from_url(o, engine, ENDPOINT_SRC_ENGINE, false, ep, err, errlen);
	if (context && !is_default_context(context))
		return from_context(context, ENDPOINT_SRC_CONTEXT, ep, err, errlen);
	/* "-o context=default" is the CLI's default context: DOCKER_HOST or the default
	 * socket, never another context from the environment. */
	if ((env = getenv_set("DOCKER_HOST")))
		return from_url(o, env, ENDPOINT_SRC_DOCKER_HOST, false, ep, err, errlen);
	if (!context) {
		rc = from_docker_contexts(ep, err, errlen);
		if (rc <= 0)
			return rc;
	}
	if ((env = getenv_set("CONTAINER_HOST"))) {
		rc = from_url(o, env, ENDPOINT_SRC_CONTAINER_HOST, true, ep, err, errlen);
		if (rc == 0 && ep->kind == ENDPOINT_SSH && getenv_set("CONTAINER_SSHKEY") &&
		    !(ep->identity = strdup(getenv("CONTAINER_SSHKEY"))))
			rc = -ENOMEM;
		return rc;
	}
	ep->discover = true;
	ep->source = ENDPOINT_SRC_DISCOVERED;
	return 0;
}

int endpoint_resolve(const struct engine_open_opts *o, struct endpoint *ep, char *err,
		     size_t errlen)
{
	int rc;

	memset(ep, 0, sizeof(*ep));
	rc = resolve(o, ep, err, errlen);
	/* The conventional ports: 2376 for TLS, 2375 without. */
	if (rc == 0 && ep->kind == ENDPOINT_TCP && !ep->port)
		ep->port = ep->tls ? 2376 : 2375;
	return rc;
}
