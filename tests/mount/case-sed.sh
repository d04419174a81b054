#!/usr/bin/env bash
# sed -i edits a card: it writes a temp file next to it and renames it over the card, so the
# rename commits. A bad edit fails sed ("cannot rename": EINVAL) and leaves the container as it
# was; a good edit (a new command) replaces the container.
. "$(dirname "$0")/lib.sh"
mount_fs
setup_image
card=$M/cards/web.container.yaml
container_card "${P}web" "${P}bb" >"$card"
wait_state "containers/${P}web" running 60
id=$(engine_id "${P}web")

log "bad edit"
expect_fail "Invalid argument" sed -i '/imageRef/d' "$card"
grep -q imageRef "$card" && fail "the card does not have sed's text"
grep -q 'cards/web\.container\.yaml:.*imageRef' "$M/errors" || fail "errors: $(cat "$M/errors")"
[ "$(engine_id "${P}web")" = "$id" ] || fail "an invalid card touched the container"
[ -z "$(ls -A "$M/cards" | grep -v -e '^web.container.yaml$' -e '^bb.image.yaml$')" ] ||
	fail "leftovers: $(ls -A "$M/cards")"

log "good edit: the imageRef back, and another command"
expect_ok sed -i -e "/^spec:/a\\  imageRef: {ref: images/${P}bb}" -e 's/echo hello/echo edited/' "$card"
grep -q imageRef "$card" || fail "card: $(cat "$card")"
wait_until 60 sh -c "[ -n \"\$(cat '$M/containers/${P}web/id' 2>/dev/null)\" ] && [ \"\$(cat '$M/containers/${P}web/id')\" != '$id' ]" ||
	fail "no new container: $(cat "$M/containers/${P}web/status" 2>&1); errors: $(cat "$M/errors")"
wait_state "containers/${P}web" running 60
wait_until 10 grep -qx edited "$M/containers/${P}web/logs" || fail "logs: $(cat "$M/containers/${P}web/logs")"
umount_fs
