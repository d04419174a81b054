/* A YAML document loaded the way PyYAML's safe_load sees it, kept as a tree with source marks.
 *
 * libyaml does the parsing; this module builds the tree from its events, resolves plain scalars
 * to YAML 1.1 types (so `tag: 3.20` is a float, as CUTIP sees it), applies merge keys, and
 * refuses hostile input before it can cost time or memory: oversized files, NUL bytes, invalid
 * UTF-8, alias bombs, deep nesting and several documents in one file. */
#ifndef CUTIPFS_CARDS_YDOC_H
#define CUTIPFS_CARDS_YDOC_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

#define YDOC_MAX_BYTES (1024 * 1024) /* larger files are refused */
#define YDOC_MAX_DEPTH 64	     /* nesting of mappings and sequences */
#define YDOC_MAX_NODES 20000	     /* nodes after alias expansion */
/* Scalar bytes after alias expansion. The node bound alone lets 8,000 aliases of one 30 KB
 * string through, and every consumer (the card struct, its canonical form) copies each of them:
 * hundreds of MB from a 62 KB file. The file limit, so a card without aliases always fits (its
 * scalars are shorter than the file), and the daemon's copies of one card stay near 5 MB. */
#define YDOC_MAX_EXPANDED YDOC_MAX_BYTES

enum ynode_kind { YNODE_SCALAR, YNODE_MAP, YNODE_SEQ };

/* What a scalar resolves to under YAML 1.1 (PyYAML's implicit resolvers and explicit tags). */
enum yscalar_type { YS_STR, YS_NULL, YS_BOOL, YS_INT, YS_FLOAT, YS_TIMESTAMP };

struct ynode {
	enum ynode_kind kind;
	int line, col; /* 1-based start of the node */
	/* scalar */
	char *text; /* NUL-terminated; NUL bytes never get this far */
	size_t len;
	enum yscalar_type type;
	/* map: keys[i] -> values[i]; seq: values[i] */
	size_t count;
	struct ynode **keys;
	struct ynode **values;
	/* Nodes reached through an alias are shared, not copied: `refs` counts the owners, and
	 * `weight` is the node count of the subtree as if expanded, which bounds every walk, and
	 * `bytes` the length of all its scalars (keys too) as if expanded. */
	unsigned refs;
	size_t weight;
	size_t bytes;
};

/* Loads one document from buf. On success returns 0 and *root (a mapping, sequence or scalar;
 * an empty document gives a YS_NULL scalar). On failure returns -1 and adds an error to diags
 * naming the file. Warnings (duplicate keys) are added too. */
int ydoc_load(const char *buf, size_t len, const char *file, struct ynode **root,
	      struct card_diags *diags);
int ydoc_load_file(const char *path, struct ynode **root, struct card_diags *diags);
void ynode_free(struct ynode *node);

/* Mapping lookup by string key; NULL when absent (or the node is not a mapping). */
const struct ynode *ynode_get(const struct ynode *map, const char *key);
bool ynode_is_null(const struct ynode *node);
/* A short description for messages: "a mapping", "a sequence", "an integer", ... */
const char *ynode_describe(const struct ynode *node);

#endif
