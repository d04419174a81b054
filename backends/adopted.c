/* The adoptions (ws-int.h): the foreign containers that cards took over, in memory and in
 * <root>/.cutip/adopted, one line each: "ID HASH RELPATH". The file is written whole under a
 * temporary name (removals.c ws_write_atomic), so that a crash leaves the old record or the
 * new one. alock guards the table and is taken alone (never with another lock held inside it,
 * never across an engine call). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "ws-int.h"

static char *record_path(const struct workspace *ws)
{
	char *path = NULL;
	return asprintf(&path, "%s/.cutip/adopted", ws->root) < 0 ? NULL : path;
}

/* One line of the record; false for a line that is not one (then skipped). */
static bool parse_line(char *line, struct ws_adoption *a)
{
	char *hash = strchr(line, ' '), *card = hash ? strchr(hash + 1, ' ') : NULL;
	if (!card || hash - line >= BE_ID_SIZE || card - hash - 1 != 64 || !card[1])
		return false;
	memset(a, 0, sizeof(*a));
	memcpy(a->id, line, (size_t)(hash - line));
	memcpy(a->hash, hash + 1, 64);
	ws_fmt(a->card, sizeof(a->card), "%s", card + 1);
	return true;
}

void ws_adopted_load(struct workspace *ws)
{
	char *path = record_path(ws), *text = NULL;
	size_t len = 0;
	text = path ? ws_read_card_file(path, &len) : NULL;
	char *save = NULL;
	for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct ws_adoption a, *v;
		if (!parse_line(line, &a))
			continue;
		v = realloc(ws->adopted, (ws->nadopted + 1) * sizeof(*v));
		if (!v) {
			ws_error_add(ws, ".cutip/adopted: out of memory reading the adoptions");
			break;
		}
		ws->adopted = v;
		ws->adopted[ws->nadopted++] = a;
	}
	free(text);
	free(path);
}

void ws_adopted_free(struct workspace *ws)
{
	free(ws->adopted);
	ws->adopted = NULL;
	ws->nadopted = 0;
}

/* Index of id, or nadopted (alock held). */
static size_t find_locked(const struct workspace *ws, const char *id)
{
	size_t i = 0;
	while (i < ws->nadopted && strcmp(ws->adopted[i].id, id) != 0)
		i++;
	return i;
}

bool ws_adopted(struct workspace *ws, const char *id, struct ws_adoption *out)
{
	if (!id || !*id)
		return false;
	pthread_mutex_lock(&ws->alock);
	size_t i = find_locked(ws, id);
	bool found = i < ws->nadopted;
	if (found && out)
		*out = ws->adopted[i];
	pthread_mutex_unlock(&ws->alock);
	return found;
}

/* The table as the file says it (alock held). */
static int save_locked(struct workspace *ws)
{
	char *path = record_path(ws), *text = NULL;
	size_t len = 0;
	FILE *f = path ? open_memstream(&text, &len) : NULL;
	int rc = f ? 0 : -ENOMEM;
	for (size_t i = 0; f && i < ws->nadopted; i++)
		fprintf(f, "%s %s %s\n", ws->adopted[i].id, ws->adopted[i].hash,
			ws->adopted[i].card);
	if (f && fclose(f) != 0)
		rc = -ENOMEM;
	if (rc == 0)
		rc = ws_write_atomic(path, text ? text : "", len);
	free(text);
	free(path);
	return rc;
}

/* Adds or updates the adoption of a.id. */
static int put(struct workspace *ws, const struct ws_adoption *a)
{
	pthread_mutex_lock(&ws->alock);
	size_t i = find_locked(ws, a->id);
	bool added = i == ws->nadopted;
	int rc = 0;
	if (added) {
		struct ws_adoption *v = realloc(ws->adopted, (ws->nadopted + 1) * sizeof(*v));
		if (v) {
			ws->adopted = v;
			ws->nadopted++;
		} else {
			rc = -ENOMEM;
		}
	}
	if (rc == 0) {
		struct ws_adoption before = ws->adopted[i];
		ws->adopted[i] = *a;
		rc = save_locked(ws);
		/* As the file still says. */
		if (rc < 0 && added)
			ws->nadopted--;
		else if (rc < 0)
			ws->adopted[i] = before;
	}
	pthread_mutex_unlock(&ws->alock);
	return rc;
}

void ws_adopted_forget(struct workspace *ws, const char *id)
{
	pthread_mutex_lock(&ws->alock);
	size_t i = find_locked(ws, id);
	int rc = 0;
	if (i < ws->nadopted) {
		ws->adopted[i] = ws->adopted[--ws->nadopted];
		rc = save_locked(ws);
	}
	pthread_mutex_unlock(&ws->alock);
	if (rc < 0)
		ws_error_add(ws, ".cutip/adopted: cannot drop removed container %.12s: %s", id,
			     strerror(-rc));
}

/* The canonical hash of the card that ws_adopt_generate writes of the container. */
static int generated_hash(const struct be_obj *ctr, char hash[65])
{
	char *text = NULL;
	size_t len = 0;
	struct card *card = NULL;
	struct card_diags diags = {0};
	int rc = ws_adopt_generate(ctr->inspect, NULL, CARD_CONTAINER, &text, &len);
	if (rc == 0 && card_parse(text, len, "adopted", &card, &diags) < 0)
		rc = -EINVAL; /* a container no card can say */
	if (rc == 0 && card_hash(card, hash) < 0)
		rc = -ENOMEM;
	card_free(card);
	card_diags_free(&diags);
	free(text);
	return rc;
}

int ws_adopt_take(struct workspace *ws, const struct be_obj *ctr, const char *relpath,
		  const char *hash, const struct ws_deps *deps, char *err, size_t errlen)
{
	char have[65];
	/* Another workspace's container stays its own: two mounts never fight over one. */
	if (be_obj_label(ctr, WS_LABEL_MANAGED))
		return 0;
	if (!ctr->inspect || generated_hash(ctr, have) < 0 || strcmp(have, hash) != 0)
		return 0;
	/* The same card may name an image that differs under the same name (rebuilt since). */
	if (!deps->image_id[0] || !ctr->image_id[0] ||
	    strcmp(ws_id_short(ctr->image_id), ws_id_short(deps->image_id)) != 0)
		return 0;
	if (strchr(relpath, '\n') || strlen(relpath) >= sizeof(((struct ws_adoption *)0)->card))
		return 0; /* a path the record cannot hold */
	struct ws_adoption a = {0};
	ws_fmt(a.id, sizeof(a.id), "%s", ctr->id);
	ws_fmt(a.hash, sizeof(a.hash), "%s", hash);
	ws_fmt(a.card, sizeof(a.card), "%s", relpath);
	int rc = put(ws, &a);
	if (rc < 0) {
		ws_fmt(err, errlen,
		       "container '%s' matches its card, but its adoption cannot be "
		       "recorded in .cutip/adopted: %s",
		       ctr->name, strerror(-rc));
		return rc;
	}
	return 1;
}
