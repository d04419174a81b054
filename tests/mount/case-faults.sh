#!/usr/bin/env bash
# A faulty engine (suite faults, Docker): the mount goes through tests/mount/fault-proxy.py, in
# front of the engine's socket, which answers the requests a rule names badly. For each fault,
# what the user sees: the read that needs the answer fails with a clear errno (never a hang: a
# `timeout` around it must not be what ends it), `errors` and `engine` say what happened in one
# line, everything else keeps answering, and all is well again once the proxy behaves.
#  1. container logs (a read of containers/NAME/logs asks the engine): HTTP 500, a body that
#     never ends, a connection cut mid-body.
#  2. the container list of a reconcile (one runs after every reconnect of the event stream:
#     a `cut` of the stream forces one): malformed JSON, HTTP 500, a body that never ends, and a
#     body of 100 MiB: the daemon's peak RSS (VmHWM) may grow by MEM_BOUND_MB only, over the case.
#  3. the event stream cut mid-stream under an `events` and a `follow` reader: both stay open,
#     and go on once the stream is back. Then the event stream answered with HTTP 500, with
#     lines that are not JSON, with 100 MiB on one line (the same bound on RSS): each time
#     status and engine say why, the readers stay, and events come again once it is over. The
#     follow stream answered with HTTP 500 and with 100 MiB: the reader stays, and goes on.
#     The live event stream refused at once while its replay answers: asked again with a
#     back-off, not in a loop.
. "$(dirname "$0")/lib.sh"
[ "$KIND" = local ] || { echo "SKIP: the fault proxy sits on a local socket"; exit 77; }
# The daemon's peak RSS may grow by this much while the engine sends 100 MiB.
MEM_BOUND_MB=32
fault_proxy_up

# rule MODE REGEX: from now on, requests matching REGEX get MODE; no rule: all pass.
rule() { printf '%s %s\n' "$1" "$2" >"$RULES"; }
healthy() { : >"$RULES"; }
# served MODE REGEX: the proxy has answered a request matching REGEX with MODE.
served() { grep -Eq "^$1 $2" "$PLOG"; }
# was_cut STREAM: the open stream of the requests matching STREAM was cut, or, when none was
# open (the events thread backs off between streams that keep failing), the next one asked for.
was_cut() { served "cut(-live)?" "$1"; }
proxy_mark() { : >"$PLOG"; }
# fails_with MESSAGE CMD...: CMD ends by itself, fails, and says MESSAGE.
fails_with() {
	local msg=$1
	shift
	not_hung 30 "$@"
	[ "$RC" -ne 0 ] || fail "succeeded under the fault: $* ($(cat "$T/out"))"
	grep -q "$msg" "$T/out" || fail "expected '$msg' from: $* (exit $RC: $(cat "$T/out"))"
	log "ok, failed as expected: $(cat "$T/out")"
}
# The rest of the tree answers: a listing, a status, the engine file.
others_answer() {
	not_hung 10 ls "$M/containers"
	[ "$RC" -eq 0 ] || fail "ls containers under the fault: $(cat "$T/out")"
	not_hung 10 cat "$C/status"
	[ "$RC" -eq 0 ] || fail "status under the fault: $(cat "$T/out")"
	not_hung 10 cat "$M/engine"
	[ "$RC" -eq 0 ] || fail "engine under the fault: $(cat "$T/out")"
}
# errors_say REGEX: a line of `errors` matches REGEX (grep -E); then the log is cleared.
errors_say() {
	wait_until 20 grep -Eq "$1" "$M/errors" || fail "errors does not say /$1/: $(cat "$M/errors")"
	[ "$(grep -Ec "$1" "$M/errors")" -ge 1 ] && echo "    errors: $(grep -E "$1" "$M/errors" | tail -n1)"
	: >"$M/errors"
}
# engine_says REGEX: the engine file's last-error line matches REGEX.
engine_says() {
	# (the engine file is kept for a second after a read)
	wait_until 5 grep -Eq "^last-error: .*$1" "$M/engine" || fail "engine does not say /$1/: $(cat "$M/engine")"
}
logs_ok() {
	not_hung 20 cat "$C/logs"
	[ "$RC" -eq 0 ] && grep -q tick "$T/out" || fail "logs after the fault: exit $RC: $(head -c 300 "$T/out")"
}
hwm_kb() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$PID/status"; }
# hwm_bounded BEFORE: the daemon's peak RSS grew by MEM_BOUND_MB at most since BEFORE (kB): its
# peak since the mount, so that each 100 MiB answer is held to the same bound.
hwm_bounded() {
	local after
	after=$(hwm_kb)
	echo "    VmHWM $1 kB before, $after kB after (bound: +$MEM_BOUND_MB MiB)"
	[ $((after - $1)) -le $((MEM_BOUND_MB * 1024)) ] ||
		fail "the daemon's peak RSS grew by $((after - $1)) kB on a 100 MiB answer"
}

log "mount through the fault proxy; a ticking container made outside cutipfs"
engine_create_ticker "${P}tick"
mount_fs
wait_until 15 engine_reachable || fail "engine: $(cat "$M/engine")"
wait_state "containers/${P}tick" running 30
C=$M/containers/${P}tick
logs_ok
BASE_HWM=$(hwm_kb)

LOGS='GET /v[0-9.]+/containers/[^/]+/logs\?stdout'
log "1. logs: HTTP 500"
rule 500 "$LOGS"
fails_with "Input/output error" cat "$C/logs"
errors_say "containers/${P}tick/logs: .*fault proxy: injected server error"
engine_says "fault proxy: injected server error"
others_answer
healthy
logs_ok

log "   logs: a body that never ends"
rule hang "$LOGS"
fails_with "Connection timed out" cat "$C/logs"
errors_say "containers/${P}tick/logs: .*(did not answer|too slow)"
engine_says "did not answer in time"
others_answer
healthy
logs_ok

log "   logs: the connection cut mid-body"
rule cut "$LOGS"
fails_with "Input/output error" cat "$C/logs"
errors_say "containers/${P}tick/logs: .*(closed|[Tt]ransfer)"
others_answer
healthy
logs_ok

# cut_then STREAM MODE [TARGET]: the open stream of the requests matching STREAM cut, then the
# requests matching TARGET (default STREAM) answered with MODE, until one was.
cut_then() {
	local target=${3:-$1}
	proxy_mark
	printf 'cut %s\n%s %s\n' "$1" "$2" "$target" >"$RULES"
	wait_until 10 was_cut "$1" || fail "the stream /$1/ was not cut: $(cat "$PLOG")"
	rule "$2" "$target"
	wait_until 60 served "$2" "$target" || fail "no request /$target/ came: $(cat "$PLOG")"
}
# reconcile_under MODE: the list of the next reconcile gets MODE; the event stream is cut to
# make that reconcile happen now.
LIST='GET /v[0-9.]+/containers/json'
EVENTS='GET /v[0-9.]+/events'
reconcile_under() { cut_then "$EVENTS" "$1" "$LIST"; }

log "2. the reconcile's list: malformed JSON"
reconcile_under garbage
errors_say "reconcile.*malformed JSON"
others_answer
healthy

log "   the reconcile's list: HTTP 500"
reconcile_under 500
errors_say "reconcile.*fault proxy: injected server error"
others_answer
healthy

log "   the reconcile's list: a body that never ends"
reconcile_under hang
errors_say "reconcile.*did not answer in time"
others_answer
healthy

log "   the reconcile's list: 100 MiB"
reconcile_under big
errors_say "reconcile.*more than [0-9]+ MiB"
hwm_bounded "$BASE_HWM"
others_answer
healthy

log "   healthy again: a container made while the stream was away shows up"
proxy_mark
printf 'cut %s\n' "$EVENTS" >"$RULES"
wait_until 10 was_cut "$EVENTS" || fail "the event stream was not cut"
engine_create_foreign "${P}late"
healthy
wait_state "containers/${P}late" running 60
[ -z "$(cat "$M/errors")" ] || fail "errors after recovery: $(cat "$M/errors")"

log "3. the event stream cut under an events reader and a follow reader"
FOLLOWS='GET /v[0-9.]+/containers/[^/]+/logs\?.*follow=1'
events_start
follow_start "$C"
proxy_mark
printf 'cut %s\ncut %s\n' "$EVENTS" "$FOLLOWS" >"$RULES"
wait_until 10 was_cut "$EVENTS" || fail "the event stream was not cut"
wait_until 10 served cut-live "$FOLLOWS" || fail "the follow stream was not cut"
healthy
kill -0 "$FOLLOW" || fail "follow ended when its stream was cut"
ev_mark
engine_create_foreign "${P}after"
wait_event 30 "$(ev container "${P}after" start)"
follow_resumes

# events_under MODE MESSAGE: the live event stream cut, every new one answered with MODE; the
# containers' status says MESSAGE as the reason the engine's state is not current.
stale_says() { grep -Eq "^engine: unreachable \(.*$1" "$C/status"; }
events_under() {
	cut_then "$EVENTS" "$1"
	wait_until 20 stale_says "$2" || fail "status does not say /$2/: $(cat "$C/status")"
	echo "    status: $(grep '^engine:' "$C/status")"
	engine_says "$2"
	others_answer
	kill -0 "$FOLLOW" || fail "follow ended under the fault"
	healthy
	wait_until 30 sh -c "! grep -q '^engine: unreachable' '$C/status'" || fail "still stale: $(cat "$C/status")"
	ev_mark
	engine_create_foreign "${P}ev$1"
	wait_event 30 "$(ev container "${P}ev$1" start)"
}
log "   the event stream: HTTP 500"
events_under 500 "fault proxy: injected server error"
log "   the event stream: lines that are not JSON"
events_under garbage "sent an event that is not JSON"
log "   the event stream: 100 MiB on one line"
events_under big "event line of more than [0-9]+ MiB"
hwm_bounded "$BASE_HWM"
kill -0 "$FOLLOW" || fail "follow ended"
grep -q "^-- cutipfs" "$EVLOG" && fail "events dropped: $(cat "$EVLOG")"

# The live stream refused at once while its replay (until=) answers, as a proxy that refuses
# long-lived requests would: the events thread backs off (WS_BACKOFF_MIN_MS doubling, in
# backends/events-feed.c) instead of asking in a loop, with a reconcile's list each time.
LIVE='GET /v[0-9.]+/events\?(?!.*until=)'
log "   the live event stream refused at once, its replay answered: backed off, not a loop"
proxy_mark
printf 'cut %s\n' "$EVENTS" >"$RULES"
wait_until 10 was_cut "$EVENTS" || fail "the event stream was not cut"
rule 500 "$LIVE"
# The time from the first refusal to the fourth: a loop takes milliseconds; with the back-off
# there is at least one wait of WS_BACKOFF_MIN_MS (500 ms) between them. The first may wait out
# a back-off of the steps before (WS_BACKOFF_MAX_MS, 5 s).
refusals() { grep -Ec "^500 $EVENTS" "$PLOG" || true; }
first= fourth=
for _ in $(seq 600); do
	n=$(refusals)
	[ -z "$first" ] && [ "$n" -ge 1 ] && first=$(date +%s%N)
	[ "$n" -ge 4 ] && { fourth=$(date +%s%N); break; }
	sleep 0.1
done
N_LIST=$(grep -Ec "^pass $LIST" "$PLOG" || true)
healthy
[ -n "$fourth" ] || fail "the live stream was not asked for again: $(cat "$PLOG")"
MS=$(((fourth - first) / 1000000))
echo "    refused 4 times in $MS ms, $N_LIST container lists"
[ "$MS" -ge 400 ] || fail "the live stream was asked for in a loop: 4 times in $MS ms"
[ "$N_LIST" -le 8 ] || fail "$N_LIST container lists for 4 refused streams"
kill -0 "$FOLLOW" || fail "follow ended"
ev_mark
engine_create_foreign "${P}evloop"
wait_event 30 "$(ev container "${P}evloop" start)"

# follow_under MODE: the follow stream cut, and the next one answered with MODE; the reader
# stays, and shows the container's output again once it is over.
follow_under() {
	cut_then "$FOLLOWS" "$1"
	others_answer
	kill -0 "$FOLLOW" || fail "follow ended under the fault"
	healthy
	follow_resumes
}
log "   the follow stream: HTTP 500"
follow_under 500
log "   the follow stream: 100 MiB"
follow_under big
hwm_bounded "$BASE_HWM"
umount_fs
