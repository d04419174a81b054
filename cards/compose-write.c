/* `cutipfs from-compose FILE [-o DIR]` (cards/compose.h): the files compose_convert made,
 * written under DIR without replacing anything; all or none of them. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compose.h"

static const char usage[] =
    "usage: cutipfs from-compose FILE [-o DIR]\n"
    "Writes the cards, Units and the Group of a compose file as a CUTIP workspace in DIR\n"
    "(default: the current directory): DIR/cutip.yaml, DIR/cutip/secrets.yaml and the\n"
    "cards in per-name folders under DIR/cutip/cards. Mount it (cutipfs -o workspace=DIR\n"
    "MOUNTPOINT), or copy DIR/cutip/cards/. into a mount's cards/ and the secrets into its\n"
    "workspace. Never replaces a file. Then lists what needs a hand.\n";

/* mkdir -p of the folders above dir/rel; 0 or -errno. */
static int make_parents(const char *dir, const char *rel)
{
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(path, 0777) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

static int write_one(const char *dir, const struct compose_file *f)
{
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s/%s", dir, f->path);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	int rc = make_parents(dir, f->path);
	int fd = rc < 0 ? -1 : open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0)
		return rc < 0 ? rc : -errno;
	size_t done = 0;
	while (done < f->len) {
		ssize_t w = write(fd, f->text + done, f->len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = w < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)w;
	}
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0)
		unlink(path);
	return rc;
}

/* Writes every file or, when one cannot be, removes those written and returns -errno with the
 * failing file's index in *bad. */
static int write_all(const char *dir, const struct compose_result *res, size_t *bad)
{
	char path[4096];
	struct stat st;
	for (size_t i = 0; i < res->nfiles; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, res->files[i].path);
		if (lstat(path, &st) == 0) {
			*bad = i;
			return -EEXIST; /* before anything is written */
		}
	}
	for (size_t i = 0; i < res->nfiles; i++) {
		int rc = write_one(dir, &res->files[i]);
		if (rc == 0)
			continue;
		*bad = i;
		while (i-- > 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, res->files[i].path);
			unlink(path);
		}
		return rc;
	}
	return 0;
}

int compose_main(int argc, char **argv, FILE *out, FILE *err)
{
	const char *file = NULL, *dir = ".";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage, out);
			return 0;
		} else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (strncmp(argv[i], "-o", 2) == 0 && argv[i][2]) {
			dir = argv[i] + 2;
		} else if (argv[i][0] != '-' && !file) {
			file = argv[i];
		} else {
			fprintf(err, "cutipfs from-compose: unexpected argument '%s'\n%s", argv[i],
				usage);
			return 2;
		}
	}
	if (!file) {
		fputs(usage, err);
		return 2;
	}
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(err, "cutipfs from-compose: %s: %s\n", dir,
			stat(dir, &st) < 0 ? strerror(errno) : "not a directory");
		return 2;
	}
	struct card_diags diags = {0};
	struct compose_result res;
	int rc = compose_convert(file, &res, &diags);
	card_diags_print(&diags, err);
	card_diags_free(&diags);
	if (rc < 0)
		return 1;
	size_t bad = 0;
	rc = write_all(dir, &res, &bad);
	if (rc < 0) {
		fprintf(err, "cutipfs from-compose: %s/%s: %s; nothing written\n", dir,
			res.files[bad].path, strerror(-rc));
		compose_result_free(&res);
		return 2;
	}
	fprintf(out, "wrote %zu files for group '%s' in %s:\n", res.nfiles, res.group, dir);
	for (size_t i = 0; i < res.nfiles; i++)
		fprintf(out, "  %s\n", res.files[i].path);
	if (res.nnotes) {
		fprintf(out, "needs a hand:\n");
		for (size_t i = 0; i < res.nnotes; i++)
			fprintf(out, "  %s\n", res.notes[i]);
	}
	compose_result_free(&res);
	return 0;
}
