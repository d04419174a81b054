#!/usr/bin/env bash
# A host port already taken: the card fails with EADDRINUSE ("Address already in use"), and
# errors names the port and who holds it: a container made outside cutipfs, or a process on
# this host. Freed, the same card comes up.
. "$(dirname "$0")/lib.sh"
mount_fs
setup_image
PORT=$(free_port)
# port_card NAME PORT
port_card() {
	container_card "$1" "${P}bb"
	printf '  network_mode: bridge\n  ports: {"80/tcp": "%s"}\n' "$2"
}

log "held by a container"
api -f -o /dev/null -X POST -H 'Content-Type: application/json' "$API/containers/create?name=${P}holder" \
	-d "{\"Image\":\"$TEST_IMAGE\",\"Cmd\":[\"sleep\",\"600\"],\"Labels\":{\"cutipfs.workspace\":\"$W\"},\"ExposedPorts\":{\"80/tcp\":{}},\"HostConfig\":{\"PortBindings\":{\"80/tcp\":[{\"HostPort\":\"$PORT\"}]}}}" ||
	fail "cannot create ${P}holder"
api -f -o /dev/null -X POST "$API/containers/${P}holder/start" || fail "cannot start ${P}holder"
port_card "${P}web" "$PORT" >"$T/web.yaml"
expect_fail "Address already in use" cp "$T/web.yaml" "$M/cards/web.container.yaml"
grep -q "port $PORT is held by container ${P}holder" "$M/errors" || fail "errors: $(tail -3 "$M/errors")"

log "held by a process"
PORT2=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen()
time.sleep(120)' "$PORT2" &
LISTENER=$!
BG+=("$LISTENER")
wait_until 10 sh -c "grep -qi ':$(printf %04X "$PORT2") 00000000:0000 0A' /proc/net/tcp" || fail "the listener did not listen"
port_card "${P}web2" "$PORT2" >"$T/web2.yaml"
expect_fail "Address already in use" cp "$T/web2.yaml" "$M/cards/web2.container.yaml"
# Over ssh the engine's host is not known to be this one: then the port alone is named.
case $KIND in
*ssh*) want="port $PORT2 is \(held by process python3 (pid $LISTENER)\|taken on the engine's host\)" ;;
*) want="port $PORT2 is held by process python3 (pid $LISTENER)" ;;
esac
grep -q "$want" "$M/errors" || fail "errors: $(tail -3 "$M/errors")"

log "freed: the card comes up"
api -f -o /dev/null -X DELETE "$API/containers/${P}holder?force=1" || fail "cannot remove ${P}holder"
cp "$T/web.yaml" "$M/cards/web.container.yaml" || fail "the card was refused once the port was free: $(tail -2 "$M/errors")"
wait_state "containers/${P}web" running 60
umount_fs
