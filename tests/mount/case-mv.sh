#!/usr/bin/env bash
# The atomic, checked idiom: write a hidden temp file (never a card), mv it onto the card name.
# rename(2) commits: a bad card fails mv with EINVAL, and the file stays renamed with the
# user's text while what the card made before stays as it was.
#
# mv exits 1 either way, but coreutils words EINVAL its own way: for a new card name it stats
# the source again after the failed rename (gone: renamed) and says "cannot stat"; over an
# existing card it reads EINVAL as rename(2)'s "into a subdirectory of itself". The reason is
# in errors.
. "$(dirname "$0")/lib.sh"
mount_fs
setup_image
card=$M/cards/web.container.yaml
tmp=$M/cards/.incoming.tmp
bad_card "${P}web" >"$T/bad.yaml"
container_card "${P}web" "${P}bb" >"$T/good.yaml"

log "bad card onto a new name"
cp "$T/bad.yaml" "$tmp"
expect_fail "mv: cannot" mv "$tmp" "$card"
cmp "$T/bad.yaml" "$card" || fail "the card lost the user's text"
[ ! -e "$tmp" ] || fail "the temp file is still there"
grep -q 'cards/web\.container\.yaml:.*imageRef' "$M/errors" || fail "errors: $(cat "$M/errors")"
[ ! -e "$M/containers/${P}web" ] || fail "a bad card made a container"

log "good card over it"
cp "$T/good.yaml" "$tmp"
expect_ok mv "$tmp" "$card"
cmp "$T/good.yaml" "$card" || fail "card content"
wait_state "containers/${P}web" running 60
id=$(engine_id "${P}web")

log "bad card over a good one"
: >"$M/errors"
cp "$T/bad.yaml" "$tmp"
expect_fail "mv: cannot move '$tmp'" mv "$tmp" "$card"
cmp "$T/bad.yaml" "$card" || fail "the card lost the user's text"
grep -q 'cards/web\.container\.yaml:.*imageRef' "$M/errors" || fail "errors: $(cat "$M/errors")"
[ "$(engine_id "${P}web")" = "$id" ] || fail "an invalid card touched the container"
state_is "containers/${P}web" running || fail "container: $(state_of "containers/${P}web")"

log "rename of a non-card name is just a rename"
echo notes >"$M/cards/notes.txt"
expect_ok mv "$M/cards/notes.txt" "$M/cards/notes2.txt"
[ "$(cat "$M/cards/notes2.txt")" = notes ] || fail "notes2.txt"
umount_fs
