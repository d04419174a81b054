#!/usr/bin/env bash
# MOUNT/requests: what the engine is asked, counted by tests/mount/fault-proxy.py (no rule: it
# forwards and logs every request).
#  1. A start from a card costs three requests about its container: the create, the start and
#     one read of the result. No read before the create (the state has read the engine's list
#     and knows no such name), none for the container's own create and start events (the
#     workspace made them and reads the result itself), none of the network it joins.
#  2. A card whose name a container made outside cutipfs took meanwhile: the create fails, the
#     apply reads that container, and refuses it as before (no read before is not a blind spot).
#  3. A container made outside cutipfs: its events are read as before (one read each), and its
#     status and inspect say what the engine says.
#  4. The lines of an own start wait for its one read: with that read 2 s slow (the proxy), a
#     reader who sees the start line finds the started container's details in status at once.
#  5. The event stream starts where the mount did, however long the engine takes to tell its
#     clock (its /info 4 s slow, as Podman's over ssh on a loaded host): a container made the
#     moment the mount is up has its lines.
. "$(dirname "$0")/lib.sh"
[ "$KIND" = local ] || { echo "SKIP: the counting proxy sits on a local socket"; exit 77; }
fault_proxy
endpoint_for local "unix://$PROXY"

# A container made before the mount: the tree shows it once the state has the engine's list.
engine_create_foreign "${P}early"
mount_fs
wait_until 30 test -d "$M/containers/${P}early" || fail "the engine's list never came: $(ls "$M/containers")"
setup_image
events_start

# about NAME ID: the requests the proxy saw that name the container (by name or id).
about() { grep -E "/containers/(create\?name=$1\$|$1/|$1\?|$2/|$2\?)" "$PLOG" || true; }

log "1. a start from a card: create, start, one read"
: >"$PLOG"
container_card "${P}web" "${P}bb" >"$M/cards/web.container.yaml"
wait_event 60 "$(ev container "${P}web" start)"
# The read after the start: its status has what only an inspect gives.
wait_until 30 grep -q '^started_at: ' "$M/containers/${P}web/status" ||
	fail "no read after the start: $(cat "$M/containers/${P}web/status")"
ID=$(engine_id "${P}web")
[ -n "$ID" ] || fail "the engine has no ${P}web"
# Late events (the network's connect) have had their turn by the time a later one is out.
engine_create_foreign "${P}mark"
wait_event 30 "$(ev container "${P}mark" start)"
about "${P}web" "$ID" >"$T/web.req"
cat "$T/web.req"
n=$(wc -l <"$T/web.req")
[ "$n" -eq 3 ] || fail "a start from a card cost $n requests about its container, want 3"
grep -Eq "^pass POST .*/containers/create\?name=${P}web\$" "$T/web.req" || fail "no create"
grep -Eq "^pass POST .*/containers/$ID/start\$" "$T/web.req" || fail "no start"
grep -Eq "^pass GET .*/containers/(${P}web|$ID)/json\$" "$T/web.req" || fail "no read"
# What the container joined is read only when its inspect is asked for.
NET=$(api_json "/containers/${P}web/json" 'next(iter(j["NetworkSettings"]["Networks"]), "")')
NETID=$(api_json "/networks/$NET" 'j.get("Id", "")' 2>/dev/null || true)
if [ -n "$NET" ] && [ -n "$NETID" ]; then
	grep -E "^pass GET .*/networks/($NET|$NETID)\$" "$PLOG" && fail "the network $NET was read for the start"
	# As the engine's own document has it (Podman's lists no containers).
	if api "$API/networks/$NET" | grep -q "$ID"; then
		grep -q "$ID" "$M/networks/$NET/inspect.json" || fail "networks/$NET/inspect.json does not show ${P}web"
	fi
fi
grep -q "$ID" "$M/containers/${P}web/inspect.json" || fail "containers/${P}web/inspect.json: $(head -c 300 "$M/containers/${P}web/inspect.json")"

log "2. a name taken outside cutipfs meanwhile: the create fails, the apply looks, and refuses"
# Made by the engine while the state may not know it yet: the create is what finds it.
engine_create_foreign "${P}taken"
: >"$PLOG"
container_card "${P}taken" "${P}bb" >"$T/taken.yaml"
cp "$T/taken.yaml" "$M/cards/taken.container.yaml" 2>"$T/err" && fail "a card took a name of someone else's"
grep -q "File exists" "$T/err" || fail "the write said: $(cat "$T/err")"
grep -q "^reason: .*not made by this workspace" "$M/containers/${P}taken/status" ||
	fail "containers/${P}taken: $(cat "$M/containers/${P}taken/status")"
grep -Eq "^pass GET .*/containers/${P}taken/json\$" "$PLOG" || fail "the apply did not look: $(cat "$PLOG")"
[ "$(api_json "/containers/${P}taken/json" 'j["Config"]["Labels"].get("cutipfs.test", "")')" = "$W" ] ||
	fail "the container outside cutipfs was replaced"

log "3. a container made outside cutipfs: its events are read"
: >"$PLOG"
engine_create_foreign "${P}out"
wait_event 30 "$(ev container "${P}out" start)"
OUT=$(engine_id "${P}out")
[ "$(about "${P}out" "$OUT" | grep -c "^pass GET ")" -ge 1 ] || fail "the foreign container's events were not read: $(cat "$PLOG")"
wait_state "containers/${P}out" running 10
grep -q '^started_at: ' "$M/containers/${P}out/status" || fail "containers/${P}out/status: $(cat "$M/containers/${P}out/status")"

log "4. an own start's line comes with its read, however slow that read"
echo "slow ^GET .*/containers/(${P}slow|[0-9a-f]{64})/json\$" >"$RULES"
# A reader that looks at the status the moment the start line is out.
(
	while IFS= read -r l; do
		case $l in *" container ${P}slow start"*)
			cat "$M/containers/${P}slow/status" >"$T/slow.status"
			break
			;;
		esac
	done <"$M/events"
) &
READER=$!
BG+=("$READER")
wait_until 10 has_open "$READER" "$M/events" || fail "the reader did not open events"
container_card "${P}slow" "${P}bb" >"$T/slow.yaml"
cp "$T/slow.yaml" "$M/cards/slow.container.yaml" || fail "the card was refused: $(tail -3 "$M/errors")"
wait_until 30 test -s "$T/slow.status" || fail "no start line for ${P}slow: $(cat "$EVLOG")"
grep -q '^slow GET ' "$PLOG" || fail "the read was not slowed: $(cat "$PLOG")"
grep -q '^started_at: ' "$T/slow.status" || fail "the start line came before the read: $(cat "$T/slow.status")"
: >"$RULES"

log "5. events from the mount's start, with the engine's clock slow to read"
umount_fs
echo "slow:4 ^GET .*/info\$" >"$RULES"
: >"$PLOG"
mount_fs
events_start
engine_create_foreign "${P}first"
# Well within the reconcile's period (30 s), which would make up for lost lines.
wait_event 15 "$(ev container "${P}first" start)"
grep -Eq "^slow GET .*/info\$" "$PLOG" || fail "the engine's clock was not read slowly: $(cat "$PLOG")"
grep -Eq "^\S+ container ${P}first create\$" "$EVLOG" || fail "no create line of ${P}first: $(cat "$EVLOG")"
: >"$RULES"
echo "ok"
