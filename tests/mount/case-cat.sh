#!/usr/bin/env bash
# cat writes a card: a bad one fails with EINVAL at close ("cat: write error: Invalid argument"), a good one runs.
. "$(dirname "$0")/lib.sh"
write_card() { cat <"$1" >"$2"; }
tool_case "cat: write error: Invalid argument"
