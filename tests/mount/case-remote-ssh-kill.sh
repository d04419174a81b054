#!/usr/bin/env bash
# The daemon's ssh connection killed under readers (suite remote, Docker over ssh://, through
# the ssh_config alias cutipfs-ssh-proxy and a socat proxy in front of sshd):
#  1. the proxy stops listening (connections made stay up), and the daemon's ssh is killed: a
#     `cat events` and a `follow` reader stay open, `status` reads keep working and say the
#     engine is unreachable, calls fail within 2 s (not ENOTCONN); the proxy listens again and
#     the daemon starts ssh by itself: reachable, events resume, follow goes on.
#  2. the ssh killed with sshd reachable: a new ssh, the same recovery.
#  3. after unmount, no ssh process of the daemon is left (its own session, pgrep -s).
. "$(dirname "$0")/lib.sh"
LOG_ALLOW='ssh|unreachable|engine|[Cc]onnection|closed|reset|refused|events|[Bb]roken pipe|killed|signal|exit'
MOUNT_SETSID=1
PORT=$(free_port)
endpoint_for docker-ssh "$SSH_PROXY_HOST:$PORT"
tcp_proxy "$PORT" "${CUTIPFS_TEST_SSH_PORT:-2222}"
# the daemon's ssh processes (its children, and whatever else of its session)
ssh_pids() { { pgrep -P "$PID" -x ssh || true; pgrep -s "$SID" -x ssh || true; } 2>/dev/null | sort -u; }
has_ssh() { [ -n "$(ssh_pids)" ]; }
SEEN=$T/ssh.pids
: >"$SEEN"

log "mount over ssh, a ticking container, two readers"
engine_create_ticker "${P}tick"
mount_fs
SID=$PID
wait_until 15 engine_reachable || fail "engine: $(cat "$M/engine")"
wait_state "containers/${P}tick" running 20
C=$M/containers/${P}tick
events_start
follow_start "$C"
wait_until 10 has_ssh || fail "no ssh child of the daemon ($PID): $(pgrep -a -s "$SID")"
ssh_pids >>"$SEEN"
echo "    ssh: $(ssh_pids | tr '\n' ' ')"

log "1. no new connections, and the ssh killed"
tcp_proxy_close
old=$(ssh_pids)
# shellcheck disable=SC2086
kill $old
wait_until 5 engine_unreachable || fail "engine after the kill: $(cat "$M/engine")"
echo "    engine says: state: $(engine_line state)"
within 2 cat "$C/status"
[ "$WITHIN_RC" -eq 0 ] || fail "status: $(cat "$T/within.out")"
[ "$(head -n1 "$T/within.out")" = running ] || fail "status lost the last state: $(cat "$T/within.out")"
grep -q '^engine: unreachable' "$T/within.out" || fail "status does not say the engine is unreachable: $(cat "$T/within.out")"
within 2 cat "$C/logs"
[ "$WITHIN_RC" -ne 0 ] || fail "logs read with the engine away"
! grep -q "not connected" "$T/within.out" || fail "ENOTCONN: $(cat "$T/within.out")"
echo "    logs: $(cat "$T/within.out")"
within 2 sh -c "echo stop > '$C/ctl'"
[ "$WITHIN_RC" -ne 0 ] || fail "ctl stop worked with the engine away"
! grep -q "not connected" "$T/within.out" || fail "ENOTCONN: $(cat "$T/within.out")"
within 2 ls "$M/containers"
kill -0 "$FOLLOW" || fail "follow ended when ssh died"

log "   the proxy listens again: the daemon reconnects by itself"
tcp_proxy "$PORT" "${CUTIPFS_TEST_SSH_PORT:-2222}"
wait_until 30 engine_reachable || fail "not reachable again: $(cat "$M/engine")"
wait_until 10 has_ssh || fail "no new ssh"
ssh_pids >>"$SEEN"
ev_mark
engine_create_foreign "${P}after"
wait_event 20 "$(ev container "${P}after" start)"
follow_resumes
wait_until 10 sh -c "! grep -q '^engine: unreachable' '$C/status'" || fail "status: $(cat "$C/status")"

log "2. the ssh killed, sshd reachable"
ssh_pids >"$T/old.pids"
# shellcheck disable=SC2046
kill $(cat "$T/old.pids")
wait_until 30 sh -c "pgrep -P $PID -x ssh | grep -vxFf '$T/old.pids' | grep -q ." || fail "no new ssh after the kill"
wait_until 30 engine_reachable || fail "not reachable: $(cat "$M/engine")"
ssh_pids >>"$SEEN"
ev_mark
api -X POST "$API/containers/${P}after/kill" >/dev/null
wait_event 20 "$(ev container "${P}after" die ".*")"
follow_resumes

log "3. unmount: no ssh of the daemon left"
umount_fs
for p in $(sort -u "$SEEN"); do
	wait_until 5 not_running "$p" || fail "ssh $p of the daemon still runs: $(ps -o pid,args -p "$p")"
done
wait_until 5 sh -c "! pgrep -s $SID >/dev/null" || fail "left in the daemon's session: $(pgrep -a -s "$SID")"
