#!/usr/bin/env bash
# MOUNT/burst: BURST containers created and removed outside cutipfs (curl, 8 at a time) while
# `cat events` reads: every create and every destroy line arrives once, at the engine's time of
# its event, each container's create before its destroy (the witness: the engine's own event
# stream, read at the same time: events-match.py), none dropped ("-- cutipfs" lines), and the
# tree ends without them.
. "$(dirname "$0")/lib.sh"
BURST=${BURST:-200}
mount_fs
# Podman's event stream to the mount loses events of such a burst now and then, with this tree
# and the one before it alike (a few creates and destroys, or one twice): not fixed yet.
[ "$(engine_line backend)" = docker ] || { echo "SKIP: Podman's stream loses events in a burst"; exit 77; }
events_start

# The engine's own stream of the same events, from before the first create on.
f=$(python3 -c 'import json,urllib.parse; print(urllib.parse.quote(json.dumps({"type":["container"]})))')
curl -sS -N --unix-socket "$SOCK" "$API/events?filters=$f" >"$T/witness.json" &
WITNESS=$!
BG+=("$WITNESS")
engine_create_foreign "${P}first"
wait_event 30 "$(ev container "${P}first" start)"

log "$BURST containers created and removed, 8 at a time"
# One container: created, then removed (labelled for the cleanup should a remove fail).
one() {
	curl -sS -o /dev/null --max-time 60 --unix-socket "$SOCK" -H 'Content-Type: application/json' \
		-d "{\"Image\":\"$TEST_IMAGE\",\"Cmd\":[\"true\"],\"Labels\":{\"cutipfs.test\":\"$W\"}}" \
		"$API/containers/create?name=$1" &&
		curl -sS -o /dev/null --max-time 60 --unix-socket "$SOCK" -X DELETE "$API/containers/$1?force=1"
}
export -f one
export SOCK API TEST_IMAGE W
seq "$BURST" | xargs -P 8 -I{} bash -c "one ${P}b{}" || fail "the engine refused a create or a remove"
# The last line of the burst: after it, everything before it was published.
api -X DELETE "$API/containers/${P}first?force=1" >/dev/null
wait_event 120 "$(ev container "${P}first" destroy)"
# Podman's stream says "remove" where Docker's says "destroy".
witness_ended() { grep -E '"(destroy|remove)"' "$T/witness.json" | grep -q "\"${P}first\""; }
wait_until 30 witness_ended || fail "the engine's stream did not show the end"
kill "$WITNESS" 2>/dev/null

python3 "$(dirname "$0")/events-match.py" "$T/witness.json" "$EVLOG" "${P}b" "$BURST" ||
	fail "the events file is not the engine's events"
grep -q "^-- cutipfs" "$EVLOG" && fail "events dropped: $(grep "^-- cutipfs" "$EVLOG")"
ls "$M/containers" | grep -Eq "^${P}b[0-9]+\$" && fail "removed containers still listed: $(ls "$M/containers" | grep "^${P}b")"
echo "ok"
