#!/usr/bin/env bash
# Recovery: cutipfs killed with SIGKILL, the dead mount lazily unmounted, and cutipfs started
# again on the same workspace finds every container as it was (same id, not restarted: same
# StartedAt), and applies the cards edited in the workspace while nothing was mounted.
. "$(dirname "$0")/lib.sh"
mount_fs
setup_image
network_card "${P}net" 10.214.$((RANDOM % 200)).0/24 >"$M/cards/net.network.yaml"
container_card "${P}web" "${P}bb" "" "${P}net" >"$M/cards/web.container.yaml"
container_card "${P}two" "${P}bb" >"$M/cards/two.container.yaml"
wait_state "containers/${P}web" running 60
wait_state "containers/${P}two" running 60
engine_create_foreign "${P}out"
started() { api_json "/containers/$1/json" 'j["State"]["StartedAt"]'; }
declare -A id at
for c in web two out; do
	id[$c]=$(engine_id "${P}$c")
	at[$c]=$(started "${P}$c")
done
net=$(api_json "/networks/${P}net" 'j["Id"]')

log "kill -9, fusermount3 -uz"
kill -9 "$PID"
wait "$PID" 2>/dev/null || true
PID=
fusermount3 -uz "$M" || fail "fusermount3 -uz"

log "edit the workspace while unmounted"
cards=$W/cutip/cards
[ -f "$cards/two.container.yaml" ] || fail "the cards are not in $cards: $(ls -R "$W")"
container_card "${P}two" "${P}bb" "sh -c 'echo edited; trap \"exit 0\" TERM; sleep 3600 & wait'" >"$cards/two.container.yaml"

log "mount again"
mount_fs
wait_until 60 eval '[ "$(engine_id "${P}two")" != "${id[two]}" ] && [ -n "$(engine_id "${P}two")" ]' ||
	fail "the card edited while unmounted was not applied"
wait_state "containers/${P}two" running 60
wait_until 20 grep -qx edited "$M/containers/${P}two/logs" || fail "two's logs: $(cat "$M/containers/${P}two/logs")"
wait_state "containers/${P}web" running 10
for c in web out; do
	[ "$(engine_id "${P}$c")" = "${id[$c]}" ] || fail "$c was recreated: ${id[$c]} -> $(engine_id "${P}$c")"
	[ "$(started "${P}$c")" = "${at[$c]}" ] || fail "$c was restarted: ${at[$c]} -> $(started "${P}$c")"
	[ "$(cat "$M/containers/${P}$c/id")" = "${id[$c]}" ] || fail "$c: id file"
done
[ "$(api_json "/networks/${P}net" 'j["Id"]')" = "$net" ] || fail "the network was recreated"
grep -q . "$M/errors" && fail "errors after recovery: $(cat "$M/errors")"
umount_fs
