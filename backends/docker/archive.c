/* An image archive read through by libarchive before the engine is asked to load it
 * (engine_image_load): what it cannot read (not a tar, cut short) or what holds no image is
 * refused with a clear sentence, where the engines would answer with their own internals
 * ("open /var/lib/docker/tmp/docker-import-.../json: no such file or directory"). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "engine-int.h"

/* Either engine loads a docker-archive (manifest.json) or an OCI layout (index.json), plain or
 * compressed; the whole archive is read, so that one cut short is found here. */
int engine_archive_check(int fd, char *err, size_t errlen)
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
