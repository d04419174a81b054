/* `cutipfs from-compose FILE [-o DIR]`: the cards, Units and the Group of a compose file, as
 * CUTIP's from-compose writes them (one ImageCard, ContainerCard and Unit per service, a
 * NetworkCard per network, the Group with its units in depends_on order), in per-name folders
 * that can be copied into a mount's cards/. What a card cannot say (an entrypoint, a
 * healthcheck, a depends_on condition, a build's Dockerfile, a secret's value) is listed for a
 * hand to finish. The files make a CUTIP workspace: cutip.yaml, cutip/secrets.yaml (the
 * values of the variables that look secret, which the cards name as {{ secrets.x }}), and the
 * cards in per-name folders under cutip/cards/, which a mount of the workspace shows as its
 * cards/. Pure: reads the compose file, returns the files; compose_main writes them. */
#ifndef CUTIPFS_CARDS_COMPOSE_H
#define CUTIPFS_CARDS_COMPOSE_H

#include <stddef.h>
#include <stdio.h>

#include "diag.h"

struct compose_file {
	char *path; /* relative to the output directory: "cutip/cards/web/web.container.yaml" */
	char *text;
	size_t len;
};

struct compose_result {
	char *group; /* the Group's name */
	struct compose_file *files;
	size_t nfiles;
	char **notes; /* what needs a hand, a line each */
	size_t nnotes;
};

/* Converts the compose file at path. 0, or -1 with the reasons in diags (nothing in res). */
int compose_convert(const char *path, struct compose_result *res, struct card_diags *diags);
void compose_result_free(struct compose_result *res);

/* The subcommand: argv[0] is "from-compose". Writes the files (never over an existing one:
 * refused before anything is written), prints what it wrote and what needs a hand to out.
 * Returns the exit status: 0 written, 1 the compose file is wrong, 2 could not run. */
int compose_main(int argc, char **argv, FILE *out, FILE *err);

#endif
