/* Endpoint URLs: unix:///PATH, tcp://HOST[:PORT], ssh://[USER@]HOST[:PORT][/SOCKET] parsed
 * into a struct endpoint, and freeing one. Text only: nothing here reads the environment or
 * connects. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "endpoint.h"
#include "engine-int.h"

#define DOCKER_DEFAULT_SOCK "/var/run/docker.sock"
#define PODMAN_ROOT_SOCK "/run/podman/podman.sock"

void endpoint_free(struct endpoint *ep)
{
	free(ep->url);
	free(ep->context);
	free(ep->sock_path);
	free(ep->host);
	free(ep->user);
	free(ep->remote_sock);
	free(ep->identity);
	free(ep->ca);
	free(ep->cert);
	free(ep->key);
	memset(ep, 0, sizeof(*ep));
}

/* ---- URLs ---- */

static int parse_unix(const char *url, const char *source, struct endpoint *ep, char *err,
		      size_t errlen)
{
	const char *p = strncmp(url, "unix://", 7) ? url : url + 7;
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;

	if (!*p)
		p = DOCKER_DEFAULT_SOCK; /* "unix://" alone, as docker-py reads it */
	if (p[0] != '/') {
		engine_seterr(err, errlen, "%s: engine socket path must be absolute: \"%s\"",
			      source, url);
		return -EINVAL;
	}
	if (strlen(p) > max) {
		engine_seterr(err, errlen, "%s: socket path longer than %zu bytes: \"%s\"", source,
			      max, p);
		return -EINVAL;
	}
	ep->kind = ENDPOINT_UNIX;
	ep->sock_path = strdup(p);
	return ep->sock_path ? 0 : -ENOMEM;
}

/*
 * "HOST[:PORT]" or "[V6]:PORT" from @s up to @end into ep->host / ep->port (0 when absent).
 * A host may not start with '-': it ends up on ssh's command line.
 */
static int parse_hostport(const char *s, const char *end, const char *url, const char *source,
			  struct endpoint *ep, char *err, size_t errlen)
{
	const char *h = s, *hend, *colon = NULL, *q;
	long port = 0;

	if (*s == '[') {
		h = s + 1;
		hend = memchr(h, ']', (size_t)(end - h));
		if (!hend)
			goto bad;
		if (hend + 1 < end) {
			if (hend[1] != ':')
				goto bad;
			colon = hend + 1;
		}
	} else {
		colon = memchr(s, ':', (size_t)(end - s));
		hend = colon ? colon : end;
	}
	if (hend == h || *h == '-')
		goto bad;
	for (q = h; q < hend; q++)
		if ((unsigned char)*q <= ' ' || strchr("/?#@\\", *q))
			goto bad;
	if (colon) {
		char *stop;

		if (colon + 1 == end)
			goto bad;
		port = strtol(colon + 1, &stop, 10);
		if (stop != end || port < 1 || port > 65535)
			goto bad;
	}
	ep->host = strndup(h, (size_t)(hend - h));
	ep->port = (int)port;
	return ep->host ? 0 : -ENOMEM;
bad:
	engine_seterr(err, errlen, "%s: malformed host or port in \"%s\"", source, url);
	return -EINVAL;
}

static int parse_tcp(const char *url, const char *source, struct endpoint *ep, char *err,
		     size_t errlen)
{
	const char *s = url + 6, *end = s + strcspn(s, "/");

	/* A base path ("tcp://h:2375/x") is something the CLI accepts and nobody uses. */
	if (*end && strcmp(end, "/")) {
		engine_seterr(err, errlen, "%s: unexpected path in \"%s\"", source, url);
		return -EINVAL;
	}
	ep->kind = ENDPOINT_TCP;
	return parse_hostport(s, end, url, source, ep, err, errlen);
}

static int parse_ssh(const char *url, const char *source, bool podman, struct endpoint *ep,
		     char *err, size_t errlen)
{
	const char *s = url + 6, *at, *path, *remote;
	int rc;

	path = s + strcspn(s, "/");
	at = memchr(s, '@', (size_t)(path - s));
	if (at) {
		if (at == s || *s == '-' || memchr(s, ':', (size_t)(at - s))) {
			/* ssh://user:password@ would need a prompt we never give. */
			engine_seterr(err, errlen, "%s: malformed user in \"%s\"", source, url);
			return -EINVAL;
		}
		ep->user = strndup(s, (size_t)(at - s));
		if (!ep->user)
			return -ENOMEM;
		s = at + 1;
	}
	rc = parse_hostport(s, path, url, source, ep, err, errlen);
	if (rc < 0)
		return rc;
	ep->kind = ENDPOINT_SSH;
	/* The engine socket on the remote host: the URL's path, else the engine's usual one
	 * (Podman's rootful socket for CONTAINER_HOST; a rootless one needs the path). */
	remote = *path && strcmp(path, "/") ? path : podman ? PODMAN_ROOT_SOCK : DOCKER_DEFAULT_SOCK;
	ep->remote_sock = strdup(remote);
	return ep->remote_sock ? 0 : -ENOMEM;
}

int endpoint_parse_url(const char *url, const char *source, bool podman, struct endpoint *ep,
		       char *err, size_t errlen)
{
	int rc;

	if (!strncmp(url, "unix://", 7) || url[0] == '/')
		rc = parse_unix(url, source, ep, err, errlen);
	else if (!strncmp(url, "tcp://", 6))
		rc = parse_tcp(url, source, ep, err, errlen);
	else if (!strncmp(url, "ssh://", 6))
		rc = parse_ssh(url, source, podman, ep, err, errlen);
	else {
		engine_seterr(err, errlen,
			      "%s: unsupported engine endpoint \"%s\" (unix:///PATH, tcp://HOST:PORT "
			      "or ssh://[USER@]HOST[:PORT][/SOCKET])",
			      source, url);
		return -EPROTONOSUPPORT;
	}
	if (rc == 0 && !(ep->url = strdup(url)))
		rc = -ENOMEM;
	return rc;
}
