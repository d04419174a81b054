#!/usr/bin/env bash
# cutipfs from-compose: a compose file of two services on a network with a subnet, a secret, a
# $$ and a depends_on, turned into a workspace that `cutipfs check` accepts; mounted, its cards
# bring both containers up as compose would: the command's output, the secret's value in the
# environment (from secrets.yaml, never in a card), an address in the network's subnet; and the
# Units and the Group stand in cards/ as files.
. "$(dirname "$0")/lib.sh"
PREFIX=10.215.$((RANDOM % 200))
# The image as CUTIP names a short one (docker.io/library/...): Podman keeps local images under
# localhost/, so give it that name too while the case runs.
REPO=docker.io/library/${TEST_IMAGE%:*}
TAG=${TEST_IMAGE##*:}
TAGGED=
if ! api -f -o /dev/null "$API/images/$REPO:$TAG/json" 2>/dev/null; then
	api -f -X POST "$API/images/$TEST_IMAGE/tag?repo=$REPO&tag=$TAG" || fail "cannot tag $TEST_IMAGE as $REPO:$TAG"
	TAGGED=1
fi
untag() { [ -z "$TAGGED" ] || api -o /dev/null -X DELETE "$API/images/$REPO:$TAG?noprune=1" || true; }

cat >"$T/compose.yaml" <<EOF
name: ${P}app
services:
  ${P}web:
    image: $TEST_IMAGE
    command: sh -c 'echo "web sees \$\$GREETING"; sleep 3600'
    environment:
      GREETING: hello
    depends_on: [${P}db]
    networks: [${P}net]
  ${P}db:
    image: $TEST_IMAGE
    command: ["sh", "-c", "echo db up; sleep 3600"]
    environment:
      DB_PASSWORD: hunter2
    networks: [${P}net]
networks:
  ${P}net:
    ipam:
      config:
        - subnet: $PREFIX.0/24
EOF

log "from-compose writes a workspace that check accepts"
"$CUTIPFS_BIN" from-compose "$T/compose.yaml" -o "$W" >"$T/out" 2>&1 || fail "from-compose: $(cat "$T/out")"
grep -q "^wrote 11 files for group '${P}app'" "$T/out" || fail "from-compose said: $(cat "$T/out")"
"$CUTIPFS_BIN" check "$W" >"$T/check" || fail "check: $(cat "$T/check")"
C=$W/cutip/cards
grep -qx '    DB_PASSWORD: "{{ secrets.db_password }}"' "$C/${P}db/${P}db.container.yaml" ||
	fail "the secret is not a placeholder: $(cat "$C/${P}db/${P}db.container.yaml")"
grep -rq hunter2 "$C" && fail "the secret's value is in a card"
grep -qx '  db_password: hunter2' "$W/cutip/secrets.yaml" || fail "secrets.yaml: $(cat "$W/cutip/secrets.yaml")"
expect_fail "File exists; nothing written" "$CUTIPFS_BIN" from-compose "$T/compose.yaml" -o "$W"

log "mounted: the containers come up as compose would bring them"
mount_fs
wait_state "containers/${P}db" running 60
wait_state "containers/${P}web" running 60
wait_until 20 grep -q "web sees hello" "$M/containers/${P}web/logs" ||
	fail "web's output: $(cat "$M/containers/${P}web/logs")"
grep -qx "db up" "$M/containers/${P}db/logs" || fail "db's output: $(cat "$M/containers/${P}db/logs")"
env=$(api_json "/containers/${P}db/json" '"\n".join(j["Config"]["Env"])')
grep -qx DB_PASSWORD=hunter2 <<<"$env" || fail "db's environment has no DB_PASSWORD=hunter2: $env"
ip=$(api_json "/containers/${P}web/json" 'j["NetworkSettings"]["Networks"]["'"${P}net"'"]["IPAddress"]')
case $ip in "$PREFIX".*) ;; *) fail "web's address on ${P}net: '$ip', want $PREFIX.x" ;; esac
ls "$M/cards/${P}app/${P}app.group.yaml" "$M/cards/${P}web/${P}web.unit.yaml" >/dev/null ||
	fail "the Group and Units are not in cards/"

log "the compose file's Group: up, its units in depends_on order; down and up again"
wait_until 20 sh -c "head -n 1 '$M/groups/${P}app/status' | grep -qx up" || fail "the group: $(cat "$M/groups/${P}app/status")"
[ "$(sed -n '2p;3p' "$M/groups/${P}app/status" | cut -d' ' -f1 | tr '\n' ' ')" = "${P}db ${P}web " ] ||
	fail "the group's units are not in depends_on order: $(cat "$M/groups/${P}app/status")"
echo down >"$M/groups/${P}app/ctl" || fail "down"
[ "$(engine_state "${P}web")" = exited ] || fail "web after down: $(engine_state "${P}web")"
grep -qx "start_container ${P}db" "$M/groups/${P}app/plan" || fail "plan: $(cat "$M/groups/${P}app/plan")"
echo up >"$M/groups/${P}app/ctl" || fail "up"
[ "$(engine_state "${P}web")" = running ] || fail "web after up: $(engine_state "${P}web")"
[ "$(cat "$M/groups/${P}app/plan")" = "nothing to do" ] || fail "plan after up: $(cat "$M/groups/${P}app/plan")"
umount_fs
untag
