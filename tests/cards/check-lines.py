#!/usr/bin/env python3
"""Turns `cutipfs check --format=json|sarif` output back into the text format's lines, so that a
test compares the three line for line; exits 1 (with the reason) when the output is not JSON or
not of the shape its format promises.

usage: check-lines.py json|sarif FILE
"""
import json
import sys

RULE_IDS = {"yaml-syntax", "file-read", "schema", "unknown-field", "duplicate-name",
            "ref-unresolved", "workflow-missing", "placeholder", "values-file",
            "workspace-file", "skipped-name", "path"}


def fail(why):
    sys.exit("check-lines.py: " + why)


def line(file, start, col, level, message):
    if start is None:
        return "%s: %s: %s" % (file, level, message)
    return "%s:%d:%d: %s: %s" % (file, start, col, level, message)


def json_lines(doc):
    if not isinstance(doc, list):
        fail("not an array")
    for item in doc:
        keys = {"file", "line", "column", "severity", "field", "rule", "message"}
        if set(item) != keys:
            fail("keys %s" % sorted(item))
        if item["rule"] not in RULE_IDS:
            fail("rule %r" % item["rule"])
        if item["severity"] not in ("error", "warning"):
            fail("severity %r" % item["severity"])
        if (item["line"] is None) != (item["column"] is None):
            fail("line without column")
        if item["field"] is not None and not isinstance(item["field"], str):
            fail("field %r" % item["field"])
        yield line(item["file"], item["line"], item["column"], item["severity"],
                   item["message"])


def sarif_lines(doc):
    if doc.get("version") != "2.1.0" or "sarif-2.1.0" not in doc.get("$schema", ""):
        fail("version/$schema")
    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    if not driver["name"]:
        fail("no driver name")
    declared = [r["id"] for r in driver["rules"]]
    if len(set(declared)) != len(declared):
        fail("a rule declared twice")
    used = [r["ruleId"] for r in run["results"]]
    if set(used) != set(declared):
        fail("rules %s, used %s" % (declared, used))
    for result in run["results"]:
        if result["ruleId"] not in RULE_IDS or result["level"] not in ("error", "warning"):
            fail("ruleId/level %r %r" % (result["ruleId"], result["level"]))
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        uri = physical["artifactLocation"]["uri"]
        region = physical.get("region")
        if region is not None and (region["startLine"] < 1 or region["startColumn"] < 1):
            fail("region %r" % region)
        yield line(uri, region and region["startLine"], region and region["startColumn"],
                   result["level"], result["message"]["text"])


def main():
    kind, path = sys.argv[1], sys.argv[2]
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except ValueError as e:
        fail("not JSON: %s" % e)
    try:
        for text in (json_lines if kind == "json" else sarif_lines)(doc):
            print(text)
    except (KeyError, TypeError, ValueError) as e:
        fail("shape: %r" % e)


main()
