/* buildtime_resources: what CUTIP stages before a build. CUTIP copies each resource to
 * <buildtime_dir>/<dest> and builds with that directory as the context and <context>/<dockerfile>
 * as the Dockerfile. The Engine API wants the Dockerfile inside the context, so the staging
 * directory here is a fresh one (under <root>/.cutip/tmp, else $TMPDIR) holding the resources
 * and a copy of the Dockerfile under a hidden name; the build sees the same context CUTIP's
 * does. Files are hard-linked when they can be (models and data sets are big), else copied. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ws-int.h"

/* The Dockerfile's name inside the staged context. */
#define STAGED_DOCKERFILE ".cutipfs.Dockerfile"

static int copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[64 * 1024];
	ssize_t n;
	int in, out, rc = 0;

	if (link(from, to) == 0)
		return 0;
	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
	if (out < 0) {
		rc = -errno;
		close(in);
		return rc;
	}
	while (rc == 0 && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			rc = errno == EINTR ? 0 : -errno;
			continue;
		}
		for (ssize_t off = 0; rc == 0 && off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno != EINTR)
				rc = -errno;
			else if (w > 0)
				off += w;
		}
	}
	if (close(out) < 0 && rc == 0)
		rc = -errno;
	close(in);
	return rc;
}

/* cp -r, symlinks kept as links (never followed out of the resource). */
static int copy_tree(const char *from, const char *to, char *err, size_t errlen)
{
	struct stat st;
	int rc = 0;

	if (lstat(from, &st) < 0) {
		rc = -errno;
		ws_fmt(err, errlen, "%s: %s", from, strerror(errno));
		return rc;
	}
	if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlink(from, target, sizeof(target) - 1);
		if (n < 0 || (target[n] = '\0', symlink(target, to) < 0))
			rc = -errno;
	} else if (S_ISREG(st.st_mode)) {
		rc = copy_file(from, to, st.st_mode);
	} else if (S_ISDIR(st.st_mode)) {
		DIR *d;
		struct dirent *de;
		if (mkdir(to, st.st_mode & 07777) < 0 && errno != EEXIST)
			rc = -errno;
		else if (!(d = opendir(from)))
			rc = -errno;
		else {
			while (rc == 0 && (de = readdir(d))) {
				char *a = NULL, *b = NULL;
				if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
					continue;
				if (asprintf(&a, "%s/%s", from, de->d_name) < 0)
					a = NULL;
				if (asprintf(&b, "%s/%s", to, de->d_name) < 0)
					b = NULL;
				rc = a && b ? copy_tree(a, b, err, errlen) : -ENOMEM;
				free(a);
				free(b);
			}
			closedir(d);
		}
	}
	/* Sockets, fifos and devices have no place in a build context: skipped. */
	if (rc < 0 && !err[0])
		ws_fmt(err, errlen, "staging %s: %s", from, strerror(-rc));
	return rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void ws_stage_free(char *dir)
{
	if (dir)
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static char *make_dir(struct workspace *ws)
{
	const char *tmp = getenv("TMPDIR");
	char *base = NULL, *dir = NULL;

	if (asprintf(&base, "%s/.cutip/tmp", ws->root) >= 0 && ws_mkdirs(base) == 0 &&
	    asprintf(&dir, "%s/build-XXXXXX", base) >= 0 && mkdtemp(dir)) {
		free(base);
		return dir;
	}
	free(base);
	free(dir);
	/* A read-only workspace: stage in the temporary directory instead. */
	if (asprintf(&dir, "%s/cutipfs-build-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
		return NULL;
	if (mkdtemp(dir))
		return dir;
	free(dir);
	return NULL;
}

int ws_stage_build(struct workspace *ws, const struct card *card, const char *context,
		   char **dir_out, const char **dockerfile_out, char *err, size_t errlen)
{
	const struct card_image_spec *im = &card->spec.image;
	char *dir = make_dir(ws), *dockerfile = NULL, *to = NULL;
	int rc = 0;

	*dir_out = NULL;
	err[0] = '\0';
	if (!dir) {
		ws_fmt(err, errlen, "cannot make a staging directory: %s", strerror(errno));
		return -EIO;
	}
	for (size_t i = 0; rc == 0 && i < im->resource_count; i++) {
		const struct card_build_resource *r = &im->resources[i];
		if (!r->dest || !*r->dest || r->dest[0] == '/' || strstr(r->dest, "..")) {
			ws_fmt(err, errlen,
			       "ImageCard '%s': buildtime resource dest '%s' must stay "
			       "inside the build context",
			       card->name.s, r->dest ? r->dest : "");
			rc = -EINVAL;
			break;
		}
		char *src = card_path_join(ws->root, r->src.s);
		struct stat st;
		if (!src || asprintf(&to, "%s/%s", dir, r->dest) < 0) {
			free(src);
			rc = -ENOMEM;
			break;
		}
		if (stat(src, &st) < 0) {
			ws_fmt(err, errlen, "ImageCard '%s': buildtime resource not found: %s",
			       card->name.s, src);
			rc = -ENOENT;
		} else {
			/* dest may name a subdirectory. */
			char *slash = strrchr(to, '/');
			*slash = '\0';
			rc = ws_mkdirs(to);
			*slash = '/';
			if (rc == 0)
				rc = copy_tree(src, to, err, errlen);
		}
		free(src);
		free(to);
		to = NULL;
	}
	if (rc == 0) {
		char *from = NULL;
		if (asprintf(&from, "%s/%s", context, im->dockerfile) < 0 ||
		    asprintf(&dockerfile, "%s/" STAGED_DOCKERFILE, dir) < 0)
			rc = -ENOMEM;
		else if ((rc = copy_tree(from, dockerfile, err, errlen)) < 0)
			ws_fmt(err, errlen, "ImageCard '%s': Dockerfile %s: %s", card->name.s, from,
			       strerror(-rc));
		free(from);
		free(dockerfile);
	}
	if (rc < 0) {
		ws_stage_free(dir);
		return rc;
	}
	*dir_out = dir;
	*dockerfile_out = STAGED_DOCKERFILE;
	return 0;
}
