/* The registry, ref resolution and the graph validator: CUTIP's messages, word for word, each at
 * the place of the ref it is about. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "registry.h"

/* Every card starts with these five lines: metadata.name is at 4:9, spec: on line 5. */
#define HEAD(kind, name)                                                                           \
	"apiVersion: cutip/v1\nkind: " kind "\nmetadata:\n  name: " name "\nspec:\n"
#define IMAGE(name) HEAD("ImageCard", name) "  source: pull\n  image: alpine\n"
#define NETWORK(name) HEAD("NetworkCard", name) "  subnet: 10.0.0.0/24\n"
/* imageRef's ref at 7:10, networkRef's at 9:10. */
#define CONTAINER(name, image, network)                                                            \
	HEAD("ContainerCard", name)                                                                \
	"  imageRef:\n    ref: " image "\n  networkRef:\n    ref: " network "\n"
#define CONTAINER_NONET(name, image)                                                               \
	HEAD("ContainerCard", name) "  imageRef:\n    ref: " image "\n  network_mode: host\n"
/* containerRef's ref at 7:10. */
#define UNIT(name, container) HEAD("Unit", name) "  containerRef:\n    ref: " container "\n"
/* units[i] at (7 + i):12; workflow (when given) right after. */
#define GROUP1(name, u0) HEAD("Group", name) "  units:\n    - ref: " u0 "\n"
#define GROUP3(name, u0, u1, u2)                                                                   \
	HEAD("Group", name) "  units:\n    - ref: " u0 "\n    - ref: " u1 "\n    - ref: " u2 "\n"

static struct card *parse(const char *file, const char *yaml)
{
	struct card_diags diags = {0};
	struct card *card = NULL;
	int rc = card_parse(yaml, strlen(yaml), file, &card, &diags);
	if (rc != 0)
		card_diags_print(&diags, stderr);
	assert_int_equal(rc, 0);
	assert_non_null(card);
	card_diags_free(&diags);
	return card;
}

static void add(struct card_registry *reg, const char *file, const char *yaml)
{
	struct card_diags diags = {0};
	assert_int_equal(card_registry_add(reg, parse(file, yaml), &diags), 0);
	assert_int_equal(diags.count, 0);
}

/* Asserts the diags, formatted as printed, are exactly the expected lines (NULL-terminated). */
static void assert_diags(const struct card_diags *diags, ...)
{
	va_list ap;
	va_start(ap, diags);
	size_t i = 0;
	for (const char *want; (want = va_arg(ap, const char *)); i++) {
		if (i >= diags->count)
			fail_msg("missing diag %zu: %s", i, want);
		char *got = card_diag_format(&diags->items[i]);
		assert_string_equal(got, want);
		free(got);
	}
	va_end(ap);
	if (i != diags->count) {
		char *extra = card_diag_format(&diags->items[i]);
		fail_msg("unexpected diag: %s", extra);
	}
}

static void test_add_find_take(void **state)
{
	(void)state;
	struct card_registry reg = {0};
	add(&reg, "a.yaml", IMAGE("x"));
	add(&reg, "b.yaml", CONTAINER_NONET("c", "images/x"));
	add(&reg, "c.yaml", UNIT("c", "containers/c"));
	assert_int_equal(reg.count, 3);

	struct card *image = card_registry_find(&reg, "images/x");
	assert_non_null(image);
	assert_int_equal(image->kind, CARD_IMAGE);
	assert_ptr_equal(card_registry_find(&reg, "containers/c"), reg.cards[1]);
	assert_ptr_equal(card_registry_find(&reg, "units/c"), reg.cards[2]);
	assert_null(card_registry_find(&reg, "images/c"));
	assert_null(card_registry_find(&reg, "images/"));
	assert_null(card_registry_find(&reg, "images"));
	assert_null(card_registry_find(&reg, "x"));
	assert_ptr_equal(card_registry_find_file(&reg, "b.yaml"), reg.cards[1]);
	assert_null(card_registry_find_file(&reg, "z.yaml"));

	struct card *taken = card_registry_take(&reg, "images/x");
	assert_ptr_equal(taken, image);
	assert_int_equal(reg.count, 2);
	assert_null(card_registry_find(&reg, "images/x"));
	/* The others keep their order. */
	assert_string_equal(reg.cards[0]->file, "b.yaml");
	assert_string_equal(reg.cards[1]->file, "c.yaml");
	assert_null(card_registry_take(&reg, "images/x"));
	card_free(taken);

	/* Once taken, the ref is free again. */
	add(&reg, "a2.yaml", IMAGE("x"));
	assert_string_equal(card_registry_find(&reg, "images/x")->file, "a2.yaml");
	card_registry_free(&reg);
	assert_int_equal(reg.count, 0);
	assert_null(reg.cards);
}

static void test_duplicates(void **state)
{
	(void)state;
	struct card_registry reg = {0};
	struct card_diags diags = {0};
	add(&reg, "cutip/cards/x/x.image.yaml", IMAGE("x"));
	add(&reg, "cutip/cards/x/x.container.yaml", CONTAINER_NONET("x", "images/x"));
	add(&reg, "u.yaml", UNIT("x", "containers/x"));
	add(&reg, "g.yaml", GROUP1("x", "units/x"));

	assert_int_equal(
	    card_registry_add(&reg, parse("cutip/cards/images/x.yaml", IMAGE("x")), &diags), -1);
	assert_int_equal(
	    card_registry_add(&reg, parse("u2.yaml", UNIT("x", "containers/y")), &diags), -1);
	assert_int_equal(card_registry_add(&reg, parse("g2.yaml", GROUP1("x", "units/y")), &diags),
			 -1);
	assert_int_equal(card_registry_add(&reg, parse("n.yaml", NETWORK("x")), &diags), 0);
	assert_diags(&diags,
		     "cutip/cards/images/x.yaml:4:9: error: Duplicate card ref 'images/x' (already "
		     "registered) in cutip/cards/x/x.image.yaml",
		     "u2.yaml:4:9: error: Duplicate Unit name 'x' (already registered) in u.yaml",
		     "g2.yaml:4:9: error: Duplicate Group name 'x' (already registered) in g.yaml",
		     NULL);
	/* The first one stays registered. */
	assert_int_equal(reg.count, 5);
	assert_string_equal(card_registry_find(&reg, "images/x")->file,
			    "cutip/cards/x/x.image.yaml");
	assert_string_equal(card_registry_find(&reg, "units/x")->spec.unit.container_ref.s,
			    "containers/x");
	card_diags_free(&diags);
	card_registry_free(&reg);
}

/* card_resolve's outcome: NULL when it resolves (reason unset), else the reason. */
static void assert_resolve(const struct card_registry *reg, const char *ref,
			   enum card_kind expected, const char *want)
{
	char *reason = (char *)"unset";
	struct card *card = card_resolve(reg, ref, expected, &reason);
	if (!want) {
		assert_non_null(card);
		assert_null(reason);
		return;
	}
	assert_null(card);
	assert_non_null(reason);
	assert_string_equal(reason, want);
	free(reason);
}

static void test_resolve(void **state)
{
	(void)state;
	struct card_registry reg = {0};
	add(&reg, "i.yaml", IMAGE("web"));
	add(&reg, "n.yaml", NETWORK("net"));
	add(&reg, "c.yaml", CONTAINER_NONET("web", "images/web"));
	add(&reg, "u.yaml", UNIT("web", "containers/web"));
	add(&reg, "g.yaml", GROUP1("main", "units/web"));

	assert_resolve(&reg, "images/web", CARD_IMAGE, NULL);
	assert_resolve(&reg, "images/web", CARD_KIND_COUNT, NULL);
	assert_resolve(&reg, "containers/web", CARD_CONTAINER, NULL);
	assert_resolve(&reg, "units/web", CARD_UNIT, NULL);
	assert_resolve(&reg, "units/web", CARD_KIND_COUNT, NULL);
	char *reason = NULL;
	assert_ptr_equal(card_resolve(&reg, "networks/net", CARD_NETWORK, &reason), reg.cards[1]);

	const char *format = "ref must be in the format '<kind>/<name>'";
	assert_resolve(&reg, "images", CARD_IMAGE, format);
	assert_resolve(&reg, "images/", CARD_IMAGE, format);
	assert_resolve(&reg, "/web", CARD_IMAGE, format);
	assert_resolve(&reg, "", CARD_IMAGE, format);
	assert_resolve(&reg, "groups/main", CARD_KIND_COUNT,
		       "Unknown ref prefix 'groups'. Known: images, containers, networks, volumes, "
		       "units");
	assert_resolve(&reg, "image/web", CARD_IMAGE,
		       "Unknown ref prefix 'image'. Known: images, containers, networks, volumes, "
		       "units");
	assert_resolve(&reg, "images/nope", CARD_IMAGE, "Card 'images/nope' not found in registry");
	/* Split on the first '/': the rest, slashes and all, is the name. */
	assert_resolve(&reg, "images/a/b", CARD_IMAGE, "Card 'images/a/b' not found in registry");
	assert_resolve(&reg, "volumes/data", CARD_KIND_COUNT,
		       "Card 'volumes/data' not found in registry");
	assert_resolve(&reg, "units/ghost", CARD_UNIT, "Unit 'ghost' not found in registry");
	assert_resolve(&reg, "networks/net", CARD_IMAGE,
		       "Expected ImageCard but found NetworkCard");
	assert_resolve(&reg, "containers/web", CARD_NETWORK,
		       "Expected NetworkCard but found ContainerCard");
	assert_resolve(&reg, "units/web", CARD_CONTAINER, "Expected ContainerCard but found Unit");
	card_registry_free(&reg);
}

static void test_unresolved_refs(void **state)
{
	(void)state;
	struct card_registry reg = {0};
	struct card_diags diags = {0};
	add(&reg, "i.yaml", IMAGE("img"));
	add(&reg, "n.yaml", NETWORK("net"));

	struct card *ok = parse("ok.yaml", CONTAINER("ok", "images/img", "networks/net"));
	assert_int_equal(card_unresolved_refs(&reg, ok, &diags), 0);
	card_free(ok);

	struct card *c = parse("c.yaml", CONTAINER("c", "images/missing", "images/img"));
	struct card *u = parse("u.yaml", UNIT("u", "containers/c"));
	struct card *g = parse("g.yaml", GROUP3("g", "units/u", "containers/c", "nope"));
	struct card *image = parse("i2.yaml", IMAGE("other"));
	assert_int_equal(card_unresolved_refs(&reg, c, &diags), 2);
	assert_int_equal(card_unresolved_refs(&reg, u, &diags), 1);
	assert_int_equal(card_unresolved_refs(&reg, g, &diags), 3);
	assert_int_equal(card_unresolved_refs(&reg, image, &diags), 0);
	assert_diags(
	    &diags,
	    "c.yaml:7:10: error: spec.imageRef: Card 'images/missing' not found in registry",
	    "c.yaml:9:10: error: spec.networkRef: Expected NetworkCard but found ImageCard",
	    "u.yaml:7:10: error: spec.containerRef: Card 'containers/c' not found in registry",
	    "g.yaml:7:12: error: spec.units.0: Unit 'u' not found in registry",
	    "g.yaml:8:12: error: spec.units.1: Expected a 'units/' ref, got prefix 'containers'",
	    "g.yaml:9:12: error: spec.units.2: ref must be in the format '<kind>/<name>'", NULL);
	card_diags_free(&diags);

	/* Once what they name arrives, they resolve. */
	assert_int_equal(card_registry_add(&reg, c, &diags), 0);
	assert_int_equal(card_unresolved_refs(&reg, u, &diags), 0);
	assert_int_equal(card_registry_add(&reg, u, &diags), 0);
	assert_int_equal(card_unresolved_refs(&reg, g, &diags), 2);
	card_diags_free(&diags);
	card_free(g);
	card_free(image);
	card_registry_free(&reg);
}

/* A group file whose workflow.py exists (tests/fixtures/ws-good). */
#define GOOD_GROUP FIXTURES "/ws-good/cutip/groups/main/group.yaml"

static void test_validate(void **state)
{
	(void)state;
	struct card_registry reg = {0};
	struct card_diags diags = {0};
	add(&reg, "i.yaml", IMAGE("img"));
	add(&reg, "n.yaml", NETWORK("net"));
	add(&reg, "a.yaml", CONTAINER("a", "images/nope", "images/img"));
	add(&reg, "b.yaml", CONTAINER("b", "images/img", "networks/net"));
	add(&reg, "orphan.yaml", CONTAINER("orphan", "bogus/x", "networks/gone"));
	add(&reg, "orphan2.yaml", CONTAINER_NONET("orphan2", "images/img"));
	add(&reg, "u1.yaml", UNIT("u1", "containers/a"));
	add(&reg, "u2.yaml", UNIT("u2", "containers/a")); /* a again: reported once */
	add(&reg, "u3.yaml", UNIT("u3", "containers/missing"));
	add(&reg, "u4.yaml", UNIT("u4", "images/img"));
	add(&reg, "u5.yaml", UNIT("u5", "containers/b"));
	add(&reg, "u6.yaml", UNIT("u6", "containers"));
	add(&reg, GOOD_GROUP, GROUP3("g", "units/u1", "units/ghost", "containers/a"));
	add(&reg, "/nonexistent/g2/group.yaml", GROUP1("g2", "units") "  workflow: flow.py\n");

	assert_int_equal(card_registry_validate(&reg, NULL, &diags), 11);
	assert_diags(
	    &diags,
	    "a.yaml:7:10: error: [CardResolve] u1 → a: Card 'images/nope' not found in registry "
	    "(imageRef: 'images/nope')",
	    "a.yaml:9:10: error: [CardResolve] u1 → a: Expected NetworkCard but found ImageCard "
	    "(networkRef: 'images/img')",
	    "u3.yaml:7:10: error: [UnitResolve] u3: Card 'containers/missing' not found in "
	    "registry "
	    "(ref: 'containers/missing')",
	    "u4.yaml:7:10: error: [UnitResolve] u4: Expected ContainerCard but found ImageCard "
	    "(ref: "
	    "'images/img')",
	    "u6.yaml:7:10: error: [UnitResolve] u6: ref must be in the format '<kind>/<name>' "
	    "(ref: "
	    "'containers')",
	    GOOD_GROUP ":8:12: error: [GroupResolve] g: Unit 'ghost' not found in registry (ref: "
		       "'units/ghost')",
	    GOOD_GROUP ":9:12: error: [GroupResolve] g: Expected a 'units/' ref, got prefix "
		       "'containers' (ref: 'containers/a')",
	    "/nonexistent/g2/group.yaml:7:12: error: [GroupResolve] g2: ref must be in the format "
	    "'<kind>/<name>' (ref: 'units')",
	    "/nonexistent/g2/group.yaml:8:13: error: [WorkflowPath] g2: workflow file not found: "
	    "'/nonexistent/g2/flow.py'",
	    "orphan.yaml:7:10: error: [CardResolve] orphan: Unknown ref prefix 'bogus'. Known: "
	    "images, containers, networks, volumes, units (imageRef: 'bogus/x')",
	    "orphan.yaml:9:10: error: [CardResolve] orphan: Card 'networks/gone' not found in "
	    "registry (networkRef: 'networks/gone')",
	    NULL);
	card_diags_free(&diags);
	card_registry_free(&reg);
}

static void test_validate_clean(void **state)
{
	(void)state;
	struct card_registry reg = {0};
	struct card_diags diags = {0};
	assert_int_equal(card_registry_validate(&reg, NULL, &diags), 0);
	add(&reg, "i.yaml", IMAGE("img"));
	add(&reg, "c.yaml", CONTAINER_NONET("c", "images/img"));
	add(&reg, "u.yaml", UNIT("u", "containers/c"));
	add(&reg, GOOD_GROUP, GROUP1("main", "units/u"));
	assert_int_equal(card_registry_validate(&reg, NULL, &diags), 0);
	assert_int_equal(diags.count, 0);
	card_registry_free(&reg);
}

/* A registry holding one group (and the unit it names, so only the workflow can fail). */
static void group_registry(struct card_registry *reg, const char *file, const char *yaml)
{
	add(reg, "i.yaml", IMAGE("i"));
	add(reg, "c.yaml", CONTAINER_NONET("c", "images/i"));
	add(reg, "u.yaml", UNIT("u", "containers/c"));
	add(reg, file, yaml);
}

static void assert_validate(const struct card_registry *reg, const char *root, const char *want)
{
	struct card_diags diags = {0};
	assert_int_equal(card_registry_validate(reg, root, &diags), want ? 1 : 0);
	assert_diags(&diags, want, NULL);
	card_diags_free(&diags);
}

static void test_workflow_paths(void **state)
{
	(void)state;
	struct card_registry reg = {0};
	/* Next to the group file: reported with its absolute path, at spec.workflow. */
	group_registry(&reg, GOOD_GROUP, GROUP1("main", "units/u") "  workflow: ./missing.py\n");
	assert_validate(&reg, NULL,
			GOOD_GROUP
			":8:13: error: [WorkflowPath] main: workflow file not found: '" FIXTURES
			"/ws-good/cutip/groups/main/missing.py'");
	card_registry_free(&reg);

	/* Not next to the file, but under <root>/cutip/groups/<group>/: found there. Without a
	 * root only the file's directory counts; the default workflow.py has no place in the file,
	 * so the message points at the document. */
	group_registry(&reg, "/nonexistent/main/group.yaml", GROUP1("main", "units/u"));
	assert_validate(&reg, FIXTURES "/ws-good", NULL);
	assert_validate(
	    &reg, NULL,
	    "/nonexistent/main/group.yaml:1:1: error: [WorkflowPath] main: workflow file "
	    "not found: '/nonexistent/main/workflow.py'");
	card_registry_free(&reg);

	/* A relative group file: the path is made absolute from the working directory. */
	assert_int_equal(chdir(FIXTURES "/ws-good"), 0);
	group_registry(&reg, "cutip/groups/main/group.yaml", GROUP1("main", "units/u"));
	assert_validate(&reg, NULL, NULL);
	card_registry_free(&reg);
	group_registry(&reg, "cutip/groups/rel/group.yaml",
		       GROUP1("rel", "units/u") "  workflow: sub/flow.py\n");
	assert_validate(
	    &reg, FIXTURES "/ws-good",
	    "cutip/groups/rel/group.yaml:8:13: error: [WorkflowPath] rel: workflow file "
	    "not found: '" FIXTURES "/ws-good/cutip/groups/rel/sub/flow.py'");
	card_registry_free(&reg);
}

static void test_path_join(void **state)
{
	(void)state;
	const struct {
		const char *base, *path, *want;
	} cases[] = {
	    {"/a/b", "c.py", "/a/b/c.py"},
	    {"/a/b/", "./c.py", "/a/b/c.py"},
	    {"/a//b", "x/./y/", "/a/b/x/y"},
	    {"/a/b", "/abs/c.py", "/abs/c.py"},
	    {"/a/b", "../c.py", "/a/b/../c.py"},
	    {"/", ".", "/"},
	    {"rel/dir", "f", FIXTURES "/rel/dir/f"},
	    {NULL, "f", FIXTURES "/f"},
	    {".", "f", FIXTURES "/f"},
	};
	assert_int_equal(chdir(FIXTURES), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = card_path_join(cases[i].base, cases[i].path);
		assert_non_null(got);
		assert_string_equal(got, cases[i].want);
		free(got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_find_take),  cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_resolve),	   cmocka_unit_test(test_unresolved_refs),
	    cmocka_unit_test(test_validate),	   cmocka_unit_test(test_validate_clean),
	    cmocka_unit_test(test_workflow_paths), cmocka_unit_test(test_path_join),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
