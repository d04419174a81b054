#!/usr/bin/env bash
# An engine that ends its event stream while it keeps answering (suite faults). Podman 4.3 ends
# every GET /events?since=... when it rotates its events log file (events_logfile_max_size,
# 1 MB by default: in a long CI run, at any moment). A podman service of the case's own, whose
# log is a file of its own of 24 KB at most, so that a few dozen containers made and removed
# through its API rotate it twice under the mount. A rotation keeps the newer half of the log
# (here some 40 events, a few seconds at the case's pace): what the daemon replays after a
# stream ended must come from there, as from Docker's ring of 256. Through those rotations:
#  - the engine never shows as unreachable: not in `engine`, not in a container's status;
#  - a reader of containers/NAME/wait stays blocked while the container runs, and gives 137
#    once the container is killed;
#  - the events reader gets each of those containers' create and destroy, each once;
#  - the daemon asks again for the stream, not in a loop: a replay and a new stream per stream
#    ended (a fault proxy that passes everything counts the GET /events).
. "$(dirname "$0")/lib.sh"
[ "$KIND" = local ] || { echo "SKIP: this case runs its own local podman service"; exit 77; }
command -v podman >/dev/null || fail "podman is not installed (contrib/engines-up.sh installs it)"
[ -f /etc/containers/containers.conf ] ||
	fail "no /etc/containers/containers.conf (contrib/engines-up.sh writes it)"

PS=$T/podman.sock
PEV=$T/podman-events.log
# CONTAINERS_CONF replaces the system's file: the same settings, and the events log here.
if grep -q '^\[engine\]' /etc/containers/containers.conf; then
	sed "/^\[engine\]/a events_logfile_path = \"$PEV\"\nevents_logfile_max_size = \"24k\"" \
		/etc/containers/containers.conf >"$T/containers.conf"
else
	{ cat /etc/containers/containers.conf
	  printf '[engine]\nevents_logfile_path = "%s"\nevents_logfile_max_size = "24k"\n' "$PEV"; } >"$T/containers.conf"
fi
PPID_SVC=
stop_podman() {
	[ -n "$PPID_SVC" ] || return 0
	engine_remove_labelled "cutipfs.workspace=$W"
	engine_remove_labelled "cutipfs.test=$W"
	engine_remove_tags
	kill "$PPID_SVC" 2>/dev/null
	wait_until 20 not_running "$PPID_SVC" || kill -9 "$PPID_SVC" 2>/dev/null
	wait "$PPID_SVC" 2>/dev/null
	PPID_SVC=
	SOCK=$WITNESS # for the rest of the cleanup: nothing of the case's is left there
}
CLEANUP+=(stop_podman)
log "a podman service of the case's own, its events log rotated at 24 KB"
CONTAINERS_CONF=$T/containers.conf podman system service --time=0 "unix://$PS" \
	</dev/null >"$T/podman.log" 2>&1 &
PPID_SVC=$!
WITNESS=$SOCK
SOCK=$PS
ENGINE=unix://$PS
wait_until 30 api -f -o /dev/null http://engine/_ping || fail "the case's podman service does not answer: $(cat "$T/podman.log")"

fault_proxy_up
mount_fs
wait_until 15 engine_reachable || fail "engine: $(cat "$M/engine")"
setup_image
container_card "${P}long" "${P}bb" "sleep 3600" >"$M/cards/long.container.yaml"
wait_state "containers/${P}long" running 60
C=$M/containers/${P}long
events_start

log "a waiter, and a watch on what the engine and the status say"
cat "$C/wait" >"$T/long.code" &
WAITER=$!
BG+=("$WAITER")
wait_until 10 has_open "$WAITER" "$C/wait" || fail "the waiter did not open wait"
( while :; do
	grep -h '^engine: \|^state: \|^error: ' "$C/status" "$M/engine" 2>&1 | grep -v '^state: reachable$'
	sleep 0.1
done ) >"$T/said" 2>&1 &
BG+=($!)
streams() { grep -Ec '^pass GET /v[0-9.]+/events' "$PLOG" || true; }

log "containers made and removed until the log has rotated twice"
rotations=0 last=0 made=0
for i in $(seq 200); do
	api -f -o /dev/null -X POST -H 'Content-Type: application/json' \
		"$API/containers/create?name=${P}r$i" \
		-d "{\"Image\":\"$TEST_IMAGE\",\"Cmd\":[\"true\"],\"Labels\":{\"cutipfs.test\":\"$W\"}}" || fail "create ${P}r$i"
	api -f -o /dev/null -X DELETE "$API/containers/${P}r$i" || fail "remove ${P}r$i"
	made=$i
	size=$(stat -c %s "$PEV")
	[ "$size" -lt "$last" ] && rotations=$((rotations + 1))
	last=$size
	[ "$rotations" -ge 2 ] && break
	sleep 0.1
done
[ "$rotations" -ge 2 ] || fail "the case's podman did not rotate its events log ($last bytes after $made containers)"
sleep 2
echo "    $made containers, $rotations rotations, $(streams) GET /events"
[ "$(streams)" -le $((4 * rotations + 4)) ] || fail "$(streams) GET /events for $rotations rotations"

kill -0 "$WAITER" || fail "the wait ended while the container ran: '$(cat "$T/long.code")'"
[ ! -s "$T/said" ] || fail "the engine was said to be out of reach: $(sort "$T/said" | uniq -c)"
for i in $(seq "$made"); do
	wait_event 30 "$(ev container "${P}r$i" destroy)"
	for a in create destroy; do
		n=$(grep -Ec "^$(ev container "${P}r$i" $a)\$" "$EVLOG" || true)
		[ "$n" = 1 ] || fail "${P}r$i: $n $a lines, want 1: $(grep " ${P}r$i " "$EVLOG")"
	done
done

log "the waiter still answers: the container killed, 137"
api -f -o /dev/null -X POST "$API/containers/${P}long/kill" || fail "kill"
wait_until 20 not_running "$WAITER" || fail "the wait did not end after the kill"
[ "$(cat "$T/long.code")" = 137 ] || fail "wait after a kill gave '$(cat "$T/long.code")', want 137"
umount_fs
