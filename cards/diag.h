/* Diagnostics: the errors and warnings the card model reports, each with the file, line and
 * column it is about. Pure data; printing is one line per problem, the way compilers do it. */
#ifndef CUTIPFS_CARDS_DIAG_H
#define CUTIPFS_CARDS_DIAG_H

#include <stddef.h>
#include <stdio.h>

enum card_severity { CARD_ERROR, CARD_WARNING };

struct card_diag {
	enum card_severity severity;
	char *file; /* as the caller named it; may be NULL */
	int line;   /* 1-based; 0 when the problem has no place (a missing file) */
	int col;    /* 1-based */
	char *message;
};

struct card_diags {
	struct card_diag *items;
	size_t count;
	size_t capacity;
};

__attribute__((format(printf, 6, 7))) void card_diags_add(struct card_diags *diags,
							  enum card_severity severity,
							  const char *file, int line, int col,
							  const char *fmt, ...);
size_t card_diags_errors(const struct card_diags *diags);
size_t card_diags_warnings(const struct card_diags *diags);
/* Moves every item of src to the end of dst; src is left empty. */
void card_diags_move(struct card_diags *dst, struct card_diags *src);
/* "FILE:LINE:COL: error: MESSAGE", one line per item. */
void card_diags_print(const struct card_diags *diags, FILE *out);
/* The same line for one item, into a malloc'd string. */
char *card_diag_format(const struct card_diag *diag);
void card_diags_free(struct card_diags *diags);

#endif
