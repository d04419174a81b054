#!/usr/bin/env bash
# 100 blocked readers (50 on follow, 50 on events) hold no worker thread: ls and cat status
# on the same mount still answer at once; the readers end when killed, and the mount then
# unmounts cleanly.
. "$(dirname "$0")/lib.sh"
mount_fs
engine_create_foreign "${P}quiet"
wait_state "containers/${P}quiet" running 20
C=$M/containers/${P}quiet

log "50 cat follow + 50 cat events"
readers=()
for i in $(seq 50); do
	cat "$C/follow" >/dev/null &
	readers+=($!)
	cat "$M/events" >/dev/null &
	readers+=($!)
done
BG+=("${readers[@]}")
for p in "${readers[@]}"; do
	wait_until 20 bash -c "ls -l /proc/$p/fd 2>/dev/null | grep -q '$M/'" || fail "reader $p did not open"
done

log "ls and cat status answer"
for i in 1 2 3; do
	t0=$EPOCHREALTIME
	timeout 5 ls "$M/containers" >"$T/ls.out" || fail "ls containers stalled or failed"
	grep -qx "${P}quiet" "$T/ls.out" || fail "ls: $(cat "$T/ls.out")"
	timeout 5 cat "$C/status" >"$T/status.out" || fail "cat status stalled or failed"
	[ "$(head -n 1 "$T/status.out")" = running ] || fail "status: $(cat "$T/status.out")"
	timeout 5 ls -l "$C" >/dev/null || fail "ls -l stalled"
	timeout 5 cat "$M/README" >/dev/null || fail "cat README stalled"
	log "round $i: $(elapsed_since "$t0") s"
done
for p in "${readers[@]}"; do kill -0 "$p" || fail "reader $p ended"; done

log "a change reaches every events reader; kill them all"
readers2=()
for i in $(seq 5); do
	cat "$M/events" >"$T/ev$i" &
	readers2+=($!)
done
BG+=("${readers2[@]}")
for p in "${readers2[@]}"; do wait_until 20 has_open "$p" "$M/events" || fail "reader $p did not open"; done
api -X POST "$API/containers/${P}quiet/pause" >/dev/null
for i in $(seq 5); do
	wait_until 20 grep -q " container ${P}quiet pause" "$T/ev$i" || fail "reader $i: $(cat "$T/ev$i")"
done
t0=$EPOCHREALTIME
kill "${readers[@]}" "${readers2[@]}"
for p in "${readers[@]}" "${readers2[@]}"; do
	wait_until 5 not_running "$p" || fail "reader $p survived kill"
done
log "all ended in $(elapsed_since "$t0") s"
umount_fs
