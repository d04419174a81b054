#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a mounted cutipfs:
#   bash contrib/up.sh [MOUNTPOINT] [-o OPTIONS]
# Installs what is missing, builds, starts Docker when no endpoint is named (DOCKER_HOST,
# DOCKER_CONTEXT, a current context, CONTAINER_HOST, -o engine= or context=) and no local
# engine answers, and mounts (default mountpoint: ./mnt). Unmount with: fusermount3 -u MOUNTPOINT
set -euo pipefail
cd "$(dirname "$0")/.."
mnt=${1:-$PWD/mnt}
shift || true

answers() { curl -s --max-time 2 --unix-socket "$1" http://localhost/_ping 2>/dev/null | grep -q OK; }

# An endpoint the user named (as the docker CLI reads them) is cutipfs's to reach, reachable
# or not: never replaced by a local engine started here.
named=""
case " $* " in *engine=* | *context=*) named="-o" ;; esac
[ -n "${DOCKER_HOST:-}" ] && named=DOCKER_HOST
[ -n "${DOCKER_CONTEXT:-}" ] && [ "${DOCKER_CONTEXT}" != default ] && named=DOCKER_CONTEXT
config=${DOCKER_CONFIG:-$HOME/.docker}/config.json
if [ -z "$named" ] && [ -r "$config" ] && command -v python3 >/dev/null &&
	python3 -c 'import json,sys; c=json.load(open(sys.argv[1])).get("currentContext") or "default"; sys.exit(c == "default")' "$config" 2>/dev/null; then
	named="currentContext in $config"
fi
[ -z "$named" ] && [ -n "${CONTAINER_HOST:-}" ] && named=CONTAINER_HOST

engine=""
if [ -z "$named" ]; then
	for sock in /var/run/docker.sock /run/docker.sock "${XDG_RUNTIME_DIR:-/nonexistent}/docker.sock" \
		/run/podman/podman.sock; do
		[ -S "$sock" ] && command -v curl >/dev/null && answers "$sock" && { engine=$sock; break; }
	done
fi
if [ -z "$named" ] && [ -z "$engine" ]; then
	# Nothing named and no engine answers: install and start them (with the build
	# dependencies).
	bash contrib/engines-up.sh
else
	CUTIPFS_NO_ENGINES=1 bash contrib/engines-up.sh --deps-only
fi

[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
mkdir -p "$mnt"
if mountpoint -q "$mnt"; then
	echo "up: $mnt is already mounted"
	exit 0
fi
# cutipfs resolves the endpoint itself (README "Engines"); its engine file says which.
./build/fs/cutipfs "$@" "$mnt"
echo "up: cutipfs mounted at $mnt ($(grep -m1 '^endpoint:' "$mnt/engine" || true)); unmount with: fusermount3 -u $mnt"
