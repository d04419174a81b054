/* The YAML writer of cards/yemit.h: libyaml's emitter, writing to a memory stream
 * (open_memstream). */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yemit.h"
#include "ydoc.h"

static int sink(void *data, unsigned char *buffer, size_t size)
{
	struct yemit *y = data;
	return fwrite(buffer, 1, size, y->out) == size;
}

/* Emits one event made by init (which returns 0 when it could not make it). The emitter owns
 * what it was given (yaml_emitter_emit); an event not given, after a failure (a string that is
 * not UTF-8, say), is freed here. */
static void emit(struct yemit *y, int made, yaml_event_t *ev)
{
	if (made && y->failed)
		yaml_event_delete(ev);
	else if (!made || !yaml_emitter_emit(&y->emitter, ev))
		y->failed = true;
}

bool yemit_begin(struct yemit *y)
{
	yaml_event_t ev;
	memset(y, 0, sizeof(*y));
	if (!(y->out = open_memstream(&y->buf, &y->len)))
		return false;
	if (!yaml_emitter_initialize(&y->emitter)) {
		fclose(y->out);
		free(y->buf);
		return false;
	}
	yaml_emitter_set_output(&y->emitter, sink, y);
	yaml_emitter_set_unicode(&y->emitter, 1);
	yaml_emitter_set_width(&y->emitter, 100);
	emit(y, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING), &ev);
	emit(y, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1), &ev);
	yemit_map(y);
	return !y->failed;
}

bool yemit_end(struct yemit *y, char **out, size_t *len)
{
	yaml_event_t ev;
	yemit_close_map(y);
	emit(y, yaml_document_end_event_initialize(&ev, 1), &ev);
	emit(y, yaml_stream_end_event_initialize(&ev), &ev);
	yaml_emitter_delete(&y->emitter);
	if (fclose(y->out) != 0)
		y->failed = true;
	if (y->failed || !y->buf) {
		free(y->buf);
		return false;
	}
	*out = y->buf;
	*len = y->len;
	return true;
}

static void start_map(struct yemit *y, yaml_mapping_style_t style)
{
	yaml_event_t ev;
	emit(y, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, style), &ev);
}

void yemit_map(struct yemit *y)
{
	start_map(y, YAML_BLOCK_MAPPING_STYLE);
}

void yemit_flow_map(struct yemit *y)
{
	start_map(y, YAML_FLOW_MAPPING_STYLE);
}

void yemit_seq(struct yemit *y)
{
	yaml_event_t ev;
	emit(y, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE),
	     &ev);
}

void yemit_close_map(struct yemit *y)
{
	yaml_event_t ev;
	emit(y, yaml_mapping_end_event_initialize(&ev), &ev);
}

void yemit_close_seq(struct yemit *y)
{
	yaml_event_t ev;
	emit(y, yaml_sequence_end_event_initialize(&ev), &ev);
}

/* Whether s is UTF-8, as iconv(3) converting it from UTF-8 finds. */
static bool is_utf8(const char *s)
{
	iconv_t cd = iconv_open("UTF-8", "UTF-8");
	if (cd == (iconv_t)-1)
		return true; /* cannot tell: as out of memory */
	char out[256], *in = (char *)s;
	size_t inleft = strlen(s), rc = 0;
	while (inleft && rc != (size_t)-1) {
		char *o = out;
		size_t outleft = sizeof(out);
		rc = iconv(cd, &in, &inleft, &o, &outleft);
		if (rc == (size_t)-1 && errno == E2BIG)
			rc = 0;
	}
	iconv_close(cd);
	return rc != (size_t)-1;
}

static void scalar(struct yemit *y, const char *s, yaml_scalar_style_t style)
{
	yaml_event_t ev;
	int made = yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s),
						1, 1, style);
	/* libyaml refuses a string that is not UTF-8 (else it is out of memory). */
	if (!made && !y->failed && !is_utf8(s))
		y->bad_text = true;
	emit(y, made, &ev);
}

/* Whether s, written plain, reads back as the same string (ydoc resolves as CUTIP does). */
static bool plain_is_string(const char *s)
{
	struct ynode *root = NULL;
	struct card_diags diags = {0};
	bool same = *s && ydoc_load(s, strlen(s), NULL, &root, &diags) == 0 &&
		    root->kind == YNODE_SCALAR && root->type == YS_STR &&
		    strcmp(root->text, s) == 0;
	ynode_free(root);
	card_diags_free(&diags);
	return same;
}

void yemit_str(struct yemit *y, const char *s)
{
	/* Plain where that says the same; otherwise libyaml picks plain only if it can't be. */
	scalar(y, s, plain_is_string(s) ? YAML_ANY_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

void yemit_plain(struct yemit *y, const char *s)
{
	scalar(y, s, YAML_PLAIN_SCALAR_STYLE);
}

void yemit_kv(struct yemit *y, const char *key, const char *value)
{
	yemit_str(y, key);
	yemit_str(y, value);
}

bool yemit_card_begin(struct yemit *y, const char *kind, const char *name)
{
	if (!yemit_begin(y))
		return false;
	yemit_kv(y, "apiVersion", "cutip/v1");
	yemit_kv(y, "kind", kind);
	yemit_str(y, "metadata");
	yemit_map(y);
	yemit_kv(y, "name", name);
	yemit_close_map(y);
	yemit_str(y, "spec");
	yemit_map(y);
	return true;
}

void yemit_ref(struct yemit *y, const char *key, const char *prefix, const char *name)
{
	char r[300];
	snprintf(r, sizeof(r), "%s/%s", prefix, name);
	yemit_str(y, key);
	yemit_flow_map(y);
	yemit_kv(y, "ref", r);
	yemit_close_map(y);
}
