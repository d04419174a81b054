/* JSON and SARIF output of a diagnostics list, built with cJSON so that escaping is the
 * library's. */
#include "report.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"

int card_format_from_name(const char *name)
{
	static const char *const names[] = {"text", "json", "sarif"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

static const char *severity_name(enum card_severity severity)
{
	return severity == CARD_ERROR ? "error" : "warning";
}

static const char *rule_of(const struct card_diag *d)
{
	return d->rule ? d->rule : CARD_RULE_INTERNAL;
}

/* A line or column, or null when the problem has no place (line 0); the column as the text
 * has it otherwise. */
static cJSON *place_number(const struct card_diag *d, int n)
{
	return d->line > 0 ? cJSON_CreateNumber(n) : cJSON_CreateNull();
}

static cJSON *string_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *json_item(const struct card_diag *d)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddItemToObject(o, "file", cJSON_CreateString(d->file ? d->file : "-"));
	cJSON_AddItemToObject(o, "line", place_number(d, d->line));
	cJSON_AddItemToObject(o, "column", place_number(d, d->col));
	cJSON_AddStringToObject(o, "severity", severity_name(d->severity));
	cJSON_AddItemToObject(o, "field", string_or_null(d->field));
	cJSON_AddStringToObject(o, "rule", rule_of(d));
	cJSON_AddStringToObject(o, "message", d->message);
	return o;
}

static cJSON *json_array(const struct card_diags *diags)
{
	cJSON *array = cJSON_CreateArray();
	for (size_t i = 0; array && i < diags->count; i++)
		cJSON_AddItemToArray(array, json_item(&diags->items[i]));
	return array;
}

/* Whether a rules array declares id already: a few rules, however many items use them. */
static bool declared(const cJSON *rules, const char *id)
{
	const cJSON *rule;
	cJSON_ArrayForEach(rule, rules)
	{
		const char *name =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rule, "id"));
		if (name && strcmp(name, id) == 0)
			return true;
	}
	return false;
}

/* The rules a SARIF run declares: each rule id used, once, in order of first use. */
static cJSON *sarif_rules(const struct card_diags *diags)
{
	cJSON *rules = cJSON_CreateArray();
	for (size_t i = 0; rules && i < diags->count; i++) {
		const char *id = rule_of(&diags->items[i]);
		if (declared(rules, id))
			continue;
		cJSON *rule = cJSON_CreateObject();
		cJSON_AddStringToObject(rule, "id", id);
		cJSON_AddItemToArray(rules, rule);
	}
	return rules;
}

static cJSON *sarif_location(const struct card_diag *d)
{
	cJSON *location = cJSON_CreateObject();
	cJSON *physical = cJSON_AddObjectToObject(location, "physicalLocation");
	cJSON *artifact = cJSON_AddObjectToObject(physical, "artifactLocation");
	cJSON_AddStringToObject(artifact, "uri", d->file ? d->file : "-");
	/* SARIF regions are 1-based; a problem with no place (a missing file) has none. */
	if (d->line > 0) {
		cJSON *region = cJSON_AddObjectToObject(physical, "region");
		cJSON_AddNumberToObject(region, "startLine", d->line);
		cJSON_AddNumberToObject(region, "startColumn", d->col > 0 ? d->col : 1);
	}
	if (d->field) {
		cJSON *logical = cJSON_AddArrayToObject(location, "logicalLocations");
		cJSON *name = cJSON_CreateObject();
		cJSON_AddStringToObject(name, "fullyQualifiedName", d->field);
		cJSON_AddItemToArray(logical, name);
	}
	return location;
}

static cJSON *sarif_result(const struct card_diag *d)
{
	cJSON *result = cJSON_CreateObject();
	cJSON_AddStringToObject(result, "ruleId", rule_of(d));
	cJSON_AddStringToObject(result, "level", severity_name(d->severity));
	cJSON *message = cJSON_AddObjectToObject(result, "message");
	cJSON_AddStringToObject(message, "text", d->message);
	cJSON *locations = cJSON_AddArrayToObject(result, "locations");
	cJSON_AddItemToArray(locations, sarif_location(d));
	return result;
}

static cJSON *sarif_log(const struct card_diags *diags)
{
	cJSON *log = cJSON_CreateObject();
	cJSON_AddStringToObject(log, "$schema", SARIF_SCHEMA);
	cJSON_AddStringToObject(log, "version", "2.1.0");
	cJSON *runs = cJSON_AddArrayToObject(log, "runs");
	cJSON *run = cJSON_CreateObject();
	cJSON_AddItemToArray(runs, run);
	cJSON *tool = cJSON_AddObjectToObject(run, "tool");
	cJSON *driver = cJSON_AddObjectToObject(tool, "driver");
	cJSON_AddStringToObject(driver, "name", "cutipfs check");
	cJSON_AddItemToObject(driver, "rules", sarif_rules(diags));
	cJSON *results = cJSON_AddArrayToObject(run, "results");
	for (size_t i = 0; results && i < diags->count; i++)
		cJSON_AddItemToArray(results, sarif_result(&diags->items[i]));
	return log;
}

int card_report_write(const struct card_diags *diags, enum card_format format, FILE *out)
{
	if (format == CARD_FORMAT_TEXT) {
		card_diags_print(diags, out);
		return ferror(out) ? -EIO : 0;
	}
	cJSON *doc = format == CARD_FORMAT_JSON ? json_array(diags) : sarif_log(diags);
	char *text = doc ? cJSON_Print(doc) : NULL;
	cJSON_Delete(doc);
	if (!text)
		return -ENOMEM;
	fprintf(out, "%s\n", text);
	cJSON_free(text);
	return ferror(out) ? -EIO : 0;
}
