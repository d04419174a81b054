#!/usr/bin/env bash
# vim edits a card the way it does by default: swap file (.NAME.swp), the `4913` probe, the
# original renamed to a backup (NAME~), the new text written and fsynced, the backup deleted.
# A bad edit fails the write (fsync: EINVAL) and leaves the container alone; a good edit
# replaces it. CUTIPFS_TEST_VIM picks the binary (default vim, else vim.tiny).
. "$(dirname "$0")/lib.sh"
VIM=$(command -v ${CUTIPFS_TEST_VIM:-vim} || command -v vim.tiny) || fail "vim is not installed (vim or vim-tiny)"
mount_fs
setup_image
card=$M/cards/web.container.yaml
container_card "${P}web" "${P}bb" >"$card"
wait_state "containers/${P}web" running 60
id=$(engine_id "${P}web")
: >"$M/errors"

edit() { # edit EX-COMMAND: one change, then write and quit, as a user would in vim
	HOME=$T "$VIM" -u NONE -i NONE -N -n -es -c "$1" -c 'wq' "$card" </dev/null
}
editswap() { # the same with a swap file
	HOME=$T "$VIM" -u NONE -i NONE -N -es -c "set directory=." -c "$1" -c 'wq' "$card" </dev/null
}

log "bad edit"
rc=0
(cd "$M/cards" && editswap 'g/imageRef/d') || rc=$?
[ "$rc" -ne 0 ] || fail "vim wrote a bad card without an error"
grep -q imageRef "$card" && fail "the card does not have vim's text"
grep -q 'cards/web\.container\.yaml:.*imageRef' "$M/errors" || fail "errors: $(cat "$M/errors")"
[ "$(engine_id "${P}web")" = "$id" ] || fail "an invalid card touched the container"
state_is "containers/${P}web" running || fail "container: $(state_of "containers/${P}web")"

log "good edit"
container_card "${P}web" "${P}bb" "sh -c 'echo edited; trap \"exit 0\" TERM; sleep 3600 & wait'" >"$T/good.yaml"
(cd "$M/cards" && editswap "%!cat $T/good.yaml") || fail "vim failed on a good card: $(cat "$M/errors")"
cmp "$card" "$T/good.yaml" || fail "card: $(cat "$card")"
wait_until 60 sh -c "[ \"\$(cat '$M/containers/${P}web/id' 2>/dev/null)\" != '$id' ]" || fail "not replaced"
wait_state "containers/${P}web" running 60
wait_until 10 grep -qx edited "$M/containers/${P}web/logs" || fail "logs: $(cat "$M/containers/${P}web/logs")"
[ -z "$(ls -A "$M/cards" | grep -v -e '^web.container.yaml$' -e '^bb.image.yaml$')" ] ||
	fail "leftovers: $(ls -A "$M/cards")"
id=$(engine_id "${P}web")

log "vim without a swap file, editing a card in a folder"
mkdir "$M/cards/app"
mv "$card" "$M/cards/app/web.container.yaml"
card=$M/cards/app/web.container.yaml
wait_state "containers/${P}web" running 30
edit 's/echo edited/echo again/' || fail "vim failed: $(cat "$M/errors")"
wait_until 60 grep -qx again "$M/containers/${P}web/logs" || fail "not replaced: $(cat "$M/containers/${P}web/status")"
[ "$(readlink "$M/containers/${P}web/card")" = "../../cards/app/web.container.yaml" ] || fail "card link"
umount_fs
