#!/usr/bin/env bash
# Removing a card removes what it made: rm of a container card -> container gone; of a
# network card -> network gone; of an image card that a container still uses -> EBUSY, kept.
. "$(dirname "$0")/lib.sh"
mount_fs
setup_image
network_card "${P}net" 10.234.0.0/24 >"$M/cards/net.network.yaml"
container_card "${P}web" "${P}bb" >"$M/cards/web.container.yaml"
wait_state "containers/${P}web" running 60
wait_state "networks/${P}net" present 60

log "image in use"
expect_fail "Device or resource busy" rm "$M/cards/bb.image.yaml"
[ -f "$M/cards/bb.image.yaml" ] || fail "the card went although its image stayed"
state_is "images/${P}bb" present || fail "image: $(cat "$M/images/${P}bb/status")"

log "container card"
expect_ok rm "$M/cards/web.container.yaml"
engine_has_container "${P}web" && fail "the container is still in the engine"
wait_until 5 sh -c "[ ! -e '$M/containers/${P}web' ]" || fail "containers/${P}web still there"
[ ! -e "$W/cutip/cards/web.container.yaml" ] || fail "card file still on disk"

log "network card"
expect_ok rm "$M/cards/net.network.yaml"
[ "$(api "$API/networks/${P}net" -o /dev/null -w '%{http_code}')" = 404 ] || fail "network still there"

log "image card, unused now"
expect_ok rm "$M/cards/bb.image.yaml"
[ "$(api "$API/images/${P}bb:latest/json" -o /dev/null -w '%{http_code}')" = 404 ] || fail "image tag still there"
umount_fs
