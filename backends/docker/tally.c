/*
 * The counts of a progress stream (pull, build, load): each message becomes the caller's line
 * (decode.c's docker_progress_line) and the counts so far (struct be_progress).
 *
 * A pull's stream tells of each layer by its id: {"status":"Downloading","progressDetail":
 * {"current":N,"total":M},"id":"a1b2"} while its blob comes, then "Download complete",
 * "Extracting" (with counts of its own, of the same bytes again), "Pull complete". The bytes of
 * the pull are the sum over layers of what came of each: its last "Downloading" count, its
 * whole size once it is complete. A load's stream says "Loading layer" with the same counts.
 * A layer that is already here says so without a size and counts for nothing.
 *
 * A build's stream carries its output, the classic builder's "Step 3/7 : RUN ..." (Podman's
 * buildah: "STEP 3/7: RUN ..."), which gives the step: each step's line starts a message.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docker.h"

/* A stream that names more layers or images than any image has is not believed past these:
 * what it costs stays bounded. */
#define TALLY_LAYERS_MAX 4096
#define TALLY_LOADED_MAX (64 * 1024)

/* The size of one layer of the stream, and how much of it came (-1: nothing known). */
struct docker_layer {
	char id[72];
	long long current, total;
};

void docker_progress_init(struct docker_progress *p, be_progress_cb cb, void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->cb = cb;
	p->ctx = ctx;
}

void docker_progress_free(struct docker_progress *p)
{
	free(p->layers);
	free(p->loaded);
	p->layers = NULL;
	p->loaded = NULL;
}

static struct docker_layer *layer(struct docker_progress *p, const char *id)
{
	for (size_t i = 0; i < p->nlayers; i++)
		if (strcmp(p->layers[i].id, id) == 0)
			return &p->layers[i];
	if (p->nlayers == TALLY_LAYERS_MAX)
		return NULL;
	if (p->nlayers == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct docker_layer *v = realloc(p->layers, cap * sizeof(*v));
		if (!v)
			return NULL;
		p->layers = v;
		p->cap = cap;
	}
	struct docker_layer *l = &p->layers[p->nlayers++];
	snprintf(l->id, sizeof(l->id), "%s", id);
	l->current = l->total = 0;
	return l;
}

/* What a message says of its layer's bytes; true when the counts moved. */
static bool count_layer(struct docker_progress *p, const cJSON *msg)
{
	const cJSON *detail = cJSON_GetObjectItemCaseSensitive(msg, "progressDetail");
	const char *status = docker_jstr(msg, "status");
	const char *id = docker_jstr(msg, "id");
	long long cur = be_json_int(cJSON_GetObjectItemCaseSensitive(detail, "current"));
	long long tot = be_json_int(cJSON_GetObjectItemCaseSensitive(detail, "total"));
	bool moving = strcmp(status, "Downloading") == 0 || strcmp(status, "Loading layer") == 0;
	bool done = strcmp(status, "Download complete") == 0 ||
		    strcmp(status, "Verifying Checksum") == 0 ||
		    strcmp(status, "Pull complete") == 0 || strncmp(status, "Extracting", 10) == 0;

	if (!*id || (!moving && !done))
		return false;
	struct docker_layer *l = layer(p, id);
	if (!l)
		return false;
	long long was = l->current, had = l->total;
	if (moving && tot > 0 && cur >= 0) {
		l->total = tot;
		l->current = cur < tot ? cur : tot;
	} else if (done) {
		l->current = l->total; /* all of it, as far as its size is known */
	}
	return l->current != was || l->total != had;
}

/* "Step 3/7 : ..." or "STEP 3/7: ...": the step; true when it moved. */
static bool count_step(struct docker_progress *p, const char *text)
{
	unsigned step, steps;
	char sep;

	while (*text && isspace((unsigned char)*text))
		text++;
	if (strncasecmp(text, "step ", 5) != 0)
		return false;
	if (sscanf(text + 5, "%u/%u %c", &step, &steps, &sep) != 3 || (sep != ':') || step == 0 ||
	    steps == 0 || step > steps)
		return false;
	/* A build's output may look like a step too: once the count is known, only the next
	 * steps of that count are. */
	if (p->now.steps && (steps != p->now.steps || step <= p->now.step))
		return false;
	bool moved = step != p->now.step || steps != p->now.steps;
	p->now.step = step;
	p->now.steps = steps;
	return moved;
}

/* "Loaded image: web:latest\n" (Podman: "Loaded image: localhost/web:latest", several joined
 * by ","), "Loaded image ID: sha256:...": each name on a line of p->loaded. */
static void note_loaded(struct docker_progress *p, const char *text)
{
	static const char *const heads[] = {"Loaded image ID: ", "Loaded image: "};
	const char *names = NULL;

	for (size_t i = 0; !names && i < sizeof(heads) / sizeof(heads[0]); i++)
		if (strncmp(text, heads[i], strlen(heads[i])) == 0)
			names = text + strlen(heads[i]);
	while (names && *names) {
		size_t n = strcspn(names, ",\r\n");
		const char *name = names;
		names += n;
		names += strspn(names, ", \r\n");
		while (n && *name == ' ')
			name++, n--;
		if (!n)
			continue;
		size_t have = p->loaded ? strlen(p->loaded) : 0;
		if (have + n + 2 > TALLY_LOADED_MAX)
			return;
		char *v = realloc(p->loaded, have + n + 2);
		if (!v)
			return;
		memcpy(v + have, name, n);
		v[have + n] = '\n';
		v[have + n + 1] = '\0';
		p->loaded = v;
	}
}

int docker_progress_msg(const cJSON *msg, void *arg)
{
	struct docker_progress *p = arg;
	const char *stream = docker_jstr(msg, "stream");
	bool moved;

	if (*stream) {
		moved = count_step(p, stream);
		note_loaded(p, stream);
	} else if (count_layer(p, msg)) {
		p->now.current = p->now.total = 0;
		for (size_t i = 0; i < p->nlayers; i++) {
			p->now.current += p->layers[i].current;
			p->now.total += p->layers[i].total;
		}
		moved = true;
	} else {
		moved = false;
	}
	if (!p->cb)
		return 0;
	char *line = docker_progress_line(msg);
	int rc = line || moved ? p->cb(line, &p->now, p->ctx) : 0;
	free(line);
	return rc;
}
