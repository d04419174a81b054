#!/usr/bin/env bash
# Undoes contrib/swarm-up.sh: removes every service, makes the workers leave, stops the worker
# dockerds (only the ones swarm-up.sh started: recorded in $CUTIPFS_STATE/swarm.pids and their
# pidfiles, checked to be a dockerd of the node's exec-root), then their containerd and any
# container left behind by a killed worker, unmounts and deletes the workers' state and bridges,
# and makes the main dockerd leave the swarm (an ordinary engine again; overlay networks and the
# docker_gwbridge swarm-up.sh caused are removed). Never stops the main dockerd, never touches podman.
# Idempotent. Usage: swarm-down.sh
set -uo pipefail

top_state=${CUTIPFS_STATE:-/tmp/cutipfs-engines}
sw=$top_state/swarm
pids=$top_state/swarm.pids
main_sock=/run/docker.sock
nodes=(2 3)
export DOCKER_API_VERSION=${DOCKER_API_VERSION:-1.41}
unset DOCKER_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH

docker_bin=docker
for c in /usr/bin/docker /usr/local/bin/docker; do
	if [ -x "$c" ] && timeout 10 "$c" -H "unix://$main_sock" version >/dev/null 2>&1; then docker_bin=$c; break; fi
done
dk() { timeout 60 "$docker_bin" -H "unix://$main_sock" "$@"; }
dn() { local n=$1; shift; timeout 60 "$docker_bin" -H "unix://$sw/node$n.sock" "$@"; }
answers() { curl -s --max-time 2 --unix-socket "$1" http://localhost/_ping 2>/dev/null | grep -q OK; }
cmdline() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null; }

# stop PID WHAT GRACE_S: SIGTERM, wait, SIGKILL, wait
stop() {
	local pid=$1 what=$2 grace=$3
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 $((grace * 5))); do kill -0 "$pid" 2>/dev/null || { echo "swarm-down: stopped $what ($pid)"; return 0; }; sleep 0.2; done
	kill -KILL "$pid" 2>/dev/null
	for _ in $(seq 1 25); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
	echo "swarm-down: killed $what ($pid)"
}

main_up=0
answers "$main_sock" && main_up=1
[ $main_up = 1 ] || echo "swarm-down: the main dockerd does not answer on $main_sock; only the workers are cleaned" >&2
manager=0
[ $main_up = 1 ] && [ "$(dk info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null)" = true ] && manager=1

# ---- services, while a manager still schedules ----
if [ $manager = 1 ]; then
	svcs=$(dk service ls -q 2>/dev/null)
	if [ -n "$svcs" ]; then
		# shellcheck disable=SC2086
		dk service rm $svcs >/dev/null && echo "swarm-down: removed services:" $svcs
		# Their task containers go asynchronously; on the main dockerd, wait (bounded).
		for _ in $(seq 1 75); do
			[ -z "$(dk ps -aq --filter label=com.docker.swarm.service.id)" ] && break
			sleep 0.2
		done
	fi
fi

# ---- the workers ----
for n in "${nodes[@]}"; do
	d=$sw/node$n
	sock=$sw/node$n.sock
	if answers "$sock"; then
		st=$(dn "$n" info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)
		if [ -n "$st" ] && [ "$st" != inactive ]; then
			dn "$n" swarm leave --force >/dev/null 2>&1 && echo "swarm-down: node$n left the swarm"
		fi
	fi
	# Its dockerds: every recorded pid (and the pidfile's) that still is a dockerd of this node.
	cands=$(awk -v w="dockerd-node$n" '$1 == w { print $2 }' "$pids" 2>/dev/null; cat "$sw/node$n.pid" 2>/dev/null)
	for pid in $(echo "$cands" | sort -u); do
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || continue
		[[ "$(cmdline "$pid")" == *"--exec-root $d/exec "* ]] || continue
		stop "$pid" "node$n dockerd" 30
	done
	# Its containerd (dockerd's own, which dockerd normally stops) when still there.
	cpid=$(cat "$d/exec/containerd/containerd.pid" 2>/dev/null)
	if [ -n "$cpid" ] && [ "$(cat "/proc/$cpid/comm" 2>/dev/null)" = containerd ] &&
		[[ "$(cmdline "$cpid")" == *"$d/exec/containerd/"* ]]; then
		stop "$cpid" "node$n containerd" 15
	fi
	# Containers a killed dockerd left running: their runc state is under the node's exec-root.
	for root in "$d"/exec/runtime-*/*; do
		[ -d "$root" ] || continue
		for c in $(runc --root "$root" list -q 2>/dev/null); do
			runc --root "$root" kill -a "$c" KILL 2>/dev/null
			for _ in $(seq 1 25); do
				[ "$(runc --root "$root" state "$c" 2>/dev/null | jq -r .status 2>/dev/null)" = running ] || break
				sleep 0.2
			done
			runc --root "$root" delete -f "$c" 2>/dev/null && echo "swarm-down: removed node$n container ${c:0:12}"
		done
	done
	# Their shims (started by this node's containerd: they name its socket).
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		case $(cat "$p/comm" 2>/dev/null) in containerd-shim*) ;; *) continue ;; esac
		[[ "$(cmdline "$pid")" == *"$d/exec/containerd/containerd.sock"* ]] || continue
		stop "$pid" "node$n containerd-shim" 5
	done
	# Mounts under the node's state (overlay2 layers, netns files), deepest first.
	if [ -d "$d" ]; then
		findmnt -rn -o TARGET | awk -v p="$d/" 'index($0, p) == 1' | sort -r | while read -r m; do
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || echo "swarm-down: cannot unmount $m" >&2
		done
		rm -rf --one-file-system "$d" || echo "swarm-down: could not delete all of $d" >&2
	fi
	rm -f "$sock" "$sw/node$n.pid"
	for br in "cutipfs-br$n" "cutipfs-gw$n"; do
		ip link show "$br" >/dev/null 2>&1 && ip link del "$br" && echo "swarm-down: deleted bridge $br"
	done
done

# ---- the manager: an ordinary engine again ----
if [ $main_up = 1 ]; then
	if [ $manager = 1 ]; then
		for net in $(dk network ls -q --filter driver=overlay --filter scope=swarm 2>/dev/null); do
			[ "$(dk network inspect --format '{{.Name}}' "$net" 2>/dev/null)" = ingress ] && continue
			dk network rm "$net" >/dev/null 2>&1 && echo "swarm-down: removed overlay network $net"
		done
	fi
	st=$(dk info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)
	if [ -n "$st" ] && [ "$st" != inactive ]; then
		dk swarm leave --force >/dev/null && echo "swarm-down: the main dockerd left the swarm"
		for _ in $(seq 1 50); do
			[ "$(dk info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)" = inactive ] && break
			sleep 0.2
		done
	fi
	# Overlay networks left behind after the leave (local scope now).
	for net in $(dk network ls -q --filter driver=overlay 2>/dev/null); do
		dk network rm "$net" >/dev/null 2>&1 && echo "swarm-down: removed overlay network $net"
	done
	# docker_gwbridge appeared with swarm init: removed when swarm-up.sh noted it was not there before.
	if [ -f "$sw/manager-gwbridge-ours" ] && dk network inspect docker_gwbridge >/dev/null 2>&1; then
		for _ in $(seq 1 25); do
			dk network rm docker_gwbridge >/dev/null 2>&1 && { echo "swarm-down: removed docker_gwbridge"; break; }
			sleep 0.2
		done
	fi
	dk network inspect docker_gwbridge >/dev/null 2>&1 || rm -f "$sw/manager-gwbridge-ours"
	st=$(dk info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)
	[ "$st" = inactive ] || { echo "swarm-down: the main dockerd's swarm state is still '$st'" >&2; exit 1; }
fi
rm -f "$sw/swarm.env" "$pids"
rmdir "$sw" 2>/dev/null
exit 0
