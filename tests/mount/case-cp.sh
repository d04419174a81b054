#!/usr/bin/env bash
# cp writes a card: a bad one fails with EINVAL at close ("cp: failed to close"), a good one runs.
. "$(dirname "$0")/lib.sh"
write_card() { cp "$1" "$2"; }
tool_case "cp: failed to close"
