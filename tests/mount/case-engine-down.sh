#!/usr/bin/env bash
# The engine goes away and comes back (a socat proxy in front of the real socket, stopped and
# started): the mount comes up without it, calls fail fast (< 2 s) with ECONNREFUSED, `engine`
# says unreachable, cards wait, and everything recovers by itself once the engine answers.
# Listings do not fail: they show what the cards and the last engine list know.
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || fail "socat is not installed (contrib/engines-up.sh installs it)"
PROXY=$T/eng.sock
PROXY_PID=
# socat forks a child per connection, and libcurl keeps connections open: the proxy runs in
# its own process group, and stopping it stops the whole group, children included.
start_proxy() {
	setsid socat "UNIX-LISTEN:$PROXY,fork,unlink-early" "UNIX-CONNECT:$SOCK" 2>>"$T/socat.log" &
	PROXY_PID=$!
	wait_until 5 test -S "$PROXY" || fail "socat did not listen"
}
stop_proxy() {
	kill -- "-$PROXY_PID"
	wait "$PROXY_PID" 2>/dev/null || true
	PROXY_PID=
	rm -f "$PROXY"
}
CLEANUP+=('[ -z "$PROXY_PID" ] || kill -- "-$PROXY_PID"')
# fast CMD...: CMD must fail within 2 s with "Connection refused".
fast_refused() {
	local t0=$EPOCHREALTIME e
	expect_fail "Connection refused" "$@"
	e=$(elapsed_since "$t0")
	python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 2 else 1)" "$e" || fail "took $e s: $*"
}
ENGINE=unix://$PROXY

# quick CMD...: CMD must be done within 2 s, whatever it says.
quick() {
	local t0=$EPOCHREALTIME e
	"$@" >/dev/null 2>&1 || true
	e=$(elapsed_since "$t0")
	python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 2 else 1)" "$e" || fail "took $e s: $*"
}

log "mount with the engine down"
mount_fs
grep -q '^state: unreachable' "$M/engine" || fail "engine: $(cat "$M/engine")"
quick ls -l "$M/containers"
[ -d "$M/cards" ] || fail "no cards/"
image_card "${P}bb" >"$M/cards/bb.image.yaml" || fail "a card written while the engine is down was refused"
container_card "${P}web" "${P}bb" >"$M/cards/web.container.yaml" || fail "container card refused"
cat "$M/cards/web.container.yaml" >/dev/null || fail "cards are not readable"

log "the engine comes up"
start_proxy
wait_until 10 grep -qx 'state: reachable' "$M/engine" || fail "engine: $(cat "$M/engine")"
wait_state "images/${P}bb" present 60
wait_state "containers/${P}web" running 60

log "the engine goes away"
stop_proxy
# status and inspect.json are served from the last state the engine showed, and say it is gone;
# logs need the engine, and fail fast.
quick cat "$M/containers/${P}web/status"
grep -q '^engine: unreachable' "$M/containers/${P}web/status" ||
	fail "status does not say the engine is unreachable: $(cat "$M/containers/${P}web/status")"
head -1 "$M/containers/${P}web/status" | grep -qx running || fail "status lost the last state"
fast_refused cat "$M/containers/${P}web/logs"
quick ls -l "$M/containers"
quick cat "$M/containers/${P}web/inspect.json"
fast_refused rmdir "$M/containers/${P}web"
grep -q '^state: unreachable' "$M/engine" || fail "engine: $(cat "$M/engine")"
cat "$M/cards/web.container.yaml" >/dev/null || fail "cards are not readable"
container_card "${P}two" "${P}bb" >"$M/cards/two.container.yaml" || fail "a card written while the engine is down was refused"
expect_ok sync "$M/cards/two.container.yaml"

log "and comes back"
start_proxy
wait_until 10 grep -qx 'state: reachable' "$M/engine" || fail "engine: $(cat "$M/engine")"
wait_state "containers/${P}web" running 30
wait_state "containers/${P}two" running 60
engine_has_container "${P}web" || fail "web gone"
umount_fs
