#!/usr/bin/env bash
# bash's builtin echo cannot see close errors (it writes through a dup and closes silently), so
# a bad card "succeeds"; `sync FILE` then reports the card's result through fsync, and the
# errors file has the reason. A good card: both succeed.
. "$(dirname "$0")/lib.sh"
mount_fs
setup_image
card=$M/cards/web.container.yaml

log "bad card"
echo "$(bad_card "${P}web")" >"$card" || fail "builtin echo saw the close error (unexpected)"
grep -q 'cards/web\.container\.yaml:.*imageRef' "$M/errors" || fail "errors: $(cat "$M/errors")"
expect_fail "sync: error syncing '$card': Invalid argument" sync "$card"
expect_fail "Invalid argument" sync "$card" # again: the result stays until the card changes
[ ! -e "$M/containers/${P}web" ] || fail "a bad card made a container"

log "good card"
echo "$(container_card "${P}web" "${P}bb")" >"$card"
expect_ok sync "$card"
wait_state "containers/${P}web" running 60

log "printf and multi-write documents are not judged early"
{
	echo "apiVersion: cutip/v1"
	echo "kind: ContainerCard"
	printf 'metadata:\n  name: %s\n' "${P}web2"
	echo "spec:"
	echo "  imageRef: {ref: images/${P}bb}"
	echo "  command: \"sleep 3600\""
} >"$M/cards/web2.container.yaml"
expect_ok sync "$M/cards/web2.container.yaml"
wait_state "containers/${P}web2" running 60
umount_fs
