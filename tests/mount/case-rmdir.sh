#!/usr/bin/env bash
# rmdir containers/NAME stops and removes the container and deletes its card; rm -rf too (rm
# unlinks the files inside first, which do nothing). networks/ and images/ likewise, EBUSY
# while in use.
. "$(dirname "$0")/lib.sh"
mount_fs
setup_image
network_card "${P}net" 10.235.0.0/24 >"$M/cards/net.network.yaml"
mkdir "$M/cards/app"
container_card "${P}web" "${P}bb" "" "${P}net" >"$M/cards/app/web.container.yaml"
container_card "${P}two" "${P}bb" >"$M/cards/two.container.yaml"
wait_state "containers/${P}web" running 60
wait_state "containers/${P}two" running 60

log "busy network and image"
expect_fail "Device or resource busy" rmdir "$M/networks/${P}net"
expect_fail "Device or resource busy" rmdir "$M/images/${P}bb"
[ -f "$M/cards/net.network.yaml" ] || fail "network card deleted"

log "rmdir containers/NAME"
t0=$EPOCHREALTIME
expect_ok rmdir "$M/containers/${P}web"
log "took $(elapsed_since "$t0") s"
engine_has_container "${P}web" && fail "still in the engine"
[ ! -e "$M/containers/${P}web" ] || fail "still listed"
[ ! -e "$M/cards/app/web.container.yaml" ] || fail "card file still visible"
[ ! -e "$W/cutip/cards/app/web.container.yaml" ] || fail "card file still on disk"
ls "$M/cards/app" >/dev/null || fail "the folder went too"

log "rm -rf containers/NAME"
ls "$M/containers/${P}two" >/dev/null
expect_ok rm -rf "$M/containers/${P}two"
engine_has_container "${P}two" && fail "still in the engine"
[ ! -e "$W/cutip/cards/two.container.yaml" ] || fail "card file still on disk"

log "network and image, now unused"
expect_ok rmdir "$M/networks/${P}net"
[ "$(api "$API/networks/${P}net" -o /dev/null -w '%{http_code}')" = 404 ] || fail "network still there"
[ ! -e "$M/cards/net.network.yaml" ] || fail "network card still there"
expect_ok rm -rf "$M/images/${P}bb"
[ "$(api "$API/images/${P}bb:latest/json" -o /dev/null -w '%{http_code}')" = 404 ] || fail "image still there"
[ ! -e "$M/cards/bb.image.yaml" ] || fail "image card still there"

log "what is not there"
expect_fail "No such file or directory" rmdir "$M/containers/${P}nothing"
umount_fs
