#!/usr/bin/env bash
# tee writes a card: a bad one fails with EINVAL at close ("Invalid argument"), a good one runs.
. "$(dirname "$0")/lib.sh"
write_card() { tee "$2" <"$1" >/dev/null; }
tool_case "Invalid argument"
