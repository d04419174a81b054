#!/usr/bin/env bash
# inotify on containers/: the kernel reports only what is done through the mount, so cutipfs
# does it through the mount itself (mkdir/rmdir/touch by its notifier, answered as no-ops):
# watchers see CREATE and DELETE of containers made and removed anywhere (curl, cards, rmdir),
# once each, and ATTRIB on the directory and its status at every state change.
. "$(dirname "$0")/lib.sh"
command -v inotifywait >/dev/null || fail "inotifywait is not installed (inotify-tools)"
mount_fs
setup_image
events_start

watch_start() { # watch_start OUT PATH...: inotifywait -m into OUT, once its watches are set
	local out=$1
	shift
	: >"$out"
	inotifywait -m -e create,delete,attrib,delete_self --format '%e %f' "$@" >"$out" 2>"$out.err" &
	BG+=($!)
	wait_until 10 grep -q 'Watches established' "$out.err" || fail "inotifywait: $(cat "$out.err")"
}
count() { grep -cx "$1" "$2" || true; }
wait_line() { # wait_line SECONDS LINE FILE
	wait_until "$1" grep -qx "$2" "$3" || fail "no '$2' in $3 after $1 s: $(cat "$3")"
}
watch_start "$T/root.ino" "$M/containers"
# Everything the kernel queued for the containers/ watch before now is in root.ino: touch the
# directory (its ATTRIB comes after them) and wait for that line.
ino_barrier() {
	local n
	n=$(count "ATTRIB,ISDIR " "$T/root.ino")
	touch "$M/containers"
	wait_until 10 eval '[ "$(count "ATTRIB,ISDIR " "$T/root.ino")" -gt '"$n"' ]' ||
		fail "inotify barrier: $(cat "$T/root.ino")"
}

log "a container made with curl: CREATE, ATTRIB at its state changes, DELETE"
engine_create_foreign "${P}out"
wait_line 20 "CREATE,ISDIR ${P}out" "$T/root.ino"
wait_event 20 "$(ev container "${P}out" start)"
watch_start "$T/dir.ino" "$M/containers/${P}out"
ev_mark
api -X POST "$API/containers/${P}out/stop?t=1" >/dev/null
# Each change is touched before its line is in events (kill, die, stop: one ATTRIB each).
wait_event 20 "$(ev container "${P}out" die '.*')"
# (inotifywait writes what it was told a moment later.)
wait_line 10 "ATTRIB status" "$T/dir.ino"
wait_line 10 "ATTRIB,ISDIR ${P}out" "$T/root.ino"
[ "$(state_of "containers/${P}out")" = exited ] || fail "status after die: $(cat "$M/containers/${P}out/status")"
api -X DELETE "$API/containers/${P}out?force=1" >/dev/null
wait_line 20 "DELETE,ISDIR ${P}out" "$T/root.ino"
wait_line 20 "DELETE_SELF " "$T/dir.ino"
[ ! -e "$M/containers/${P}out" ] || fail "still there after DELETE"

log "a container a card makes, removed with rmdir: one CREATE, one DELETE"
container_card "${P}web" "${P}bb" >"$M/cards/web.container.yaml"
wait_line 20 "CREATE,ISDIR ${P}web" "$T/root.ino"
wait_state "containers/${P}web" running 60
rmdir "$M/containers/${P}web" || fail "rmdir"
wait_line 20 "DELETE,ISDIR ${P}web" "$T/root.ino"
# The workspace reports the removal twice (the engine's destroy, the card's removal); the
# events file shows both after the notifier handled them.
wait_event 30 "$(ev container "${P}web" destroy)"
wait_event 30 "$(ev card web.container.yaml removed '.*')"
ino_barrier
[ "$(count "CREATE,ISDIR ${P}web" "$T/root.ino")" -eq 1 ] || fail "CREATE: $(cat "$T/root.ino")"
[ "$(count "DELETE,ISDIR ${P}web" "$T/root.ino")" -eq 1 ] || fail "DELETE: $(cat "$T/root.ino")"

log "removed by deleting its card"
container_card "${P}two" "${P}bb" >"$M/cards/two.container.yaml"
wait_state "containers/${P}two" running 60
rm "$M/cards/two.container.yaml" || fail "rm card"
wait_line 30 "DELETE,ISDIR ${P}two" "$T/root.ino"
wait_event 30 "$(ev card two.container.yaml removed '.*')"
wait_event 30 "$(ev container "${P}two" destroy)"
ino_barrier
[ "$(count "CREATE,ISDIR ${P}two" "$T/root.ino")" -eq 1 ] || fail "CREATE: $(cat "$T/root.ino")"
[ "$(count "DELETE,ISDIR ${P}two" "$T/root.ino")" -eq 1 ] || fail "DELETE: $(cat "$T/root.ino")"

log "users cannot mkdir there"
expect_fail "Operation not permitted" mkdir "$M/containers/${P}nope"
umount_fs
