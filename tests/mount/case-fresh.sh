#!/usr/bin/env bash
# What the kernel caches follows the engine: by the time a change's line is in events, ls,
# stat and cat show the state after it (the notifier invalidates before it publishes), with
# no waiting; and a name that appears after a failed lookup is seen at once.
. "$(dirname "$0")/lib.sh"
mount_fs
events_start
C=$M/containers/${P}late
# listed NAME: ls containers shows it (through a file: grep -q ends a pipe early, and pipefail
# would count ls's SIGPIPE when the engine holds many containers).
listed() {
	ls "$M/containers" >"$T/ls"
	grep -qx "$1" "$T/ls"
}
consistent() { # the size stat gives is the size cat reads, for the files the events change
	local f
	for f in status id; do
		[ "$(stat -c %s "$C/$f")" -eq "$(cat "$C/$f" | wc -c)" ] ||
			fail "$f: stat says $(stat -c %s "$C/$f"), cat reads $(cat "$C/$f" | wc -c): $(cat "$C/$f")"
	done
}

log "a failed lookup is not cached"
expect_fail "No such file or directory" ls "$C"
expect_fail "No such file or directory" stat "$C/status"
ev_mark
engine_create_foreign "${P}late"
wait_event 20 "$(ev container "${P}late" start)"
ls "$C" >/dev/null || fail "ls after the start event"
listed "${P}late" || fail "ls containers after the start event"
[ "$(state_of "containers/${P}late")" = running ] || fail "status: $(cat "$C/status")"
consistent

log "state changes: status, its size and the directory's mtime, at once"
ev_mark
api -X POST "$API/containers/${P}late/pause" >/dev/null
wait_event 20 "$(ev container "${P}late" pause)"
[ "$(state_of "containers/${P}late")" = paused ] || fail "status after pause: $(cat "$C/status")"
consistent
ev_mark
api -X POST "$API/containers/${P}late/unpause" >/dev/null
wait_event 20 "$(ev container "${P}late" unpause)"
[ "$(state_of "containers/${P}late")" = running ] || fail "status after unpause: $(cat "$C/status")"
ev_mark
api -X POST "$API/containers/${P}late/kill" >/dev/null
wait_event 20 "$(ev container "${P}late" die 'exit_code=137')"
[ "$(state_of "containers/${P}late")" = exited ] || fail "status after die: $(cat "$C/status")"
grep -qx 'exit_code: 137' "$C/status" || fail "status: $(cat "$C/status")"
consistent
# The directory's mtime is the object's last change: here its finish, or later.
[ "$(stat -c %Y "$C")" -ge "$(date -d "$(sed -n 's/^finished_at: //p' "$C/status")" +%s)" ] ||
	fail "directory mtime $(stat -c %Y "$C") is before the finish: $(cat "$C/status")"
ev_mark
api -X POST "$API/containers/${P}late/start" >/dev/null
wait_event 20 "$(ev container "${P}late" start)"
[ "$(state_of "containers/${P}late")" = running ] || fail "status after start: $(cat "$C/status")"
consistent

log "kept in the kernel's cache between changes, and never past one: with readers at it all along"
# Readers keep status, inspect.json and the listing hot in the page and readdir caches (and
# hold opens of their own) while the state moves; each change's line still means the state
# after it for the next cat, ls and stat.
hot() { while :; do cat "$C/status" "$C/inspect.json" >/dev/null; ls "$M/containers" >/dev/null; done; }
hot & H1=$!
hot & H2=$!
# flip ACTION STATE: ACTION done to the container outside; once its line is in events, status
# and inspect.json say STATE.
flip() {
	ev_mark
	api -X POST "$API/containers/${P}late/$1" >/dev/null
	wait_event 20 "$(ev container "${P}late" "$1")"
	[ "$(state_of "containers/${P}late")" = "$2" ] || fail "round $round: status after $1: $(cat "$C/status")"
	grep -q '"Status":[[:space:]]*"'"$2"'"' "$C/inspect.json" || fail "round $round: inspect.json after $1"
	consistent
}
for round in 1 2 3 4 5; do
	flip pause paused
	flip unpause running
done
kill "$H1" "$H2" 2>/dev/null
wait "$H1" "$H2" 2>/dev/null || true

log "removed outside: gone from ls and stat at once"
id=$(cat "$C/id")
ev_mark
api -X DELETE "$API/containers/${P}late?force=1" >/dev/null
wait_event 20 "$(ev container "${P}late" destroy)"
listed "${P}late" && fail "ls still shows it"
[ ! -e "$C" ] || fail "stat still finds it"
expect_fail "No such file or directory" cat "$C/status"

log "the same name again: a new object, not the old one's cache"
ev_mark
engine_create_foreign "${P}late"
wait_event 20 "$(ev container "${P}late" start)"
[ "$(cat "$C/id")" != "$id" ] || fail "id of the old container"
[ "$(cat "$C/id")" = "$(engine_id "${P}late")" ] || fail "id: $(cat "$C/id")"
consistent
umount_fs
