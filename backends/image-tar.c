/* Images as tar archives: images/NAME/image.tar saves one (`docker save`), and an archive
 * written into images/ loads (`docker load`), through the backend's image_save and image_load.
 * A backend kind without them (a Swarm's: an image loaded on one manager is on no other node)
 * refuses with -EOPNOTSUPP. The last load's progress is kept as the log of the images it
 * loaded (objects.c shows it). No lock is held across an engine call. */
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

static void load_append(struct workspace *ws, const char *text)
{
	pthread_mutex_lock(&ws->lock);
	ws_buf_append(&ws->load_log, text, strlen(text), WS_IMAGE_LOG_MAX);
	pthread_mutex_unlock(&ws->lock);
}

/* The load's lines to its log, and its counts as a line when they moved by a tenth. */
struct load_ctx {
	struct workspace *ws;
	int shown; /* the last tenth said, -1 none */
};

static int on_load(const char *line, const struct be_progress *p, void *arg)
{
	struct load_ctx *c = arg;
	char text[96];

	if (line)
		load_append(c->ws, line);
	if (p->total > 0 && p->current * 10 / p->total != c->shown) {
		c->shown = (int)(p->current * 10 / p->total);
		ws_progress_text("loading", p, text, sizeof(text));
		ws_fmt(text + strlen(text), sizeof(text) - strlen(text), "\n");
		load_append(c->ws, text);
	}
	return 0;
}

/* "web:latest\nx:1\n" from the driver -> "\nweb:latest\nx:1\n" as images/ names them. */
static char *dirnames(const char *loaded)
{
	char *out = NULL;
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
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

int ws_image_load(struct workspace *ws, int fd, const char *what)
{
	struct load_ctx c = {ws, -1};
	char err[512] = "", line[700], *loaded = NULL;
	int rc;

	pthread_mutex_lock(&ws->lock);
	ws->load_log.len = 0;
	free(ws->load_names);
	ws->load_names = NULL;
	pthread_mutex_unlock(&ws->lock);
	ws_fmt(line, sizeof(line), "loading %s\n", what);
	load_append(ws, line);
	if (!ws->be->ops->image_load)
		rc = backend_unsupported(ws->be, "loading images", err, sizeof(err));
	else
		rc = ws->be->ops->image_load(ws->be, fd, on_load, &c, &loaded, err, sizeof(err));
	if (rc < 0) {
		ws_fmt(line, sizeof(line), "load of %s failed: %s\n", what,
		       err[0] ? err : strerror(-rc));
		load_append(ws, line);
		ws_error_add(ws, "images/%s: cannot load: %s", what, err[0] ? err : strerror(-rc));
		return rc;
	}
	char *names = dirnames(loaded);
	for (const char *p = loaded; *p;) {
		size_t n = strcspn(p, "\n");
		char ref[300];
		ws_fmt(ref, sizeof(ref), "%.*s", (int)n, p);
		p += n + (p[n] == '\n');
		ws_fmt(line, sizeof(line), "loaded %s\n", be_image_short(ref));
		load_append(ws, line);
	}
	free(loaded);
	pthread_mutex_lock(&ws->lock);
	ws->load_names = names;
	pthread_mutex_unlock(&ws->lock);
	/* Read now, so that images/ lists them when the writer's close returns. Their events
	 * line says "tagged": the engine's load event may be read before the load's answer
	 * names what it loaded, so no hint could name them in time. */
	ws_refresh_images(ws);
	return 0;
}
