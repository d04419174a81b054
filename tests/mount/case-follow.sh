#!/usr/bin/env bash
# containers/NAME/follow streams the container's new output (like docker logs -f), ends (EOF)
# when the container is removed, and Ctrl-C ends it at once; `tail -f containers/NAME/logs`
# shows new output too (logs grows while open: tail polls its size).
. "$(dirname "$0")/lib.sh"
mount_fs
setup_image
# A numbered line every 0.2 s; ends at once on SIGTERM.
TICKER="sh -c 'i=0; trap \"exit 0\" TERM; while :; do i=\$((i+1)); echo line \$i; sleep 0.2; done'"
container_card "${P}tick" "${P}bb" "$TICKER" >"$M/cards/tick.container.yaml"
wait_state "containers/${P}tick" running 60
C=$M/containers/${P}tick
wait_until 10 grep -q 'line 3' "$C/logs" || fail "logs: $(cat "$C/logs")"

# The highest line number in a file (0 when none).
last_line() { { grep -o 'line [0-9]*' "$1" || true; } | awk '{n=$2} END {print n+0}'; }
above() { [ "$(last_line "$1")" -ge "$2" ]; }

log "follow: new output"
cat "$C/follow" >"$T/follow.out" &
fp=$!
BG+=($fp)
start=$(last_line "$C/logs")
wait_until 20 above "$T/follow.out" $((start + 5)) || fail "follow: $(cat "$T/follow.out")"
first=$(head -n 1 "$T/follow.out" | awk '{print $2}')
[ "$first" -ge "$start" ] || fail "follow began with old output: line $first (logs had $start)"
# In order, each line once.
awk -v f="$first" '{ if ($2 != f + NR - 1) exit 1 }' "$T/follow.out" || fail "follow out of order: $(cat "$T/follow.out")"

log "tail -f logs"
tail -f "$C/logs" >"$T/tail.out" 2>"$T/tail.err" &
tp=$!
BG+=($tp)
wait_until 10 above "$T/tail.out" 1 || fail "tail -f: nothing ($(cat "$T/tail.err"))"
start=$(last_line "$T/tail.out")
wait_until 20 above "$T/tail.out" $((start + 10)) || fail "tail -f logs shows nothing new after line $start: $(cat "$T/tail.out") $(cat "$T/tail.err")"
[ "$(stat -c %s "$C/logs")" -ge "$(wc -c <"$T/tail.out")" ] || fail "logs size below what tail read"
awk '{ if (NR > 1 && $2 != p + 1) exit 1; p = $2 }' "$T/tail.out" || fail "tail -f out of order or repeated: $(cat "$T/tail.out")"
kill "$tp"

log "Ctrl-C on follow"
t0=$EPOCHREALTIME
rc=0
timeout -s INT 1 cat "$C/follow" >/dev/null || rc=$?
e=$(elapsed_since "$t0")
[ "$rc" -eq 124 ] || fail "timeout -s INT 1 cat follow: exit $rc"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 2 else 1)" "$e" || fail "Ctrl-C took $e s"

log "follow survives a stop and a start, and ends when the container is removed"
echo stop >"$C/ctl" || fail "stop"
wait_state "containers/${P}tick" exited 30
n=$(last_line "$T/follow.out")
echo start >"$C/ctl" || fail "start"
wait_state "containers/${P}tick" running 30
# The new run counts from 1 again: its lines come after the old run's.
wait_until 20 bash -c "[ \$(wc -l <'$T/follow.out') -gt $((n + 3)) ]" || fail "follow after restart: $(tail -n 5 "$T/follow.out")"
kill -0 "$fp" || fail "follow ended at the stop"
rmdir "$C" || fail "rmdir"
wait_until 20 not_running "$fp" || fail "follow did not end when the container was removed"
rc=0
wait "$fp" || rc=$?
[ "$rc" -eq 0 ] || fail "cat follow: exit $rc at the end"
umount_fs
