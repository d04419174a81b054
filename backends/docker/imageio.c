/* Images as tar archives, the backend's image_save and image_load (backend.h) on the engine
 * client's engine_image_save and engine_image_load (images.c). An archive is read through by
 * libarchive before the engine is asked: what it cannot read (not a tar, cut short) or what
 * holds no image is refused with a clear sentence, where the engines would answer with their
 * own internals ("open /var/lib/docker/tmp/docker-import-.../json: no such file"). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "docker.h"
#include "engine-int.h" /* engine_seterr */

int docker_image_save(struct backend *b, const char *ref, be_bytes_sink sink, void *ctx,
		      const atomic_bool *stop, char *err, size_t errlen)
{
	return engine_image_save(docker_engine(b), ref, sink, ctx, stop, err, errlen);
}

/* Either engine loads a docker-archive (manifest.json) or an OCI layout (index.json), plain or
 * compressed; the whole archive is read, so that one cut short is found here. */
static int check_archive(int fd, char *err, size_t errlen)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	bool image = false;
	off_t start = lseek(fd, 0, SEEK_CUR);
	int r, rc = 0;

	if (!a || start < 0) {
		archive_read_free(a);
		return a ? -errno : -ENOMEM;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	r = archive_read_open_fd(a, fd, 64 * 1024);
	while (r == ARCHIVE_OK && (r = archive_read_next_header(a, &ent)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ent);
		while (name && name[0] == '.' && name[1] == '/')
			name += 2;
		if (name && (strcmp(name, "manifest.json") == 0 || strcmp(name, "index.json") == 0))
			image = true;
		r = archive_read_data_skip(a);
	}
	if (r != ARCHIVE_EOF) {
		engine_seterr(err, errlen, "not an image archive: %s",
			      archive_error_string(a) ? archive_error_string(a) : "unreadable");
		rc = -EINVAL;
	} else if (!image) {
		engine_seterr(err, errlen,
			      "not an image archive: no manifest.json (docker save) or index.json "
			      "(OCI) in it");
		rc = -EINVAL;
	}
	archive_read_free(a);
	if (rc == 0 && lseek(fd, start, SEEK_SET) < 0)
		rc = -errno;
	return rc;
}

int docker_image_load(struct backend *b, int fd, be_progress_cb cb, void *ctx, char **loaded,
		      char *err, size_t errlen)
{
	struct docker_progress p;

	*loaded = NULL;
	int rc = check_archive(fd, err, errlen);
	if (rc < 0)
		return rc;
	docker_progress_init(&p, cb, ctx);
	rc = engine_image_load(docker_engine(b), fd, docker_progress_msg, &p, err, errlen);
	if (rc == 0 && !p.loaded) {
		/* A 200 that named nothing loaded nothing the mount could show. */
		engine_seterr(err, errlen, "the engine loaded no image from the archive");
		rc = -EIO;
	}
	if (rc == 0) {
		*loaded = p.loaded;
		p.loaded = NULL;
	}
	docker_progress_free(&p);
	return rc;
}
