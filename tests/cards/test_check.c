/* `cutipfs check`: which names are cards, CUTIP's discovery order, the workspace root, and the
 * exact lines and exit status of a run over the fixture workspaces. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"

static void test_ignored(void **state)
{
	(void)state;
	const char *ignored[] = {
	    ".web.yaml",     ".web.container.yaml.swp",
	    "web.yaml~",     "web.yaml.swp",
	    "web.yaml.swo",  "web.yaml.tmp",
	    "4913",	     "notes.txt",
	    "web.YAML",	     "web.yaml.bak",
	    "cutip.yaml",    "paths.yaml",
	    "secrets.yaml",  "vars.yaml",
	    "yaml",	     "dir/.hidden.yaml",
	    "a/paths.yaml",  "Dockerfile",
	    ".git/web.yaml", "a/.b/web.yaml",
	};
	const char *cards[] = {
	    "web.yaml", "web.yml",   "web.container.yaml", "group.yaml", "my-paths.yaml",
	    "vars.yml", "cutip.yml", "dir/web.image.yaml", "4913.yaml",	 "x.swp.yaml",
	};
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		if (!card_file_ignored(ignored[i]))
			fail_msg("'%s' should be ignored", ignored[i]);
	for (size_t i = 0; i < sizeof(cards) / sizeof(cards[0]); i++)
		if (card_file_ignored(cards[i]))
			fail_msg("'%s' should be a card file", cards[i]);
}

/* Asserts card_discover(dir) lists exactly the expected paths (relative to dir), in order. */
static void assert_discover(const char *dir, const char *const *want, size_t n)
{
	char **files = NULL;
	int count = card_discover(dir, &files);
	assert_true(count >= 0);
	for (size_t i = 0; i < n || i < (size_t)count; i++) {
		char path[1024];
		if (i < n)
			snprintf(path, sizeof(path), "%s/%s", dir, want[i]);
		if (i >= (size_t)count)
			fail_msg("missing %s", path);
		if (i >= n)
			fail_msg("unexpected %s", files[i]);
		assert_string_equal(files[i], path);
	}
	for (int i = 0; i < count; i++)
		free(files[i]);
	free(files);
}

static void test_discover_layouts(void **state)
{
	(void)state;
	/* Per-name folders; editor leftovers, hidden files and folders, workspace files left
	 * out. */
	const char *good[] = {
	    "cards/app-net/app-net.network.yaml",
	    "cards/web/web.container.yaml",
	    "cards/web/web.image.yaml",
	    "groups/main/group.yaml",
	    "units/web/web.unit.yaml",
	};
	assert_discover(FIXTURES "/ws-good/cutip", good, 5);
	/* Per-kind folders; the .yml file after every .yaml one. */
	const char *kinds[] = {
	    "cards/containers/db.yaml",	  "cards/images/db.yaml",
	    "groups/db/group.yaml",	  "units/db.yaml",
	    "cards/networks/backend.yml",
	};
	assert_discover(FIXTURES "/ws-kinds/cutip", kinds, 5);
	/* A trailing slash does not double. */
	char **files = NULL;
	assert_int_equal(card_discover(FIXTURES "/ws-good/cutip/cards/web/", &files), 2);
	assert_string_equal(files[0], FIXTURES "/ws-good/cutip/"
					       "cards/web/web.container.yaml");
	free(files[0]);
	free(files[1]);
	free(files);

	errno = 0;
	assert_int_equal(card_discover(FIXTURES "/nonexistent", &files), -1);
	assert_int_equal(errno, ENOENT);
	assert_null(files);
	assert_int_equal(card_discover(FIXTURES "/ws-good/cutip.yaml", &files), -1);
	assert_int_equal(errno, ENOTDIR);
}

/* A scratch tree for what git does not keep: editor leftovers, symlinks, loops. */
static char scratch[64];

/* Writes @text to @path. */
static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A small valid ImageCard at scratch/@rel, its directories made. */
static void touch(const char *rel)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", scratch, rel);
	for (char *p = path + strlen(scratch) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	put(path, "apiVersion: cutip/v1\nkind: ImageCard\nmetadata:\n  name: x\nspec:\n"
		  "  source: pull\n  image: alpine\n");
}

static void scratch_link(const char *target, const char *rel)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", scratch, rel);
	assert_int_equal(symlink(target, path), 0);
}

static int scratch_setup(void **state)
{
	(void)state;
	strcpy(scratch, "/tmp/cutipfs-check-XXXXXX");
	return mkdtemp(scratch) ? 0 : -1;
}

static int scratch_teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_discover_order(void **state)
{
	(void)state;
	const char *files[] = {"b.yaml",     "a.yml",		"a/z.yaml",	  "a/y.yml",
			       "a-b/c.yaml", "dir.yaml/k.yaml", ".hidden/x.yaml", ".c.yaml",
			       "c.yaml~",    ".c.yaml.swp",	"c.yaml.swo",	  "c.tmp",
			       "4913",	     "notes.txt",	"paths.yaml",	  "secrets.yaml",
			       "vars.yaml",  "cutip.yaml",	"UPPER.YAML",	  "B.yaml"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		touch(files[i]);
	/* A loop back up the tree, a second way into a directory, a symlinked card, a dangling
	 * link: symlinked directories are not entered (as Python's rglob), symlinked files
	 * count. */
	scratch_link("..", "a/loop");
	scratch_link("../a-b", "a/again");
	scratch_link("b.yaml", "link.yaml");
	scratch_link("gone.yaml", "dangling.yaml");
	/* Python sorts paths by their parts: "a/z.yaml" before "a-b/c.yaml" before "b.yaml";
	 * uppercase before lowercase. */
	const char *want[] = {"B.yaml",		 "a/z.yaml",  "a-b/c.yaml", "b.yaml",
			      "dir.yaml/k.yaml", "link.yaml", "a/y.yml",    "a.yml"};
	assert_discover(scratch, want, sizeof(want) / sizeof(want[0]));
}

/* Runs card_check_main over a NULL-terminated argv (argv[0] "check", as fs/main.c passes it);
 * returns what it printed (malloc'd) and the exit status in *rc. */
static char *check_output(char **argv, int *rc)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(out);
	*rc = card_check_main(argc, argv, out);
	fclose(out);
	return text;
}

/* Asserts the exact output and exit status of a check over the (NULL-terminated) arguments. */
static void assert_check(const char *want, int want_rc, ...)
{
	char *argv[16] = {"check"};
	int argc = 1;
	va_list ap;
	va_start(ap, want_rc);
	for (char *arg; (arg = va_arg(ap, char *)) && argc < 15;)
		argv[argc++] = arg;
	va_end(ap);
	argv[argc] = NULL;
	int rc;
	char *text = check_output(argv, &rc);
	assert_string_equal(text, want);
	assert_int_equal(rc, want_rc);
	free(text);
}

static void test_check_usage(void **state)
{
	(void)state;
	int rc;
	char *none[] = {"check", NULL};
	char *text = check_output(none, &rc);
	assert_int_equal(rc, 2);
	assert_string_equal(text, ""); /* the usage goes to stderr */
	free(text);
	assert_int_equal(chdir(FIXTURES), 0);
	/* A path that is not there, an option or format unknown: could not run (2), nothing
	 * checked, nothing on stdout (the reason goes to stderr). */
	assert_check("", 2, "nope", NULL);
	assert_check("", 2, "ws-broken", "nope", NULL);
	assert_check("", 2, "--format=xml", "ws-broken", NULL);
	assert_check("", 2, "--bogus", "ws-broken", NULL);
	assert_check("", 2, "--format=json", NULL);
}

static void test_check_good(void **state)
{
	(void)state;
	assert_int_equal(chdir(FIXTURES), 0);
	/* Silent when all is well, like a compiler. */
	assert_check("", 0, "ws-good", NULL);
	assert_check("", 0, "ws-kinds", NULL);
	assert_check("", 0, "ws-good/", "ws-kinds", NULL);
	/* Below the root: the workspace (and its paths.yaml, secrets.yaml) is found walking up,
	 * by cutip.yaml or by the cutip folder. */
	assert_check("", 0, "ws-good/cutip/cards", NULL);
	assert_check("", 0, "ws-good/cutip", NULL);
	assert_check("", 0, "ws-kinds/cutip/cards/containers", "ws-kinds/cutip/cards", NULL);
	assert_check("", 0, "ws-good/cutip/cards/web/web.container.yaml",
		     "ws-good/cutip/cards/web/web.image.yaml",
		     "ws-good/cutip/cards/app-net/app-net.network.yaml", NULL);
	/* A file named twice (here by its folder and by itself) is checked once. */
	assert_check("", 0, "ws-good", "ws-good/cutip/units/web/web.unit.yaml", "./ws-good", NULL);
	assert_int_equal(chdir(FIXTURES "/ws-good/cutip/cards"), 0);
	assert_check("", 0, ".", NULL);
	assert_check("", 0, "web/web.container.yaml", "web/web.image.yaml",
		     "../../cutip/cards/app-net", NULL);
}

#define BROKEN "ws-broken/cutip/"

static void test_check_broken(void **state)
{
	(void)state;
	assert_int_equal(chdir(FIXTURES), 0);
	assert_check(
	    /* Per file, in discovery order: the card's own problems, its placeholders, duplicates.
	     */
	    BROKEN
	    "cards/a.container.yaml:8:13: error: spec.hostname: '{{ paths.empty_dir }}' is "
	    "defined but empty in cutip/paths.yaml\n" BROKEN
	    "cards/a.container.yaml:10:12: error: spec.environment.TOKEN: '{{ secrets.token "
	    "}}' is defined but empty in cutip/secrets.yaml\n" BROKEN
	    "cards/a.container.yaml:11:10: warning: spec.environment.OLD: '{{ vars.old }}' "
	    "is the pre-0.1.8 syntax and is never substituted; write '{{ paths.old }}'\n" BROKEN
	    "cards/a.container.yaml:14:15: error: spec.mounts.0.source: '{{ "
	    "paths.undefined_k }}' is not defined in cutip/paths.yaml\n" BROKEN
	    "cards/bad.yaml:1:1: error: Missing required field 'kind'\n" BROKEN
	    "cards/img2.image.yaml:4:9: error: Duplicate card ref 'images/img' (already "
	    "registered) in " BROKEN "cards/img.image.yaml\n" BROKEN
	    "groups/g2/group.yaml:4:9: error: Duplicate Group name 'g' (already registered) "
	    "in " BROKEN "groups/g/group.yaml\n" BROKEN
	    "units/u5.unit.yaml:4:9: error: Duplicate Unit name 'u1' (already registered) "
	    "in " BROKEN "units/u1.unit.yaml\n"
	    /* Then the graph: units, groups, the containers no unit names. */
	    BROKEN "cards/a.container.yaml:6:19: error: [CardResolve] u1 → a: Card 'images/nope' "
	    "not found in registry (imageRef: 'images/nope')\n" BROKEN
	    "cards/a.container.yaml:7:21: error: [CardResolve] u1 → a: Expected NetworkCard "
	    "but found ImageCard (networkRef: 'images/img')\n" BROKEN
	    "units/u3.unit.yaml:6:23: error: [UnitResolve] u3: Card 'containers/missing' not "
	    "found in registry (ref: 'containers/missing')\n" BROKEN
	    "units/u4.unit.yaml:6:23: error: [UnitResolve] u4: Expected ContainerCard but "
	    "found ImageCard (ref: 'images/img')\n" BROKEN
	    "groups/g/group.yaml:8:12: error: [GroupResolve] g: Unit 'ghost' not found in "
	    "registry (ref: 'units/ghost')\n" BROKEN
	    "groups/g/group.yaml:9:12: error: [GroupResolve] g: Expected a 'units/' ref, got "
	    "prefix 'containers' (ref: 'containers/a')\n" BROKEN
	    "groups/g/group.yaml:10:12: error: [GroupResolve] g: ref must be in the format "
	    "'<kind>/<name>' (ref: 'units')\n" BROKEN
	    "groups/g/group.yaml:11:13: error: [WorkflowPath] g: workflow file not found: "
	    "'" FIXTURES "/" BROKEN "groups/g/missing.py'\n" BROKEN
	    "cards/orphan.container.yaml:6:19: error: [CardResolve] orphan: Unknown ref "
	    "prefix 'bogus'. Known: images, containers, networks, volumes, units (imageRef: "
	    "'bogus/x')\n",
	    1, "ws-broken", NULL);
}

static void test_check_lone_files(void **state)
{
	(void)state;
	assert_int_equal(chdir(FIXTURES), 0);
	/* Alone, a card is checked against the workspace it lies in, found walking up: its
	 * placeholders against paths.yaml and secrets.yaml, its refs (and the units naming it)
	 * against the other cards, whose own problems are not reported. */
	assert_check(BROKEN "cards/a.container.yaml:8:13: error: spec.hostname: '{{ "
			    "paths.empty_dir }}' is defined but empty in cutip/paths.yaml\n" BROKEN
			    "cards/a.container.yaml:10:12: error: spec.environment.TOKEN: '{{ "
			    "secrets.token }}' is defined but empty in cutip/secrets.yaml\n" BROKEN
			    "cards/a.container.yaml:11:10: warning: spec.environment.OLD: '{{ "
			    "vars.old }}' is the pre-0.1.8 syntax and is never substituted; write "
			    "'{{ paths.old }}'\n" BROKEN
			    "cards/a.container.yaml:14:15: error: spec.mounts.0.source: '{{ "
			    "paths.undefined_k }}' is not defined in cutip/paths.yaml\n" BROKEN
			    "cards/a.container.yaml:6:19: error: [CardResolve] u1 → a: Card "
			    "'images/nope' not found in registry (imageRef: 'images/nope')\n" BROKEN
			    "cards/a.container.yaml:7:21: error: [CardResolve] u1 → a: Expected "
			    "NetworkCard but found ImageCard (networkRef: 'images/img')\n",
		     1, BROKEN "cards/a.container.yaml", NULL);
	/* Given by name, an editor's copy is checked too, with a warning that a scan skips it. */
	char path[128];
	snprintf(path, sizeof(path), "%s/web.image.yaml~", scratch);
	touch("web.image.yaml~");
	char want[256];
	snprintf(want, sizeof(want),
		 "%s: warning: checked as a card, but a workspace scan skips this name (an "
		 "editor's temporary file)\n",
		 path);
	assert_check(want, 0, path, NULL);
	/* A missing path among others: nothing is checked (see test_check_usage). */
	assert_check("", 2, "ws-good", "missing/dir", NULL);
}

/* A workspace using cutipfs's replicas (3, and 0 for a service scaled to zero) checks clean:
 * the key is known, so no "unknown field" warning; a near miss gets pointed at it. */
static void test_check_replicas(void **state)
{
	(void)state;
	assert_int_equal(chdir(FIXTURES), 0);
	assert_check("", 0, "ws-swarm", NULL);
	assert_check("", 0, "ws-swarm/cutip/cards/web/web.container.yaml",
		     "ws-swarm/cutip/cards/web/web.image.yaml", NULL);

	char path[128];
	snprintf(path, sizeof(path), "%s/typo.container.yaml", scratch);
	put(path, "apiVersion: cutip/v1\nkind: ContainerCard\nmetadata: {name: typo}\n"
		  "spec:\n  imageRef: {ref: images/web}\n  replica: 3\n");
	char want[512];
	snprintf(want, sizeof(want),
		 "%s:6:3: warning: spec.replica: unknown field, ignored (did you mean "
		 "'replicas'?)\n",
		 path);
	assert_check(want, 0, path, FIXTURES "/ws-swarm/cutip/cards/web/web.image.yaml", NULL);
	unlink(path);

	/* A bad value is an error like any other, with its place. */
	put(path, "apiVersion: cutip/v1\nkind: ContainerCard\nmetadata: {name: typo}\n"
		  "spec:\n  imageRef: {ref: images/web}\n  replicas: -1\n");
	snprintf(want, sizeof(want),
		 "%s:6:13: error: spec.replicas: Input should be greater than or equal to 0\n",
		 path);
	assert_check(want, 1, path, NULL);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ignored),	     cmocka_unit_test(test_discover_layouts),
	    cmocka_unit_test(test_discover_order),   cmocka_unit_test(test_check_usage),
	    cmocka_unit_test(test_check_good),	     cmocka_unit_test(test_check_broken),
	    cmocka_unit_test(test_check_lone_files), cmocka_unit_test(test_check_replicas),
	};
	return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
