#!/usr/bin/env bash
# Replacing a card: a changed command gives a new container (new id); the same text again
# changes nothing.
. "$(dirname "$0")/lib.sh"
mount_fs
setup_image
card=$M/cards/web.container.yaml
container_card "${P}web" "${P}bb" >"$card"
wait_state "containers/${P}web" running 60
id1=$(engine_id "${P}web")

log "same text again"
container_card "${P}web" "${P}bb" >"$card"
sleep 1
[ "$(engine_id "${P}web")" = "$id1" ] || fail "an unchanged card replaced the container"

log "changed command"
container_card "${P}web" "${P}bb" "sh -c 'echo replaced; trap \"exit 0\" TERM; sleep 3600 & wait'" >"$card"
wait_until 60 sh -c "id=\$(cat '$M/containers/${P}web/id' 2>/dev/null); [ -n \"\$id\" ] && [ \"\$id\" != '$id1' ]" ||
	fail "not replaced: $(cat "$M/containers/${P}web/status")"
wait_state "containers/${P}web" running 60
id2=$(engine_id "${P}web")
[ "$id2" != "$id1" ] && [ "$(cat "$M/containers/${P}web/id")" = "$id2" ] || fail "id"
wait_until 10 grep -qx replaced "$M/containers/${P}web/logs" || fail "logs: $(cat "$M/containers/${P}web/logs")"
[ "$(api "$API/containers/$id1/json" -o /dev/null -w '%{http_code}')" = 404 ] || fail "the old container is still there"
umount_fs
