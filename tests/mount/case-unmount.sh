#!/usr/bin/env bash
# The command line and the ways out: --help, --version, `check` without a mount, a mount on an
# engine that is not there, fusermount3 -u (exit 0), SIGTERM and SIGINT (unmounted, exit 0, also
# with files open).
. "$(dirname "$0")/lib.sh"

log "--help, --version, usage, check"
out=$("$CUTIPFS_BIN" --help 2>&1) || fail "--help: exit $?"
for o in 'engine=' 'backend=' 'workspace=' '-f' 'max_threads'; do
	case "$out" in *"$o"*) ;; *) fail "--help does not mention $o" ;; esac
done
"$CUTIPFS_BIN" --version | grep -q '^cutipfs version ' || fail "--version"
expect_fail "usage:" "$CUTIPFS_BIN"
expect_fail "backend=nope" "$CUTIPFS_BIN" -o backend=nope "$M"
mkdir -p "$T/chk"
image_card "${P}bb" >"$T/chk/bb.image.yaml"
expect_ok "$CUTIPFS_BIN" check "$T/chk"
bad_card x >"$T/chk/x.container.yaml"
expect_fail "imageRef" "$CUTIPFS_BIN" check "$T/chk"

log "fusermount3 -u"
mount_fs
ls "$M/cards" >/dev/null
umount_fs
mountpoint -q "$M" && fail "still mounted"

for sig in TERM INT; do
	log "SIG$sig"
	mount_fs
	cat "$M/README" >/dev/null
	kill -"$sig" "$PID"
	rc=0
	wait "$PID" || rc=$?
	PID=
	[ "$rc" -eq 0 ] || fail "exit $rc after SIG$sig"
	mountpoint -q "$M" && fail "still mounted after SIG$sig"
done

log "SIGTERM with a file, a card and a listing open"
# The kernel sends no release for them once the session is over: the daemon frees what they
# hold itself (built with ASan, its leak check at exit fails the case otherwise).
mount_fs
image_card "${P}held" >"$M/cards/held.image.yaml"
exec 3<"$M/README" 4<"$M/cards/held.image.yaml" 5<"$M/containers"
kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
PID=
exec 3<&- 4<&- 5<&-
[ "$rc" -eq 0 ] || fail "exit $rc after SIGTERM with files open"
mountpoint -q "$M" && fail "still mounted after SIGTERM with files open"

log "no engine at all: the mount comes up and says so"
ENGINE=unix://$T/nothing.sock
endpoint_for local # whatever the kind under test: a unix socket nobody serves
mount_fs
grep -q '^state: unreachable' "$M/engine" || fail "engine: $(cat "$M/engine")"
grep -q "^endpoint: unix://$T/nothing.sock" "$M/engine" || fail "engine: $(cat "$M/engine")"
ls "$M/containers" >/dev/null || fail "ls containers"
echo "$(container_card "${P}web" "${P}bb")" >"$M/cards/web.container.yaml"
wait_state "containers/${P}web" pending 5
[ -z "$(cat "$M/containers/${P}web/id")" ] || fail "a pending container has an id"
echo "# notes" >"$M/cards/notes.txt" || fail "cards/ not writable"
umount_fs
