#!/usr/bin/env bash
# The engine goes away and comes back (a socat proxy in front of the real endpoint, stopped and
# started): the mount comes up without it, calls fail fast (< 2 s) with ECONNREFUSED, `engine`
# says unreachable, cards wait, and everything recovers by itself once the engine answers.
# Listings do not fail: they show what the cards and the last engine list know.
#
# Per kind (CUTIPFS_TEST_ENDPOINT), the proxy sits where that kind connects:
#   local            UNIX-LISTEN in front of the engine's socket, mounted as -o engine=unix://PROXY
#   tls, env-tls     TCP-LISTEN on a free 127.0.0.1 port in front of dockerd's 2376: the server
#                    certificate names IP:127.0.0.1, so TLS verifies through it
#   context*         the same TCP proxy, through a context of the same name whose host is it
#   docker-ssh, podman-ssh  TCP-LISTEN on a free 127.0.0.1 port in front of sshd's 2222, reached
#                    as ssh://cutipfs-ssh-proxy:PORT (an ssh_config alias with HostKeyAlias
#                    cutipfs-ssh-test, so the host key verifies on any port). Stopping the proxy drops the ssh connection; the
#                    daemon's ssh exits and every new one is refused until the proxy is back.
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || fail "socat is not installed (contrib/engines-up.sh installs it)"
PROXY=$T/eng.sock
PROXY_PID=
PORT=
case $KIND in
local) ;;
tls | env-tls) PORT=$(free_port); endpoint_for "$KIND" "$PORT" ;;
context | context-env | context-current)
	PORT=$(free_port)
	make_context "$T/dc" cutipfs-tls "tcp://127.0.0.1:$PORT"
	[ "$KIND" != context-current ] || printf '{"currentContext":"cutipfs-tls"}\n' >"$T/dc/config.json"
	endpoint_for "$KIND" "$T/dc" ;;
docker-ssh | podman-ssh) PORT=$(free_port); endpoint_for "$KIND" "$SSH_PROXY_HOST:$PORT" ;;
*) fail "no proxy for kind $KIND" ;;
esac
# socat forks a child per connection, and libcurl keeps connections open: the proxy runs in
# its own process group, and stopping it stops the whole group, children included.
start_proxy() {
	if [ -n "$PORT" ]; then
		case $KIND in
		*ssh) tcp_proxy "$PORT" "${CUTIPFS_TEST_SSH_PORT:-2222}" ;;
		*) tcp_proxy "$PORT" "${CUTIPFS_TEST_TLS_PORT:-2376}" ;;
		esac
		PROXY_PID=$TCP_PROXY_PID
		return
	fi
	setsid socat "UNIX-LISTEN:$PROXY,fork,unlink-early" "UNIX-CONNECT:$SOCK" 2>>"$T/socat.log" &
	PROXY_PID=$!
	wait_until 5 test -S "$PROXY" || fail "socat did not listen"
}
stop_proxy() {
	kill -- "-$PROXY_PID"
	wait "$PROXY_PID" 2>/dev/null || true
	PROXY_PID=
	TCP_PROXY_PID=
	rm -f "$PROXY"
}
CLEANUP+=('[ -z "$PROXY_PID" ] || kill -- "-$PROXY_PID"')
# What a call says while the engine is away: ECONNREFUSED. Over ssh the daemon's ssh is refused
# by the (stopped) proxy; what errno it passes on is the driver's choice, but never ENOTCONN
# ("Transport endpoint is not connected" is what a dead FUSE daemon gives).
DOWN_MSG="Connection refused"
# fast CMD...: CMD must fail within 2 s with $DOWN_MSG.
fast_refused() {
	local t0=$EPOCHREALTIME e
	expect_fail "$DOWN_MSG" "$@"
	e=$(elapsed_since "$t0")
	python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 2 else 1)" "$e" || fail "took $e s: $*"
}
[ "$KIND" != local ] || endpoint_for local "unix://$PROXY"
# How long the daemon may take to notice the engine is back (ssh is restarted with a back-off).
UP_SECS=10

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
wait_until "$UP_SECS" grep -qx 'state: reachable' "$M/engine" || fail "engine: $(cat "$M/engine")"
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
wait_until "$UP_SECS" grep -qx 'state: reachable' "$M/engine" || fail "engine: $(cat "$M/engine")"
wait_state "containers/${P}web" running 30
wait_state "containers/${P}two" running 60
engine_has_container "${P}web" || fail "web gone"
umount_fs
