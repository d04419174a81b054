#!/usr/bin/env bash
# Editor-style saves: write NAME.tmp (or a hidden/backup/swap name, all stored but never taken
# as cards), then rename it onto the card. Python's os.replace reports the commit's errno.
. "$(dirname "$0")/lib.sh"
mount_fs
setup_image
card=$M/cards/web.container.yaml

log "ignored names are stored, not taken"
for f in web.container.yaml.tmp .web.container.yaml web.container.yaml~ .web.container.yaml.swp 4913 notes.txt; do
	bad_card "${P}web" >"$M/cards/$f" || fail "writing $f failed"
	expect_ok sync "$M/cards/$f"
	cmp "$M/cards/$f" "$W/cutip/cards/$f" || fail "$f not stored"
done
[ ! -s "$M/errors" ] || fail "ignored names were judged: $(cat "$M/errors")"
rm "$M/cards/"{web.container.yaml.tmp,.web.container.yaml,web.container.yaml~,.web.container.yaml.swp,4913,notes.txt}

log "bad card via .tmp + os.replace"
bad_card "${P}web" >"$card.tmp"
out=$(python3 -c 'import os,sys; os.replace(sys.argv[1], sys.argv[2])' "$card.tmp" "$card" 2>&1) &&
	fail "os.replace accepted a bad card"
case "$out" in *"[Errno 22] Invalid argument"*) ;; *) fail "os.replace: $out" ;; esac
[ ! -e "$card.tmp" ] || fail "the .tmp file stayed"
grep -q imageRef "$card" && fail "card text"
grep -q 'cards/web\.container\.yaml:.*imageRef' "$M/errors" || fail "errors: $(cat "$M/errors")"

log "good card via .tmp + rename"
container_card "${P}web" "${P}bb" >"$card.tmp"
expect_ok python3 -c 'import os,sys; os.replace(sys.argv[1], sys.argv[2])' "$card.tmp" "$card"
wait_state "containers/${P}web" running 60
id=$(engine_id "${P}web")

log "a backup rename keeps the container; the new card replaces it"
expect_ok mv "$card" "$card~"
state_is "containers/${P}web" running || fail "backup rename removed the container"
container_card "${P}web" "${P}bb" "sh -c 'echo second; trap \"exit 0\" TERM; sleep 3600 & wait'" >"$card"
expect_ok rm "$card~"
wait_until 60 sh -c "[ \"\$(cat '$M/containers/${P}web/id' 2>/dev/null)\" != '$id' ]" || fail "not replaced"
wait_state "containers/${P}web" running 60
umount_fs
