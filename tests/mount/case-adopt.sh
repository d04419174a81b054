#!/usr/bin/env bash
# Adopt: a container cutipfs did not make (created through the engine's API as `docker run -d`
# makes one: environment, a label, a port on 127.0.0.1, on a user network with a subnet) has
# card, image-card and network-card files, the cards CUTIP's adopt writes, which `cutipfs
# check` accepts. Copied into cards/, they take it over without a restart (same id, same
# StartedAt; card becomes the link, status says card:), also after a remount; an edit then
# replaces it with a container of cutipfs's own that publishes the same port, and removing the
# card removes it. A card that does not match a foreign container still fails with EEXIST.
. "$(dirname "$0")/lib.sh"

NET=${P}net
SUBNET=10.236.$((RANDOM % 200)).0/24
HPORT=$(free_port)
C=$M/containers/${P}web
D=$M/cards/${P}web
started() { api_json "/containers/$1/json" 'j["State"]["StartedAt"]'; }
replaced() {
	local id
	id=$(engine_id "${P}web")
	[ -n "$id" ] && [ "$id" != "$fid" ]
}
gone() { ! engine_has_container "$1"; }
host_port() { api_json "/containers/$1/json" 'j["HostConfig"]["PortBindings"]["80/tcp"][0]["HostPort"]'; }

log "a foreign container on a user network, with env, a label and a port"
api -X POST -H 'Content-Type: application/json' "$API/networks/create" -d "$(python3 -c '
import json, sys
print(json.dumps({"Name": sys.argv[1], "IPAM": {"Config": [{"Subnet": sys.argv[2]}]},
                  "Labels": {"cutipfs.test": sys.argv[3]}}))' "$NET" "$SUBNET" "$W")" >/dev/null
api -X POST -H 'Content-Type: application/json' "$API/containers/create?name=${P}web" -d "$(python3 -c '
import json, sys
name, image, net, port, ws = sys.argv[1:]
print(json.dumps({
    "Image": image,
    "Cmd": ["sh", "-c", "trap \"exit 0\" TERM; sleep 3600 & wait"],
    "Env": ["GREETING=hello world"],
    "Labels": {"app.tier": "web", "cutipfs.test": ws},
    "ExposedPorts": {"80/tcp": {}},
    "HostConfig": {"NetworkMode": net,
                   "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": port}]}},
    "NetworkingConfig": {"EndpointsConfig": {net: {}}},
}))' "${P}web" "$TEST_IMAGE" "$NET" "$HPORT" "$W")" >/dev/null
api -X POST "$API/containers/${P}web/start" >/dev/null
fid=$(engine_id "${P}web")
[ -n "$fid" ] || fail "the foreign container was not made"
since=$(started "${P}web")

mount_fs
wait_state "containers/${P}web" running 20
[ -f "$C/card" ] && [ ! -L "$C/card" ] || fail "card is not a rendered file: $(ls -l "$C")"
[ -f "$C/image-card" ] && [ -f "$C/network-card" ] || fail "files: $(ls "$C")"
expect_fail "Permission denied" sh -c "echo x >'$C/card'"
card=$(cat "$C/card")
for line in "  imageRef: {ref: images/${P}web}" "  networkRef: {ref: networks/$NET}" \
	"    80/tcp: \"$HPORT\"" "    GREETING: hello world" "    app.tier: web"; do
	grep -qxF -- "$line" <<<"$card" || fail "card has no '$line': $card"
done
grep -Eq '^    (PATH|HOME|HOSTNAME|TERM|cutipfs\.test):' <<<"$card" && fail "card keeps what adopt drops: $card"
grep -qx "  subnet: $SUBNET" "$C/network-card" || fail "network-card: $(cat "$C/network-card")"
grep -qx "  image: ${TEST_IMAGE%:*}" "$C/image-card" || fail "image-card: $(cat "$C/image-card")"

log "cutipfs check accepts them"
K=$T/adopted/cutip/cards/${P}web
mkdir -p "$K"
cp "$C/card" "$K/${P}web.container.yaml"
cp "$C/image-card" "$K/${P}web.image.yaml"
cp "$C/network-card" "$K/$NET.network.yaml"
"$CUTIPFS_BIN" check "$T/adopted" >"$T/check" 2>&1 || fail "check: $(cat "$T/check")"

log "copied into cards/: taken over, not restarted"
mkdir "$D"
cp "$C/network-card" "$D/$NET.network.yaml"
cp "$C/image-card" "$D/${P}web.image.yaml"
cp "$C/card" "$D/${P}web.container.yaml"
wait_until 20 test -L "$C/card" || fail "card is no link after the take-over: $(ls -l "$C"; cat "$M/errors")"
[ "$(readlink "$C/card")" = "../../cards/${P}web/${P}web.container.yaml" ] || fail "link: $(readlink "$C/card")"
[ ! -e "$C/image-card" ] || fail "an adopted container still has image-card"
grep -qx "card: ${P}web/${P}web.container.yaml" "$C/status" || fail "status: $(cat "$C/status")"
[ "$(engine_id "${P}web")" = "$fid" ] || fail "the container was made again"
[ "$(started "${P}web")" = "$since" ] || fail "the container was restarted: $since, now $(started "${P}web")"
[ "$(engine_state "${P}web")" = running ] || fail "the container is not running"

log "still ours after a remount"
umount_fs
mount_fs
wait_state "containers/${P}web" running 20
grep -qx "card: ${P}web/${P}web.container.yaml" "$C/status" || fail "status after the remount: $(cat "$C/status")"
[ "$(engine_id "${P}web")" = "$fid" ] && [ "$(started "${P}web")" = "$since" ] ||
	fail "the remount replaced or restarted it"

log "an edit replaces it with a container of our own, on the same port"
sed 's/GREETING: hello world/GREETING: bye/' "$D/${P}web.container.yaml" >"$T/edited.yaml"
cat "$T/edited.yaml" >"$D/${P}web.container.yaml"
wait_until 30 replaced || fail "the edit did not replace it: $(cat "$C/status"; cat "$M/errors")"
wait_state "containers/${P}web" running 30
nid=$(engine_id "${P}web")
[ "$(api_json "/containers/${P}web/json" 'j["Config"]["Labels"].get("cutipfs.managed", "")')" = 1 ] ||
	fail "the new container has no labels of ours"
env=$(api_json "/containers/${P}web/json" '"\n".join(j["Config"]["Env"])')
grep -qx GREETING=bye <<<"$env" || fail "the new container has not the edited environment: $env"
[ "$(host_port "${P}web")" = "$HPORT" ] || fail "the new container publishes 80/tcp on $(host_port "${P}web"), want $HPORT"

log "removing the card removes it"
rm "$D/${P}web.container.yaml"
wait_until 30 gone "${P}web" || fail "the container outlived its card"
[ "$nid" != "$fid" ] || fail "ids"

log "a card that does not match a foreign container: EEXIST, the container left alone"
engine_create_foreign "${P}alien"
aid=$(engine_id "${P}alien")
wait_until 20 test -f "$M/containers/${P}alien/card" || fail "no card for ${P}alien: $(ls "$M/containers/${P}alien")"
cp "$M/containers/${P}alien/image-card" "$D/${P}alien.image.yaml"
wait_state "images/${P}alien" present 30
sed 's/^  command: .*/  command: sleep 1234/' "$M/containers/${P}alien/card" >"$T/alien.yaml"
expect_fail "File exists" cp "$T/alien.yaml" "$D/${P}alien.container.yaml"
[ "$(engine_id "${P}alien")" = "$aid" ] || fail "the foreign container was touched"
[ -f "$M/containers/${P}alien/card" ] && [ ! -L "$M/containers/${P}alien/card" ] ||
	fail "a foreign container's card, with a card of its name in error: $(ls -l "$M/containers/${P}alien")"
umount_fs
