#!/usr/bin/env bash
# Stops the engines contrib/engines-up.sh and the endpoints contrib/endpoints-up.sh started (dockerd,
# podman, sshd: by the pids they recorded in $CUTIPFS_STATE/engines.pids), nothing else.
set -u
state=${CUTIPFS_STATE:-/tmp/cutipfs-engines}
[ -f "$state/engines.pids" ] || exit 0
while read -r name pid; do
	kill "$pid" 2>/dev/null && echo "engines-down: stopped $name ($pid)"
	for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
done <"$state/engines.pids"
rm -f "$state/engines.pids"
