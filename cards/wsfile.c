/* cutip.yaml and the legacy vars.yaml of a workspace. */
#include "wsfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ydoc.h"

#define RULE "workspace-file"

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static void check_project(const char *file, const struct ynode *project, struct card_diags *diags)
{
	if (!project || ynode_is_null(project))
		return;
	if (project->kind != YNODE_MAP) {
		card_diag_label(card_diags_add(diags, CARD_ERROR, file, project->line, project->col,
					       "project: expected a mapping, got %s",
					       ynode_describe(project)),
				RULE, "project");
		return;
	}
	/* CUTIP's backend factory knows these two; anything else fails every command there. */
	const struct ynode *backend = ynode_get(project, "backend");
	if (!backend || ynode_is_null(backend))
		return;
	bool known = backend->kind == YNODE_SCALAR &&
		     (strcmp(backend->text, "podman") == 0 || strcmp(backend->text, "docker") == 0);
	if (!known)
		card_diag_label(
		    card_diags_add(diags, CARD_ERROR, file, backend->line, backend->col,
				   "project.backend: Unknown backend '%s'. Supported backends: "
				   "podman, docker",
				   backend->kind == YNODE_SCALAR ? backend->text : "?"),
		    RULE, "project.backend");
}

static void check_cutip_yaml(const char *file, struct card_diags *diags)
{
	struct ynode *doc = NULL;
	if (ydoc_load_file(file, &doc, diags) < 0)
		return;
	if (ynode_is_null(doc)) {
		/* An empty cutip.yaml still anchors the root; every setting has a default. */
	} else if (doc->kind != YNODE_MAP) {
		card_diags_add(diags, CARD_ERROR, file, doc->line, doc->col,
			       "Expected a YAML mapping at the top level");
	} else {
		check_project(file, ynode_get(doc, "project"), diags);
	}
	ynode_free(doc);
}

size_t card_workspace_files_check(const char *root, struct card_diags *diags)
{
	size_t first = diags->count;
	char *cutip = NULL, *vars = NULL, *paths = NULL;
	if (asprintf(&cutip, "%s/cutip.yaml", root) < 0)
		cutip = NULL;
	if (asprintf(&vars, "%s/cutip/vars.yaml", root) < 0)
		vars = NULL;
	if (asprintf(&paths, "%s/cutip/paths.yaml", root) < 0)
		paths = NULL;
	if (!cutip || !vars || !paths)
		card_diags_add(diags, CARD_ERROR, root, 0, 0, "%s", strerror(ENOMEM));
	if (cutip && exists(cutip))
		check_cutip_yaml(cutip, diags);
	/* Next to a paths.yaml it is a leftover; alone, its values are what the cards lack. */
	if (vars && paths && exists(vars) && !exists(paths))
		card_diags_add(diags, CARD_WARNING, vars, 0, 0,
			       "vars.yaml is the pre-0.1.8 name of paths.yaml and is not read; "
			       "`cutip upgrade` renames it");
	free(cutip);
	free(vars);
	free(paths);
	card_diags_label_since(diags, first, RULE);
	size_t errors = 0;
	for (size_t i = first; i < diags->count; i++)
		errors += diags->items[i].severity == CARD_ERROR;
	return errors;
}
