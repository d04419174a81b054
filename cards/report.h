/* How `cutipfs check` writes its problems: compiler lines, a JSON array, or a SARIF 2.1.0 log
 * for CI code-scanning and editors. */
#ifndef CUTIPFS_CARDS_REPORT_H
#define CUTIPFS_CARDS_REPORT_H

#include <stdio.h>

#include "diag.h"

enum card_format { CARD_FORMAT_TEXT, CARD_FORMAT_JSON, CARD_FORMAT_SARIF };

/* "text", "json" or "sarif"; -1 for any other name. */
int card_format_from_name(const char *name);

/* Writes every item, in order: text is card_diags_print's lines; json an array with one object
 * per item (file, line, column, severity, field, rule, message; line, column and field null
 * when the problem has none); sarif one run whose results are the items and whose rules are
 * the rule ids used. Returns 0, or -ENOMEM / -EIO. */
int card_report_write(const struct card_diags *diags, enum card_format format, FILE *out);

#endif
