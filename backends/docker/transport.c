/*
 * How a request reaches the engine, per endpoint kind: a unix socket (local, or the one an ssh
 * tunnel forwards), or TCP with or without TLS. The request core (engine.c) asks this file for
 * its connection options and for what to say when the transport is down; TLS itself is
 * libcurl's (OpenSSL), ssh the user's ssh binary (ssh.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine-int.h"
#include "ssh.h"

/* "[::1]" for a literal IPv6 address in a URL, the host itself otherwise. */
static void url_host(const char *host, char *out, size_t len)
{
	snprintf(out, len, strchr(host, ':') ? "[%s]" : "%s", host);
}

int engine_transport_init(struct engine *e, char *err, size_t errlen)
{
	char host[300];
	int rc;

	switch (e->ep.kind) {
	case ENDPOINT_TCP:
		url_host(e->ep.host, host, sizeof(host));
		if (asprintf(&e->base_url, "%s://%s:%d", e->ep.tls ? "https" : "http", host,
			     e->ep.port) < 0)
			e->base_url = NULL;
		break;
	case ENDPOINT_SSH:
		rc = ssh_tunnel_start(&e->ep, &e->ssh, err, errlen);
		if (rc < 0)
			return rc;
		e->sock_path = strdup(ssh_tunnel_sock(e->ssh));
		if (!e->sock_path)
			return -ENOMEM;
		/* HTTP over the forwarded socket, as over a local one. */
		__attribute__((fallthrough));
	case ENDPOINT_UNIX:
		/* The host name is ignored on a unix socket; curl needs one. */
		e->base_url = strdup("http://localhost");
		break;
	}
	return e->base_url ? 0 : -ENOMEM;
}

void engine_transport_close(struct engine *e)
{
	/* Kills ssh and waits for it: none may outlive the handle. */
	ssh_tunnel_stop(e->ssh);
	e->ssh = NULL;
}

void engine_transport_setopt(struct engine *e, CURL *h, bool certinfo)
{
	if (e->sock_path)
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, e->sock_path);
	if (!e->ep.tls)
		return;
	if (e->ep.ca)
		curl_easy_setopt(h, CURLOPT_CAINFO, e->ep.ca);
	if (e->ep.cert) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, e->ep.cert);
		curl_easy_setopt(h, CURLOPT_SSLKEY, e->ep.key);
	}
	/* Verification is off only for a context that says SkipTLSVerify, as the CLI does. */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, e->ep.tls_verify ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, e->ep.tls_verify ? 2L : 0L);
	if (certinfo)
		curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
}

void engine_transport_certinfo(struct engine *e, CURL *h)
{
	struct curl_certinfo *ci = NULL;
	struct curl_slist *f;

	if (!e->ep.tls || curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci ||
	    ci->num_of_certs < 1)
		return; /* a reused connection: no handshake, the subject seen before stands */
	/* certinfo[0] is the server's own certificate, "Subject:CN = localhost" among others. */
	for (f = ci->certinfo[0]; f; f = f->next) {
		if (strncmp(f->data, "Subject:", 8))
			continue;
		pthread_mutex_lock(&e->state_lock);
		snprintf(e->tls_subject, sizeof(e->tls_subject), "%s", f->data + 8);
		pthread_mutex_unlock(&e->state_lock);
		return;
	}
}

bool engine_transport_down(struct engine *e, char *why, size_t len)
{
	return e->ssh && !ssh_tunnel_state(e->ssh, NULL, why, len);
}

void engine_transport_explain(struct engine *e, char *msg, size_t len)
{
	char last[256] = "";
	size_t n = strlen(msg);

	/* The tunnel is up but the request failed: ssh's complaint is the real cause ("open
	 * failed: connect failed: No such file or directory" for a wrong remote socket). */
	if (e->ssh && ssh_tunnel_state(e->ssh, NULL, last, sizeof(last)) && last[0] && n < len)
		snprintf(msg + n, len - n, " (ssh: %s)", last);
}

void engine_transport_errctx(const struct engine *e, struct engine_errctx *x)
{
	char host[300];

	memset(x, 0, sizeof(*x));
	x->endpoint = e->endpoint;
	if (e->ep.kind != ENDPOINT_TCP)
		return;
	url_host(e->ep.host, host, sizeof(host));
	snprintf(x->hostport, sizeof(x->hostport), "%s:%d", host, e->ep.port);
	x->tls = e->ep.tls;
	x->ca = e->ep.ca;
	x->cert = e->ep.cert;
}

int engine_transport_info(struct engine *e, char *buf, size_t len)
{
	char host[300], subject[256];
	size_t used = 0;
	pid_t pid = 0;
	int n;

#define PUT(...)                                                                                   \
	do {                                                                                       \
		n = snprintf(buf + used, len - used, __VA_ARGS__);                                 \
		if (n < 0 || (size_t)n >= len - used)                                              \
			return (int)(len ? len - 1 : 0);                                           \
		used += (size_t)n;                                                                 \
	} while (0)
	if (!len)
		return 0;
	buf[0] = '\0';
	PUT("source: %s\n", e->ep.source ? e->ep.source : ENDPOINT_SRC_ENGINE);
	if (e->ep.context)
		PUT("context: %s\n", e->ep.context);
	switch (e->ep.kind) {
	case ENDPOINT_SSH:
		ssh_tunnel_state(e->ssh, &pid, NULL, 0);
		if (pid)
			PUT("via: unix://%s (ssh pid %ld)\n", e->sock_path, (long)pid);
		else
			PUT("via: unix://%s (ssh not running)\n", e->sock_path);
		break;
	case ENDPOINT_TCP:
		url_host(e->ep.host, host, sizeof(host));
		PUT("via: tcp %s:%d\n", host, e->ep.port);
		break;
	case ENDPOINT_UNIX:
		break;
	}
	if (!e->ep.tls) {
		PUT("tls: off\n");
	} else {
		pthread_mutex_lock(&e->state_lock);
		snprintf(subject, sizeof(subject), "%s", e->tls_subject);
		pthread_mutex_unlock(&e->state_lock);
		PUT("tls: on%s (server certificate: %s)\n",
		    e->ep.tls_verify ? "" : ", not verified (SkipTLSVerify)",
		    subject[0] ? subject : "not seen yet");
	}
#undef PUT
	return (int)used;
}
