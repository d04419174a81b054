#!/usr/bin/env bash
# dd writes a card: a bad one fails with EINVAL at close ("dd: closing output file"), a good one runs.
. "$(dirname "$0")/lib.sh"
write_card() { dd if="$1" of="$2" status=none; }
tool_case "dd: closing output file"
