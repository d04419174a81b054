#!/usr/bin/env bash
# A three-node Docker Swarm on this one machine, for the mount tests of the Swarm backend.
#
#   manager  the main dockerd on unix:///run/docker.sock (contrib/engines-up.sh starts it):
#            `swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377`
#   workers  cutipfs-node2 and cutipfs-node3: one more dockerd each, under `unshare --uts` (its own
#            hostname), its own --data-root, --exec-root, --pidfile, --config-file, key, socket
#            $STATE/nodeN.sock, bridge cutipfs-brN (10.20N.0.1/24) and docker_gwbridge (bridge
#            cutipfs-gwN, 10.21N.0.0/24), --iptables=false, --containerd-namespace cutipfs-nodeN, no
#            --containerd: each runs its own containerd (dockerd's managed one, socket in its exec-root).
#            (--containerd=/var/run/docker/containerd/containerd.sock, the main dockerd's, also works
#            with its own namespaces, but would die and restart with the main dockerd.)
#            Joined with --listen-addr/--advertise-addr 127.0.0.N (swarm 2377, gossip 7946).
#            Never --default-address-pool (a restarted dockerd with it deletes the host's docker0) nor
#            --bridge=none (deletes docker0 at start).
#   image    cutipfs-busybox:latest (or $CUTIPFS_TEST_IMAGE) copied from the manager into each worker
#
# STATE is ${CUTIPFS_STATE:-/tmp/cutipfs-engines}/swarm. Every pid started is appended to
# $CUTIPFS_STATE/swarm.pids ("dockerd-nodeN PID"); $STATE/swarm.env holds, for tests to source:
#   SWARM_MANAGER_SOCK= SWARM_NODE2_SOCK= SWARM_NODE3_SOCK= (unix://...) SWARM_NODE2_PID= SWARM_NODE3_PID=
#
# Usage: swarm-up.sh                  idempotent: starts/joins what is missing, waits for 3 nodes Ready
#        swarm-up.sh --restart-node N starts node N's dockerd again (same flags and hostname) after a
#                                     test killed it, waits until it is Ready, updates swarm.env/pids
# Images: a task's image is never pulled on the workers (DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1), but
# the manager is the main dockerd, which asks the registry (DNS!) before each task unless the image
# is named by ID: create services with image "sha256:<Id of cutipfs-busybox:latest>" (the same
# on every node: docker save|load keeps it), and `docker service create --no-resolve-image`.
# contrib/swarm-down.sh undoes all of it. Limit: all nodes share one network namespace, so only one
# node can hold an overlay's VXLAN (UDP 4789): overlay networks and the routing mesh across nodes do
# not carry traffic; tasks without networks or published ports are what this swarm is for.
set -euo pipefail

top_state=${CUTIPFS_STATE:-/tmp/cutipfs-engines}
sw=$top_state/swarm
pids=$top_state/swarm.pids
main_sock=/run/docker.sock
image=${CUTIPFS_TEST_IMAGE:-cutipfs-busybox:latest}
nodes=(2 3)
export DOCKER_API_VERSION=${DOCKER_API_VERSION:-1.41}
unset DOCKER_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH

die() { echo "swarm-up: $*" >&2; exit 1; }
mkdir -p "$sw"
touch "$pids"

# The docker CLI: the first of these that talks to the main dockerd.
docker_bin=
for c in /usr/bin/docker /usr/local/bin/docker; do
	if [ -x "$c" ] && timeout 10 "$c" -H "unix://$main_sock" version --format '{{.Server.APIVersion}}' >/dev/null 2>&1; then
		docker_bin=$c
		break
	fi
done
[ -n "$docker_bin" ] || die "no docker CLI (/usr/bin/docker, /usr/local/bin/docker) talks to unix://$main_sock (is dockerd up? contrib/engines-up.sh)"
dk() { timeout 60 "$docker_bin" -H "unix://$main_sock" "$@"; } # the manager
dn() { local n=$1; shift; timeout 60 "$docker_bin" -H "unix://$sw/node$n.sock" "$@"; } # worker N
answers() { curl -s --max-time 2 --unix-socket "$1" http://localhost/_ping 2>/dev/null | grep -q OK; }

node_dir() { echo "$sw/node$1"; }
node_sock() { echo "$sw/node$1.sock"; }
node_pidfile() { echo "$sw/node$1.pid"; }
node_host() { echo "cutipfs-node$1"; }
node_bridge() { echo "cutipfs-br$1"; }
node_gw() { echo "cutipfs-gw$1"; }
node_alive() { # node_alive N: the pid of node N's dockerd, when it runs
	local pid
	pid=$(cat "$(node_pidfile "$1")" 2>/dev/null) || return 1
	[ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] &&
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--exec-root $(node_dir "$1")/exec " &&
		echo "$pid"
}

# ---- 1. the manager ----

ensure_manager() {
	local st ctl
	st=$(dk info --format '{{.Swarm.LocalNodeState}}') || die "docker info on unix://$main_sock failed"
	case $st in
	inactive)
		# Note whether docker_gwbridge is ours to remove again (swarm-down.sh).
		dk network inspect docker_gwbridge >/dev/null 2>&1 || touch "$sw/manager-gwbridge-ours"
		# --listen-addr too: with 0.0.0.0 the manager's gossip port (7946) would take every address,
		# and the workers could not bind 127.0.0.N:7946.
		dk swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377 >/dev/null ||
			die "swarm init on unix://$main_sock failed"
		echo "swarm-up: swarm initialized on unix://$main_sock"
		;;
	active)
		ctl=$(dk info --format '{{.Swarm.ControlAvailable}}')
		[ "$ctl" = true ] || die "unix://$main_sock is in a swarm but not a manager; run contrib/swarm-down.sh"
		;;
	*) die "unix://$main_sock swarm state is '$st'; run contrib/swarm-down.sh and try again" ;;
	esac
}

# ---- 2. the workers ----

ensure_bridge() { # ensure_bridge NAME CIDR
	local br=$1 cidr=$2
	if ! ip link show "$br" >/dev/null 2>&1; then
		ip link add "$br" type bridge || die "ip link add $br type bridge failed"
	fi
	ip -4 addr show dev "$br" | grep -qF " ${cidr} " || ip addr add "$cidr" dev "$br" ||
		die "ip addr add $cidr dev $br failed"
	ip link set "$br" up
}

start_node() { # start_node N: starts node N's dockerd unless it already answers
	local n=$1 d pid sock
	d=$(node_dir "$n")
	sock=$(node_sock "$n")
	if pid=$(node_alive "$n"); then
		for _ in $(seq 1 100); do answers "$sock" && return 0; sleep 0.2; done
		die "node$n's dockerd ($pid) runs but does not answer on $sock; see $d/dockerd.log"
	fi
	mkdir -p "$d/data" "$d/exec"
	# Containers a killed dockerd of this node left running (their runc state is in its exec-root):
	# SIGKILL now, or the new dockerd spends 10 s per container (SIGTERM, grace, SIGKILL) before
	# it serves the API. Their shims stay for the new containerd to reap.
	local root c left
	for root in "$d"/exec/runtime-*/*; do
		[ -d "$root" ] || continue
		for c in $(runc --root "$root" list -q 2>/dev/null); do
			runc --root "$root" kill -a "$c" KILL 2>/dev/null || true
		done
		for _ in $(seq 1 25); do
			left=$(runc --root "$root" list -f json 2>/dev/null | jq -r '.[]? | select(.status == "running") | .id')
			[ -z "$left" ] && break
			sleep 0.2
		done
	done
	ensure_bridge "$(node_bridge "$n")" "10.20$n.0.1/24"
	local docker0=0
	ip link show docker0 >/dev/null 2>&1 && docker0=1
	# Its own (empty) daemon.json: /etc/docker/daemon.json is the main dockerd's.
	[ -f "$d/daemon.json" ] || printf '{"deprecated-key-path": "%s"}\n' "$d/key.json" >"$d/daemon.json"
	# The containerd: without --containerd, dockerd starts one of its own with root
	# $d/data/containerd, state and socket $d/exec/containerd (and kills it when it stops).
	# DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1: a task's image is taken from the node and never
	# pulled (without it every task start asks a registry first, i.e. DNS beyond 127.0.0.0/8).
	# No --default-address-pool: with it, a restarted dockerd deletes the host's docker0.
	# shellcheck disable=SC2016 # $1 and $@ are the inner shell's
	DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 unshare --uts -- /bin/sh -c 'hostname "$1" && shift && exec "$@"' sh "$(node_host "$n")" \
		dockerd --host "unix://$sock" \
		--data-root "$d/data" --exec-root "$d/exec" --pidfile "$(node_pidfile "$n")" \
		--config-file "$d/daemon.json" \
		--containerd-namespace "cutipfs-node$n" --containerd-plugins-namespace "cutipfs-node$n-plugins" \
		--bridge "$(node_bridge "$n")" --iptables=false --ip-masq=false \
		--swarm-default-advertise-addr "127.0.0.$n" \
		</dev/null >>"$d/dockerd.log" 2>&1 &
	pid=$!
	echo "dockerd-node$n $pid" >>"$pids"
	for _ in $(seq 1 150); do
		answers "$sock" && break
		kill -0 "$pid" 2>/dev/null || { tail -20 "$d/dockerd.log" >&2; die "node$n's dockerd exited; see $d/dockerd.log"; }
		sleep 0.2
	done
	answers "$sock" || die "node$n's dockerd ($pid) does not answer on $sock after 30 s; see $d/dockerd.log"
	if [ $docker0 = 1 ] && ! ip link show docker0 >/dev/null 2>&1; then
		die "node$n's dockerd ($pid) deleted the host's docker0: the main dockerd's default bridge is gone"
	fi
	[ "$(node_alive "$n")" = "$pid" ] || die "node$n's pidfile does not name the dockerd started ($pid)"
	[ "$(dn "$n" info --format '{{.Name}}')" = "$(node_host "$n")" ] ||
		die "node$n's dockerd does not have the hostname $(node_host "$n")"
	echo "swarm-up: node$n dockerd $pid on unix://$sock"
}

join_node() { # join_node N: node N joined to the manager's swarm
	local n=$1
	local st cluster mine gwsub=10.21$n.0.0/24
	cluster=$(dk info --format '{{.Swarm.Cluster.ID}}')
	st=$(dn "$n" info --format '{{.Swarm.LocalNodeState}}')
	# A restarted worker is "pending" until it reaches the manager again: wait, do not rejoin.
	for _ in $(seq 1 60); do
		[ "$st" = pending ] || break
		sleep 0.5
		st=$(dn "$n" info --format '{{.Swarm.LocalNodeState}}')
	done
	if [ "$st" = active ]; then
		# Joined to this swarm when the manager knows the worker's node ID.
		mine=$(dn "$n" info --format '{{.Swarm.NodeID}}')
		dk node inspect "$mine" >/dev/null 2>&1 && return 0
		echo "swarm-up: node$n is in another swarm (node $mine); leaving it"
	fi
	if [ "$st" != inactive ]; then
		dn "$n" swarm leave --force >/dev/null 2>&1 || true
	fi
	# docker_gwbridge made before the join, so that its Linux bridge is this node's own and not
	# the manager's "docker_gwbridge" (all nodes share one network namespace).
	if ! dn "$n" network inspect docker_gwbridge >/dev/null 2>&1; then
		dn "$n" network create --driver bridge --subnet "$gwsub" \
			-o com.docker.network.bridge.name="$(node_gw "$n")" \
			-o com.docker.network.bridge.enable_icc=false \
			-o com.docker.network.bridge.enable_ip_masquerade=false \
			docker_gwbridge >/dev/null || die "docker_gwbridge on node$n could not be made"
	fi
	local token
	token=$(dk swarm join-token -q worker) || die "no worker join token from the manager"
	dn "$n" swarm join --listen-addr "127.0.0.$n:2377" --advertise-addr "127.0.0.$n" \
		--token "$token" 127.0.0.1:2377 >/dev/null || die "node$n could not join the swarm; see $(node_dir "$n")/dockerd.log"
	echo "swarm-up: node$n joined (cluster $cluster)"
}

load_image() { # load_image N
	local n=$1
	dn "$n" image inspect "$image" >/dev/null 2>&1 && return 0
	dk image inspect "$image" >/dev/null 2>&1 || die "$image is not in the main dockerd (contrib/engines-up.sh imports it)"
	timeout 120 "$docker_bin" -H "unix://$main_sock" save "$image" |
		timeout 120 "$docker_bin" -H "unix://$(node_sock "$n")" load >/dev/null || die "loading $image into node$n failed"
	dn "$n" image inspect "$image" >/dev/null 2>&1 || die "$image is not in node$n after the load"
}

# Nodes of our hostnames the manager lists as down that are no worker of ours now (a node's state
# was deleted, or it left): removed, so `docker node ls` shows the three live nodes.
prune_stale() {
	local id host state n keep=" "
	for n in "${nodes[@]}"; do keep+="$(dn "$n" info --format '{{.Swarm.NodeID}}' 2>/dev/null || true) "; done
	while read -r id host state; do
		[ -n "$id" ] || continue
		case $host in cutipfs-node[0-9]*) ;; *) continue ;; esac
		[[ "$keep" == *" $id "* ]] && continue
		[ "$state" = ready ] && continue
		dk node rm --force "$id" >/dev/null 2>&1 && echo "swarm-up: removed stale node $id ($host, $state)"
	done < <(dk node ls --format '{{.ID}} {{.Hostname}}' | while read -r id host; do
		echo "$id $host $(dk node inspect --format '{{.Status.State}}' "$id")"
	done)
}

wait_ready() { # wait_ready TIMEOUT_S NODE_ID...
	local limit=$1 id st all
	shift
	for _ in $(seq 1 $((limit * 2))); do
		all=1
		for id in "$@"; do
			st=$(dk node inspect --format '{{.Status.State}}' "$id" 2>/dev/null || true)
			[ "$st" = ready ] || { all=0; break; }
		done
		[ "$all" = 1 ] && return 0
		sleep 0.5
	done
	dk node ls >&2 || true
	die "nodes not Ready after ${limit} s"
}

write_env() {
	local tmp=$sw/swarm.env.tmp n
	{
		echo "SWARM_MANAGER_SOCK=unix://$main_sock"
		for n in "${nodes[@]}"; do echo "SWARM_NODE${n}_SOCK=unix://$(node_sock "$n")"; done
		for n in "${nodes[@]}"; do echo "SWARM_NODE${n}_PID=$(node_alive "$n" || true)"; done
	} >"$tmp"
	mv "$tmp" "$sw/swarm.env"
}

ensure_node() { # ensure_node N: running, joined, holding the image; echoes its node ID
	start_node "$1" >&2
	join_node "$1" >&2
	load_image "$1"
	dn "$1" info --format '{{.Swarm.NodeID}}'
}

t0=$SECONDS
if [ "${1:-}" = "--restart-node" ]; then
	n=${2:-}
	[[ " ${nodes[*]} " == *" $n "* ]] || die "usage: swarm-up.sh --restart-node N (N: ${nodes[*]})"
	[ "$(dk info --format '{{.Swarm.ControlAvailable}}')" = true ] || die "no swarm: run contrib/swarm-up.sh first"
	old=$(grep "^SWARM_NODE${n}_PID=" "$sw/swarm.env" 2>/dev/null | cut -d= -f2 || true)
	# A dockerd still stopping (SIGTERM: up to its shutdown timeout) must be gone first.
	if [ -n "$old" ] && ! answers "$(node_sock "$n")"; then
		for _ in $(seq 1 150); do [ "$(node_alive "$n" || true)" = "$old" ] || break; sleep 0.2; done
		[ "$(node_alive "$n" || true)" != "$old" ] || die "node$n's old dockerd ($old) does not exit"
	fi
	id=$(ensure_node "$n")
	write_env
	wait_ready 60 "$id"
	echo "swarm-up: node$n ($(node_host "$n")) Ready again, dockerd $(node_alive "$n"), in $((SECONDS - t0)) s"
	exit 0
fi
[ $# -eq 0 ] || die "usage: swarm-up.sh [--restart-node N]"

ensure_manager
ids=("$(dk info --format '{{.Swarm.NodeID}}')")
for n in "${nodes[@]}"; do ids+=("$(ensure_node "$n")"); done
write_env
prune_stale
wait_ready 60 "${ids[@]}"
echo "swarm-up: 3 nodes Ready in $((SECONDS - t0)) s" >&2
echo "swarm-up: manager unix://$main_sock, workers unix://$(node_sock 2) unix://$(node_sock 3)"
