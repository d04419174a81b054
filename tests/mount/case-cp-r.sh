#!/usr/bin/env bash
# cp -r of a whole workspace (image, network and container cards in per-name folders, plus
# files that are not cards) into cards/: in whatever order cp writes them, it all comes up.
. "$(dirname "$0")/lib.sh"
S=$T/src
mkdir -p "$S/bb" "$S/net" "$S/web" "$S/worker"
image_card "${P}bb" >"$S/bb/bb.image.yaml"
network_card "${P}net" 10.233.0.0/24 >"$S/net/net.network.yaml"
container_card "${P}web" "${P}bb" "" "${P}net" >"$S/web/web.container.yaml"
container_card "${P}worker" "${P}bb" "sh -c 'echo working; trap \"exit 0\" TERM; sleep 3600 & wait'" >"$S/worker/worker.container.yaml"
echo "notes, not a card" >"$S/web/notes.txt"
echo "a hidden file" >"$S/.hidden.yaml"
mount_fs
expect_ok cp -r "$S/." "$M/cards/"
diff -r "$S" "$W/cutip/cards" || fail "the copy differs"
wait_state "images/${P}bb" present 60
wait_state "networks/${P}net" present 60
wait_state "containers/${P}web" running 60
wait_state "containers/${P}worker" running 60
[ "$(readlink "$M/containers/${P}worker/card")" = ../../cards/worker/worker.container.yaml ] || fail "card link"
[ ! -s "$M/errors" ] || fail "errors: $(cat "$M/errors")"
umount_fs

log "and again after a remount: nothing changes"
w=$(engine_id "${P}web")
mount_fs
wait_state "containers/${P}web" running 30
[ "$(engine_id "${P}web")" = "$w" ] || fail "remount replaced an unchanged container"
umount_fs
