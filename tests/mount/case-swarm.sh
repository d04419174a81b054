#!/usr/bin/env bash
# A Swarm through files (suite swarm), on a real cluster of three nodes that
# contrib/swarm-up.sh made (the manager is the engine's own dockerd): a card with replicas: 3
# becomes a service whose three tasks spread over the nodes; `scale 5` through ctl; a changed
# card rolls an update through the tasks; logs and follow show every task's output; an update
# the Swarm paused goes on with unpause; the tree answers all along; draining a node moves its tasks and the tree shows
# it; a worker's dockerd killed shows that node down and its tasks elsewhere; rmdir removes the
# service and its card. The engine's own API is the witness.
. "$(dirname "$0")/lib.sh"
LOG_ALLOW='swarm|service|node|task|down|unreachable'
: "${CUTIPFS_SWARM_ENV:?run contrib/swarm-up.sh and give its swarm.env as CUTIPFS_SWARM_ENV}"
# The cluster as swarm-up.sh keeps it (idempotent: a worker an earlier run killed is started).
SWARM_UP() { CUTIPFS_STATE=$(dirname "$(dirname "$CUTIPFS_SWARM_ENV")") bash "$(dirname "$0")/../../contrib/swarm-up.sh" "$@"; }
SWARM_UP >/dev/null 2>&1 || fail "contrib/swarm-up.sh failed"
. "$CUTIPFS_SWARM_ENV"
S=${P}svc
svc_json() { api "$API/services/$S" | python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
# Tasks of the service running, as the engine says: "NODEID" per line.
running_nodes() {
	api "$API/tasks" | python3 -c '
import json,sys
for t in json.load(sys.stdin):
    if t.get("ServiceID") and t["Status"]["State"] == "running" and t["DesiredState"] == "running":
        print(t["ServiceID"], t["NodeID"])' | awk -v id="$(svc_json 'j["ID"]')" '$1 == id {print $2}'
}
CLEANUP+=("api -X DELETE \"$API/services/$S\" >/dev/null 2>&1")
status_line() { sed -n "s/^$2: //p" "$M/$1/status"; }
replicas_are() { [ "$(status_line "services/$S" replicas)" = "$1" ] && [ "$(head -1 "$M/services/$S/status")" = running ]; }

# Nodes left by an earlier run (a killed worker that came back as a new node) share a hostname
# with the live ones, and their names would get the node id appended: they go first, once the
# manager sees them down (about 12 s after their dockerd died).
prune_nodes() {
	local id
	for id in $(api "$API/nodes" | python3 -c 'import json,sys; [print(n["ID"]) for n in json.load(sys.stdin) if n["Status"]["State"] != "ready"]'); do
		api -X DELETE "$API/nodes/$id?force=1" >/dev/null
	done
	api "$API/nodes" | python3 -c 'import json,sys; h=[n["Description"]["Hostname"] for n in json.load(sys.stdin)]; sys.exit(len(h) != len(set(h)))'
}
wait_until 40 prune_nodes || fail "nodes share a hostname: $(api "$API/nodes" | head -c 800)"
log "mounted as a Swarm: services/ and nodes/"
mount_fs -o backend=swarm
grep -qx 'driver: swarm' "$M/engine" || fail "engine: $(cat "$M/engine")"
grep -q '^capabilities: .*services' "$M/engine" || fail "engine: $(cat "$M/engine")"
ls "$M" | grep -qx services || fail "no services/: $(ls "$M")"
wait_until 10 test "$(ls "$M/nodes" | wc -l)" -ge 3 || fail "nodes: $(ls "$M/nodes")"
for n in cutipfs-node2 cutipfs-node3; do
	[ "$(head -1 "$M/nodes/$n/status")" = ready ] || fail "$n: $(cat "$M/nodes/$n/status")"
done
grep -q '^role: manager' "$M"/nodes/*/status || fail "no manager among the nodes"

log "a card with replicas: 3 is a service of three tasks, spread over the nodes"
( cat "$M/events" > "$T/events" ) </dev/null & BG+=($!)
image_card "${P}bb" >"$M/cards/bb.image.yaml"
# Each task prints one line, "up", then sleeps $1 s.
svc_card() { { container_card "$S" "${P}bb" "sh -c 'echo up; sleep $1'"; echo "  replicas: $2"; } >"$M/cards/svc.container.yaml"; }
svc_card 3600 3
wait_until 60 replicas_are 3/3 || fail "status: $(cat "$M/services/$S/status") tasks: $(cat "$M/services/$S/tasks") errors: $(cat "$M/errors") engine: $(api "$API/services" | head -c 600)"
[ "$(svc_json 'j["Spec"]["Mode"]["Replicated"]["Replicas"]')" = 3 ] || fail "engine replicas"
[ "$(running_nodes | sort -u | wc -l)" -ge 2 ] || fail "tasks on one node only: $(cat "$M/services/$S/tasks")"
[ "$(grep -c ' running running' "$M/services/$S/tasks")" = 3 ] || fail "tasks: $(cat "$M/services/$S/tasks")"
grep -qx "card: svc.container.yaml" "$M/services/$S/status" || fail "status card: $(cat "$M/services/$S/status")"
[ -z "$(ls "$M/containers" | grep -x "$S" || true)" ] || fail "the card made a container too"
# The manager's own task container, in containers/ with whose it is.
own=$(grep -l "^service: $S\$" "$M"/containers/*/status 2>/dev/null | head -1)
[ -n "$own" ] || fail "no task container of $S on the manager: $(ls "$M/containers")"
grep -Eq '^slot: [0-9]+$' "$own" || fail "task container status: $(cat "$own")"
# A unit of the service's card: up while the service runs; its ctl is a single engine's.
printf 'apiVersion: cutip/v1\nkind: Unit\nmetadata:\n  name: %s\nspec:\n  containerRef: {ref: containers/%s}\n' "$S" "$S" >"$T/unit.yaml"
cp "$T/unit.yaml" "$M/cards/svc.unit.yaml"
[ "$(head -n 1 "$M/units/$S/status")" = up ] || fail "the service's unit: $(cat "$M/units/$S/status")"
expect_fail "Operation not supported" bash -c "echo down > '$M/units/$S/ctl'"
rm "$M/cards/svc.unit.yaml"

# From here until the rmdir the tree is read over and over while the cluster churns (scale,
# updates, a drain, a node killed): every read must answer, none may hang.
churn() {
	while [ ! -e "$T/churn.stop" ]; do
		for f in "$M/services/$S/status" "$M/services/$S/tasks" "$M"/nodes/cutipfs-node[23]/status; do
			timeout 10 cat "$f" >/dev/null 2>>"$T/churn.err" || echo "read $f: $?" >>"$T/churn.err"
		done
		timeout 10 ls "$M/containers" "$M/services" "$M/nodes" >/dev/null 2>>"$T/churn.err" || echo "ls: $?" >>"$T/churn.err"
		sleep 0.2
	done
}
: >"$T/churn.err"
( churn ) </dev/null & BG+=($!)

log "logs: every task's output, each line led by NAME.SLOT@NODE"
# Whether $T/F.logs has the line of each slot N given: "S.N@NODE | up", NODE the one
# services/S/tasks runs it on.
logs_have_slots_in() {
	local f=$1 slot node
	shift
	for slot in "$@"; do
		node=$(awk -v s="$slot" '$2 == s && $4 == "running" && $5 == "running" {print $3; exit}' "$M/services/$S/tasks")
		grep -qxF "$S.$slot@$node | up" "$T/$f.logs" || return 1
	done
}
logs_ok() { cat "$M/services/$S/logs" >"$T/svc.logs" && logs_have_slots_in svc "$@"; }
wait_until 30 logs_ok 1 2 3 || fail "logs: $(cat "$T/svc.logs") tasks: $(cat "$M/services/$S/tasks")"
[ "$(grep -c . "$T/svc.logs")" = 3 ] || fail "logs has other lines: $(cat "$T/svc.logs")"
[ "$(sed 's/ |.*//; s/.*@//' "$T/svc.logs" | sort -u | wc -l)" -ge 2 ] || fail "logs from one node only: $(cat "$T/svc.logs")"

log "echo 'scale 5' > ctl; follow shows the new tasks' output as it comes"
( cat "$M/services/$S/follow" > "$T/follow.logs" ) </dev/null & BG+=($!)
sleep 1
echo 'scale 5' >"$M/services/$S/ctl"
wait_until 60 replicas_are 5/5 || fail "after scale: $(cat "$M/services/$S/status")"
expect_fail "Invalid argument" bash -c "echo 'scale lots' > '$M/services/$S/ctl'"
wait_until 30 logs_have_slots_in follow 4 5 || fail "follow: $(cat "$T/follow.logs") tasks: $(cat "$M/services/$S/tasks")"
! grep -qx "$S\.[123]@.* | up" "$T/follow.logs" || fail "follow repeated what came before it was opened: $(cat "$T/follow.logs")"

log "a changed card rolls an update through the tasks (the same service)"
id0=$(svc_json 'j["ID"]')
svc_card 3601 5
[ "$(svc_json 'j["ID"]')" = "$id0" ] || fail "the service was made again"
args_end() { svc_json 'j["Spec"]["TaskTemplate"]["ContainerSpec"]["Args"][-1]' | grep -q "sleep $1\$"; }
wait_until 30 args_end 3601 || fail "the spec did not change"
wait_until 120 sh -c "grep -qx 'update: completed' '$M/services/$S/status' && grep -qx 'replicas: 5/5' '$M/services/$S/status'" ||
	fail "the update did not complete: $(cat "$M/services/$S/status")"

log "an update whose tasks fail is paused by the Swarm; unpause goes on; pause cannot be asked"
expect_fail "Operation not supported" bash -c "echo pause > '$M/services/$S/ctl'"
grep -q "services/$S/ctl: pause: .*cannot" "$M/errors" || fail "errors: $(cat "$M/errors")"
expect_fail "Invalid argument" bash -c "echo unpause > '$M/services/$S/ctl'"
{ container_card "$S" "${P}bb" "sh -c 'exit 3'"; echo "  replicas: 5"; } >"$M/cards/svc.container.yaml"
wait_until 90 sh -c "[ \"\$(head -1 '$M/services/$S/status')\" = paused ] && grep -qx 'update: paused' '$M/services/$S/status'" ||
	fail "the failing update was not paused: $(cat "$M/services/$S/status")"
v0=$(svc_json 'j["Version"]["Index"]')
echo unpause >"$M/services/$S/ctl"
[ "$(svc_json 'j["Version"]["Index"]')" -gt "$v0" ] || fail "unpause did not update the service"
wait_until 30 sh -c "! grep -qx 'update: paused' '$M/services/$S/status'" || fail "still paused: $(cat "$M/services/$S/status")"
svc_card 3602 5
wait_until 120 sh -c "grep -qx 'update: completed' '$M/services/$S/status' && grep -qx 'replicas: 5/5' '$M/services/$S/status'" ||
	fail "the good card did not roll out: $(cat "$M/services/$S/status")"

log "draining a node moves its tasks; the tree shows it"
echo drain >"$M/nodes/cutipfs-node2/ctl"
grep -qx 'availability: drain' "$M/nodes/cutipfs-node2/status" || fail "node2: $(cat "$M/nodes/cutipfs-node2/status")"
wait_until 60 sh -c "grep -qx 'tasks: 0 running' '$M/nodes/cutipfs-node2/status'" ||
	fail "node2 still runs tasks: $(cat "$M/nodes/cutipfs-node2/status")"
wait_until 60 replicas_are 5/5 || fail "after drain: $(cat "$M/services/$S/status")"
! grep -q " cutipfs-node2 running running" "$M/services/$S/tasks" || fail "tasks: $(cat "$M/services/$S/tasks")"
echo active >"$M/nodes/cutipfs-node2/ctl"
grep -qx 'availability: active' "$M/nodes/cutipfs-node2/status" || fail "node2 active: $(cat "$M/nodes/cutipfs-node2/status")"

log "a worker's dockerd killed: its node is down and its tasks run elsewhere"
kill -9 "$SWARM_NODE3_PID"
wait_until 60 sh -c "[ \"\$(head -1 '$M/nodes/cutipfs-node3/status')\" = down ]" ||
	fail "node3: $(cat "$M/nodes/cutipfs-node3/status")"
wait_until 60 sh -c "[ \"\$(grep -c ' running running' '$M/services/$S/tasks')\" = 5 ] && ! grep -q ' cutipfs-node3 running running' '$M/services/$S/tasks'" ||
	fail "tasks not rescheduled: $(cat "$M/services/$S/tasks")"
ls "$M/containers" >/dev/null || fail "containers/ does not answer"
SWARM_UP --restart-node 3 >"$T/restart.log" 2>&1 || fail "node3 did not come back: $(cat "$T/restart.log")"
wait_until 60 sh -c "[ \"\$(head -1 '$M/nodes/cutipfs-node3/status')\" = ready ]" ||
	fail "node3 after restart: $(cat "$M/nodes/cutipfs-node3/status")"

log "events said it"
grep -Eq " service $S create" "$T/events" || fail "events: $(cat "$T/events")"
grep -Eq " service $S update state=paused" "$T/events" || fail "events: $(cat "$T/events")"
grep -Eq " service $S converged" "$T/events" || fail "events: $(cat "$T/events")"
grep -Eq " node cutipfs-node3 down" "$T/events" || fail "events: $(cat "$T/events")"
grep -Eq " task $S\.[0-9]+ running node=cutipfs-node[23] task=[0-9a-z]{12}" "$T/events" || fail "events: $(cat "$T/events")"
grep -Eq " node cutipfs-node2 drain" "$T/events" || fail "events: $(cat "$T/events")"

touch "$T/churn.stop"
[ ! -s "$T/churn.err" ] || fail "the tree did not answer while the cluster churned: $(head -5 "$T/churn.err")"

log "rmdir removes the service and its card"
rmdir "$M/services/$S"
[ "$(api -o /dev/null -w '%{http_code}' "$API/services/$S")" = 404 ] || fail "the service is still there"
[ ! -e "$M/cards/svc.container.yaml" ] || fail "the card is still there"
wait_until 10 sh -c "! ls '$M/services' | grep -qx '$S'" || fail "services/ still lists it"
umount_fs

log "Podman has no Swarm: -o backend=swarm refuses to mount"
out=$("$CUTIPFS_BIN" -o "engine=unix:///run/podman/podman.sock,backend=swarm,workspace=$W" "$M" 2>&1) && fail "mounted on Podman"
echo "$out" | grep -q "Podman" || fail "said: $out"
! mountpoint -q "$M" || fail "a mount is left"
echo "    said: $out"
