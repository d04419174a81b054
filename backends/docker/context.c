/*
 * Docker contexts, read from the store the docker CLI writes: $DOCKER_CONFIG (default
 * ~/.docker)/contexts/meta/<sha256(name)>/meta.json for the endpoint, and
 * contexts/tls/<sha256(name)>/docker/{ca,cert,key}.pem for its TLS material; config.json's
 * "currentContext" for the context in use. Read-only: the store is the docker CLI's.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "endpoint.h"
#include "engine-int.h"

/* Bigger than any meta.json or config.json the CLI writes; a guard against reading a device. */
#define CONTEXT_FILE_MAX (1u << 20)

char *context_config_dir(void)
{
	const char *dc = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	char *dir = NULL;

	if (dc && *dc)
		return strdup(dc);
	if (!home || !*home) {
		/* As Go's os.UserHomeDir falls back to the password database. */
		struct passwd *pw = getpwuid(getuid());

		home = pw ? pw->pw_dir : NULL;
	}
	if (!home || asprintf(&dir, "%s/.docker", home) < 0)
		return NULL;
	return dir;
}

/* The whole of @path, NUL-terminated, into *@out; -errno (ENOENT when absent). */
static int slurp(const char *path, char **out, size_t *lenp)
{
	struct ebuf b = {0};
	char chunk[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (b.len + (size_t)n > CONTEXT_FILE_MAX) {
			rc = -EFBIG;
			break;
		}
		rc = ebuf_append(&b, chunk, (size_t)n);
		if (rc < 0)
			break;
	}
	close(fd);
	if (rc == 0 && !b.data)
		rc = ebuf_append(&b, "", 0);
	if (rc < 0) {
		ebuf_free(&b);
		return rc;
	}
	*out = b.data;
	*lenp = b.len;
	return 0;
}

static cJSON *load_json(const char *path, int *rc)
{
	char *text = NULL;
	size_t len = 0;
	cJSON *j;

	*rc = slurp(path, &text, &len);
	if (*rc < 0)
		return NULL;
	j = cJSON_ParseWithLength(text, len);
	free(text);
	if (!j)
		*rc = -EINVAL;
	return j;
}

char *context_current(const char *config_dir)
{
	char path[4096];
	const cJSON *cur;
	char *name = NULL;
	cJSON *j;
	int rc;

	if (!config_dir || snprintf(path, sizeof(path), "%s/config.json", config_dir) >=
			       (int)sizeof(path))
		return NULL;
	/* A missing or broken config.json is no current context: the docker CLI warns and goes
	 * on with the default. */
	j = load_json(path, &rc);
	cur = cJSON_GetObjectItemCaseSensitive(j, "currentContext");
	if (cJSON_IsString(cur) && cur->valuestring[0])
		name = strdup(cur->valuestring);
	cJSON_Delete(j);
	return name;
}

int context_id(const char *name, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (!EVP_Digest(name, strlen(name), md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return -EIO;
	for (i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* @dir/@file when it exists (malloc'd), else NULL: the store keeps only the files it was given. */
static char *tls_file(const char *dir, const char *file)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", dir, file) < 0)
		return NULL;
	if (access(p, F_OK) < 0) {
		free(p);
		return NULL;
	}
	return p;
}

static int load_tls(const char *config_dir, const char *id, const char *name, bool skip_verify,
		    struct endpoint *ep, char *err, size_t errlen)
{
	char *dir = NULL;

	if (asprintf(&dir, "%s/contexts/tls/%s/docker", config_dir, id) < 0)
		return -ENOMEM;
	ep->ca = tls_file(dir, "ca.pem");
	ep->cert = tls_file(dir, "cert.pem");
	ep->key = tls_file(dir, "key.pem");
	/* As the docker CLI: TLS when the context has TLS material or says to skip verifying. */
	ep->tls = ep->ca || ep->cert || ep->key || skip_verify;
	ep->tls_verify = !skip_verify;
	if (!ep->cert != !ep->key) {
		engine_seterr(err, errlen, "context \"%s\": %s without %s in %s", name,
			      ep->cert ? "cert.pem" : "key.pem", ep->cert ? "key.pem" : "cert.pem",
			      dir);
		free(dir);
		return -ENOENT;
	}
	free(dir);
	return 0;
}

int context_load(const char *config_dir, const char *name, const char *source,
		 struct endpoint *ep, char *err, size_t errlen)
{
	char id[65], *meta = NULL, label[300];
	const cJSON *docker, *host, *skip;
	cJSON *j;
	int rc;

	if (!config_dir) {
		engine_seterr(err, errlen,
			      "context \"%s\": no Docker config directory (set DOCKER_CONFIG or HOME)",
			      name);
		return -ENOENT;
	}
	rc = context_id(name, id);
	if (rc < 0)
		return rc;
	if (asprintf(&meta, "%s/contexts/meta/%s/meta.json", config_dir, id) < 0)
		return -ENOMEM;
	j = load_json(meta, &rc);
	if (!j) {
		if (rc == -ENOENT)
			engine_seterr(err, errlen,
				      "context \"%s\" does not exist (looked in %s/contexts/meta)",
				      name, config_dir);
		else
			engine_seterr(err, errlen, "context \"%s\": %s: %s", name, meta,
				      rc == -EINVAL ? "not valid JSON" : strerror(-rc));
		free(meta);
		return rc == -ENOENT ? -ENOENT : -EINVAL;
	}
	docker = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "Endpoints"),
						  "docker");
	host = cJSON_GetObjectItemCaseSensitive(docker, "Host");
	skip = cJSON_GetObjectItemCaseSensitive(docker, "SkipTLSVerify");
	snprintf(label, sizeof(label), "context \"%s\" (%s)", name, source);
	/* A context without a Docker host means the default socket, as in the CLI. */
	rc = endpoint_parse_url(cJSON_IsString(host) && host->valuestring[0]
				    ? host->valuestring
				    : "unix:///var/run/docker.sock",
				label, false, ep, err, errlen);
	if (rc == 0 && !(ep->context = strdup(name)))
		rc = -ENOMEM;
	if (rc == 0 && ep->kind == ENDPOINT_TCP)
		rc = load_tls(config_dir, id, name, cJSON_IsTrue(skip), ep, err, errlen);
	ep->source = source;
	cJSON_Delete(j);
	free(meta);
	return rc;
}
