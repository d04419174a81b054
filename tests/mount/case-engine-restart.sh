#!/usr/bin/env bash
# The engine's daemon killed (SIGKILL) and started again under a mount (suite faults): a dockerd
# of the case's own (its data root, exec root, pidfile and socket under the case's directory,
# in a network namespace of its own, no bridge, no iptables; the shared dockerd is only asked
# for the test image), with readers on `events` and on a container's `follow`.
#  1. killed: the mount keeps answering from the last state and says the engine is unreachable;
#     a logs read fails (not hangs); both readers stay open.
#  2. started again on the same data root: the container with restart policy "always" is
#     started again, the one without is left exited. Before the mount is back, a container is
#     removed and one made (the engine's event ring starts empty after a restart: only the
#     reconcile can know of the removal's container).
#  3. the mount recovers by itself: reachable, the events reader sees new events, the follow
#     reader new output, and the tree equals the engine's own lists: the same containers and
#     networks (nothing missed, nothing invented), each container in the engine's state.
. "$(dirname "$0")/lib.sh"
[ "$KIND" = local ] || { echo "SKIP: this case runs its own local dockerd"; exit 77; }
for b in dockerd containerd runc unshare; do
	command -v "$b" >/dev/null || fail "$b is not installed (contrib/engines-up.sh installs it)"
done
D=$T/dockerd
MY=$T/d.sock
mkdir -p "$D/data" "$D/exec"
# Its own (empty) configuration: /etc/docker/daemon.json is the shared dockerd's.
printf '{}\n' >"$D/daemon.json"
DPID=
docker0=0
ip link show docker0 >/dev/null 2>&1 && docker0=1

my_api() { curl -sS --max-time 30 --unix-socket "$MY" "$@"; }
answers() { my_api -o /dev/null -f http://engine/_ping 2>/dev/null; }
# In a network namespace of its own: a dockerd without a bridge (--bridge=none) deletes the
# interface docker0 where it runs (the shared dockerd's, on the host), and this one needs no
# network at all. The socket is a file, reached from here all the same.
dockerd_bg() {
	unshare --net -- dockerd --host "unix://$MY" --data-root "$D/data" --exec-root "$D/exec" \
		--pidfile "$D/dockerd.pid" --config-file "$D/daemon.json" \
		--containerd-namespace "cutipfs-$P" --containerd-plugins-namespace "cutipfs-$P-plugins" \
		--bridge=none --iptables=false --ip-masq=false \
		</dev/null >>"$D/dockerd.log" 2>&1 &
	DPID=$!
}
start_dockerd() {
	dockerd_bg
	wait_until 60 answers || fail "the case's dockerd does not answer: $(tail -20 "$D/dockerd.log")"
	[ "$docker0" = 0 ] || ip link show docker0 >/dev/null 2>&1 ||
		fail "the case's dockerd ($DPID) deleted the host's docker0"
}
# The containerd the case's dockerd started (it keeps the pid in its exec root), while it runs.
containerd_pid() {
	local p
	p=$(cat "$D/exec/containerd/containerd.pid" 2>/dev/null) || return 1
	[ -n "$p" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = containerd ] && echo "$p"
}
# stop_containerd: it dies with its dockerd (a parent-death signal), but may still hold its
# database's lock a moment later, and a new dockerd would then wait for it in vain.
stop_containerd() {
	local p
	p=$(containerd_pid) || return 0
	wait_until 10 not_running "$p" || kill -9 "$p" 2>/dev/null
	wait_until 10 not_running "$p"
}
# Its containers first (with the dockerd up: it stops them and their shims; a killed one is
# started again for that), then the dockerd, then its containerd, then its directory.
stop_dockerd() {
	local ids id p
	if [ -z "$DPID" ] && [ -d "$D/data" ]; then
		stop_containerd
		dockerd_bg
		wait_until 60 answers
	fi
	if answers; then
		ids=$(my_api "$API/containers/json?all=1" | python3 -c 'import json,sys; [print(c["Id"]) for c in json.load(sys.stdin)]' 2>/dev/null || true)
		for id in $ids; do my_api -X DELETE "$API/containers/$id?force=1" >/dev/null 2>&1 || true; done
	fi
	if [ -n "$DPID" ]; then
		kill "$DPID" 2>/dev/null
		wait_until 30 not_running "$DPID" || kill -9 "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	p=$(containerd_pid) && kill "$p" 2>/dev/null
	stop_containerd
	# It bind-mounts its data root on itself: unmount that (and what else is left) first.
	grep -o " $D/[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
	mv "$D/dockerd.log" "$T/" 2>/dev/null
	rm -rf "$D"
}
CLEANUP+=(stop_dockerd)

log "a dockerd of the case's own, with the test image"
start_dockerd
api "$API/images/$TEST_IMAGE/get" |
	my_api -X POST -H 'Content-Type: application/x-tar' --data-binary @- "$API/images/load" >/dev/null ||
	fail "could not load $TEST_IMAGE into the case's dockerd"
# From here on the witness, and the mount's engine, is the case's dockerd.
SOCK=$MY
ENGINE=unix://$MY
# mk_container NAME RESTART CMD: a container, started, network none (there is no bridge).
mk_container() {
	api -X POST -H 'Content-Type: application/json' "$API/containers/create?name=$1" \
		-d "{\"Image\":\"$TEST_IMAGE\",\"Cmd\":[\"sh\",\"-c\",\"$3\"],\"Labels\":{\"cutipfs.test\":\"$W\"},\"HostConfig\":{\"NetworkMode\":\"none\",\"RestartPolicy\":{\"Name\":\"$2\"}}}" >/dev/null
	api -X POST "$API/containers/$1/start" >/dev/null
}
SLEEP="trap 'exit 0' TERM; sleep 3600 & wait"
mk_container "${P}always" always "$TICK_CMD"
mk_container "${P}once" no "$SLEEP"
mk_container "${P}gone" no "$SLEEP"

# The tree and the engine's lists: names, and each container's state.
engine_containers() {
	api "$API/containers/json?all=1" | python3 -c '
import json,sys
for c in json.load(sys.stdin): print(c["Names"][0].lstrip("/"), c["State"])' | sort
}
tree_containers() {
	local d
	for d in "$M"/containers/*/; do
		d=${d%/}
		[ -d "$d" ] && echo "${d##*/} $(state_of "containers/${d##*/}")"
	done | sort
}
engine_networks() { api "$API/networks" | python3 -c 'import json,sys; [print(n["Name"]) for n in json.load(sys.stdin)]' | sort; }
tree_networks() { ls "$M/networks" | sort; }
tree_is_engine() {
	local a b
	a=$(engine_containers) && b=$(tree_containers) && [ -n "$a" ] && [ "$a" = "$b" ] &&
		a=$(engine_networks) && b=$(tree_networks) && [ "$a" = "$b" ]
}
tree_diff() {
	echo "engine: $(engine_containers | tr '\n' ';') $(engine_networks | tr '\n' ' ')"
	echo "tree:   $(tree_containers | tr '\n' ';') $(tree_networks | tr '\n' ' ')"
}

log "mount; readers on events and on follow"
mount_fs
wait_until 15 engine_reachable || fail "engine: $(cat "$M/engine")"
wait_until 30 tree_is_engine || fail "the tree is not the engine's at the start: $(tree_diff)"
C=$M/containers/${P}always
events_start
follow_start "$C"

log "1. the dockerd killed"
kill -9 "$DPID"
wait "$DPID" 2>/dev/null || true
DPID=
docker0=0
ip link show docker0 >/dev/null 2>&1 && docker0=1
wait_until 15 engine_unreachable || fail "engine after the kill: $(cat "$M/engine")"
echo "    engine says: state: $(engine_line state)"
not_hung 10 cat "$C/status"
[ "$RC" -eq 0 ] || fail "status with the engine away: $(cat "$T/out")"
grep -q '^engine: unreachable' "$T/out" || fail "status does not say the engine is unreachable: $(cat "$T/out")"
not_hung 10 cat "$C/logs"
[ "$RC" -ne 0 ] && grep -q "Connection refused" "$T/out" || fail "logs with the engine away: exit $RC: $(cat "$T/out")"
echo "    logs: $(cat "$T/out")"
not_hung 10 ls "$M/containers"
[ "$RC" -eq 0 ] || fail "ls containers with the engine away: $(cat "$T/out")"
kill -0 "$FOLLOW" || fail "follow ended when the engine died"

log "2. started again on the same data root; a container removed, one made"
stop_containerd || fail "the killed dockerd's containerd does not exit"
start_dockerd
api -X DELETE "$API/containers/${P}gone?force=1" >/dev/null
mk_container "${P}new" no "$SLEEP"
wait_until 30 sh -c "[ \"\$(curl -s --unix-socket '$MY' '$API/containers/${P}always/json' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"State\"][\"Status\"])')\" = running ]" ||
	fail "the restart=always container did not come back: $(engine_containers | tr '\n' ';')"
echo "    engine: $(engine_containers | tr '\n' ';')"
[ "$(engine_state "${P}once")" = exited ] || fail "${P}once: $(engine_state "${P}once") (no restart policy)"

log "3. the mount recovers by itself"
wait_until 30 engine_reachable || fail "not reachable again: $(cat "$M/engine")"
wait_until 60 tree_is_engine || fail "the tree is not the engine's after the restart: $(tree_diff)"
echo "    tree:   $(tree_containers | tr '\n' ';')"
[ ! -e "$M/containers/${P}gone" ] || fail "${P}gone is still in the tree"
ev_mark
mk_container "${P}later" no "$SLEEP"
wait_event 30 "$(ev container "${P}later" start)"
follow_resumes
wait_until 30 tree_is_engine || fail "the tree is not the engine's at the end: $(tree_diff)"
grep -q "^-- cutipfs" "$EVLOG" && fail "events dropped: $(cat "$EVLOG")"
umount_fs
