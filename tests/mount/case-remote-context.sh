#!/usr/bin/env bash
# The ways to name the TLS endpoint besides -o (the suite's kinds cover -o engine= and
# -o context=): DOCKER_CONTEXT with a private DOCKER_CONFIG, the config's currentContext, and
# DOCKER_HOST + DOCKER_TLS_VERIFY + DOCKER_CERT_PATH. Each mount is reachable, names the
# endpoint (and the context) as the context store or the environment gave it, says tls: on,
# and lists a container the witness made. Suite remote, against Docker.
. "$(dirname "$0")/lib.sh"
engine_create_foreign "${P}seen"

check() {
	log "$1"
	mount_fs
	wait_until 10 engine_reachable || fail "$1: engine: $(cat "$M/engine")"
	sed 's/^/    /' "$M/engine"
	grep -Fqx "endpoint: $ENDPOINT" "$M/engine" || fail "$1: endpoint, want $ENDPOINT"
	[ -z "$CONTEXT" ] || grep -Fqx "context: $CONTEXT" "$M/engine" || fail "$1: context, want $CONTEXT"
	grep -q '^tls: on' "$M/engine" || fail "$1: not tls: on"
	grep -q '^source: .' "$M/engine" || fail "$1: no source line"
	wait_state "containers/${P}seen" running 20
	umount_fs
}
endpoint_for context-env
check "DOCKER_CONFIG + DOCKER_CONTEXT=cutipfs-tls"
endpoint_for context-current
check "DOCKER_CONFIG whose currentContext is cutipfs-tls"
endpoint_for env-tls
check "DOCKER_HOST + DOCKER_TLS_VERIFY=1 + DOCKER_CERT_PATH"
