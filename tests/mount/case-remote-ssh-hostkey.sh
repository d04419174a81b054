#!/usr/bin/env bash
# ssh to a host whose key is known nowhere (the ssh_config alias cutipfs-ssh-unknown: the test
# sshd, an empty known_hosts, StrictHostKeyChecking yes): the mount comes up, `engine` says
# "Host key verification failed", nothing prompts (the daemon has no tty, its stdin is
# /dev/null, and every command here is bounded), and no ssh of the daemon is left after
# unmount. Suite remote, against Docker.
. "$(dirname "$0")/lib.sh"
LOG_ALLOW='[Hh]ost key|ssh|unreachable|engine|known|verification|[Cc]onnection'
MOUNT_SETSID=1
endpoint_for docker-ssh cutipfs-ssh-unknown

log "mount ssh://cutipfs-ssh-unknown"
mount_fs
SID=$PID
wait_until 15 engine_unreachable || fail "engine: $(cat "$M/engine")"
wait_until 15 grep -q 'Host key verification failed' "$M/engine" || fail "engine: $(cat "$M/engine")"
echo "    engine says: state: $(engine_line state)"
grep -Fqx "endpoint: ssh://cutipfs-ssh-unknown" "$M/engine" || fail "endpoint: $(cat "$M/engine")"
[ "$(ps -o tty= -p "$PID" | tr -d ' ')" = "?" ] || fail "the daemon has a tty: $(ps -o tty= -p "$PID")"
within 3 ls "$M/containers"
[ "$WITHIN_RC" -eq 0 ] || fail "ls containers: $(cat "$T/within.out")"
container_card "${P}web" "${P}bb" >"$T/card.yaml"
not_enotconn cp "$T/card.yaml" "$M/cards/web.container.yaml"
# Nothing of the daemon's session waits on a prompt: any ssh of it is gone or going.
sleep 1
for p in $(pgrep -s "$SID" -x ssh || true); do
	echo "    ssh $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
done
known=$TESTDIR/ssh/known_hosts.empty
[ ! -s "$known" ] || fail "ssh wrote to $known: $(cat "$known")"

log "unmount: no ssh of the daemon left"
umount_fs
wait_until 5 sh -c "! pgrep -s $SID >/dev/null" || fail "left in the daemon's session: $(pgrep -a -s "$SID")"
