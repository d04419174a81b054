/* `cutipfs check PATH...`: discovery (CUTIP's order: *.yaml then *.yml, each sorted) and
 * validation of every card and of the graph between them. Needs no engine and no mount. */
#ifndef CUTIPFS_CARDS_CHECK_H
#define CUTIPFS_CARDS_CHECK_H

#include <stdio.h>

#include "diag.h"
#include "registry.h"

/* Whether a file name, or a path relative to the cards directory, is never taken as a card:
 * hidden files and what is in hidden directories, editor leftovers (*~, *.swp, *.tmp),
 * non-YAML names, and the workspace's cutip.yaml, paths.yaml, secrets.yaml, vars.yaml. */
bool card_file_ignored(const char *name);

/* Lists the card files under dir as CUTIP's discovery does: recursively, every *.yaml sorted by
 * path, then every *.yml sorted by path, skipping what card_file_ignored says. Returns the
 * number found (malloc'd array of malloc'd paths in *out), or -1 with errno set. */
int card_discover(const char *dir, char ***out);

/* Checks the given files and directories; prints one line per problem to out and returns the
 * process exit status: 1 if there was any error, else 0. */
int card_check_main(int argc, char **argv, FILE *out);

#endif
