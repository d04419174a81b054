/* Diagnostics: the errors and warnings the card model reports, each with the file, line and
 * column it is about. Pure data; printing is one line per problem, the way compilers do it. */
#ifndef CUTIPFS_CARDS_DIAG_H
#define CUTIPFS_CARDS_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum card_severity { CARD_ERROR, CARD_WARNING };

struct card_diag {
	enum card_severity severity;
	char *file; /* as the caller named it; may be NULL */
	int line;   /* 1-based; 0 when the problem has no place (a missing file) */
	int col;    /* 1-based */
	char *message;
	/* What kind of problem, a stable short name a SARIF viewer groups by (see the list
	 * below); NULL until the code that knows labels it. Static strings only. */
	const char *rule;
	char *field; /* the card field the problem is about ("spec.mounts.0.source"), or NULL */
};

/* The rule ids labelled in this tree:
 *   yaml-syntax     not a YAML document cutipfs reads (syntax, UTF-8, size)   cards/card.c
 *   file-read       the file could not be opened or read                      cards/card.c
 *   schema          a field is missing, of the wrong type or value            cards/card.c
 *   unknown-field   a key the card model does not know (a warning)            cards/card.c
 *   duplicate-name  a second card with a name already registered              cards/registry.c
 *   ref-unresolved  a ref names no card, or a card of the wrong kind          cards/registry.c
 *   workflow-missing a group's workflow file does not exist                   cards/registry.c
 *   placeholder     {{ paths.k }} / {{ secrets.k }} undefined, empty, legacy  cards/check.c
 *   values-file     paths.yaml or secrets.yaml is not what CUTIP reads        cards/check.c
 *   workspace-file  cutip.yaml is not what CUTIP reads, vars.yaml is legacy   cards/wsfile.c
 *   skipped-name    a file named on the command line that a scan would skip   cards/check.c
 *   path            a path could not be walked                                cards/check.c */
#define CARD_RULE_INTERNAL "internal" /* what nothing labelled (out of memory) */

struct card_diags {
	struct card_diag *items;
	size_t count;
	size_t capacity;
};

/* Returns the item added (to label it), or NULL when out of memory. */
__attribute__((format(printf, 6, 7))) struct card_diag *
card_diags_add(struct card_diags *diags, enum card_severity severity, const char *file, int line,
	       int col, const char *fmt, ...);
/* Sets the rule and a copy of field (may be NULL) of one item; d may be NULL (nothing
 * added). */
void card_diag_label(struct card_diag *d, const char *rule, const char *field);
/* Gives every item from index first on that has no rule yet this one: for messages of code
 * that does not label its own (cards/ydoc.c, cards/placeholder.c). */
void card_diags_label_since(struct card_diags *diags, size_t first, const char *rule);
size_t card_diags_errors(const struct card_diags *diags);
size_t card_diags_warnings(const struct card_diags *diags);
/* Moves every item of src to the end of dst; src is left empty. */
void card_diags_move(struct card_diags *dst, struct card_diags *src);
/* The same for the items keep(item, ctx) says yes to; the others are dropped. */
void card_diags_move_if(struct card_diags *dst, struct card_diags *src,
			bool (*keep)(const struct card_diag *item, void *ctx), void *ctx);
/* "FILE:LINE:COL: error: MESSAGE", one line per item. */
void card_diags_print(const struct card_diags *diags, FILE *out);
/* The same line for one item, into a malloc'd string. */
char *card_diag_format(const struct card_diag *diag);
void card_diags_free(struct card_diags *diags);

#endif
