#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a mounted cutipfs:
#   bash contrib/up.sh [MOUNTPOINT] [-o OPTIONS]
# Installs what is missing, builds, starts Docker when no engine answers, and mounts
# (default mountpoint: ./mnt). Unmount with: fusermount3 -u MOUNTPOINT
set -euo pipefail
cd "$(dirname "$0")/.."
mnt=${1:-$PWD/mnt}
shift || true

answers() { curl -s --max-time 2 --unix-socket "$1" http://localhost/_ping 2>/dev/null | grep -q OK; }
engine=""
for sock in "${DOCKER_HOST:-}" /var/run/docker.sock /run/docker.sock /run/podman/podman.sock; do
	sock=${sock#unix://}; [ -n "$sock" ] && [ -S "$sock" ] && command -v curl >/dev/null && answers "$sock" && { engine=$sock; break; }
done
if [ -z "$engine" ]; then
	# No engine answers: install and start them (this also installs the build dependencies).
	bash contrib/engines-up.sh
	engine=/run/docker.sock
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
./build/fs/cutipfs -o "engine=unix://$engine" "$@" "$mnt"
echo "up: cutipfs mounted at $mnt (engine unix://$engine); unmount with: fusermount3 -u $mnt"
