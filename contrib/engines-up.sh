#!/usr/bin/env bash
# Installs (when missing) and starts the engines cutipfs drives: Docker and Podman, each serving
# the Docker Engine API on a unix socket, and imports the tiny busybox test image into both.
# Idempotent: engines already answering are left alone. Prints the pids it started to
# $CUTIPFS_STATE/engines.pids so contrib/engines-down.sh can stop exactly those.
set -euo pipefail

state=${CUTIPFS_STATE:-/tmp/cutipfs-engines}
mkdir -p "$state"
docker_sock=/run/docker.sock
podman_sock=/run/podman/podman.sock
pkgs=(fuse3 libfuse3-dev libcurl4-openssl-dev libcjson-dev libyaml-dev libcmocka-dev libarchive-dev
      libssl-dev meson ninja-build pkg-config docker.io podman runc busybox-static inotify-tools curl
      socat vim-tiny python3 openssl openssh-server openssh-client jq binutils
      libsystemd-dev systemd man-db groff-base dpkg-dev clang libclang-rt-14-dev)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "engines-up: installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Podman's default runtime (crun) cannot raise rlimits under these machines' hybrid cgroups.
mkdir -p /etc/containers
[ "${1:-}" = "--deps-only" ] && exit 0

if ! grep -qs 'cutipfs' /etc/containers/containers.conf; then
	cat >/etc/containers/containers.conf <<'CONF'
# written by cutipfs contrib/engines-up.sh
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
fi

answers() { curl -s --max-time 2 --unix-socket "$1" http://localhost/_ping 2>/dev/null | grep -q OK; }
wait_for() {
	for _ in $(seq 1 100); do answers "$1" && return 0; sleep 0.2; done
	echo "engines-up: $2 did not answer on $1" >&2
	return 1
}

# dockerd serves the unix socket and, for the remote-endpoint tests, TLS on 127.0.0.1:2376
# (--tlsverify: clients need a certificate of the test CA). The certificates come first.
tls_dir=${CUTIPFS_TEST_DIR:-/var/lib/cutipfs-test}/tls
tls_port=${CUTIPFS_TEST_TLS_PORT:-2376}
bash "$(dirname "$0")/endpoints-up.sh" --certs
answers_tls() {
	curl -s --max-time 2 --cacert "$tls_dir/ca.pem" --cert "$tls_dir/cert.pem" --key "$tls_dir/key.pem" \
		"https://127.0.0.1:$tls_port/_ping" 2>/dev/null | grep -q OK
}
if answers "$docker_sock" && ! answers_tls; then
	# A dockerd without the TLS listener: restart it with one, if it is ours or systemd's.
	pid=$(awk '$1 == "dockerd" { p = $2 } END { print p }' "$state/engines.pids" 2>/dev/null || true)
	if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
		echo "engines-up: restarting dockerd ($pid) with TLS on 127.0.0.1:$tls_port"
		kill "$pid"
		for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
		sed -i "/^dockerd $pid\$/d" "$state/engines.pids"
	elif command -v systemctl >/dev/null && systemctl is-active -q docker.service 2>/dev/null; then
		echo "engines-up: stopping the system's docker.service to run dockerd with TLS"
		systemctl stop docker.service docker.socket
	else
		echo "engines-up: a dockerd not started here serves $docker_sock without TLS on 127.0.0.1:$tls_port" >&2
		exit 1
	fi
fi
if ! answers "$docker_sock"; then
	# A Swarm would ask a registry for a service's image (to pin its digest at create, and
	# to pull it at each task start): a DNS lookup and a connection to the outside world,
	# which no test may make. With this the local image is used as it is.
	DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 \
	dockerd --host "unix://$docker_sock" --host "tcp://127.0.0.1:$tls_port" \
		--tlsverify --tlscacert "$tls_dir/ca.pem" --tlscert "$tls_dir/server-cert.pem" \
		--tlskey "$tls_dir/server-key.pem" >"$state/dockerd.log" 2>&1 &
	echo "dockerd $!" >>"$state/engines.pids"
	wait_for "$docker_sock" dockerd
	for _ in $(seq 1 50); do answers_tls && break; sleep 0.2; done
	answers_tls || { echo "engines-up: dockerd does not answer TLS on 127.0.0.1:$tls_port" >&2; exit 1; }
fi
if ! answers "$podman_sock"; then
	mkdir -p "$(dirname "$podman_sock")"
	podman system service --time=0 "unix://$podman_sock" >"$state/podman.log" 2>&1 &
	echo "podman $!" >>"$state/engines.pids"
	wait_for "$podman_sock" "podman system service"
fi

# A registry-free image: a rootfs holding busybox and its applet links, imported as a tar.
image=${CUTIPFS_TEST_IMAGE:-cutipfs-busybox:latest}
have_image() { curl -s --unix-socket "$1" -o /dev/null -w '%{http_code}' \
	"http://localhost/images/$image/json" | grep -q 200; }
if ! have_image "$docker_sock" || ! have_image "$podman_sock"; then
	root=$(mktemp -d)
	mkdir -p "$root/bin" "$root/tmp" "$root/etc"
	cp /bin/busybox "$root/bin/busybox"
	for applet in $("$root/bin/busybox" --list); do
		[ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
	tar -C "$root" -cf "$state/busybox-rootfs.tar" .
	rm -rf "$root"
	for sock in "$docker_sock" "$podman_sock"; do
		have_image "$sock" && continue
		curl -sf --unix-socket "$sock" -X POST -H 'Content-Type: application/x-tar' \
			--data-binary @"$state/busybox-rootfs.tar" \
			"http://localhost/images/create?fromSrc=-&repo=${image%%:*}&tag=${image##*:}" >/dev/null
		have_image "$sock" || { echo "engines-up: import into $sock failed" >&2; exit 1; }
	done
fi
echo "engines-up: docker at $docker_sock, podman at $podman_sock, image $image"
