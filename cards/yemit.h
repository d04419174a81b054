/* Writing a YAML document with libyaml's emitter (yaml_emitter_emit), one event per call, into
 * memory: what `cutipfs from-compose` writes its cards with. A string value that YAML 1.1
 * would read as something else (8080, yes, 1.10, null) is quoted, so that the card reads back
 * as the string it was (CUTIP's str fields refuse an int). */
#ifndef CUTIPFS_CARDS_YEMIT_H
#define CUTIPFS_CARDS_YEMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <yaml.h>

struct yemit {
	yaml_emitter_t emitter;
	FILE *out; /* open_memstream on buf and len */
	char *buf;
	size_t len;
	bool failed;   /* a call failed (out of memory): the rest do nothing */
	bool bad_text; /* ... because a string was not UTF-8 (libyaml refuses one) */
};

/* Starts a document whose root is a block mapping. false when out of memory. */
bool yemit_begin(struct yemit *y);
/* Ends the root mapping and the document: the text in *out (malloc'd, NUL-terminated) and
 * *len; false when any call failed (nothing in *out). Frees the emitter either way. */
bool yemit_end(struct yemit *y, char **out, size_t *len);

void yemit_map(struct yemit *y);      /* a block mapping starts (as a value or an item) */
void yemit_seq(struct yemit *y);      /* a block sequence starts */
void yemit_flow_map(struct yemit *y); /* {ref: images/web} */
void yemit_close_map(struct yemit *y);
void yemit_close_seq(struct yemit *y);
/* A string, quoted when it would read back as another type. */
void yemit_str(struct yemit *y, const char *s);
/* A plain scalar as it is: true, false, 3. */
void yemit_plain(struct yemit *y, const char *s);
/* key: value, the value a string. */
void yemit_kv(struct yemit *y, const char *key, const char *value);

/* A card's envelope (apiVersion, kind, metadata.name), then `spec:` opened: the caller writes
 * the spec's fields, closes it (yemit_close_map) and ends the document (yemit_end). */
bool yemit_card_begin(struct yemit *y, const char *kind, const char *name);
/* key: {ref: PREFIX/NAME}, a card's reference to another. */
void yemit_ref(struct yemit *y, const char *key, const char *prefix, const char *name);

#endif
