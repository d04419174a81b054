#!/usr/bin/env python3
"""Counts what meson ran: each cmocka case (TAP "ok"/"not ok" line) and each mount case, from
meson's JSON test logs. Prints "N passed, N failed[, N skipped]"; exits 1 if anything failed."""
import json
import os
import re
import sys

passed = failed = skipped = 0
tap = re.compile(r"^(not ok|ok)\b(.*)$")
for path in sys.argv[1:]:
    try:
        lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    except OSError:
        continue
    # testlog-KIND.json: which run (engine, endpoint kind) the test belongs to
    run = os.path.basename(path)[len("testlog-"):].rsplit(".json", 1)[0]
    for line in lines:
        if not line.strip():
            continue
        test = json.loads(line)
        result = test.get("result", "")
        cases = [m for m in (tap.match(l) for l in (test.get("stdout") or "").splitlines()) if m]
        if cases:
            for m in cases:
                if "# SKIP" in m.group(2).upper():
                    skipped += 1
                elif m.group(1) == "ok":
                    passed += 1
                else:
                    failed += 1
                    print(f"FAILED: {run}: {test.get('name')}:{m.group(2)}")
            # A crash or timeout after some cases passed still fails the program.
            if result not in ("OK", "SKIP", "EXPECTEDFAIL") and not any(m.group(1) == "not ok" for m in cases):
                failed += 1
                print(f"FAILED: {run}: {test.get('name')} ({result})")
        elif result == "OK":
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
            print(f"FAILED: {run}: {test.get('name')} ({result})")
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or passed == 0 else 0)
