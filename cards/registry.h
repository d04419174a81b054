/* A set of cards keyed by their ref ("images/web"), and the rules between them: CUTIP's ref
 * resolution and GraphValidator, with its messages ("Card 'images/x' not found in registry",
 * "Expected ImageCard but found NetworkCard", ...). */
#ifndef CUTIPFS_CARDS_REGISTRY_H
#define CUTIPFS_CARDS_REGISTRY_H

#include "card.h"

struct card_registry {
	struct card **cards; /* owned; in registration (discovery) order */
	size_t count;
	size_t capacity;
};

/* Adds a card (taking ownership). A second card with the same ref is refused with CUTIP's
 * "Duplicate card ref 'images/x' (already registered)" (or "Duplicate Unit name 'x' ..."), as
 * an error in diags, and freed; returns -1 then, else 0. */
int card_registry_add(struct card_registry *reg, struct card *card, struct card_diags *diags);
/* Removes and returns the card with that ref (the caller frees it), or NULL. */
struct card *card_registry_take(struct card_registry *reg, const char *ref);
struct card *card_registry_find(const struct card_registry *reg, const char *ref);
/* The card registered from that file, or NULL. */
struct card *card_registry_find_file(const struct card_registry *reg, const char *file);
void card_registry_free(struct card_registry *reg);

/* Resolves a ref string to a card of the expected kind (CARD_KIND_COUNT: any kind).
 * Returns the card, or NULL with *reason set to a malloc'd CUTIP message:
 *   ref must be in the format '<kind>/<name>'
 *   Unknown ref prefix '<p>'. Known: images, containers, networks, volumes, units
 *   Card '<ref>' not found in registry / Unit '<name>' not found in registry
 *   Expected <Kind> but found <Kind> */
struct card *card_resolve(const struct card_registry *reg, const char *ref,
			  enum card_kind expected, char **reason);

/* The refs of one card that do not resolve yet, as messages with the ref's place (used by the
 * mount to keep a card pending until what it names arrives). Returns the number added. */
size_t card_unresolved_refs(const struct card_registry *reg, const struct card *card,
			    struct card_diags *diags);

/* CUTIP's GraphValidator over the whole set, plus the refs of container cards no unit names
 * (cutipfs applies those too). `root` is the workspace root for group workflow paths (NULL:
 * the group file's directory only). Adds one error per broken edge; returns their number. */
size_t card_registry_validate(const struct card_registry *reg, const char *root,
			      struct card_diags *diags);

/* base/path as an absolute path, joined the way pathlib does: an absolute path replaces base, a
 * relative (or NULL) base is taken from the working directory, and empty and "." components are
 * dropped ("..", like pathlib, is kept). malloc'd; NULL on allocation failure. Used for group
 * workflow paths here and for paths.yaml's generated: values. */
char *card_path_join(const char *base, const char *path);

#endif
