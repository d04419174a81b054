#!/usr/bin/env bash
# A removal that SIGKILL interrupts halfway, while the container is still being stopped (it
# ignores SIGTERM, so the stop takes its grace): the next mount finishes an rmdir of the
# container (container and card gone, nothing made again), but applies a card that was edited
# while nothing was mounted after an interrupted rm of it (the user's new word).
. "$(dirname "$0")/lib.sh"
SLOW="sh -c 'trap \"\" TERM; echo up; sleep 3600'"
CARDS=$W/cutip/cards
# The workspace's note of a removal in progress (backends/removals.c).
NOTES=$W/.cutip/removing

# interrupt CARD CMD...: runs CMD (an rm or rmdir) in the background and kills the daemon once
# the removal is under way; the dead mount stays.
interrupt() {
	local card=$1 bg
	shift
	"$@" 2>/dev/null &
	bg=$!
	wait_until 20 test -e "$NOTES/$card" || fail "no removal under way for $card: $(cat "$M/errors")"
	kill -9 "$PID"
	wait "$PID" 2>/dev/null || true
	PID=
	wait "$bg" && fail "$* succeeded although the daemon was killed"
	return 0
}

mount_fs
setup_image

log "rmdir interrupted: finished by the next mount"
isolated_card "${P}a" "${P}bb" "$SLOW" >"$M/cards/a.container.yaml"
wait_state "containers/${P}a" running 60
interrupt a.container.yaml rmdir "$M/containers/${P}a"
mount_fs
[ "$(mount_count)" -eq 1 ] || fail "$(mount_count) mounts on $M"
wait_until 60 eval '! engine_has_container "${P}a" && [ ! -e "$CARDS/a.container.yaml" ]' ||
	fail "the interrupted rmdir was not finished: card $(ls "$CARDS"), container $(engine_id "${P}a")"
[ ! -e "$NOTES/a.container.yaml" ] || fail "the note outlived the removal"
[ ! -e "$M/containers/${P}a" ] || fail "containers/${P}a is still shown"

log "rm interrupted, the card edited while unmounted: applied, not removed"
isolated_card "${P}b" "${P}bb" "$SLOW" >"$M/cards/b.container.yaml"
wait_state "containers/${P}b" running 60
interrupt b.container.yaml rm "$M/cards/b.container.yaml"
# Edited on disk, as by an editor or git, while nothing is mounted.
isolated_card "${P}b" "${P}bb" "sh -c 'echo edited; trap \"exit 0\" TERM; sleep 3600 & wait'" >"$CARDS/b.container.yaml"
mount_fs
[ "$(mount_count)" -eq 1 ] || fail "$(mount_count) mounts on $M"
wait_until 60 grep -qx edited "$M/containers/${P}b/logs" ||
	fail "the edited card was not applied: $(cat "$M/containers/${P}b/status" 2>&1); errors: $(cat "$M/errors")"
[ -e "$CARDS/b.container.yaml" ] || fail "the edited card was removed"
[ ! -e "$NOTES/b.container.yaml" ] || fail "the note of the abandoned removal stayed"
umount_fs
