#!/usr/bin/env bash
# containers/NAME/ctl: start, stop [SECONDS], restart, kill [SIGNAL], pause, unpause, one per
# line; the write itself fails with the error, so bash's builtin echo reports it.
. "$(dirname "$0")/lib.sh"
mount_fs
setup_image
container_card "${P}web" "${P}bb" >"$M/cards/web.container.yaml"
wait_state "containers/${P}web" running 60
C=$M/containers/${P}web
[ "$(stat -c %a "$C/ctl")" = 600 ] || fail "ctl mode $(stat -c %a "$C/ctl")"
grep -q 'stop \[SECONDS\]' "$C/ctl" || fail "reading ctl: $(cat "$C/ctl")"
started() { sed -n 's/^started_at: //p' "$C/status"; }
# write1 TEXT: one write(2) of TEXT to ctl (bash's printf writes line by line).
write1() { python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
try:
    os.write(fd, sys.argv[2].encode())
except OSError as e:
    sys.exit("write: " + os.strerror(e.errno))' "$C/ctl" "$1"; }

log "stop, and stop again"
expect_ok bash -c "echo stop > '$C/ctl'"
# The write returns when the engine is done: the status says so at once.
[ "$(state_of "containers/${P}web")" = exited ] || fail "after stop: $(cat "$C/status")"
expect_ok bash -c "echo stop > '$C/ctl'"

log "start, pause, unpause"
expect_ok bash -c "echo start > '$C/ctl'"
wait_state "containers/${P}web" running 10
expect_ok bash -c "echo pause > '$C/ctl'"
wait_state "containers/${P}web" paused 10
[ "$(engine_state "${P}web")" = paused ] || fail "engine: $(engine_state "${P}web")"
expect_ok bash -c "echo unpause > '$C/ctl'"
wait_state "containers/${P}web" running 10

log "restart"
s0=$(started)
expect_ok bash -c "echo restart > '$C/ctl'"
wait_until 20 bash -c "[ \"\$(sed -n 's/^started_at: //p' '$C/status')\" != '$s0' ]" || fail "restart: started_at still $s0"
wait_state "containers/${P}web" running 10

log "kill [SIGNAL]"
expect_ok bash -c "echo kill > '$C/ctl'"
wait_state "containers/${P}web" exited 10
grep -qx 'exit_code: 137' "$C/status" || fail "after kill: $(cat "$C/status")"
expect_ok bash -c "printf 'start\n' > '$C/ctl'"
wait_state "containers/${P}web" running 10
expect_ok bash -c "echo kill TERM > '$C/ctl'"
wait_state "containers/${P}web" exited 10

log "several lines in one write, and one without a newline"
expect_ok write1 $'start\npause\nunpause\nstop 1\n'
[ "$(state_of "containers/${P}web")" = exited ] || fail "after start, pause, unpause, stop: $(cat "$C/status")"
wait_state "containers/${P}web" exited 10
expect_ok bash -c "printf start > '$C/ctl'"
wait_state "containers/${P}web" running 10

log "bad commands fail the write with EINVAL"
expect_fail "echo: write error: Invalid argument" bash -c "echo nope > '$C/ctl'"
expect_fail "Invalid argument" bash -c "echo 'stop soon' > '$C/ctl'"
expect_fail "Invalid argument" bash -c "echo 'kill NOSUCHSIGNAL' > '$C/ctl'"
expect_fail "Invalid argument" bash -c "echo 'pause now please' > '$C/ctl'"
expect_fail "/bin/echo: write error: Invalid argument" bash -c "/bin/echo nope > '$C/ctl'"
[ "$(state_of "containers/${P}web")" = running ] || fail "a bad command changed the state"
# The first bad line stops the rest.
expect_fail "write: Invalid argument" write1 $'nope\nstop\n'
expect_fail "write: Invalid argument" write1 $'\n\nstop 1 2\n'
[ "$(state_of "containers/${P}web")" = running ] || fail "a command after a bad one ran"

log "a container made outside cutipfs"
engine_create_foreign "${P}out"
wait_until 10 test -e "$M/containers/${P}out/ctl" || fail "no ctl for a foreign container"
expect_ok bash -c "echo stop 1 > '$M/containers/${P}out/ctl'"
[ "$(engine_state "${P}out")" = exited ] || fail "foreign: $(engine_state "${P}out")"
umount_fs
