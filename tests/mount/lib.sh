# Shared by the mount tests (sourced by each tests/mount/case-*.sh).
#
# Each case runs the real cutipfs binary in the foreground against a real engine, with its own
# temporary workspace and mountpoint, and checks what a shell user would see: exit statuses,
# messages, file contents. The EXIT trap always unmounts (fusermount3 -u, then -uz), stops the
# daemon, removes from the engine everything the test made (by label, like the workspace's
# cutipfs.workspace=$W), and fails the test if the daemon log shows errors or sanitizer output.
#
# Two paths to the engine: the mount goes through the ENDPOINT under test (local socket, TLS,
# ssh, a Docker context), and the tests check what it shows against an independent WITNESS,
# curl on the engine's local unix socket ($SOCK).
#
# Environment:
#   CUTIPFS_BIN            the binary (meson passes it)
#   CUTIPFS_TEST_ENGINE    unix:///PATH of the engine, the witness (default
#                          unix:///run/docker.sock); with CUTIPFS_TEST_ENDPOINT=local the mount
#                          goes there too
#   CUTIPFS_TEST_ENDPOINT  how the mount reaches that engine (default local):
#       local        -o engine=$CUTIPFS_TEST_ENGINE
#       tls          -o engine=tcp://127.0.0.1:2376,tlsverify,tlscacert=,tlscert=,tlskey= (the test CA)
#       env-tls      DOCKER_HOST=tcp://127.0.0.1:2376 DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=.../tls
#       docker-ssh   -o engine=ssh://cutipfs-ssh-test (an ssh_config alias: see contrib/endpoints-up.sh)
#       podman-ssh   CONTAINER_HOST=ssh://cutipfs-ssh-test/run/podman/podman.sock, no -o engine
#       context      DOCKER_CONFIG=.../docker-config -o context=cutipfs-tls
#       context-env  DOCKER_CONFIG=.../docker-config DOCKER_CONTEXT=cutipfs-tls, no -o
#       context-current  DOCKER_CONFIG=.../docker-config-current (currentContext), no -o
#     The remote kinds need contrib/endpoints-up.sh (and engines-up.sh) to have run, and
#     CUTIPFS_TEST_ENGINE must be the same engine's socket (podman's for podman-ssh).
#   CUTIPFS_TEST_MOUNT_OPTS  instead of the kind: the engine part of -o, as is (may be empty)
#   CUTIPFS_TEST_MOUNT_ENV   instead of the kind: VAR=VALUE words for the daemon's environment
#   CUTIPFS_TEST_DIR       where endpoints-up.sh keeps certificates, keys, contexts
#                          (default /var/lib/cutipfs-test)
#   CUTIPFS_TEST_IMAGE     a local image (default cutipfs-busybox:latest; contrib/engines-up.sh)
# The daemon never inherits DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, DOCKER_CONTEXT,
# CONTAINER_HOST or CONTAINER_SSHKEY from the caller, and gets an empty DOCKER_CONFIG unless the
# kind sets one: only what the kind says reaches it.
#
# By hand, one kind, one case or all:
#   bash contrib/engines-up.sh && bash contrib/endpoints-up.sh
#   CUTIPFS_TEST_ENDPOINT=docker-ssh meson test -C build --suite mount
#   CUTIPFS_TEST_ENGINE=unix:///run/podman/podman.sock CUTIPFS_TEST_ENDPOINT=podman-ssh \
#       meson test -C build mount-tree
#   CUTIPFS_BIN=build/cutipfs CUTIPFS_TEST_ENDPOINT=tls bash tests/mount/case-tree.sh
#   meson test -C build --suite remote     # the remote fault cases (Docker; their own endpoints)
# Exit status: 0 pass, 1 fail, 77 skip (no /dev/fuse).

set -euo pipefail

: "${CUTIPFS_BIN:?set CUTIPFS_BIN to the cutipfs binary}"
ENGINE=${CUTIPFS_TEST_ENGINE:-unix:///run/docker.sock}
SOCK=${ENGINE#unix://}
TEST_IMAGE=${CUTIPFS_TEST_IMAGE:-cutipfs-busybox:latest}
API=http://engine/v1.41
KIND=${CUTIPFS_TEST_ENDPOINT:-local}
TESTDIR=${CUTIPFS_TEST_DIR:-/var/lib/cutipfs-test}
TLS=$TESTDIR/tls
# The ssh_config alias of the test sshd for a case's proxy in front of it: the case gives the
# proxy's port in the URL (ssh://cutipfs-ssh-proxy:PORT); HostKeyAlias makes the key verify.
SSH_PROXY_HOST=cutipfs-ssh-proxy

if [ ! -c /dev/fuse ]; then
	echo "SKIP: no /dev/fuse"
	exit 77
fi

T=$(mktemp -d /tmp/cutipfs-mount.XXXXXX)
W=$T/ws  # the workspace (-o workspace=)
M=$T/mnt # the mountpoint
LOG=$T/daemon.log
mkdir -p "$W" "$M"
: >"$LOG"
PID=
# Engine-side names are global: every name a test makes carries this prefix.
P=cfs$$
# Daemon log lines that are expected in this test (an extended regex), besides none.
LOG_ALLOW=${LOG_ALLOW:-}
# Extra cleanup commands a case registers (proxies and the like).
CLEANUP=()
# Background jobs a case starts on the mount (readers, watchers), by pid: the EXIT trap kills
# them before unmounting (an open file keeps the mount busy).
BG=()

log() { echo "--- $*"; }
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# ---- the engine, over its socket, as the tests' independent witness ----

api() { curl -sS --max-time 30 --unix-socket "$SOCK" "$@"; }
# api_json PATH PYEXPR: evaluates PYEXPR on the JSON at PATH (j is the document).
api_json() {
	api "$API$1" | python3 -c "import json,sys; j=json.load(sys.stdin); print($2)"
}
# The container's id in the engine, or nothing when there is none.
engine_id() {
	api "$API/containers/$1/json" |
		python3 -c 'import json,sys
try: print(json.load(sys.stdin).get("Id", ""))
except Exception: pass'
}
engine_has_container() { [ -n "$(engine_id "$1")" ]; }
engine_state() { api_json "/containers/$1/json" 'j["State"]["Status"]'; }
# stdout and stderr of a container as the engine streams them, framing removed.
engine_logs() {
	api "$API/containers/$1/logs?stdout=1&stderr=1" | python3 -c '
import sys
data = sys.stdin.buffer.read()
out = bytearray()
i = 0
while i + 8 <= len(data) and data[i] in (0, 1, 2) and data[i+1:i+4] == b"\0\0\0":
    n = int.from_bytes(data[i+4:i+8], "big")
    out += data[i+8:i+8+n]
    i += 8 + n
if i != len(data):  # a TTY stream has no frames
    out = bytearray(data)
sys.stdout.buffer.write(out)'
}
# Removes what has label $1 (k=v) in the engine: containers (forced), networks, images.
engine_remove_labelled() {
	local f ids id
	f=$(python3 -c 'import json,sys,urllib.parse; print(urllib.parse.quote(json.dumps({"label":[sys.argv[1]]})))' "$1")
	ids=$(api "$API/containers/json?all=1&filters=$f" | python3 -c 'import json,sys; [print(c["Id"]) for c in json.load(sys.stdin)]' 2>/dev/null || true)
	for id in $ids; do api -X DELETE "$API/containers/$id?force=1&v=1" >/dev/null || true; done
	ids=$(api "$API/networks?filters=$f" | python3 -c 'import json,sys; [print(c["Id"]) for c in json.load(sys.stdin)]' 2>/dev/null || true)
	for id in $ids; do api -X DELETE "$API/networks/$id" >/dev/null || true; done
	ids=$(api "$API/images/json?filters=$f" | python3 -c 'import json,sys; [print(c["Id"]) for c in json.load(sys.stdin)]' 2>/dev/null || true)
	for id in $ids; do api -X DELETE "$API/images/$id?force=1" >/dev/null || true; done
}
# Removes the image tags this test's cards made (tags carry no labels): every repo P*.
engine_remove_tags() {
	local tags t
	tags=$(api "$API/images/json" | python3 -c '
import json,sys
for i in json.load(sys.stdin):
    for t in i.get("RepoTags") or []:
        name = t.rsplit("/", 1)[-1]
        if name.startswith(sys.argv[1]): print(t)' "$P" 2>/dev/null || true)
	for t in $tags; do api -X DELETE "$API/images/$t" >/dev/null || true; done
}
# A container no card made, labelled for cleanup only.
engine_create_foreign() {
	api -X POST -H 'Content-Type: application/json' "$API/containers/create?name=$1" \
		-d "{\"Image\":\"$TEST_IMAGE\",\"Cmd\":[\"sleep\",\"3600\"],\"Labels\":{\"cutipfs.test\":\"$W\"}}" >/dev/null
	api -X POST "$API/containers/$1/start" >/dev/null
}

# A container no card made that prints "tick" twice a second (and ends at once on SIGTERM),
# started; labelled for cleanup only.
TICK_CMD="trap 'exit 0' TERM; while :; do echo tick; sleep 0.5; done"
engine_create_ticker() {
	api -X POST -H 'Content-Type: application/json' "$API/containers/create?name=$1" \
		-d "{\"Image\":\"$TEST_IMAGE\",\"Cmd\":[\"sh\",\"-c\",\"$TICK_CMD\"],\"Labels\":{\"cutipfs.test\":\"$W\"}}" >/dev/null
	api -X POST "$API/containers/$1/start" >/dev/null
}

# ---- the endpoint the mount goes through ----

# endpoint_for KIND [ARG]: how mount_fs reaches the engine. Sets MOUNT_OPT (the engine part of
# -o, may be empty), MOUNT_ENV (VAR=VALUE words for the daemon), ENDPOINT (what the engine
# file's "endpoint:" line must say), CONTEXT (its "context:" line, or empty) and TLS_ON (1 when
# the engine file must say "tls: on"). ARG: local: the unix:// URL; tls, env-tls: the port;
# docker-ssh, podman-ssh: the ssh host (alias); context*: the DOCKER_CONFIG directory.
# Called by a case, it fixes the endpoint for the rest of the case.
ENDPOINT_FIXED=
endpoint_for() {
	local kind=$1 arg=${2:-} cfg
	ENDPOINT_FIXED=${ENDPOINT_LOADING-1}
	MOUNT_ENV=()
	CONTEXT=
	TLS_ON=
	case $kind in
	local)
		ENDPOINT=${arg:-$ENGINE}
		MOUNT_OPT="engine=$ENDPOINT" ;;
	tls)
		ENDPOINT=tcp://127.0.0.1:${arg:-2376}
		MOUNT_OPT="engine=$ENDPOINT,tlsverify,tlscacert=$TLS/ca.pem,tlscert=$TLS/cert.pem,tlskey=$TLS/key.pem"
		TLS_ON=1 ;;
	env-tls)
		ENDPOINT=tcp://127.0.0.1:${arg:-2376}
		MOUNT_OPT=
		MOUNT_ENV=("DOCKER_HOST=$ENDPOINT" DOCKER_TLS_VERIFY=1 "DOCKER_CERT_PATH=$TLS")
		TLS_ON=1 ;;
	docker-ssh)
		ENDPOINT=ssh://${arg:-cutipfs-ssh-test}
		MOUNT_OPT="engine=$ENDPOINT" ;;
	podman-ssh)
		ENDPOINT=ssh://${arg:-cutipfs-ssh-test}/run/podman/podman.sock
		MOUNT_OPT=
		MOUNT_ENV=("CONTAINER_HOST=$ENDPOINT") ;;
	context | context-env | context-current)
		if [ "$kind" = context-current ]; then cfg=${arg:-$TESTDIR/docker-config-current}; else cfg=${arg:-$TESTDIR/docker-config}; fi
		CONTEXT=cutipfs-tls
		ENDPOINT=$(context_host "$cfg" "$CONTEXT")
		TLS_ON=1
		case $kind in
		context) MOUNT_OPT="context=$CONTEXT"; MOUNT_ENV=("DOCKER_CONFIG=$cfg") ;;
		context-env) MOUNT_OPT=; MOUNT_ENV=("DOCKER_CONFIG=$cfg" "DOCKER_CONTEXT=$CONTEXT") ;;
		context-current) MOUNT_OPT=; MOUNT_ENV=("DOCKER_CONFIG=$cfg") ;;
		esac ;;
	*) fail "CUTIPFS_TEST_ENDPOINT: unknown kind '$kind'" ;;
	esac
}
# The Host of context NAME in the context store of DOCKER_CONFIG directory CFG.
context_host() {
	local id
	id=$(printf '%s' "$2" | sha256sum | cut -d' ' -f1)
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Endpoints"]["docker"]["Host"])' \
		"$1/contexts/meta/$id/meta.json" || fail "no context $2 in $1 (contrib/endpoints-up.sh makes it)"
}
# make_context CFG NAME HOST [CA CERT KEY]: a context store as the docker CLI writes it.
make_context() {
	local cfg=$1 name=$2 host=$3 id
	id=$(printf '%s' "$name" | sha256sum | cut -d' ' -f1)
	mkdir -p "$cfg/contexts/meta/$id" "$cfg/contexts/tls/$id/docker"
	printf '{"Name":"%s","Metadata":{},"Endpoints":{"docker":{"Host":"%s","SkipTLSVerify":false}}}\n' \
		"$name" "$host" >"$cfg/contexts/meta/$id/meta.json"
	cp "${4:-$TLS/ca.pem}" "$cfg/contexts/tls/$id/docker/ca.pem"
	cp "${5:-$TLS/cert.pem}" "$cfg/contexts/tls/$id/docker/cert.pem"
	cp "${6:-$TLS/key.pem}" "$cfg/contexts/tls/$id/docker/key.pem"
	printf '{}\n' >"$cfg/config.json"
}
ENDPOINT_LOADING="" endpoint_for "$KIND"
if [ -n "${CUTIPFS_TEST_MOUNT_OPTS+set}" ] || [ -n "${CUTIPFS_TEST_MOUNT_ENV+set}" ]; then
	MOUNT_OPT=${CUTIPFS_TEST_MOUNT_OPTS:-}
	read -r -a MOUNT_ENV <<<"${CUTIPFS_TEST_MOUNT_ENV:-}"
	ENDPOINT=
	case ",$MOUNT_OPT" in *,engine=*) ENDPOINT=${MOUNT_OPT#*engine=}; ENDPOINT=${ENDPOINT%%,*} ;; esac
	CONTEXT=
	TLS_ON=
	ENDPOINT_FIXED=1
fi
# A remote kind: the engine file's endpoint line is not the witness socket.
is_remote() { [ "$KIND" != local ] || [ -n "${CUTIPFS_TEST_MOUNT_OPTS+set}${CUTIPFS_TEST_MOUNT_ENV+set}" ]; }
is_ssh() { case $ENDPOINT in ssh://*) return 0 ;; esac; return 1; }

# free_port: a TCP port on 127.0.0.1 nobody listens on now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# fault_proxy: tests/mount/fault-proxy.py in front of the engine's socket, listening on $PROXY,
# its rules in $RULES (none: it forwards all) and every request it saw in $PLOG; mount through
# it with endpoint_for local "unix://$PROXY" (fault_proxy_up does both). The case's cleanup
# stops it. Local engines only.
PROXY=
RULES=
PLOG=
fault_proxy() {
	PROXY=$T/fault.sock
	RULES=$T/rules
	PLOG=$T/proxy.log
	: >"$RULES"
	: >"$PLOG"
	setsid python3 "$(dirname "${BASH_SOURCE[0]}")/fault-proxy.py" "$PROXY" "$SOCK" "$RULES" "$PLOG" \
		2>>"$T/proxy.err" &
	local pid=$!
	CLEANUP+=("kill -- -$pid 2>/dev/null; wait $pid 2>/dev/null")
	wait_until 5 test -S "$PROXY" || fail "the fault proxy did not listen: $(cat "$T/proxy.err")"
}
fault_proxy_up() {
	fault_proxy
	endpoint_for local "unix://$PROXY"
}
# tcp_proxy PORT TARGET-PORT: a socat on 127.0.0.1:PORT forwarding to 127.0.0.1:TARGET-PORT,
# in its own process group (kill -- -PGID stops it and its per-connection children); sets
# TCP_PROXY_PID. The case's cleanup stops it.
TCP_PROXY_PID=
tcp_proxy() {
	setsid socat "TCP-LISTEN:$1,bind=127.0.0.1,reuseaddr,fork" "TCP:127.0.0.1:$2" 2>>"$T/socat.log" &
	TCP_PROXY_PID=$!
	wait_until 5 sh -c "ss -Hltn 'sport = :$1' | grep -q ." || fail "socat did not listen on $1"
}
# tcp_proxy_close: stop listening only; connections already made stay up (socat's children).
tcp_proxy_close() {
	[ -n "$TCP_PROXY_PID" ] || return 0
	local pg=$TCP_PROXY_PID
	CLEANUP+=("kill -- -$pg 2>/dev/null")
	kill "$TCP_PROXY_PID" 2>/dev/null
	wait "$TCP_PROXY_PID" 2>/dev/null || true
	TCP_PROXY_PID=
}
tcp_proxy_stop() {
	[ -n "$TCP_PROXY_PID" ] || return 0
	kill -- "-$TCP_PROXY_PID" 2>/dev/null
	wait "$TCP_PROXY_PID" 2>/dev/null || true
	TCP_PROXY_PID=
}

# within SECONDS CMD...: CMD must be done within SECONDS (killed after twice that), whatever it
# says; its output goes to $T/within.out and its exit status to $WITHIN_RC.
WITHIN_RC=0
within() {
	local secs=$1 t0=$EPOCHREALTIME e
	shift
	WITHIN_RC=0
	timeout -k 1 $((secs * 2)) "$@" >"$T/within.out" 2>&1 </dev/null || WITHIN_RC=$?
	e=$(elapsed_since "$t0")
	python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)" "$e" "$secs" ||
		fail "took $e s (limit $secs s, exit $WITHIN_RC): $* ($(cat "$T/within.out"))"
}
# not_enotconn CMD...: CMD may fail, but not as a dead FUSE daemon does, and within 5 s.
not_enotconn() {
	within 5 "$@"
	! grep -q "Transport endpoint is not connected" "$T/within.out" || fail "ENOTCONN from: $* ($(cat "$T/within.out"))"
	grep -q " $M fuse" /proc/mounts && kill -0 "$PID" 2>/dev/null || fail "the daemon died at: $*"
}
# not_hung SECS CMD...: CMD must end by itself before the deadline SECS (a bound on a hang, not
# a time measured: `timeout` ending it is the failure), and the mount must still be there; its
# output goes to $T/out and its exit status to $RC.
RC=0
not_hung() {
	local secs=$1
	shift
	RC=0
	timeout -k 2 "$secs" "$@" >"$T/out" 2>&1 </dev/null || RC=$?
	[ "$RC" -ne 124 ] && [ "$RC" -ne 137 ] || fail "hung (ended by timeout $secs): $*"
	! grep -q "Transport endpoint is not connected" "$T/out" || fail "ENOTCONN from: $* ($(cat "$T/out"))"
	grep -q " $M fuse" /proc/mounts && kill -0 "$PID" 2>/dev/null || fail "the daemon died at: $*"
}
# engine_line KEY: the value of KEY: in MOUNT/engine.
engine_line() { sed -n "s/^$1: //p" "$M/engine"; }
engine_unreachable() { grep -q '^state: unreachable' "$M/engine"; }
engine_reachable() { grep -qx 'state: reachable' "$M/engine"; }

# ---- the mount ----

# A script's background job starts with SIGINT ignored, and libfuse leaves an ignored signal
# alone: start the daemon with SIGINT at its default, as from a terminal, so Ctrl-C works.
# With MOUNT_SETSID=1 the daemon also gets a session of its own (no controlling tty: ssh cannot
# prompt; and `pgrep -s $PID` finds whatever it left behind).
MOUNT_SETSID=${MOUNT_SETSID:-}
sigint_default() {
	exec python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
if sys.argv[1] == "1": os.setsid()
os.execvp(sys.argv[2], sys.argv[2:])' "${MOUNT_SETSID:-0}" "$@"
}

# The daemon's environment: nothing of the caller's engine settings, then the kind's.
MOUNT_BASE_ENV=(env -u DOCKER_HOST -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH -u DOCKER_CONTEXT
	-u CONTAINER_HOST -u CONTAINER_SSHKEY -u CONTAINER_CONNECTION "DOCKER_CONFIG=$T/docker-config-empty")

mount_fs() {
	# A case that changed $ENGINE and did not choose an endpoint mounts $ENGINE.
	if [ "$KIND" = local ] && [ -z "$ENDPOINT_FIXED" ]; then
		endpoint_for local
		ENDPOINT_FIXED=
	fi
	mkdir -p "$T/docker-config-empty"
	sigint_default "${MOUNT_BASE_ENV[@]}" "${MOUNT_ENV[@]}" "$CUTIPFS_BIN" -f \
		-o "${MOUNT_OPT:+$MOUNT_OPT,}workspace=$W" "$@" "$M" </dev/null 2>>"$LOG" &
	PID=$!
	local i
	for i in $(seq 100); do
		mountpoint -q "$M" && return 0
		kill -0 "$PID" 2>/dev/null || fail "cutipfs exited before mounting: $(cat "$LOG")"
		sleep 0.1
	done
	fail "not mounted after 10 s"
}

# How many mounts $M has (/proc/mounts: a dead one fails stat with ENOTCONN); after a remount
# on a dead mountpoint, 1: the dead one was unmounted, not buried under the new one.
mount_count() { grep -c " $M fuse" /proc/mounts || true; }

# Stops the case's background jobs (they keep files open on the mount).
stop_bg() {
	local p
	for p in "${BG[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${BG[@]}"; do wait "$p" 2>/dev/null || true; done
	BG=()
}

# Unmounts the way a user does; the daemon must exit 0.
# Over ssh, the daemon's ssh processes must be gone too.
umount_fs() {
	stop_bg
	local sshs p
	sshs=$(pgrep -P "$PID" -x ssh || true)
	# The notifier's helper calls through the mount (fs/selfio.c: a mkdir, rmdir or touch for
	# inotify watchers) as changes come; an unmount in the middle of one is refused with
	# EBUSY for those few milliseconds, as it would be for any process there. Again, then.
	local try err
	for try in 1 2 3 4 5; do
		err=$(fusermount3 -u "$M" 2>&1) && break
		case $err in *"Device or resource busy"*) ;; *) fail "fusermount3 -u failed: $err" ;; esac
		[ "$try" -lt 5 ] || fail "fusermount3 -u failed 5 times: $err"
		echo "    (unmount refused while busy, again: $err)"
		sleep 0.2
	done
	local rc=0
	wait "$PID" || rc=$?
	PID=
	[ "$rc" -eq 0 ] || fail "cutipfs exited with $rc after unmount"
	for p in $sshs; do
		wait_until 5 not_running "$p" || fail "the daemon's ssh $p outlived it: $(ps -o pid,ppid,args -p "$p")"
	done
}

cleanup() {
	local rc=$? c
	trap - EXIT
	set +e
	for c in "${BG[@]}"; do kill "$c" 2>/dev/null; done
	for c in "${BG[@]}"; do wait "$c" 2>/dev/null; done
	# /proc/mounts, not mountpoint(1): a crashed daemon's mount fails stat with ENOTCONN.
	if grep -q " $M fuse" /proc/mounts; then
		fusermount3 -u "$M" 2>/dev/null || fusermount3 -uz "$M"
	fi
	if [ -n "$PID" ]; then
		local i
		for i in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
		kill "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	for c in "${CLEANUP[@]}"; do eval "$c"; done
	tcp_proxy_stop
	engine_remove_labelled "cutipfs.workspace=$W"
	engine_remove_labelled "cutipfs.test=$W"
	engine_remove_tags
	local bad
	bad=$(grep -Ei 'error|sanitizer|runtime error|leak|abort|segv' "$LOG" |
		{ if [ -n "$LOG_ALLOW" ]; then grep -Ev "$LOG_ALLOW"; else cat; fi } || true)
	if [ -n "$bad" ]; then
		echo "FAIL: unexpected daemon output:" >&2
		echo "$bad" >&2
		[ "$rc" -ne 0 ] || rc=1
	fi
	if [ "$rc" -eq 0 ]; then
		rm -rf "$T"
	else
		echo "daemon log ($LOG):" >&2
		cat "$LOG" >&2
		echo "kept $T" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT

# ---- checks ----

# expect_fail MESSAGE CMD...: CMD must exit non-zero and say MESSAGE on stderr or stdout.
expect_fail() {
	local msg=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || fail "expected failure ($msg) from: $* (output: $out)"
	case "$out" in
	*"$msg"*) ;;
	*) fail "expected '$msg' from: $* (exit $rc, output: $out)" ;;
	esac
	log "ok, failed as expected: $out"
}
expect_ok() {
	local out rc=0
	out=$("$@" 2>&1) || rc=$?
	[ "$rc" -eq 0 ] || fail "expected success from: $* (exit $rc, output: $out)"
}
# wait_until SECONDS CMD...: polls CMD until it succeeds.
wait_until() {
	local secs=$1 i
	shift
	for i in $(seq $((secs * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
# The first line of an object's status (the state word), read as users do.
state_of() {
	local s
	read -r s <"$M/$1/status" || return 1
	echo "$s"
}
state_is() { [ "$(state_of "$1" 2>/dev/null)" = "$2" ]; }
wait_state() {
	wait_until "${3:-60}" state_is "$1" "$2" ||
		fail "$1: state '$(state_of "$1" 2>&1 || true)' after ${3:-60} s, want $2 (status: $(cat "$M/$1/status" 2>&1 || true); errors: $(cat "$M/errors" 2>&1 || true))"
}
# ---- events ----

# events_start: `cat MOUNT/events` in the background into $T/events.log, from now on.
EVLOG=
events_start() {
	EVLOG=$T/events.log
	: >"$EVLOG"
	cat "$M/events" >>"$EVLOG" &
	BG+=($!)
	# It shows what happens after its open: wait for that.
	wait_until 10 has_open $! "$M/events" || fail "cat events did not open it"
}
# ev_mark: wait_event looks only at the lines that come after this.
EVMARK=0
ev_mark() { EVMARK=$(wc -l <"$EVLOG"); }
ev_since_mark() { tail -n +$((EVMARK + 1)) "$EVLOG" | grep -Eqx "$1"; }
# wait_event SECONDS REGEX: until a line of $T/events.log (after the mark) matches (grep -E,
# whole line).
wait_event() {
	wait_until "$1" ev_since_mark "$2" ||
		fail "no event /$2/ after $1 s; events: $(cat "$EVLOG")"
}
# The regex of an events line: kind, name, action, then optional key=value text.
ev() { # ev KIND NAME ACTION [ATTRS-REGEX]
	echo "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z $1 $2 $3${4:+ $4}"
}

# follow_start DIR: `cat DIR/follow` (of a ticker) in the background into $T/follow.log, from
# its first tick on; FOLLOW is its pid.
FOLLOW=
follow_start() {
	cat "$1/follow" >"$T/follow.log" &
	FOLLOW=$!
	BG+=("$FOLLOW")
	wait_until 10 has_open "$FOLLOW" "$1/follow" || fail "follow did not open"
	wait_until 10 grep -q tick "$T/follow.log" || fail "follow shows nothing: $(cat "$T/follow.log")"
}
# follow_resumes: the follow reader shows new ticks within 20 s, and still reads.
follow_resumes() {
	local n
	n=$(grep -c tick "$T/follow.log")
	wait_until 20 sh -c "[ \$(grep -c tick '$T/follow.log') -gt $n ]" || fail "follow did not resume ($n ticks)"
	kill -0 "$FOLLOW" || fail "follow ended"
}

# has_open PID PATH: process PID has PATH open (a reader is in place).
has_open() { ls -l "/proc/$1/fd" 2>/dev/null | grep -q -- " $2\$"; }
# not_running PID
not_running() { ! kill -0 "$1" 2>/dev/null; }
elapsed_since() { # elapsed_since START: seconds since $EPOCHREALTIME START, as a decimal
	python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$EPOCHREALTIME"
}

# ---- cards ----

# The local test image, under the image card name $1 (no registry needed).
image_card() {
	cat <<EOF
apiVersion: cutip/v1
kind: ImageCard
metadata:
  name: $1
spec:
  source: pull
  image: ${TEST_IMAGE%:*}
  tag: "${TEST_IMAGE##*:}"
EOF
}
# container_card NAME IMAGE [COMMAND] [NETWORK]. The default command logs to stdout and
# stderr and ends at once on SIGTERM (sh as pid 1 would ignore it and cost the stop's grace).
DEFAULT_CMD="sh -c 'echo hello; echo oops >&2; trap \"exit 0\" TERM; sleep 3600 & wait'"
container_card() {
	cat <<EOF
apiVersion: cutip/v1
kind: ContainerCard
metadata:
  name: $1
spec:
  imageRef: {ref: images/$2}
  command: "$(printf '%s' "${3:-$DEFAULT_CMD}" | sed 's/\\/\\\\/g; s/"/\\"/g')"
EOF
	if [ -n "${4:-}" ]; then
		echo "  networkRef: {ref: networks/$4}"
	fi
}
# isolated_card NAME IMAGE [COMMAND]: a container card with no network at all (network_mode:
# none), for cases about the mount itself: they do not depend on the engine's default bridge.
# One builtin write: a command's close of a card file commits what it has so far.
isolated_card() {
	local c
	c=$(container_card "$@")
	printf '%s\n  network_mode: none\n' "$c"
}
network_card() {
	cat <<EOF
apiVersion: cutip/v1
kind: NetworkCard
metadata:
  name: $1
spec:
  subnet: $2
EOF
}
# A card that parses but fails validation: a ContainerCard without its imageRef.
bad_card() {
	cat <<EOF
apiVersion: cutip/v1
kind: ContainerCard
metadata:
  name: $1
spec:
  command: "sleep 1"
EOF
}

# ---- the shell contract, one tool at a time ----

# The image every container card of a case uses: ${P}bb, from the local test image.
setup_image() {
	image_card "${P}bb" >"$M/cards/bb.image.yaml"
	wait_state "images/${P}bb" present 60
}

# tool_case MESSAGE: the case defines write_card SRC DEST, writing a card the way the tool under
# test does. A bad card must fail with MESSAGE and keep the user's text; a good one must make a
# running container.
tool_case() {
	local msg=$1 card=$M/cards/web.container.yaml
	mount_fs
	setup_image
	bad_card "${P}web" >"$T/bad.yaml"
	container_card "${P}web" "${P}bb" >"$T/good.yaml"

	log "bad card"
	expect_fail "$msg" write_card "$T/bad.yaml" "$card"
	cmp "$T/bad.yaml" "$card" || fail "the card file lost the user's text"
	grep -q 'cards/web\.container\.yaml:.*imageRef' "$M/errors" || fail "errors: $(cat "$M/errors")"
	[ ! -e "$M/containers/${P}web" ] || fail "a bad card made a container"

	log "good card"
	expect_ok write_card "$T/good.yaml" "$card"
	cmp "$T/good.yaml" "$card" || fail "the card file differs from what was written"
	wait_state "containers/${P}web" running 60
	[ "$(cat "$M/containers/${P}web/id")" = "$(engine_id "${P}web")" ] || fail "id differs from the engine's"
	umount_fs
}
