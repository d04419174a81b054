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

/* `cutipfs check`: argv[0] is "check", then options (--format=text|json|sarif, --quiet,
 * --stdin-name=PATH, --help) and the files and directories to check, `-` for a card on stdin.
 * Each is checked against the whole workspace it lies in; only its own problems go to out.
 * Returns the process exit status: 0 no error, 1 an error, 2 could not run (a bad option, a
 * path not there or not readable, a write error; nothing is checked then, the reason goes to
 * stderr). */
int card_check_main(int argc, char **argv, FILE *out);

#endif
