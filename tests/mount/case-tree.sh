#!/usr/bin/env bash
# Every file of the tree: README, engine, errors (and `: > errors`), cards/, and what an image,
# a network and a container card make, read the ways users read them.
. "$(dirname "$0")/lib.sh"
mount_fs

log "top level"
[ "$(ls "$M")" = "$(printf 'README\ncards\ncontainers\nengine\nerrors\nevents\ngroups\nimages\nnetworks\nunits')" ] ||
	fail "top level: $(ls "$M")"
grep -q '^cards/' "$M/README" || fail "README does not describe cards/"
grep -qx 'state: reachable' "$M/engine" || fail "engine: $(cat "$M/engine")"
# The endpoint as the mount was given it (the kind's URL, a context's host), not the witness.
grep -Fqx "endpoint: $ENDPOINT" "$M/engine" || fail "engine endpoint, want $ENDPOINT: $(cat "$M/engine")"
grep -q '^source: .' "$M/engine" || fail "engine has no source line: $(cat "$M/engine")"
if [ -n "$CONTEXT" ]; then
	grep -Fqx "context: $CONTEXT" "$M/engine" || fail "engine context, want $CONTEXT: $(cat "$M/engine")"
fi
if [ -n "$TLS_ON" ]; then
	grep -q '^tls: on' "$M/engine" || fail "engine does not say tls: on: $(cat "$M/engine")"
else
	! grep -q '^tls: on' "$M/engine" || fail "engine says tls: on: $(cat "$M/engine")"
fi
if is_ssh; then
	grep -q '^via: .*ssh' "$M/engine" || fail "engine does not say via ssh: $(cat "$M/engine")"
fi
grep -Eq '^backend: (docker|podman)$' "$M/engine" || fail "engine backend: $(cat "$M/engine")"
# Whatever the path to it, the backend is the engine's (podman over ssh is podman).
[ -z "${CUTIPFS_TEST_BACKEND:-}" ] || grep -qx "backend: $CUTIPFS_TEST_BACKEND" "$M/engine" ||
	fail "engine backend, want $CUTIPFS_TEST_BACKEND: $(cat "$M/engine")"
[ "$(stat -c %s "$M/README")" -eq "$(cat "$M/README" | wc -c)" ] || fail "README size"
[ "$(stat -c %s "$M/engine")" -eq "$(cat "$M/engine" | wc -c)" ] || fail "engine size"
[ "$(stat -c %m "$M")" = "$M" ] || true
grep -q "^cutipfs $M fuse.cutipfs " /proc/mounts || fail "mount: $(grep "$M" /proc/mounts)"

log "cards: image, network, container in their folders"
mkdir "$M/cards/img" "$M/cards/net" "$M/cards/app"
image_card "${P}bb" >"$M/cards/img/bb.image.yaml"
network_card "${P}net" 10.231.0.0/24 >"$M/cards/net/net.network.yaml"
container_card "${P}web" "${P}bb" "" "${P}net" >"$M/cards/app/web.container.yaml"
[ -f "$W/cutip/cards/app/web.container.yaml" ] || fail "card not stored in the workspace"
cmp "$M/cards/app/web.container.yaml" "$W/cutip/cards/app/web.container.yaml"

log "images/<name>"
wait_state "images/${P}bb" present 60
[ "$(ls "$M/images/${P}bb")" = "$(printf 'card\nid\nimage.tar\ninspect.json\nlog\nstatus')" ] || fail "image files: $(ls "$M/images/${P}bb")"
grep -q '^sha256:' "$M/images/${P}bb/id" || fail "image id: $(cat "$M/images/${P}bb/id")"
[ -s "$M/images/${P}bb/log" ] || fail "image log empty"
[ "$(readlink "$M/images/${P}bb/card")" = "../../cards/img/bb.image.yaml" ] ||
	fail "image card link: $(readlink "$M/images/${P}bb/card")"
cmp "$M/images/${P}bb/card" "$M/cards/img/bb.image.yaml"

log "networks/<name>"
wait_state "networks/${P}net" present 60
[ -d "$M/networks/${P}net" ] || fail "no networks/${P}net: $(ls "$M/networks")"
for f in status id inspect.json card; do [ -e "$M/networks/${P}net/$f" ] || fail "networks/${P}net/$f missing"; done
[ "$(cat "$M/networks/${P}net/id")" = "$(api_json "/networks/${P}net" 'j["Id"]')" ] || fail "network id"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$M/networks/${P}net/inspect.json" || fail "network inspect.json is not JSON"
[ "$(readlink "$M/networks/${P}net/card")" = "../../cards/net/net.network.yaml" ] || fail "network card link"

log "containers/<name>"
wait_state "containers/${P}web" running 60
C=$M/containers/${P}web
[ "$(ls "$C")" = "$(printf 'card\nctl\nfollow\nid\ninspect.json\nlogs\nstatus\nwait')" ] || fail "container files: $(ls "$C")"
[ "$(cat "$C/id")" = "$(engine_id "${P}web")" ] || fail "container id: $(cat "$C/id") vs $(engine_id "${P}web")"
read -r state <"$C/status"
[ "$state" = running ] || fail "read state < status: $state"
grep -q "^id: $(engine_id "${P}web")\$" "$C/status" || fail "status has no id line: $(cat "$C/status")"
# Into a file: grep -q would end the pipe at its match, and pipefail count the SIGPIPE.
grep -lx running "$M"/containers/*/status >"$T/running" || true
grep -qx "$C/status" "$T/running" || fail "grep -lx running containers/*/status"
[ "$(readlink "$C/card")" = "../../cards/app/web.container.yaml" ] || fail "container card link"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["Id"]' "$C/inspect.json" || fail "inspect.json"

log "logs: the engine's bytes, however read"
wait_until 10 grep -q oops "$C/logs" || fail "logs: $(cat "$C/logs")"
engine_logs "${P}web" >"$T/engine.logs"
cat "$C/logs" >"$T/cat.logs"
cmp "$T/engine.logs" "$T/cat.logs" || fail "logs differ from the engine's"
grep -qx hello "$T/cat.logs" && grep -qx oops "$T/cat.logs" || fail "logs: $(cat "$T/cat.logs")"
if command -v docker >/dev/null; then # the docker CLI speaks to Podman's compat API too
	DOCKER_HOST=$ENGINE docker logs "${P}web" >"$T/cli.logs" 2>&1 || fail "docker logs failed"
	cmp "$T/cli.logs" "$T/cat.logs" || fail "logs differ from docker logs"
fi
dd if="$C/logs" bs=1 status=none | cmp - "$T/cat.logs" || fail "dd bs=1 differs"
dd if="$C/logs" bs=1025 status=none | cmp - "$T/cat.logs" || fail "dd bs=1025 differs"
# Not open, logs has no size (a stat does not fetch the log); open, a short log has its own.
[ "$(stat -c %s "$C/logs")" -eq 0 ] || fail "logs not open: st_size $(stat -c %s "$C/logs")"
[ "$(stat -c %s - <"$C/logs")" -eq "$(wc -c <"$T/cat.logs")" ] || fail "logs st_size $(stat -c %s - <"$C/logs") != $(wc -c <"$T/cat.logs")"
[ "$(dd if="$C/logs" bs=1 skip=100000 status=none | wc -c)" -eq 0 ] || fail "read past EOF"
for f in status id inspect.json; do
	[ "$(stat -c %s "$C/$f")" -eq "$(cat "$C/$f" | wc -c)" ] || fail "$f: st_size $(stat -c %s "$C/$f") != $(cat "$C/$f" | wc -c)"
	dd if="$C/$f" bs=7 status=none | cmp - "$C/$f" || fail "$f: dd bs=7 differs"
done
ls -l "$M/containers" | grep -q "${P}web" || fail "ls -l containers"

log "read-only views refuse writes"
expect_fail "Permission denied" sh -c "echo x > '$C/status'"
expect_fail "Operation not permitted" mkdir "$M/containers/${P}new"
expect_fail "Operation not permitted" touch "$M/newfile"
expect_ok touch "$M/containers" "$C/status" "$M/errors" # times follow the content: accepted
expect_fail "Operation not permitted" chmod 600 "$C/status"

log "errors, and : > errors"
bad_card "${P}bad" >"$T/bad.yaml"
expect_fail "Invalid argument" cp "$T/bad.yaml" "$M/cards/bad.container.yaml"
grep -Eq '^[0-9T:.Z-]+ cards/bad\.container\.yaml:[0-9]+:[0-9]+: .*imageRef' "$M/errors" ||
	fail "errors: $(cat "$M/errors")"
[ "$(stat -c %s "$M/errors")" -eq "$(cat "$M/errors" | wc -c)" ] || fail "errors size"
: >"$M/errors"
[ ! -s "$M/errors" ] || fail "errors not cleared: $(cat "$M/errors")"
[ "$(cat "$M/errors" | wc -c)" -eq 0 ] || fail "errors not empty"
expect_fail "Invalid argument" cp "$T/bad.yaml" "$M/cards/bad2.container.yaml"
[ -s "$M/errors" ] || fail "no new error"
truncate -s 0 "$M/errors"
[ ! -s "$M/errors" ] || fail "truncate did not clear errors"

umount_fs
