#!/usr/bin/env bash
# Python's `with open(...)` writes a card: the close error surfaces as OSError EINVAL.
. "$(dirname "$0")/lib.sh"
write_card() {
	python3 - "$1" "$2" <<'PY'
import sys
text = open(sys.argv[1]).read()
with open(sys.argv[2], "w") as f:
    f.write(text)
PY
}
tool_case "OSError: [Errno 22] Invalid argument"
