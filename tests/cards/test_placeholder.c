/* {{ paths.k }} / {{ secrets.k }}: CUTIP's regex, its values files in both forms, the check of
 * every string of a card with CUTIP's messages, and all-or-nothing substitution. */
#include <setjmp.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "placeholder.h"

#define VALUES FIXTURES "/values"

static struct card *parse(const char *file, const char *yaml)
{
	struct card_diags diags = {0};
	struct card *card = NULL;
	int rc = card_parse(yaml, strlen(yaml), file, &card, &diags);
	if (rc != 0)
		card_diags_print(&diags, stderr);
	assert_int_equal(rc, 0);
	card_diags_free(&diags);
	return card;
}

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

static const char *map_get(const struct card_map *map, const char *key)
{
	for (size_t i = 0; i < map->count; i++)
		if (strcmp(map->items[i].key, key) == 0)
			return map->items[i].value;
	return NULL;
}

/* Loads tests/fixtures/values/<name>/cutip with root /ws; asserts the return code. */
static void load(struct card_values *values, const char *name, int want_rc,
		 struct card_diags *diags)
{
	char dir[512];
	snprintf(dir, sizeof(dir), VALUES "/%s/cutip", name);
	assert_int_equal(card_values_load(values, dir, "/ws", diags), want_rc);
}

static void test_load_structured(void **state)
{
	(void)state;
	struct card_values v;
	struct card_diags diags = {0};
	load(&v, "structured", 0, &diags);
	assert_int_equal(diags.count, 0);
	assert_true(v.have_paths);
	assert_true(v.have_secrets);
	assert_int_equal(v.paths.count, 3);
	assert_string_equal(map_get(&v.paths, "data"), "/srv/data");
	assert_string_equal(map_get(&v.paths, "empty"), "");
	assert_string_equal(map_get(&v.paths, "nul"), "");
	assert_int_equal(v.generated.count, 3);
	assert_string_equal(map_get(&v.generated, "cache"), "/ws/.cutip/cache");
	assert_string_equal(map_get(&v.generated, "abs"), "/tmp/abs");
	assert_string_equal(map_get(&v.generated, "data"), "/ws/gen/data");
	assert_int_equal(v.secrets.count, 2);
	assert_string_equal(map_get(&v.secrets, "token"), "s3cr3t");
	assert_string_equal(map_get(&v.secrets, "blank"), "");
	card_values_free(&v);

	/* A relative root is taken from the working directory. */
	assert_int_equal(chdir(FIXTURES), 0);
	assert_int_equal(card_values_load(&v, VALUES "/structured/cutip", "ws", &diags), 0);
	assert_string_equal(map_get(&v.generated, "cache"), FIXTURES "/ws/.cutip/cache");
	card_values_free(&v);
}

static void test_load_flat_and_missing(void **state)
{
	(void)state;
	struct card_values v;
	struct card_diags diags = {0};
	load(&v, "flat", 0, &diags);
	assert_int_equal(diags.count, 0);
	/* Every scalar counts by its text; null is empty. */
	assert_int_equal(v.paths.count, 5);
	assert_string_equal(map_get(&v.paths, "data"), "/data");
	assert_string_equal(map_get(&v.paths, "port"), "5432");
	assert_string_equal(map_get(&v.paths, "debug"), "yes");
	assert_string_equal(map_get(&v.paths, "none"), "");
	assert_string_equal(map_get(&v.paths, "when"), "2024-01-02");
	assert_int_equal(v.generated.count, 0);
	assert_string_equal(map_get(&v.secrets, "token"), "abc");
	card_values_free(&v);

	load(&v, "empty", 0, &diags);
	assert_true(v.have_paths);
	assert_true(v.have_secrets);
	assert_int_equal(v.paths.count + v.generated.count + v.secrets.count, 0);
	card_values_free(&v);

	load(&v, "nonexistent", 0, &diags);
	assert_false(v.have_paths);
	assert_false(v.have_secrets);
	assert_int_equal(v.paths.count + v.generated.count + v.secrets.count, 0);
	card_values_free(&v);
	assert_int_equal(diags.count, 0);
}

static void test_load_errors(void **state)
{
	(void)state;
	struct card_values v;
	struct card_diags diags = {0};
	load(&v, "bad", -1, &diags);
	/* What is valid is kept. */
	assert_int_equal(v.paths.count, 0);
	assert_int_equal(v.secrets.count, 1);
	assert_string_equal(map_get(&v.secrets, "ok"), "fine");
	card_values_free(&v);
	load(&v, "badgen", -1, &diags);
	assert_int_equal(v.generated.count, 1);
	assert_string_equal(map_get(&v.generated, "ok"), "/ws/x");
	card_values_free(&v);
	assert_diags(
	    &diags,
	    VALUES "/bad/cutip/paths.yaml:1:1: error: Expected a YAML mapping at the top "
		   "level",
	    VALUES "/bad/cutip/secrets.yaml:2:9: error: required.list: expected a scalar "
		   "value, got a list",
	    VALUES "/badgen/cutip/paths.yaml:1:11: error: required: expected a mapping, got "
		   "a list",
	    VALUES "/badgen/cutip/paths.yaml:3:10: error: generated.empty: generated path is "
		   "empty",
	    NULL);
	card_diags_free(&diags);
}

/* expand's result, or "MISSING <placeholder>". */
static void assert_expand(const struct card_values *v, const char *text, const char *want)
{
	char *missing = (char *)"unset";
	char *got = card_placeholders_expand(text, v, &missing);
	if (got) {
		assert_null(missing);
		assert_string_equal(got, want);
		free(got);
		return;
	}
	assert_non_null(missing);
	char line[256];
	snprintf(line, sizeof(line), "MISSING %s", missing);
	assert_string_equal(line, want);
	free(missing);
}

static void test_expand(void **state)
{
	(void)state;
	struct card_values v;
	struct card_diags diags = {0};
	load(&v, "structured", 0, &diags);
	assert_expand(&v, "", "");
	assert_expand(&v, "no placeholders {{ here", "no placeholders {{ here");
	assert_expand(&v, "{{ paths.cache }}/x", "/ws/.cutip/cache/x");
	/* generated: wins over required: */
	assert_expand(&v, "{{ paths.data }}", "/ws/gen/data");
	assert_expand(&v, "{{paths.abs}}", "/tmp/abs");
	assert_expand(&v, "{{ \t secrets.token\n }}", "s3cr3t");
	assert_expand(&v, "a{{ secrets.token }}b{{ secrets.token }}c", "as3cr3tbs3cr3tc");
	/* The regex finds the match that starts at the second brace. */
	assert_expand(&v, "{{{ secrets.token }}}", "{s3cr3t}");
	/* Not placeholders: stay as written. */
	assert_expand(&v, "{{ vars.x }}", "{{ vars.x }}");
	assert_expand(&v, "{{ paths.data-x }}", "{{ paths.data-x }}");
	assert_expand(&v, "{{ paths.a.b }}", "{{ paths.a.b }}");
	assert_expand(&v, "{{ paths. data }}", "{{ paths. data }}");
	assert_expand(&v, "{{ PATHS.data }}", "{{ PATHS.data }}");
	assert_expand(&v, "{{ other.data }}", "{{ other.data }}");
	assert_expand(&v, "{ { paths.data } }", "{ { paths.data } }");
	/* Undefined and empty, named the canonical way whatever the spacing. */
	assert_expand(&v, "x {{paths.nope}} {{ paths.empty }}", "MISSING {{ paths.nope }}");
	assert_expand(&v, "{{ paths.empty }}", "MISSING {{ paths.empty }}");
	assert_expand(&v, "{{ paths.nul }}", "MISSING {{ paths.nul }}");
	assert_expand(&v, "{{ secrets.blank }}", "MISSING {{ secrets.blank }}");
	assert_expand(&v, "{{ secrets.data }}", "MISSING {{ secrets.data }}");
	char *missing = (char *)"unset";
	assert_null(card_placeholders_expand(NULL, &v, &missing));
	assert_null(missing);
	card_values_free(&v);
}

/* Line numbers matter below: each placeholder is reported at its string. */
static const char *const checked_card =
    "apiVersion: cutip/v1\n"
    "kind: ContainerCard\n"
    "metadata:\n"
    "  name: web\n"
    "  labels:\n"
    "    owner: \"{{ secrets.nope }}\"\n"
    "spec:\n"
    "  imageRef: {ref: images/web}\n"
    "  command: \"run --dir {{ paths.data }} --t {{secrets.token}}\"\n"
    "  hostname: \"{{ paths.empty }}{{ paths.empty }}\"\n"
    "  environment:\n"
    "    A: \"{{ paths.missing }}\"\n"
    "    B: \"{{ secrets.blank }}\"\n"
    "    C: \"{{ vars.old }}\"\n"
    "    D: plain\n"
    "  mounts:\n"
    "    - type: bind\n"
    "      source: \"{{ paths.nul }}\"\n"
    "      target: \"{{ paths.cache }}\"\n"
    "  labels:\n"
    "    x: \"{{ paths.data }}\"\n"
    "  workdir: \"{{ secrets.missing_too }}\"\n"
    "  x_note: \"{{ paths.nope2 }}\"\n"
    "  x_list: [\"{{ paths.nope3 }}\"]\n";

static void test_check(void **state)
{
	(void)state;
	struct card_values v;
	struct card_diags diags = {0};
	load(&v, "structured", 0, &diags);
	struct card *card = parse("c.yaml", checked_card);
	assert_int_equal(card_placeholders_check(card, &v, &diags), 8);
	assert_diags(
	    &diags,
	    "c.yaml:6:12: error: metadata.labels.owner: '{{ secrets.nope }}' is not defined in "
	    "cutip/secrets.yaml",
	    /* Twice in one string, reported once. */
	    "c.yaml:10:13: error: spec.hostname: '{{ paths.empty }}' is defined but empty in "
	    "cutip/paths.yaml",
	    "c.yaml:12:8: error: spec.environment.A: '{{ paths.missing }}' is not defined in "
	    "cutip/paths.yaml",
	    "c.yaml:13:8: error: spec.environment.B: '{{ secrets.blank }}' is defined but empty in "
	    "cutip/secrets.yaml",
	    "c.yaml:14:8: warning: spec.environment.C: '{{ vars.old }}' is the pre-0.1.8 syntax "
	    "and "
	    "is never substituted; write '{{ paths.old }}'",
	    "c.yaml:18:15: error: spec.mounts.0.source: '{{ paths.nul }}' is defined but empty in "
	    "cutip/paths.yaml",
	    "c.yaml:22:12: error: spec.workdir: '{{ secrets.missing_too }}' is not defined in "
	    "cutip/secrets.yaml",
	    /* Every string of the document, not only the fields CUTIP looks at. */
	    "c.yaml:23:11: error: spec.x_note: '{{ paths.nope2 }}' is not defined in "
	    "cutip/paths.yaml",
	    "c.yaml:24:12: error: spec.x_list.0: '{{ paths.nope3 }}' is not defined in "
	    "cutip/paths.yaml",
	    NULL);
	card_diags_free(&diags);
	card_free(card);
	card_values_free(&v);

	/* With the flat legacy form every key is required, and a missing file defines nothing. */
	load(&v, "flat", 0, &diags);
	card = parse("d.yaml", "apiVersion: cutip/v1\nkind: ContainerCard\nmetadata:\n  name: d\n"
			       "spec:\n  imageRef: {ref: images/d}\n  environment:\n"
			       "    P: \"{{ paths.port }}\"\n    N: \"{{ paths.none }}\"\n");
	assert_int_equal(card_placeholders_check(card, &v, &diags), 1);
	assert_diags(
	    &diags,
	    "d.yaml:9:8: error: spec.environment.N: '{{ paths.none }}' is defined but empty "
	    "in cutip/paths.yaml",
	    NULL);
	card_diags_free(&diags);
	card_values_free(&v);
	load(&v, "nonexistent", 0, &diags);
	assert_int_equal(card_placeholders_check(card, &v, &diags), 2);
	assert_diags(&diags,
		     "d.yaml:8:8: error: spec.environment.P: '{{ paths.port }}' is not defined in "
		     "cutip/paths.yaml",
		     "d.yaml:9:8: error: spec.environment.N: '{{ paths.none }}' is not defined in "
		     "cutip/paths.yaml",
		     NULL);
	card_diags_free(&diags);
	card_free(card);
	card_values_free(&v);
}

/* A string full of problems gets a bounded number of lines (8), each problem once. */
static void test_check_bounded(void **state)
{
	(void)state;
	struct card_values v;
	struct card_diags diags = {0};
	load(&v, "nonexistent", 0, &diags);
	struct card *card = parse(
	    "e.yaml", "apiVersion: cutip/v1\nkind: ContainerCard\nmetadata:\n  name: e\nspec:\n"
		      "  imageRef: {ref: images/e}\n  environment:\n"
		      "    E: \"{{ paths.u0 }}{{ paths.u0 }}{{ vars.v }}{{ vars.v }}{{ paths.u1 }}"
		      "{{ paths.u2 }}{{ secrets.u2 }}{{ paths.u3 }}{{ paths.u4 }}{{ paths.u5 }}"
		      "{{ paths.u6 }}{{ paths.u7 }}{{ paths.u8 }}\"\n");
	assert_int_equal(card_placeholders_check(card, &v, &diags), 7);
	assert_int_equal(diags.count, 8);
	const char *want[] = {"u0", "v", "u1", "u2", "u2", "u3", "u4", "u5"};
	for (size_t i = 0; i < 8; i++) {
		char needle[32];
		snprintf(needle, sizeof(needle), ".%s }}'", want[i]);
		assert_non_null(strstr(diags.items[i].message, needle));
	}
	assert_non_null(strstr(diags.items[4].message, "{{ secrets.u2 }}"));
	card_diags_free(&diags);
	card_free(card);
	card_values_free(&v);
}

static const char *const full_container = "apiVersion: cutip/v1\n"
					  "kind: ContainerCard\n"
					  "metadata:\n"
					  "  name: web\n"
					  "  labels: {team: \"{{ secrets.token }}\"}\n"
					  "spec:\n"
					  "  imageRef: {ref: images/web}\n"
					  "  command: \"serve --root {{ paths.cache }}\"\n"
					  "  hostname: \"h-{{ secrets.token }}\"\n"
					  "  workdir: \"{{ paths.abs }}/w\"\n"
					  "  environment:\n"
					  "    TOKEN: \"{{ secrets.token }}\"\n"
					  "    PLAIN: plain\n"
					  "    LEGACY: \"{{ vars.x }}\"\n"
					  "  mounts:\n"
					  "    - type: bind\n"
					  "      source: \"{{ paths.data }}/html\"\n"
					  "      target: \"/srv/{{ secrets.token }}\"\n"
					  "  volumes:\n"
					  "    data: \"{{ paths.abs }}/v\"\n"
					  "  labels:\n"
					  "    l: \"{{ paths.cache }}\"\n";

static void test_substitute(void **state)
{
	(void)state;
	struct card_values v;
	struct card_diags diags = {0};
	load(&v, "structured", 0, &diags);

	struct card *c = parse("c.yaml", full_container);
	assert_int_equal(card_placeholders_substitute(c, &v, &diags), 0);
	assert_int_equal(diags.count, 0);
	const struct card_container_spec *s = &c->spec.container;
	assert_string_equal(c->labels.items[0].value, "s3cr3t");
	assert_string_equal(s->command.s, "serve --root /ws/.cutip/cache");
	assert_string_equal(s->hostname, "h-s3cr3t");
	assert_string_equal(s->workdir, "/tmp/abs/w");
	assert_string_equal(map_get(&s->environment, "TOKEN"), "s3cr3t");
	assert_string_equal(map_get(&s->environment, "PLAIN"), "plain");
	assert_string_equal(map_get(&s->environment, "LEGACY"), "{{ vars.x }}");
	assert_string_equal(s->mounts[0].source.s, "/ws/gen/data/html");
	assert_string_equal(s->mounts[0].target.s, "/srv/s3cr3t");
	assert_string_equal(map_get(&s->volumes, "data"), "/tmp/abs/v");
	assert_string_equal(map_get(&s->labels, "l"), "/ws/.cutip/cache");
	/* Refs and names are identities, never substituted (they hold no placeholder here). */
	assert_string_equal(s->image_ref.s, "images/web");
	card_free(c);

	struct card *image =
	    parse("i.yaml", "apiVersion: cutip/v1\nkind: ImageCard\nmetadata:\n  name: web\nspec:\n"
			    "  source: build\n  context: \"{{ paths.abs }}/ctx\"\n"
			    "  dockerfile: \"{{ paths.cache }}/Dockerfile\"\n"
			    "  build_args: {TOKEN: \"{{ secrets.token }}\"}\n"
			    "  buildtime_resources:\n    - src: \"{{ paths.data }}/r\"\n"
			    "      dest: \"d-{{ secrets.token }}\"\n"
			    "  buildtime_dir: \"{{ paths.cache }}/bt\"\n");
	assert_int_equal(card_placeholders_substitute(image, &v, &diags), 0);
	assert_string_equal(image->spec.image.context, "/tmp/abs/ctx");
	assert_string_equal(image->spec.image.dockerfile, "/ws/.cutip/cache/Dockerfile");
	assert_string_equal(map_get(&image->spec.image.build_args, "TOKEN"), "s3cr3t");
	assert_string_equal(image->spec.image.resources[0].src.s, "/ws/gen/data/r");
	assert_string_equal(image->spec.image.resources[0].dest, "d-s3cr3t");
	assert_string_equal(image->spec.image.buildtime_dir, "/ws/.cutip/cache/bt");
	card_free(image);

	struct card *net = parse("n.yaml", "apiVersion: cutip/v1\nkind: NetworkCard\nmetadata:\n"
					   "  name: n\nspec:\n  driver: \"{{ secrets.token }}\"\n"
					   "  subnet: 10.0.0.0/24\n");
	assert_int_equal(card_placeholders_substitute(net, &v, &diags), 0);
	assert_string_equal(net->spec.network.driver, "s3cr3t");
	card_free(net);

	struct card *group = parse("g.yaml", "apiVersion: cutip/v1\nkind: Group\nmetadata:\n"
					     "  name: g\nspec:\n  units: [{ref: units/u}]\n"
					     "  workflow: \"{{ paths.abs }}/wf.py\"\n");
	assert_int_equal(card_placeholders_substitute(group, &v, &diags), 0);
	assert_string_equal(group->spec.group.workflow, "/tmp/abs/wf.py");
	card_free(group);
	assert_int_equal(diags.count, 0);
	card_values_free(&v);
}

static void test_substitute_all_or_nothing(void **state)
{
	(void)state;
	struct card_values v;
	struct card_diags diags = {0};
	load(&v, "structured", 0, &diags);
	struct card *c = parse("c.yaml", "apiVersion: cutip/v1\nkind: ContainerCard\nmetadata:\n"
					 "  name: web\nspec:\n  imageRef: {ref: images/web}\n"
					 "  hostname: \"{{ paths.empty }}\"\n"
					 "  environment:\n"
					 "    A: \"{{ paths.data }}\"\n"
					 "    B: \"x{{ paths.gone }}{{ paths.data }}\"\n"
					 "    C: \"{{ vars.legacy }}\"\n"
					 "  mounts:\n"
					 "    - type: bind\n"
					 "      source: \"{{ paths.cache }}\"\n"
					 "      target: /t\n");
	assert_int_equal(card_placeholders_substitute(c, &v, &diags), -1);
	/* Nothing changed, not even what could be substituted. */
	const struct card_container_spec *s = &c->spec.container;
	assert_string_equal(s->hostname, "{{ paths.empty }}");
	assert_string_equal(map_get(&s->environment, "A"), "{{ paths.data }}");
	assert_string_equal(s->mounts[0].source.s, "{{ paths.cache }}");
	/* Errors only: the legacy warning belongs to the check. */
	assert_diags(
	    &diags,
	    "c.yaml:7:13: error: spec.hostname: '{{ paths.empty }}' is defined but empty in "
	    "cutip/paths.yaml",
	    "c.yaml:10:8: error: spec.environment.B: '{{ paths.gone }}' is not defined in "
	    "cutip/paths.yaml",
	    NULL);
	card_diags_free(&diags);
	card_free(c);
	card_values_free(&v);
}

/* Values with one path, big, of `size` bytes (`size` times 'v'). */
static void big_values(struct card_values *v, size_t size)
{
	memset(v, 0, sizeof(*v));
	v->paths.items = calloc(1, sizeof(*v->paths.items));
	assert_non_null(v->paths.items);
	v->paths.count = 1;
	v->paths.items[0].key = strdup("big");
	v->paths.items[0].value = malloc(size + 1);
	assert_non_null(v->paths.items[0].value);
	memset(v->paths.items[0].value, 'v', size);
	v->paths.items[0].value[size] = '\0';
}

/* A 100 KB value named 30 times is 3 MB: past the 1 MiB bound, in one string or across the
 * card, refused with a message that says so, the card unchanged. */
static void test_expansion_bounded(void **state)
{
	(void)state;
	struct card_values v;
	big_values(&v, 100000);
	char text[30 * 16 + 1] = "";
	for (int i = 0; i < 30; i++)
		strcat(text, "{{ paths.big }}");
	char *missing = (char *)"unset";
	errno = 0;
	assert_null(card_placeholders_expand(text, &v, &missing));
	assert_null(missing);
	assert_int_equal(errno, E2BIG);
	text[10 * 15] = '\0'; /* 1,000,000 bytes: within the bound */
	char *got = card_placeholders_expand(text, &v, &missing);
	assert_non_null(got);
	assert_int_equal(strlen(got), 1000000);
	free(got);

	char *yaml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&yaml, &len);
	fprintf(f, "apiVersion: cutip/v1\nkind: ContainerCard\nmetadata:\n  name: web\nspec:\n"
		   "  imageRef: {ref: images/web}\n  environment:\n");
	for (int i = 0; i < 30; i++)
		fprintf(f, "    E%02d: \"{{ paths.big }}\"\n", i);
	fclose(f);
	struct card *c = parse("c.yaml", yaml);
	struct card_diags diags = {0};
	assert_int_equal(card_placeholders_substitute(c, &v, &diags), -1);
	/* E00..E09 fit (1,000,000 bytes); E10, on line 8 + 10, passes 1 MiB. */
	assert_diags(&diags,
		     "c.yaml:18:10: error: spec.environment.E10: placeholders expand the card past "
		     "1 MiB of text",
		     NULL);
	assert_string_equal(map_get(&c->spec.container.environment, "E00"), "{{ paths.big }}");
	card_diags_free(&diags);
	card_free(c);
	free(yaml);
	card_values_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_load_structured),
	    cmocka_unit_test(test_load_flat_and_missing),
	    cmocka_unit_test(test_load_errors),
	    cmocka_unit_test(test_expand),
	    cmocka_unit_test(test_check),
	    cmocka_unit_test(test_check_bounded),
	    cmocka_unit_test(test_substitute),
	    cmocka_unit_test(test_substitute_all_or_nothing),
	    cmocka_unit_test(test_expansion_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
