/*
 * Image build: POST /build with the context directory as a tar body. The tar is produced on the
 * fly while libcurl sends it — libarchive's disk reader walks the directory and its tar writer
 * fills a small buffer each time libcurl asks for more — so a large context never sits in memory.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine-int.h"

struct tarsrc {
	struct archive *disk; /* walks the context directory */
	struct archive *tar;  /* writes the tar; output lands in @out */
	struct archive_entry *ent;
	const char *root;
	size_t rootlen;
	struct ebuf out; /* produced, not yet sent */
	size_t sent;	 /* bytes of @out already handed to libcurl */
	enum { TS_NEXT, TS_DATA, TS_DONE } state;
	char error[256];
};

static la_ssize_t tar_out(struct archive *a, void *ctx, const void *buf, size_t len)
{
	struct tarsrc *t = ctx;

	(void)a;
	if (ebuf_append(&t->out, buf, len) < 0)
		return -1;
	return (la_ssize_t)len;
}

static int tar_fail(struct tarsrc *t, struct archive *a, const char *what)
{
	snprintf(t->error, sizeof(t->error), "build context: %s: %s", what,
		 archive_error_string(a) ? archive_error_string(a) : "failed");
	return -1;
}

/* Path inside the context: "root/sub/file" -> "sub/file"; NULL for the root itself. */
static const char *rel_path(struct tarsrc *t, const char *p)
{
	if (strncmp(p, t->root, t->rootlen) || (p[t->rootlen] != '/' && p[t->rootlen]))
		return p; /* not under root: cannot happen with a physical walk */
	p += t->rootlen;
	while (*p == '/')
		p++;
	return *p ? p : NULL;
}

/* Advances the archive by one entry header or one data block. */
static int tar_step(struct tarsrc *t)
{
	char block[64 * 1024];
	const char *rel;
	la_ssize_t n;
	int r;

	if (t->state == TS_DATA) {
		n = archive_read_data(t->disk, block, sizeof(block));
		if (n < 0)
			return tar_fail(t, t->disk, archive_entry_pathname(t->ent));
		if (n == 0) {
			t->state = TS_NEXT;
			return 0;
		}
		if (archive_write_data(t->tar, block, (size_t)n) < 0)
			return tar_fail(t, t->tar, "write");
		return 0;
	}

	archive_entry_clear(t->ent);
	r = archive_read_next_header2(t->disk, t->ent);
	if (r == ARCHIVE_EOF) {
		if (archive_write_close(t->tar) != ARCHIVE_OK)
			return tar_fail(t, t->tar, "close");
		t->state = TS_DONE;
		return 0;
	}
	if (r < ARCHIVE_WARN)
		return tar_fail(t, t->disk, t->root);
	if (archive_read_disk_can_descend(t->disk))
		archive_read_disk_descend(t->disk);
	rel = rel_path(t, archive_entry_pathname(t->ent));
	if (!rel)
		return 0; /* the context directory itself */
	if (archive_entry_filetype(t->ent) == AE_IFSOCK)
		return 0; /* tar cannot carry sockets, and a build has no use for them */
	archive_entry_set_pathname(t->ent, rel);
	/* Like the docker CLI: ownership inside the context means nothing to the build. */
	archive_entry_set_uid(t->ent, 0);
	archive_entry_set_gid(t->ent, 0);
	archive_entry_set_uname(t->ent, NULL);
	archive_entry_set_gname(t->ent, NULL);
	if (archive_write_header(t->tar, t->ent) < ARCHIVE_WARN)
		return tar_fail(t, t->tar, rel);
	if (archive_entry_filetype(t->ent) == AE_IFREG && archive_entry_size(t->ent) > 0)
		t->state = TS_DATA;
	return 0;
}

/* libcurl's read callback: hand out produced bytes, producing more when we run dry. */
static size_t tar_read(char *buf, size_t size, size_t nmemb, void *ctx)
{
	struct tarsrc *t = ctx;
	size_t want = size * nmemb, n;

	while (t->sent == t->out.len && t->state != TS_DONE) {
		t->out.len = 0;
		t->sent = 0;
		if (tar_step(t) < 0)
			return CURL_READFUNC_ABORT;
	}
	n = t->out.len - t->sent;
	if (n > want)
		n = want;
	memcpy(buf, t->out.data + t->sent, n);
	t->sent += n;
	return n; /* 0 once done: end of the body */
}

static int tarsrc_open(struct tarsrc *t, const char *dir, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	t->root = dir;
	t->rootlen = strlen(dir);
	while (t->rootlen > 1 && dir[t->rootlen - 1] == '/')
		t->rootlen--;
	t->disk = archive_read_disk_new();
	t->tar = archive_write_new();
	t->ent = archive_entry_new();
	if (!t->disk || !t->tar || !t->ent)
		return -ENOMEM;
	/* Symlinks are sent as links (never followed out of the context); no xattrs, ACLs or
	 * file flags, which the daemon would not use. */
	archive_read_disk_set_symlink_physical(t->disk);
	archive_read_disk_set_behavior(t->disk, ARCHIVE_READDISK_NO_XATTR |
						    ARCHIVE_READDISK_NO_ACL |
						    ARCHIVE_READDISK_NO_FFLAGS);
	archive_write_set_format_pax_restricted(t->tar);
	if (archive_write_open(t->tar, t, NULL, tar_out, NULL) != ARCHIVE_OK) {
		engine_seterr(err, errlen, "build context: %s", archive_error_string(t->tar));
		return -EIO;
	}
	if (archive_read_disk_open(t->disk, dir) != ARCHIVE_OK) {
		engine_seterr(err, errlen, "build context %s: %s", dir,
			      archive_error_string(t->disk));
		return -EIO;
	}
	return 0;
}

static void tarsrc_close(struct tarsrc *t)
{
	if (t->disk)
		archive_read_free(t->disk);
	if (t->tar)
		archive_write_free(t->tar);
	if (t->ent)
		archive_entry_free(t->ent);
	ebuf_free(&t->out);
}

/* Appends "&key=<escaped value>" to *q. */
static int add_param(char **q, const char *key, const char *value)
{
	char *esc, *n = NULL;

	if (!value)
		return 0;
	esc = engine_escape(value);
	if (!esc || asprintf(&n, "%s&%s=%s", *q, key, esc) < 0) {
		curl_free(esc);
		return -ENOMEM;
	}
	curl_free(esc);
	free(*q);
	*q = n;
	return 0;
}

static int add_json_param(char **q, const char *key, const cJSON *value)
{
	char *s;
	int rc;

	if (!value)
		return 0;
	s = cJSON_PrintUnformatted(value);
	if (!s)
		return -ENOMEM;
	rc = add_param(q, key, s);
	free(s);
	return rc;
}

static char *build_path(const struct engine_build_opts *o)
{
	char *q = strdup("/build?rm=1&forcerm=1");

	if (!q)
		return NULL;
	if (add_param(&q, "dockerfile", o->dockerfile ? o->dockerfile : "Dockerfile") < 0 ||
	    add_param(&q, "t", o->tag) < 0 || add_param(&q, "networkmode", o->networkmode) < 0 ||
	    add_param(&q, "nocache", o->nocache ? "1" : NULL) < 0 ||
	    add_json_param(&q, "buildargs", o->buildargs) < 0 ||
	    add_json_param(&q, "labels", o->labels) < 0) {
		free(q);
		return NULL;
	}
	return q;
}

int engine_image_build(struct engine *e, const struct engine_build_opts *o, engine_msg_cb cb,
		       void *ctx, char *image_id, size_t idlen, char *err, size_t errlen)
{
	struct ereq r = {.method = "POST", .content_type = "application/x-tar"};
	struct progress p;
	struct tarsrc t;
	struct stat st;
	char *path;
	int rc;

	if (!o || !o->context_dir || !*o->context_dir) {
		engine_seterr(err, errlen, "build: no context directory");
		return -EINVAL;
	}
	if (o->tag && !engine_ref_ok(o->tag)) {
		engine_seterr(err, errlen, "build: invalid tag \"%s\"", o->tag);
		return -EINVAL;
	}
	if (stat(o->context_dir, &st) < 0) {
		rc = -errno;
		engine_seterr(err, errlen, "build context %s: %s", o->context_dir, strerror(errno));
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		engine_seterr(err, errlen, "build context %s: not a directory", o->context_dir);
		return -ENOTDIR;
	}
	path = build_path(o);
	if (!path)
		return -ENOMEM;
	rc = tarsrc_open(&t, o->context_dir, err, errlen);
	if (rc < 0)
		goto out;

	progress_init(&p, cb, ctx);
	r.path = path;
	r.upload = tar_read;
	r.upload_ctx = &t;
	r.sink = progress_sink;
	r.sink_ctx = &p;
	r.timeout_ms = o->timeout_s > 0 ? o->timeout_s * 1000L : -1;
	rc = ereq_run(e, &r, err, errlen);
	if (rc < 0 && t.error[0])
		engine_seterr(err, errlen, "%s", t.error);
	rc = progress_finish(&p, rc, err, errlen);
	if (rc == 0 && image_id && idlen)
		snprintf(image_id, idlen, "%s", p.id);
	ereq_free(&r);
out:
	tarsrc_close(&t);
	free(path);
	return rc;
}
