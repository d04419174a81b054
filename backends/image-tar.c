/* Images as tar archives: images/NAME/image.tar saves one (`docker save`), and an archive
 * written into images/ loads (`docker load`), through the backend's image_save and image_load.
 * A backend kind without them (a Swarm's: an image loaded on one manager is on no other node)
 * refuses with -EOPNOTSUPP. The progress of the last WS_LOADS loads is kept as the log of the
 * images each loaded (objects.c shows it); while it runs, each tenth of it is an events line
 * ("image x.tar loading progress=\"40% (1.2/3.0 MB)\""), since the images it loads are nowhere
 * to be seen until it ends; a failed one's reason is a line of errors. No lock is held across an
 * engine call. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws-int.h"

int ws_image_save(struct workspace *ws, const char *name, be_bytes_sink sink, void *ctx,
		  const atomic_bool *stop)
{
	char ref[300], err[512] = "";
	int rc;

	if (!ws->be->ops->image_save) {
		rc = backend_unsupported(ws->be, "saving images", err, sizeof(err));
	} else {
		rc = ws_image_ref(ws, name, ref, sizeof(ref));
		if (rc == 0)
			rc =
			    ws->be->ops->image_save(ws->be, ref, sink, ctx, stop, err, sizeof(err));
	}
	/* A reader that went away (its close) stopped it: nothing went wrong. */
	if (rc < 0 && rc != -ENOENT && rc != -EPIPE && rc != -ECANCELED)
		ws_error_add(ws, "images/%s/image.tar: %s", name, err[0] ? err : strerror(-rc));
	return rc;
}

/* One load: its lines, and its counts as a line when they moved by a tenth, kept apart until it
 * ends (two loads at once each have their own), then the log of the images it loaded. */
struct load_ctx {
	struct workspace *ws;
	const char *what; /* the archive's name, for the events lines */
	struct ws_buf log;
	int shown; /* the last tenth said, -1 none */
};

static void load_append(struct load_ctx *c, const char *text)
{
	ws_buf_append(&c->log, text, strlen(text), WS_IMAGE_LOG_MAX);
}

static int on_load(const char *line, const struct be_progress *p, void *arg)
{
	struct load_ctx *c = arg;
	char text[96];

	if (line)
		load_append(c, line);
	if (p->total > 0 && p->current * 10 / p->total != c->shown) {
		c->shown = (int)(p->current * 10 / p->total);
		ws_progress_text("loading", p, text, sizeof(text));
		char attrs[160] = "";
		ws_attr(attrs, sizeof(attrs), "progress", text + strlen("loading "));
		ws_emit(c->ws, WS_IMAGE, c->what, "loading", attrs, false, NULL);
		ws_fmt(text + strlen(text), sizeof(text) - strlen(text), "\n");
		load_append(c, text);
	}
	return 0;
}

/* The driver's "web:latest\nx:1\n" as images/ names them, "\nweb:latest\nx:1\n" (malloc'd),
 * each also a line of the log. */
static char *loaded_names(struct load_ctx *c, const char *loaded)
{
	char *out = NULL, line[320];
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	fputc('\n', f);
	for (const char *p = loaded; *p;) {
		size_t n = strcspn(p, "\n");
		char ref[300], name[300];
		ws_fmt(ref, sizeof(ref), "%.*s", (int)n, p);
		p += n + (p[n] == '\n');
		ws_image_dirname(be_image_short(ref), name, sizeof(name));
		fprintf(f, "%s\n", name);
		ws_fmt(line, sizeof(line), "loaded %s\n", be_image_short(ref));
		load_append(c, line);
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

int ws_image_load(struct workspace *ws, int fd, const char *what)
{
	struct load_ctx c = {.ws = ws, .what = what, .shown = -1};
	char err[512] = "", line[700], *loaded = NULL;
	int rc;

	ws_fmt(line, sizeof(line), "loading %s\n", what);
	load_append(&c, line);
	if (!ws->be->ops->image_load)
		rc = backend_unsupported(ws->be, "loading images", err, sizeof(err));
	else
		rc = ws->be->ops->image_load(ws->be, fd, on_load, &c, &loaded, err, sizeof(err));
	if (rc < 0) {
		ws_error_add(ws, "images/%s: cannot load: %s", what, err[0] ? err : strerror(-rc));
		ws_buf_free(&c.log);
		return rc;
	}
	char *names = loaded_names(&c, loaded);
	free(loaded);
	pthread_mutex_lock(&ws->lock);
	if (ws->nloads == WS_LOADS) {
		ws->nloads--;
		free(ws->loads[ws->nloads].names);
		ws_buf_free(&ws->loads[ws->nloads].log);
	}
	memmove(&ws->loads[1], &ws->loads[0], ws->nloads * sizeof(ws->loads[0]));
	ws->loads[0] = (struct ws_load){.names = names, .log = c.log};
	ws->nloads++;
	pthread_mutex_unlock(&ws->lock);
	/* Read now, so that images/ lists them when the writer's close returns. Their events
	 * line says "tagged": the engine's load event may be read before the load's answer
	 * names what it loaded, so no hint could name them in time. */
	ws_refresh_images(ws);
	return 0;
}
