/* The JSON and SARIF writers: what the library escapes comes back unchanged, a problem with
 * no place or field has nulls (JSON) or no region (SARIF), and each rule is declared once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "report.h"

/* Writes the list in the format and parses it back. */
static cJSON *written(const struct card_diags *diags, enum card_format format)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(out);
	assert_int_equal(card_report_write(diags, format, out), 0);
	fclose(out);
	cJSON *doc = cJSON_Parse(text);
	if (!doc)
		fail_msg("not JSON: %s", text);
	free(text);
	return doc;
}

static const char *tricky = "quote \" backslash \\ tab \t newline \n bell \a → é";

static void fill(struct card_diags *diags)
{
	card_diag_label(card_diags_add(diags, CARD_ERROR, "dir/a \"b\".yaml", 3, 7, "%s", tricky),
			"schema", "spec.environment.A\"B");
	card_diag_label(card_diags_add(diags, CARD_WARNING, NULL, 0, 0, "no place"), "path", NULL);
	card_diags_add(diags, CARD_ERROR, "x.yaml", 1, 1, "unlabelled");
	card_diag_label(card_diags_add(diags, CARD_ERROR, "y.yaml", 2, 0, "again"), "schema", "");
}

static void test_formats(void **state)
{
	(void)state;
	assert_int_equal(card_format_from_name("text"), CARD_FORMAT_TEXT);
	assert_int_equal(card_format_from_name("json"), CARD_FORMAT_JSON);
	assert_int_equal(card_format_from_name("sarif"), CARD_FORMAT_SARIF);
	assert_int_equal(card_format_from_name("JSON"), -1);
	assert_int_equal(card_format_from_name(""), -1);
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(o, key);
	assert_true(cJSON_IsString(item));
	return item->valuestring;
}

static void test_json(void **state)
{
	(void)state;
	struct card_diags diags = {0};
	fill(&diags);
	cJSON *doc = written(&diags, CARD_FORMAT_JSON);
	assert_int_equal(cJSON_GetArraySize(doc), 4);
	const cJSON *a = cJSON_GetArrayItem(doc, 0);
	assert_string_equal(str(a, "file"), "dir/a \"b\".yaml");
	assert_string_equal(str(a, "message"), tricky);
	assert_string_equal(str(a, "field"), "spec.environment.A\"B");
	assert_string_equal(str(a, "severity"), "error");
	assert_string_equal(str(a, "rule"), "schema");
	assert_int_equal(cJSON_GetObjectItem(a, "line")->valueint, 3);
	assert_int_equal(cJSON_GetObjectItem(a, "column")->valueint, 7);
	const cJSON *b = cJSON_GetArrayItem(doc, 1);
	assert_string_equal(str(b, "file"), "-");
	assert_string_equal(str(b, "severity"), "warning");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(b, "line")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(b, "column")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(b, "field")));
	assert_string_equal(str(cJSON_GetArrayItem(doc, 2), "rule"), CARD_RULE_INTERNAL);
	/* An empty field is no field; a column of 0 stays what the text says. */
	const cJSON *d = cJSON_GetArrayItem(doc, 3);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(d, "field")));
	assert_int_equal(cJSON_GetObjectItem(d, "line")->valueint, 2);
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(d, "column")));
	assert_int_equal(cJSON_GetObjectItem(d, "column")->valueint, 0);
	cJSON_Delete(doc);

	struct card_diags none = {0};
	doc = written(&none, CARD_FORMAT_JSON);
	assert_true(cJSON_IsArray(doc));
	assert_int_equal(cJSON_GetArraySize(doc), 0);
	cJSON_Delete(doc);
	card_diags_free(&diags);
}

static const cJSON *path(const cJSON *o, const char *const *keys)
{
	for (; *keys && o; keys++)
		o = cJSON_IsArray(o) ? cJSON_GetArrayItem(o, atoi(*keys))
				     : cJSON_GetObjectItemCaseSensitive(o, *keys);
	return o;
}

static void test_sarif(void **state)
{
	(void)state;
	struct card_diags diags = {0};
	fill(&diags);
	cJSON *doc = written(&diags, CARD_FORMAT_SARIF);
	assert_string_equal(str(doc, "version"), "2.1.0");
	assert_non_null(strstr(str(doc, "$schema"), "sarif-2.1.0"));
	const char *driver[] = {"runs", "0", "tool", "driver", NULL};
	assert_string_equal(str(path(doc, driver), "name"), "cutipfs check");
	const char *rules_at[] = {"runs", "0", "tool", "driver", "rules", NULL};
	const cJSON *rules = path(doc, rules_at);
	/* schema, path, internal: once each, in order of first use. */
	assert_int_equal(cJSON_GetArraySize(rules), 3);
	assert_string_equal(str(cJSON_GetArrayItem(rules, 0), "id"), "schema");
	assert_string_equal(str(cJSON_GetArrayItem(rules, 1), "id"), "path");
	assert_string_equal(str(cJSON_GetArrayItem(rules, 2), "id"), CARD_RULE_INTERNAL);

	const char *results_at[] = {"runs", "0", "results", NULL};
	const cJSON *results = path(doc, results_at);
	assert_int_equal(cJSON_GetArraySize(results), 4);
	const cJSON *first = cJSON_GetArrayItem(results, 0);
	assert_string_equal(str(first, "ruleId"), "schema");
	assert_string_equal(str(first, "level"), "error");
	const char *text[] = {"message", NULL};
	assert_string_equal(str(path(first, text), "text"), tricky);
	const char *artifact[] = {"locations", "0", "physicalLocation", "artifactLocation", NULL};
	assert_string_equal(str(path(first, artifact), "uri"), "dir/a \"b\".yaml");
	const char *region[] = {"locations", "0", "physicalLocation", "region", NULL};
	assert_int_equal(cJSON_GetObjectItem(path(first, region), "startLine")->valueint, 3);
	assert_int_equal(cJSON_GetObjectItem(path(first, region), "startColumn")->valueint, 7);
	const char *logical[] = {"locations", "0", "logicalLocations", "0", NULL};
	assert_string_equal(str(path(first, logical), "fullyQualifiedName"),
			    "spec.environment.A\"B");
	/* No place: no region (SARIF's lines start at 1); a column of 0 becomes 1. */
	const cJSON *second = cJSON_GetArrayItem(results, 1);
	assert_string_equal(str(second, "level"), "warning");
	assert_null(path(second, region));
	const cJSON *fourth = cJSON_GetArrayItem(results, 3);
	assert_int_equal(cJSON_GetObjectItem(path(fourth, region), "startColumn")->valueint, 1);
	cJSON_Delete(doc);
	card_diags_free(&diags);
}

/* The text format is card_diags_print's. */
static void test_text(void **state)
{
	(void)state;
	struct card_diags diags = {0};
	card_diags_add(&diags, CARD_ERROR, "a.yaml", 2, 3, "bad");
	card_diags_add(&diags, CARD_WARNING, "b.yaml", 0, 0, "odd");
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_int_equal(card_report_write(&diags, CARD_FORMAT_TEXT, out), 0);
	fclose(out);
	assert_string_equal(text, "a.yaml:2:3: error: bad\nb.yaml: warning: odd\n");
	free(text);
	card_diags_free(&diags);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_formats),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_sarif),
	    cmocka_unit_test(test_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
