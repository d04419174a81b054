#!/usr/bin/env bash
# cutipfs's container limits (resources, healthcheck, user, stop_signal, stop_timeout, labels):
# applied by the engine as written, shown in status, the health's changes in events; a limit
# changed in the card replaces the container; a bad value is refused at the write with the
# reason, and the container it would replace stays.
. "$(dirname "$0")/lib.sh"
mount_fs
setup_image
events_start
card=$M/cards/lim.container.yaml
# limits_card MEMORY HEALTH-TEST
limits_card() {
	container_card "${P}lim" "${P}bb"
	cat <<EOF
  network_mode: bridge
  resources: {memory: $1, memory_swap: 128m, cpus: 0.5, pids: 50}
  healthcheck: {test: "$2", interval: 1s, timeout: 1s, retries: 1}
  user: "1000:1000"
  stop_signal: SIGINT
  stop_timeout: 3
  labels: {tier: test}
EOF
}

log "applied as written"
# Through one writer: the two cats of limits_card, each closing the card, would commit it twice.
limits_card 64m true >"$T/lim.yaml"
cp "$T/lim.yaml" "$card" || fail "the card was refused: $(tail -3 "$M/errors")"
wait_state "containers/${P}lim" running 60
S=$M/containers/${P}lim/status
# Its start is published from the workspace's own words (backends/own.c) and the details follow
# with the read after it: through ssh, a moment later.
wait_until 10 grep -q '^id: ' "$S" || fail "status has no details: $(cat "$S")"
for line in "memory: 64m" "memory_swap: 128m" "cpus: 0.5" "pids: 50" "user: 1000:1000"; do
	grep -qx "$line" "$S" || fail "status has no '$line': $(cat "$S")"
done
got=$(api_json "/containers/${P}lim/json" '" ".join(str(x) for x in [j["HostConfig"]["Memory"], j["HostConfig"]["MemorySwap"], j["HostConfig"]["NanoCpus"], j["HostConfig"]["PidsLimit"], j["Config"]["User"], j["Config"]["StopTimeout"], j["Config"]["Labels"].get("tier"), j["Config"]["Healthcheck"]["Test"], j["Config"]["Healthcheck"]["Interval"]])')
[ "$got" = "67108864 134217728 500000000 50 1000:1000 3 test ['CMD-SHELL', 'true'] 1000000000" ] ||
	fail "the engine has: $got"
sig=$(api_json "/containers/${P}lim/json" 'j["Config"]["StopSignal"]')
case $sig in SIGINT | 2) ;; *) fail "stop signal: $sig" ;; esac

# Docker runs healthchecks itself; Podman through systemd timers, which a machine without
# systemd as init never fires: there the health stays "starting".
log "health in status and events"
BACKEND=$(sed -n 's/^backend: //p' "$M/engine")
if [ "$BACKEND" = podman ]; then
	wait_until 30 grep -Eqx 'health: (starting|healthy)' "$S" || fail "no health: $(cat "$S")"
else
	wait_until 30 grep -qx 'health: healthy' "$S" || fail "not healthy: $(cat "$S")"
	wait_event 30 "$(ev container "${P}lim" health 'health=healthy')"
fi

log "a limit changed: a new container with it"
id1=$(cat "$M/containers/${P}lim/id")
limits_card 96m false >"$T/lim.yaml"
cp "$T/lim.yaml" "$card" || fail "the changed card was refused"
wait_until 60 sh -c "id=\$(cat '$M/containers/${P}lim/id' 2>/dev/null); [ -n \"\$id\" ] && [ \"\$id\" != '$id1' ]" ||
	fail "not replaced: $(cat "$S")"
wait_state "containers/${P}lim" running 60
grep -qx "memory: 96m" "$S" || fail "status after the change: $(cat "$S")"
if [ "$BACKEND" != podman ]; then
	wait_until 30 grep -qx 'health: unhealthy' "$S" || fail "not unhealthy: $(cat "$S")"
	wait_event 30 "$(ev container "${P}lim" health 'health=unhealthy')"
fi

log "a bad value: refused at the write, the container stays"
id2=$(cat "$M/containers/${P}lim/id")
limits_card 96x true >"$T/bad.yaml"
expect_fail "Invalid argument" cp "$T/bad.yaml" "$card"
grep -q "spec.resources.memory: Input should be a size" "$M/errors" || fail "errors: $(tail -3 "$M/errors")"
sleep 1
[ "$(engine_id "${P}lim")" = "$id2" ] || fail "the refused card touched the container"
umount_fs
