#!/usr/bin/env bash
# A container cutipfs did not make (curl to the engine) shows under containers/ without a card
# link (its card, image-card and network-card are the cards that would adopt it: case-adopt);
# a card with its name fails with EEXIST and leaves it untouched.
. "$(dirname "$0")/lib.sh"
mount_fs
setup_image
engine_create_foreign "${P}foreign"
fid=$(engine_id "${P}foreign")
wait_until 5 test -d "$M/containers/${P}foreign" || fail "foreign container not listed: $(ls "$M/containers")"
wait_state "containers/${P}foreign" running 10
[ "$(cat "$M/containers/${P}foreign/id")" = "$fid" ] || fail "id"
[ ! -L "$M/containers/${P}foreign/card" ] || fail "a foreign container has a card link"
[ "$(ls "$M/containers/${P}foreign")" = "$(printf 'card\nctl\nfollow\nid\nimage-card\ninspect.json\nlogs\nstatus\nwait')" ] || fail "files: $(ls "$M/containers/${P}foreign")"

container_card "${P}foreign" "${P}bb" >"$T/card.yaml"
expect_fail "cp: failed to close '$M/cards/foreign.container.yaml': File exists" cp "$T/card.yaml" "$M/cards/foreign.container.yaml"
grep -q "foreign.container.yaml" "$M/errors" || fail "errors: $(cat "$M/errors")"
[ "$(engine_id "${P}foreign")" = "$fid" ] || fail "the foreign container was touched"
[ "$(engine_state "${P}foreign")" = running ] || fail "the foreign container is not running"
expect_fail "File exists" sync "$M/cards/foreign.container.yaml"
umount_fs
