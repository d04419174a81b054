/* {{ paths.k }} and {{ secrets.k }} placeholders (CUTIP's regex, not Jinja): found in a card,
 * checked against the workspace's cutip/paths.yaml and cutip/secrets.yaml, substituted on
 * request. */
#ifndef CUTIPFS_CARDS_PLACEHOLDER_H
#define CUTIPFS_CARDS_PLACEHOLDER_H

#include "card.h"

struct card_values {
	struct card_map paths;	 /* required: and flat entries */
	struct card_map generated; /* paths.yaml generated: entries, made absolute against root */
	struct card_map secrets;
	bool have_paths, have_secrets; /* whether the files exist */
};

/* Loads <cutip_dir>/paths.yaml and secrets.yaml (missing files are fine: nothing defined).
 * root is the workspace root generated paths are made absolute against. Returns -1 with
 * errors in diags when a file exists but is not a valid mapping. */
int card_values_load(struct card_values *values, const char *cutip_dir, const char *root,
		     struct card_diags *diags);
void card_values_free(struct card_values *values);

/* Checks every placeholder in every string of the card, with CUTIP's messages:
 *   '{{ paths.k }}' is not defined in cutip/paths.yaml
 *   '{{ secrets.k }}' is defined but empty in cutip/secrets.yaml
 * prefixed with the field path. A legacy '{{ vars.k }}' gets a warning. Returns the number of
 * errors added. */
size_t card_placeholders_check(const struct card *card, const struct card_values *values,
			       struct card_diags *diags);

/* Replaces every placeholder in every string field of the card, in place. Returns 0, or -1
 * (card unchanged) when one is undefined or empty or the replacements together pass
 * YDOC_MAX_EXPANDED bytes; errors go to diags. */
int card_placeholders_substitute(struct card *card, const struct card_values *values,
				 struct card_diags *diags);

/* One string: a malloc'd copy with placeholders replaced, or NULL with *missing set to the
 * malloc'd text of the first undefined or empty placeholder. NULL with *missing NULL: errno
 * E2BIG for a result past YDOC_MAX_EXPANDED bytes, ENOMEM. card_placeholders_substitute holds
 * all of a card's replacements together to that bound, failing with an error that says so. */
char *card_placeholders_expand(const char *text, const struct card_values *values,
			       char **missing);

#endif
