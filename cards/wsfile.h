/* The workspace's own files that are not cards: cutip.yaml at the root, and cutip/vars.yaml,
 * the name paths.yaml had before CUTIP 0.1.8. (paths.yaml and secrets.yaml are read, and
 * checked, by card_values_load in cards/placeholder.c.) */
#ifndef CUTIPFS_CARDS_WSFILE_H
#define CUTIPFS_CARDS_WSFILE_H

#include "diag.h"

/* Checks <root>/cutip.yaml (a mapping; project, when present, a mapping whose backend is one
 * CUTIP knows) and warns about <root>/cutip/vars.yaml when there is no paths.yaml. Missing files
 * are fine. Every item added has the rule "workspace-file". Returns the number of errors added. */
size_t card_workspace_files_check(const char *root, struct card_diags *diags);

#endif
