#!/usr/bin/env bash
# containers/NAME/wait, as `docker wait`: a read blocks until the container stops and gives its
# exit code (code=$(cat containers/job/wait) in a script); one that is not running answers at
# once; a kill outside cutipfs ends it too; Ctrl-C ends a wait at once.
. "$(dirname "$0")/lib.sh"
mount_fs
setup_image

log "a job's exit code, once it ends"
container_card "${P}job" "${P}bb" "sh -c 'sleep 3; exit 7'" >"$M/cards/job.container.yaml"
wait_state "containers/${P}job" running 60
code=$(cat "$M/containers/${P}job/wait") || fail "cat wait failed"
[ "$code" = 7 ] || fail "wait gave '$code', want 7"
[ "$(state_of "containers/${P}job")" = exited ] || fail "status after the wait: $(cat "$M/containers/${P}job/status")"
log "not running: at once"
[ "$(timeout 10 cat "$M/containers/${P}job/wait")" = 7 ] || fail "a wait on an exited container did not answer"

log "killed outside cutipfs"
container_card "${P}long" "${P}bb" "sleep 3600" >"$M/cards/long.container.yaml"
wait_state "containers/${P}long" running 60
cat "$M/containers/${P}long/wait" >"$T/long.code" &
WAITER=$!
BG+=("$WAITER")
wait_until 10 has_open "$WAITER" "$M/containers/${P}long/wait" || fail "the waiter did not open wait"
sleep 1
kill -0 "$WAITER" || fail "the wait ended while the container ran: $(cat "$T/long.code")"
api -f -o /dev/null -X POST "$API/containers/${P}long/kill" || fail "kill"
wait_until 20 not_running "$WAITER" || fail "the wait did not end after the kill"
[ "$(cat "$T/long.code")" = 137 ] || fail "wait after a kill gave '$(cat "$T/long.code")', want 137"

log "Ctrl-C ends a wait at once"
api -f -o /dev/null -X POST "$API/containers/${P}long/start" || fail "start"
wait_state "containers/${P}long" running 60
# timeout's 124: the INT ended cat; 137: it did not, and the KILL 10 s later had to.
rc=0
timeout -s INT -k 10 2 cat "$M/containers/${P}long/wait" || rc=$?
[ "$rc" = 124 ] || fail "a wait interrupted by SIGINT: exit $rc, want 124 (137: it did not end)"
expect_fail "No such file or directory" cat "$M/containers/${P}nothing/wait"
umount_fs
