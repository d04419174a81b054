/*
 * Images: inspect, tag, remove, pull, import and load (the last three stream JSON-lines
 * progress), and save (a tar stream).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine-int.h"

/* Image references go into paths as they are ("/" and ":" belong to them), so check them. */
static bool bad_ref(const char *ref, char *err, size_t errlen)
{
	if (engine_ref_ok(ref))
		return false;
	engine_seterr(err, errlen, "invalid image reference \"%s\"", ref ? ref : "");
	return true;
}

/* @r on /images/<name><tail>, its JSON answer to @out when not NULL. */
static int image_call(struct engine *e, struct ereq *r, const char *name, const char *tail,
		      cJSON **out, char *err, size_t errlen)
{
	char *path = NULL;
	int rc;

	if (bad_ref(name, err, errlen))
		return -EINVAL;
	if (asprintf(&path, "/images/%s%s", name, tail) < 0)
		return -ENOMEM;
	r->path = path;
	rc = out ? ereq_json(e, r, out, err, errlen) : ereq_run(e, r, err, errlen);
	ereq_free(r);
	free(path);
	return rc;
}

int engine_image_inspect(struct engine *e, const char *name, cJSON **out, char *err, size_t errlen)
{
	struct ereq r = {.method = "GET"};

	*out = NULL;
	return image_call(e, &r, name, "/json", out, err, errlen);
}

int engine_image_tag(struct engine *e, const char *name, const char *repo, const char *tag,
		     char *err, size_t errlen)
{
	struct ereq r = {.method = "POST", .on_conflict = EEXIST};
	char *erepo, *etag, *path = NULL;
	int rc = -ENOMEM;

	if (bad_ref(name, err, errlen) || bad_ref(repo, err, errlen))
		return -EINVAL;
	erepo = engine_escape(repo);
	etag = engine_escape(tag && *tag ? tag : "latest");
	if (erepo && etag &&
	    asprintf(&path, "/images/%s/tag?repo=%s&tag=%s", name, erepo, etag) >= 0) {
		r.path = path;
		rc = ereq_run(e, &r, err, errlen);
		ereq_free(&r);
		free(path);
	}
	curl_free(erepo);
	curl_free(etag);
	return rc;
}

int engine_image_remove(struct engine *e, const char *name, bool force, char *err, size_t errlen)
{
	struct ereq r = {.method = "DELETE", .on_conflict = EBUSY, .timeout_ms = 60000};

	return image_call(e, &r, name, force ? "?force=1" : "?force=0", NULL, err, errlen);
}

/* Runs a progress-streaming request (pull, import). */
static int progress_request(struct engine *e, struct ereq *r, engine_msg_cb cb, void *ctx,
			    char *err, size_t errlen)
{
	struct progress p;
	int rc;

	progress_init(&p, cb, ctx);
	r->sink = progress_sink;
	r->sink_ctx = &p;
	rc = ereq_run(e, r, err, errlen);
	rc = progress_finish(&p, rc, err, errlen);
	ereq_free(r);
	return rc;
}

int engine_image_pull(struct engine *e, const char *image, const char *tag, engine_msg_cb cb,
		      void *ctx, int timeout_s, char *err, size_t errlen)
{
	struct ereq r = {.method = "POST", .timeout_ms = timeout_s > 0 ? timeout_s * 1000L : -1};
	char *name = NULL, *ename = NULL, *etag = NULL, *path = NULL, *colon, *slash;
	int rc = -ENOMEM;

	if (bad_ref(image, err, errlen))
		return -EINVAL;
	name = strdup(image);
	if (!name)
		return -ENOMEM;
	/* An empty tag would pull every tag of the repository: always send one, unless the
	 * reference pins a digest. */
	slash = strrchr(name, '/');
	colon = strrchr(slash ? slash : name, ':');
	if (!strchr(name, '@') && colon && !tag) {
		*colon = '\0';
		tag = colon + 1;
	}
	if (!strchr(name, '@') && (!tag || !*tag))
		tag = "latest";
	ename = engine_escape(name);
	if (tag)
		etag = engine_escape(tag);
	if (!ename || (tag && !etag))
		goto out;
	if (asprintf(&path, "/images/create?fromImage=%s%s%s", ename, etag ? "&tag=" : "",
		     etag ? etag : "") < 0) {
		path = NULL;
		goto out;
	}
	r.path = path;
	rc = progress_request(e, &r, cb, ctx, err, errlen);
out:
	curl_free(ename);
	curl_free(etag);
	free(name);
	free(path);
	return rc;
}

static size_t file_read(char *buf, size_t size, size_t nmemb, void *ctx)
{
	FILE *f = ctx;
	size_t n = fread(buf, 1, size * nmemb, f);

	if (n == 0 && ferror(f))
		return CURL_READFUNC_ABORT;
	return n;
}

int engine_image_save(struct engine *e, const char *name, engine_bytes_sink sink, void *ctx,
		      const atomic_bool *stop, char *err, size_t errlen)
{
	/* No total timeout: an image of gigabytes takes its time, and the reader's pace sets
	 * the sink's (the stall limit of a stream without a stop flag does not apply). */
	struct ereq r = {
	    .method = "GET", .timeout_ms = -1, .sink = sink, .sink_ctx = ctx, .stop = stop};

	return image_call(e, &r, name, "/get", NULL, err, errlen);
}

struct fd_src {
	int fd;
	int err; /* errno of a failed read */
};

static size_t fd_read(char *buf, size_t size, size_t nmemb, void *ctx)
{
	struct fd_src *s = ctx;
	ssize_t n;

	do
		n = read(s->fd, buf, size * nmemb);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		s->err = errno;
		return CURL_READFUNC_ABORT;
	}
	return (size_t)n;
}

int engine_image_load(struct engine *e, int fd, engine_msg_cb cb, void *ctx, char *err,
		      size_t errlen)
{
	/* quiet=0: the "Loading layer" counts too, not only the names loaded. */
	struct ereq r = {.method = "POST",
			 .path = "/images/load?quiet=0",
			 .timeout_ms = -1,
			 .content_type = "application/x-tar"};
	struct fd_src src = {fd, 0};
	int rc = engine_archive_check(fd, err, errlen);

	if (rc < 0)
		return rc;
	r.upload = fd_read;
	r.upload_ctx = &src;
	rc = progress_request(e, &r, cb, ctx, err, errlen);
	if (rc < 0 && src.err) {
		engine_seterr(err, errlen, "image archive: %s", strerror(src.err));
		rc = -EIO;
	}
	return rc;
}

int engine_image_import(struct engine *e, const char *tar_path, const char *repo, const char *tag,
			engine_msg_cb cb, void *ctx, char *err, size_t errlen)
{
	struct ereq r = {.method = "POST", .timeout_ms = -1, .content_type = "application/x-tar"};
	char *ref = NULL, *eref = NULL, *path = NULL;
	FILE *f = NULL;
	int rc = -ENOMEM;

	/* "repo:tag" in repo alone: Podman 4 ignores the tag parameter of an import (and tags
	 * :latest), Docker accepts either form. */
	if (asprintf(&ref, "%s:%s", repo ? repo : "", tag && *tag ? tag : "latest") < 0)
		return -ENOMEM;
	if (!repo || strchr(repo, '@') || bad_ref(ref, err, errlen)) {
		engine_seterr(err, errlen, "invalid image reference \"%s\"", ref);
		rc = -EINVAL;
		goto out;
	}
	f = fopen(tar_path, "rb");
	if (!f) {
		rc = -errno;
		engine_seterr(err, errlen, "%s: %s", tar_path, strerror(errno));
		goto out;
	}
	eref = engine_escape(ref);
	if (!eref || asprintf(&path, "/images/create?fromSrc=-&repo=%s", eref) < 0) {
		path = NULL;
		goto out;
	}
	r.path = path;
	r.upload = file_read;
	r.upload_ctx = f;
	rc = progress_request(e, &r, cb, ctx, err, errlen);
	if (rc < 0 && ferror(f))
		engine_seterr(err, errlen, "%s: read error", tar_path);
out:
	if (f)
		fclose(f);
	curl_free(eref);
	free(ref);
	free(path);
	return rc;
}
