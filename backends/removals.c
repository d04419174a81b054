/* Removals in progress, kept on disk, so that one a crash interrupted is finished by the next
 * mount instead of undone.
 *
 * rm of a card and rmdir of what a card made remove the engine's object first and the card file
 * after (the file stays when the engine refuses: EBUSY). A daemon killed in between left the
 * card without its object, and the next mount's recovery made the object again: a container
 * recreated although its card never changed. So, for the time of the removal, the card's text
 * is kept in <root>/.cutip/removing/<relpath>; the recovery finishes the removal of a card that
 * still holds exactly that text (wscards.c: ws_finish_removals). A card edited since (while
 * unmounted) is the user's new word: its mark is dropped and it is applied as any card. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ws-int.h"

static char *mark_dir(const struct workspace *ws)
{
	char *dir = NULL;
	return asprintf(&dir, "%s/.cutip/removing", ws->root) < 0 ? NULL : dir;
}

static char *mark_path(const struct workspace *ws, const char *relpath)
{
	char *path = NULL;
	return asprintf(&path, "%s/.cutip/removing/%s", ws->root, relpath) < 0 ? NULL : path;
}

int ws_write_atomic(const char *path, const char *text, size_t len)
{
	char *tmp = NULL, *slash;
	int rc = 0;

	if (asprintf(&tmp, "%s.part", path) < 0)
		return -ENOMEM;
	slash = strrchr(tmp, '/');
	*slash = '\0';
	rc = ws_mkdirs(tmp);
	*slash = '/';
	FILE *f = rc == 0 ? fopen(tmp, "wb") : NULL;
	if (rc == 0 && !f)
		rc = -errno;
	if (f) {
		if (fwrite(text, 1, len, f) != len)
			rc = -EIO;
		if (fclose(f) != 0 && rc == 0)
			rc = -errno;
	}
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

void ws_removal_begin(struct workspace *ws, const char *relpath)
{
	char *card = NULL, *mark = mark_path(ws, relpath), *text = NULL;
	size_t len = 0;
	int rc = -ENOMEM;

	if (mark && asprintf(&card, "%s/%s", ws->cards_dir, relpath) >= 0) {
		text = ws_read_card_file(card, &len);
		/* No file, nothing a crash could bring back. */
		rc = text ? ws_write_atomic(mark, text, len) : 0;
	}
	if (rc < 0)
		ws_error_add(ws,
			     "cards/%s: cannot note the removal (a crash now would undo it): %s",
			     relpath, strerror(-rc));
	free(text);
	free(card);
	free(mark);
}

void ws_removal_end(struct workspace *ws, const char *relpath)
{
	char *mark = mark_path(ws, relpath);
	if (mark && unlink(mark) < 0 && errno != ENOENT)
		ws_error_add(ws, "cards/%s: cannot drop the removal's note: %s", relpath,
			     strerror(errno));
	free(mark);
}

/* Whether the card file at relpath holds exactly the text of the mark at path. */
static bool same_text(struct workspace *ws, const char *relpath, const char *path)
{
	char *card = NULL, *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	bool same = false;

	if (asprintf(&card, "%s/%s", ws->cards_dir, relpath) < 0)
		return false;
	a = ws_read_card_file(path, &alen);
	b = a ? ws_read_card_file(card, &blen) : NULL;
	same = a && b && alen == blen && memcmp(a, b, alen) == 0;
	free(a);
	free(b);
	free(card);
	return same;
}

char **ws_removals_interrupted(struct workspace *ws)
{
	char *dir = mark_dir(ws), **files = NULL, **out = NULL;
	int n = dir && access(dir, F_OK) == 0 ? card_discover(dir, &files) : 0;
	size_t prefix = dir ? strlen(dir) + 1 : 0, count = 0;

	if (n > 0)
		out = calloc((size_t)n + 1, sizeof(*out));
	for (int i = 0; i < n; i++) {
		const char *relpath = files[i] + prefix;
		/* Otherwise the card changed since, or is gone: nothing to finish. */
		if (out && same_text(ws, relpath, files[i]) && (out[count] = strdup(relpath)))
			count++;
		else
			unlink(files[i]);
		free(files[i]);
	}
	free(files);
	free(dir);
	return out;
}
