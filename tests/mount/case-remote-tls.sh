#!/usr/bin/env bash
# TLS faults (suite remote, against Docker's tcp://127.0.0.1:2376 with --tlsverify): a CA that
# did not sign the server's certificate, a client certificate from an unrelated CA, no client
# certificate, the same through DOCKER_HOST/DOCKER_TLS_VERIFY/DOCKER_CERT_PATH, and plain HTTP
# to the TLS port. Each time the mount comes up, `engine` says unreachable and why (a sentence
# naming the certificate problem), `ls containers` answers, a card write does not hang and
# does not fail with ENOTCONN, and the mount unmounts cleanly. Every command is bounded.
. "$(dirname "$0")/lib.sh"
LOG_ALLOW='certificate|[Cc]ertificate|SSL|TLS|tls|unreachable|engine|handshake|alert|verify|HTTPS|HTTP'
[ -s "$TLS/other-ca.pem" ] || fail "no test certificates in $TLS (contrib/endpoints-up.sh makes them)"
EP=tcp://127.0.0.1:${CUTIPFS_TEST_TLS_PORT:-2376}

# fault NAME REGEX: mount (MOUNT_OPT/MOUNT_ENV set by the caller), check, unmount.
fault() {
	local name=$1 why=$2 state
	log "$name"
	mount_fs
	wait_until 10 engine_unreachable || fail "$name: engine: $(cat "$M/engine")"
	state=$(engine_line state)
	echo "    engine says: state: $state"
	echo "$state" | grep -Eq "$why" || fail "$name: the state does not say /$why/: $state"
	grep -Fqx "endpoint: $EP" "$M/engine" || fail "$name: endpoint: $(cat "$M/engine")"
	within 3 ls "$M/containers"
	[ "$WITHIN_RC" -eq 0 ] || fail "$name: ls containers: $(cat "$T/within.out")"
	within 3 cat "$M/engine"
	container_card "${P}web" "${P}bb" >"$T/card.yaml"
	not_enotconn cp "$T/card.yaml" "$M/cards/web.container.yaml"
	echo "    card write: exit $WITHIN_RC $(cat "$T/within.out")"
	not_enotconn sync "$M/cards/web.container.yaml"
	not_enotconn ls -l "$M/containers/"
	within 10 fusermount3 -u "$M"
	[ "$WITHIN_RC" -eq 0 ] || fail "$name: fusermount3 -u: $(cat "$T/within.out")"
	local rc=0
	wait "$PID" || rc=$?
	PID=
	[ "$rc" -eq 0 ] || fail "$name: cutipfs exited with $rc after unmount"
	rm -rf "$W" && mkdir -p "$W"
}
MOUNT_ENV=()
ENDPOINT_FIXED=1

MOUNT_OPT="engine=$EP,tlsverify,tlscacert=$TLS/other-ca.pem,tlscert=$TLS/cert.pem,tlskey=$TLS/key.pem"
fault "a CA that did not sign the server certificate" '[Cc]ertificate'

MOUNT_OPT="engine=$EP,tlsverify,tlscacert=$TLS/ca.pem,tlscert=$TLS/other-cert.pem,tlskey=$TLS/other-key.pem"
fault "a client certificate of an unrelated CA" '[Cc]ertificate'

MOUNT_OPT="engine=$EP,tlsverify,tlscacert=$TLS/ca.pem"
fault "no client certificate" '[Cc]ertificate'

MOUNT_OPT=
MOUNT_ENV=("DOCKER_HOST=$EP" DOCKER_TLS_VERIFY=1 "DOCKER_CERT_PATH=$TESTDIR/certs-wrong-ca")
fault "DOCKER_CERT_PATH with the wrong CA" '[Cc]ertificate'

MOUNT_ENV=("DOCKER_HOST=$EP" DOCKER_TLS_VERIFY=1 "DOCKER_CERT_PATH=$TESTDIR/certs-wrong-client")
fault "DOCKER_CERT_PATH with a client certificate of an unrelated CA" '[Cc]ertificate'

MOUNT_ENV=()
MOUNT_OPT="engine=$EP"
fault "plain HTTP to the TLS port" 'TLS|HTTPS|tls|[Cc]ertificate'

log "and with the right certificates, the same endpoint answers"
endpoint_for tls
mount_fs
wait_until 10 engine_reachable || fail "engine: $(cat "$M/engine")"
grep -q '^tls: on' "$M/engine" || fail "engine: $(cat "$M/engine")"
umount_fs

# As a user mounts (no -f: the daemon's stderr is /dev/null once it forks): the one line that
# says why is on the terminal before the command returns.
log "in the background, the reason is on stderr at once"
within 20 env -u DOCKER_HOST -u DOCKER_CONTEXT -u CONTAINER_HOST "DOCKER_CONFIG=$T/no-config" \
	"$CUTIPFS_BIN" -o "engine=$EP,tlsverify,tlscacert=$TLS/other-ca.pem,tlscert=$TLS/cert.pem,tlskey=$TLS/key.pem,workspace=$W" "$M"
[ "$WITHIN_RC" -eq 0 ] || fail "background mount: exit $WITHIN_RC: $(cat "$T/within.out")"
grep -q "^cutipfs: engine $EP (-o engine) is unreachable: .*[Cc]ertificate" "$T/within.out" ||
	fail "background mount said: $(cat "$T/within.out")"
echo "    said: $(cat "$T/within.out")"
mountpoint -q "$M" || fail "not mounted"
within 10 fusermount3 -u "$M"
[ "$WITHIN_RC" -eq 0 ] || fail "fusermount3 -u: $(cat "$T/within.out")"
