#!/usr/bin/env bash
# containers/NAME/logs of a log of many MiB (longer than what the daemon keeps of it at a time):
# every byte arrives through cat, cp, wc -c, grep -c, tail -n, tail -f and less, in the order the
# engine gives them (stdout and stderr interleaved, bytes that are not text, a line of 300 KB,
# a line without newline), reads backwards and forwards from anywhere get the right bytes, and
# a stat of logs that is not open asks the engine for nothing.
. "$(dirname "$0")/lib.sh"
# Locally the mount goes through fault-proxy.py, passing everything, for its log of requests:
# the witness of which requests a stat makes.
PLOG=
is_remote || fault_proxy_up
mount_fs

# About 5.6 MiB, then it waits for /tmp/go and then prints a numbered tick every 0.2 s.
SCRIPT='yes "an ordinary line of stdout, of a fair length" | head -c 2000000
yes "a line of stderr" | head -c 500000 >&2
i=0; while [ $i -lt 3000 ]; do i=$((i+1)); echo "out $i"; echo "err $i" >&2; done
head -c 500000 /dev/urandom
head -c 300000 /dev/zero | tr "\0" L; echo
printf "a line without newline"
yes "the last lines" | head -c 2500000
echo logs-done
trap "exit 0" TERM
while [ ! -e /tmp/go ]; do sleep 0.1; done
i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.2; done'
C=${P}logs
body=$(python3 -c 'import json, sys
print(json.dumps({"Image": sys.argv[1], "Cmd": ["sh", "-c", sys.argv[2]],
                  "Labels": {"cutipfs.test": sys.argv[3]}}))' "$TEST_IMAGE" "$SCRIPT" "$W")
api -X POST -H 'Content-Type: application/json' "$API/containers/create?name=$C" -d "$body" >/dev/null
api -X POST "$API/containers/$C/start" >/dev/null
has_done() { api "$API/containers/$C/logs?stdout=1&tail=1" | grep -q logs-done; }
wait_until 60 has_done || fail "the container did not write its log"
wait_until 20 test -e "$M/containers/$C/logs" || fail "no containers/$C/logs"
L=$M/containers/$C/logs
engine_logs "$C" >"$T/want"
size=$(stat -c %s "$T/want")
[ "$size" -gt $((5 << 20)) ] || fail "the witness has only $size bytes"

log "stat of logs not open: size 0, no engine request"
logs_requests() { grep -c '/logs?' "$PLOG" || true; }
[ -z "$PLOG" ] || before=$(logs_requests)
s=$(stat -c %s "$L")
[ "$s" -eq 0 ] || fail "stat of logs not open: size $s, want 0"
ls -l "$M/containers/$C" >/dev/null
if [ -n "$PLOG" ]; then
	[ "$(logs_requests)" -eq "$before" ] || fail "a stat of logs asked the engine: $(grep '/logs?' "$PLOG")"
	cat "$L" >/dev/null
	[ "$(logs_requests)" -eq $((before + 1)) ] || fail "one cat of logs: $(grep '/logs?' "$PLOG")"
fi

log "cat, cp, wc -c, grep -c"
cat "$L" >"$T/cat.out"
cmp "$T/want" "$T/cat.out" || fail "cat logs differs from the engine's log"
cp "$L" "$T/cp.out"
cmp "$T/want" "$T/cp.out" || fail "cp logs differs from the engine's log"
n=$(wc -c "$L" | awk '{print $1}')
[ "$n" -eq "$size" ] || fail "wc -c logs: $n, want $size"
want=$(grep -ac 'err [0-9]*$' "$T/want" || true)
got=$(grep -ac 'err [0-9]*$' "$L" || true)
[ "$got" -eq "$want" ] || fail "grep -c logs: $got, want $want"

log "tail -n"
tail -n 7 "$T/want" >"$T/tail.want"
tail -n 7 "$L" >"$T/tail.out"
cmp "$T/tail.want" "$T/tail.out" || fail "tail -n 7 logs: $(cat "$T/tail.out")"
tail -c 100000 "$T/want" >"$T/tailc.want"
tail -c 100000 "$L" >"$T/tailc.out"
cmp "$T/tailc.want" "$T/tailc.out" || fail "tail -c logs differs"

log "reads at any offset, backwards and forwards"
python3 - "$L" "$T/want" <<'EOF' || fail "seek and read"
import sys, time
want = open(sys.argv[2], "rb").read()
with open(sys.argv[1], "rb", buffering=0) as f:
    def at(off, n):
        f.seek(off)
        got = b""
        while len(got) < n:
            b = f.read(n - len(got))
            if not b:
                break
            got += b
        if got != want[off:off + n]:
            sys.exit(f"{n} bytes at {off}: {len(got)} bytes, not the engine's")
    at(5 << 20, 4096)          # forwards, past the window
    at(100, 100000)            # far back: asked again from the start
    at(len(want) - 5000, 5000) # the end
    at(len(want) - 4 * 1024 * 1024 - 3, 70000)
    f.seek(len(want))
    if f.read(10) != b"":
        sys.exit("a read at the end is not the end")
# A reader that stops for a while (the daemon ends its request after a few seconds of a full
# window, and asks again when the reader comes back), then reads on.
with open(sys.argv[1], "rb") as f:
    got = f.read(1 << 20)
    time.sleep(8)
    got += f.read()
if got != want:
    sys.exit(f"a reader that paused got {len(got)} bytes, not the engine's {len(want)}")
EOF
[ ! -s "$M/errors" ] || fail "errors: $(cat "$M/errors")"

log "less: to the end, back to the top, a search forward"
if command -v less >/dev/null; then
	python3 - "$L" <<'EOF' || fail "less"
import os, pty, re, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.environ.update(TERM="dumb", LINES="24", COLUMNS="100", LESS="", LESSOPEN="")
    os.execvp("less", ["less", sys.argv[1]])
def until(keys, want, secs=60):
    screen = b""
    os.write(fd, keys)
    end = time.time() + secs
    while time.time() < end:
        if select.select([fd], [], [], 0.2)[0]:
            screen += os.read(fd, 65536)
            if re.search(want, screen):
                return
    sys.exit(f"less, after {keys!r}: no {want!r} on the screen: {screen[-400:]!r}")
until(b"", rb"(?i)press return|ordinary line")
until(b"\r", rb"ordinary line")
until(b"G", rb"logs-done")
until(b"g", rb"an ordinary line of stdout")
until(b"/err 2999$\r", rb"err 2999\r?\n")
os.write(fd, b"q")
os.waitpid(pid, 0)
EOF
else
	log "no less here: skipped"
fi

log "tail -f (the last lines) and tail -n +1 -f (every byte), then new output"
tail -f "$L" >"$T/last.out" 2>"$T/last.err" &
lp=$!
BG+=($lp)
tail -n +1 -f "$L" >"$T/follow.out" 2>"$T/follow.err" &
tp=$!
BG+=($tp)
tail -n 10 "$T/want" >"$T/last.want"
last_in() { cmp -s -n "$(stat -c %s "$T/last.want")" "$T/last.want" "$T/last.out"; }
wait_until 60 last_in || fail "tail -f: $(cat "$T/last.out" "$T/last.err")"
full() { [ "$(stat -c %s "$T/follow.out")" -ge "$size" ]; }
wait_until 60 full || fail "tail -n +1 -f: $(stat -c %s "$T/follow.out") bytes of $size ($(cat "$T/follow.err"))"
cmp -n "$size" "$T/want" "$T/follow.out" || fail "tail -n +1 -f logs differs from the engine's log"
[ "$(stat -c %s "$L")" -ge "$size" ] || fail "logs while open: size $(stat -c %s "$L") below $size"
id=$(api -X POST -H 'Content-Type: application/json' "$API/containers/$C/exec" \
	-d '{"Cmd":["touch","/tmp/go"]}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["Id"])')
api -X POST -H 'Content-Type: application/json' "$API/exec/$id/start" -d '{"Detach":true}' >/dev/null
wait_until 30 grep -q 'tick 5' "$T/follow.out" || fail "tail -n +1 -f shows no new output: $(tail -c 300 "$T/follow.out")"
cmp -n "$size" "$T/want" "$T/follow.out" || fail "tail -f: the log changed under it"
tail -c +$((size + 1)) "$T/follow.out" | awk '{ if ($2 != NR) exit 1 }' ||
	fail "tail -f: new output out of order or repeated: $(tail -c +$((size + 1)) "$T/follow.out" | head)"
[ "$(stat -c %s "$L")" -ge "$(stat -c %s "$T/follow.out")" ] || fail "logs size below what tail -f read"
wait_until 30 grep -q 'tick 5' "$T/last.out" || fail "tail -f shows no new output: $(cat "$T/last.out")"
cmp -n "$(stat -c %s "$T/last.want")" "$T/last.want" "$T/last.out" || fail "tail -f: its last lines changed"
kill "$tp" "$lp"

log "a stopped container's log is complete"
api -X POST "$API/containers/$C/stop?t=5" >/dev/null
wait_until 30 sh -c "[ \"\$(cat '$M/containers/$C/status' | head -n 1)\" = exited ]" || fail "not exited"
engine_logs "$C" >"$T/want2"
cat "$L" >"$T/cat2.out"
cmp "$T/want2" "$T/cat2.out" || fail "cat logs of the stopped container differs"
grep -q 'tick 5' "$T/cat2.out" || fail "the stopped container's log lacks its ticks"
log "ok"
