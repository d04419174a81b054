/*
 * Which engine endpoint to talk to and how: the docker CLI's precedence (mount options, then
 * DOCKER_HOST, DOCKER_CONTEXT, config.json's currentContext, CONTAINER_HOST, then probing the
 * usual sockets), endpoint URLs (unix://, tcp://, ssh://), Docker contexts and TLS material.
 * Resolution reads the environment and files only: no connection is made, so it is unit-testable
 * without an engine. Internal to backends/docker/.
 */
#ifndef CUTIPFS_ENDPOINT_H
#define CUTIPFS_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include "engine.h"

enum endpoint_kind {
	ENDPOINT_UNIX = 0, /* a local socket */
	ENDPOINT_TCP,	   /* plain HTTP or TLS on HOST:PORT */
	ENDPOINT_SSH,	   /* a unix socket on a remote host, forwarded by the ssh binary */
};

/* The engine_info "source:" values. */
#define ENDPOINT_SRC_ENGINE "-o engine"
#define ENDPOINT_SRC_CONTEXT "-o context"
#define ENDPOINT_SRC_DOCKER_HOST "DOCKER_HOST"
#define ENDPOINT_SRC_DOCKER_CONTEXT "DOCKER_CONTEXT"
#define ENDPOINT_SRC_CURRENT "config.json currentContext"
#define ENDPOINT_SRC_CONTAINER_HOST "CONTAINER_HOST"
#define ENDPOINT_SRC_DISCOVERED "discovered"

struct endpoint {
	bool discover;	    /* nothing named: probe the usual sockets (every field below unset) */
	const char *source; /* one of ENDPOINT_SRC_* (static) */
	char *url;	    /* as given: "tcp://127.0.0.1:2376" */
	char *context;	    /* the Docker context it came from, or NULL */
	enum endpoint_kind kind;

	char *sock_path; /* UNIX: the socket */
	char *host;	 /* TCP, SSH: host name or address (no brackets) */
	int port;	 /* TCP: always set; SSH: 0 for ssh's own default */

	/* SSH */
	char *user;	   /* NULL: ssh's own (config, then the local user) */
	char *remote_sock; /* the engine socket on the remote host */
	char *identity;	   /* CONTAINER_SSHKEY: ssh -i */

	/* TCP + TLS */
	bool tls;
	bool tls_verify; /* peer and host name; off only for a context's SkipTLSVerify */
	char *ca;	 /* NULL: the system's CA store */
	char *cert;	 /* client certificate and key: both or neither */
	char *key;
};

/* ---- resolution (endpoint.c) ---- */

/*
 * Fills @ep from @o and the environment. Errors (one line in @err, no "cutipfs:" prefix):
 *   -EINVAL           -o engine and -o context together; a malformed URL
 *   -ENOENT           a named context that does not exist; a named TLS file missing/unreadable
 *   -EPROTONOSUPPORT  a scheme other than unix://, tcp://, ssh:// (npipe://, fd://, http://)
 * Free with endpoint_free() (also after a failure).
 */
int endpoint_resolve(const struct engine_open_opts *o, struct endpoint *ep, char *err,
		     size_t errlen);
/* ---- URLs (url.c) ---- */

/*
 * Parses @url from @source into @ep (kind and address fields only; TLS is endpoint_resolve's).
 * @podman: the URL is Podman's (CONTAINER_HOST): its ssh:// default socket is Podman's.
 */
int endpoint_parse_url(const char *url, const char *source, bool podman, struct endpoint *ep,
		       char *err, size_t errlen);
void endpoint_free(struct endpoint *ep);

/* ---- Docker contexts (context.c) ---- */

/* $DOCKER_CONFIG, else ~/.docker (malloc'd); NULL when neither is known. */
char *context_config_dir(void);
/* config.json's "currentContext" in @config_dir (malloc'd), NULL when unset or unreadable. */
char *context_current(const char *config_dir);
/*
 * Loads context @name from the store in @config_dir into @ep: url/kind/address from
 * Endpoints.docker.Host, TLS from the tls directory and SkipTLSVerify. A context that does not
 * exist: -ENOENT with "context "x" does not exist (looked in DIR)".
 */
int context_load(const char *config_dir, const char *name, const char *source,
		 struct endpoint *ep, char *err, size_t errlen);
/* The store's directory name for @name: lowercase sha256 hex, 65 bytes with its NUL. */
int context_id(const char *name, char out[65]);

#endif /* CUTIPFS_ENDPOINT_H */
