#!/usr/bin/env bash
# A container card whose image card does not exist yet waits (status: pending), and runs once
# the image card is written; its network likewise.
. "$(dirname "$0")/lib.sh"
mount_fs
container_card "${P}web" "${P}bb" "" "${P}net" >"$M/cards/web.container.yaml" ||
	fail "a card waiting for its refs was refused"
wait_state "containers/${P}web" pending 10
grep -q "images/${P}bb\|${P}bb" "$M/containers/${P}web/status" || fail "status does not say what it waits for: $(cat "$M/containers/${P}web/status")"
[ -z "$(cat "$M/containers/${P}web/id")" ] || fail "a pending container has an id"
engine_has_container "${P}web" && fail "pending, yet in the engine"
expect_ok sync "$M/cards/web.container.yaml"

image_card "${P}bb" >"$M/cards/bb.image.yaml"
wait_state "images/${P}bb" present 60
state_is "containers/${P}web" pending || fail "ran without its network: $(cat "$M/containers/${P}web/status")"

network_card "${P}net" 10.232.0.0/24 >"$M/cards/net.network.yaml"
wait_state "containers/${P}web" running 60
[ "$(cat "$M/containers/${P}web/id")" = "$(engine_id "${P}web")" ] || fail "id"
api_json "/containers/${P}web/json" 'list(j["NetworkSettings"]["Networks"])' | grep -q "${P}net" ||
	fail "not on its network"
umount_fs
