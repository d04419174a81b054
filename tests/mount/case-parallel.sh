#!/usr/bin/env bash
# One cp of many cards: the containers start side by side on the apply pool, and each card
# still gets exactly its own outcome. Some container cards sort before the image and network
# cards they name (pending, then applied once those are), some after; one names its image with
# a networks/ ref (EINVAL at its close, the others go on); one has a command the image lacks
# (its start fails after its close returned: the card rejected, `sync` on it says EIO).
# Every good container runs, each made once, and each card's events lines come in an order a
# single card can have. Then an rm of a card right after its cp (the removal waits for the
# apply), and SIGTERM while a cp's containers start (the mount stops; the next one starts them).
. "$(dirname "$0")/lib.sh"
N=8
mount_fs
events_start
S=$T/src
mkdir -p "$S"
NET=${P}pnet
image_card "${P}pbb" >"$S/1-img.image.yaml"
network_card "$NET" "10.214.$((RANDOM % 200)).0/24" >"$S/2-net.network.yaml"
GOOD=()
for ((i = 1; i <= N; i++)); do
	# Odd ones sort before the image card, even ones after it; every third on the network.
	f=$((i % 2 ? 0 : 3))-c$i.container.yaml
	isolated_card "${P}c$i" "${P}pbb" >"$S/$f"
	if [ $((i % 3)) -eq 0 ]; then
		container_card "${P}c$i" "${P}pbb" "" "$NET" >"$S/$f"
	fi
	GOOD+=("$f")
done
container_card "${P}badref" "${P}pbb" | sed "s|images/${P}pbb|networks/$NET|" >"$S/4-badref.container.yaml"
isolated_card "${P}nocmd" "${P}pbb" /no/such/command >"$S/4-nocmd.container.yaml"

log "one cp of $((N + 4)) cards"
expect_fail "cp: failed to close '$M/cards/4-badref.container.yaml': Invalid argument" cp "$S"/*.yaml "$M/cards/"
for f in "${GOOD[@]}"; do
	n=${f#*-}
	n=${P}${n%.container.yaml}
	wait_state "containers/$n" running 120
done
# Created, its start refused: the engine's state, the card's rejection.
wait_event 60 "$(ev card 4-nocmd.container.yaml rejected '.*start failed.*')"
wait_state "containers/${P}nocmd" created 30
grep -q "cards/4-nocmd.container.yaml: .*start failed" "$M/errors" || fail "errors: $(cat "$M/errors")"
grep -q "cards/4-badref.container.yaml:.*imageRef" "$M/errors" || fail "errors: $(cat "$M/errors")"
[ ! -e "$M/containers/${P}badref" ] || fail "a card with a bad ref made a container"
expect_fail "Input/output error" sync "$M/cards/4-nocmd.container.yaml"
for f in "${GOOD[@]}"; do
	expect_ok sync "$M/cards/$f"
done

log "each container made once, each card's events in order"
# The engine: one container per good card (the failed start's one is there too, created).
got=$(api "$API/containers/json?all=1&filters=%7B%22label%22%3A%5B%22cutipfs.workspace%3D$W%22%5D%7D" |
	python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
[ "$got" -eq $((N + 1)) ] || fail "$got containers in the engine, want $((N + 1))"
# A card's lines: accepted, then maybe pending (once per ref it waited for), then its outcome,
# each once; nothing after.
order() { # order FILE WANT-REGEX
	local seq
	seq=$(awk -v f="$1" '$2 == "card" && $3 == f { printf "%s ", $4 }' "$EVLOG")
	[[ "$seq" =~ ^$2\ $ ]] || fail "cards/$1: events '$seq', want /$2/; events: $(cat "$EVLOG")"
}
for f in "${GOOD[@]}"; do
	order "$f" "accepted( pending)* applied"
	n=${f#*-}
	n=${P}${n%.container.yaml}
	wait_event 30 "$(ev container "$n" start)"
	[ "$(grep -Ec "^\S+ container $n create\$" "$EVLOG")" -eq 1 ] || fail "$n created more than once: $(grep " $n " "$EVLOG")"
	[ "$(grep -Ec "^\S+ container $n start\$" "$EVLOG")" -eq 1 ] || fail "$n started more than once: $(grep " $n " "$EVLOG")"
done
order 1-img.image.yaml "accepted applied"
order 2-net.network.yaml "accepted applied"
order 4-badref.container.yaml "rejected"
order 4-nocmd.container.yaml "accepted rejected"

log "rm right after cp: the removal waits for the apply"
isolated_card "${P}quick" "${P}pbb" >"$T/quick.yaml"
cp "$T/quick.yaml" "$M/cards/quick.container.yaml" || fail "cp quick"
rm "$M/cards/quick.container.yaml" || fail "rm quick"
engine_has_container "${P}quick" && fail "the removed card's container is still there"
[ ! -e "$M/containers/${P}quick" ] || fail "containers/${P}quick still listed"

log "SIGTERM while a cp's containers start, then a new mount starts them"
mkdir -p "$T/late"
for ((i = 1; i <= N; i++)); do
	isolated_card "${P}l$i" "${P}pbb" >"$T/late/l$i.container.yaml"
done
cp "$T/late"/*.yaml "$M/cards/" || fail "cp late"
stop_bg
kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
PID=
[ "$rc" -eq 0 ] || fail "cutipfs exited with $rc after SIGTERM"
grep -q " $M fuse" /proc/mounts && fail "still mounted after SIGTERM"
mount_fs
for ((i = 1; i <= N; i++)); do
	wait_state "containers/${P}l$i" running 120
done
for ((i = 1; i <= N; i++)); do
	wait_state "containers/${P}c$i" running 30
done
umount_fs
