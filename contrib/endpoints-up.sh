#!/usr/bin/env bash
# The remote endpoints the mount tests reach the engines through, all on 127.0.0.1:
#
#   TLS      certificates for dockerd's tcp://127.0.0.1:2376 (--tlsverify; engines-up.sh starts
#            dockerd with them, so it runs `endpoints-up.sh --certs` first): a CA, a server
#            certificate for IP:127.0.0.1 and DNS:localhost, a client certificate; and an
#            unrelated CA with a client certificate of its own, for the failure tests.
#   SSH      an sshd of its own on 127.0.0.1:2222 (own config, own host key, root by key only,
#            stream-local forwarding on), and the client side in
#            /etc/ssh/ssh_config.d/cutipfs-test.conf: `Host cutipfs-ssh-test` (known host key),
#            `Host cutipfs-ssh-unknown` (same server, empty known_hosts, strict checking), and
#            `Host cutipfs-ssh-proxy` (HostKeyAlias cutipfs-ssh-test: for a test's proxy in front of
#            2222 on any port, ssh://cutipfs-ssh-proxy:PORT).
#   context  a Docker context "cutipfs-tls" for the TLS endpoint, in a private DOCKER_CONFIG.
#
# Everything lives under a stable directory, $CUTIPFS_TEST_DIR (default /var/lib/cutipfs-test),
# because the paths go into ssh_config and the context store:
#
#   tls/ca.pem cert.pem key.pem          the CA and a client certificate (a DOCKER_CERT_PATH)
#   tls/server-cert.pem server-key.pem   dockerd's certificate (SAN IP:127.0.0.1,DNS:localhost)
#   tls/other-ca.pem other-cert.pem other-key.pem   an unrelated CA and a client cert of it
#   certs-wrong-ca/   a DOCKER_CERT_PATH whose ca.pem did not sign the server (other-ca)
#   certs-wrong-client/ a DOCKER_CERT_PATH whose client certificate is the other CA's
#   certs-no-client/  only ca.pem
#   ssh/   sshd_config, host key, the client key id_ed25519, known_hosts, known_hosts.empty
#   docker-config/    a DOCKER_CONFIG holding the context cutipfs-tls (currentContext unset)
#   docker-config-current/  the same context store with currentContext = cutipfs-tls
#
# Idempotent: what exists and works is kept; an sshd already answering on the port is left
# alone. The pid of an sshd it starts goes to $CUTIPFS_STATE/engines.pids (engines-down.sh).
# Usage: endpoints-up.sh [--certs]   (--certs: the certificates only)
set -euo pipefail

dir=${CUTIPFS_TEST_DIR:-/var/lib/cutipfs-test}
state=${CUTIPFS_STATE:-/tmp/cutipfs-engines}
ssh_port=${CUTIPFS_TEST_SSH_PORT:-2222}
tls_port=${CUTIPFS_TEST_TLS_PORT:-2376}
mkdir -p "$dir" "$state"

need() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "endpoints-up: installing ${missing[*]}"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	fi
}

# ---- TLS ----

make_certs() {
	need openssl
	local t=$dir/tls
	mkdir -p "$t"
	# A certificate is remade when missing or expiring within a day.
	valid() { [ -s "$1" ] && openssl x509 -in "$1" -noout -checkend 86400 >/dev/null 2>&1; }
	if ! valid "$t/ca.pem" || ! valid "$t/server-cert.pem" || ! valid "$t/cert.pem" ||
		! valid "$t/other-ca.pem" || ! valid "$t/other-cert.pem"; then
		echo "endpoints-up: making test certificates in $t"
		local tmp
		tmp=$(mktemp -d)
		# CA and unrelated CA
		openssl req -x509 -new -nodes -newkey rsa:2048 -sha256 -days 3650 \
			-keyout "$tmp/ca-key.pem" -out "$tmp/ca.pem" -subj "/CN=cutipfs test CA" 2>/dev/null
		openssl req -x509 -new -nodes -newkey rsa:2048 -sha256 -days 3650 \
			-keyout "$tmp/other-ca-key.pem" -out "$tmp/other-ca.pem" -subj "/CN=cutipfs unrelated CA" 2>/dev/null
		# issue NAME CA SUBJECT EXTFILE-TEXT
		issue() {
			openssl req -new -nodes -newkey rsa:2048 -keyout "$tmp/$1-key.pem" -out "$tmp/$1.csr" \
				-subj "$3" 2>/dev/null
			printf '%b\n' "$4" >"$tmp/$1.ext"
			openssl x509 -req -sha256 -days 3650 -in "$tmp/$1.csr" -CA "$tmp/$2.pem" \
				-CAkey "$tmp/$2-key.pem" -CAcreateserial -extfile "$tmp/$1.ext" \
				-out "$tmp/$1-cert.pem" 2>/dev/null
		}
		issue server ca "/CN=localhost" \
			"subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment"
		issue client ca "/CN=cutipfs test client" "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature"
		issue other other-ca "/CN=cutipfs client of the unrelated CA" "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature"
		cp "$tmp/ca.pem" "$tmp/ca-key.pem" "$tmp/other-ca.pem" "$tmp/other-ca-key.pem" \
			"$tmp/server-cert.pem" "$tmp/server-key.pem" "$tmp/other-cert.pem" "$tmp/other-key.pem" "$t/"
		cp "$tmp/client-cert.pem" "$t/cert.pem"
		cp "$tmp/client-key.pem" "$t/key.pem"
		rm -rf "$tmp"
		chmod 600 "$t"/*key.pem
	fi
	# Ready-made DOCKER_CERT_PATH directories for the failure cases.
	mkdir -p "$dir/certs-wrong-ca" "$dir/certs-wrong-client" "$dir/certs-no-client"
	cp "$t/other-ca.pem" "$dir/certs-wrong-ca/ca.pem"
	cp "$t/cert.pem" "$t/key.pem" "$dir/certs-wrong-ca/"
	cp "$t/ca.pem" "$dir/certs-wrong-client/ca.pem"
	cp "$t/other-cert.pem" "$dir/certs-wrong-client/cert.pem"
	cp "$t/other-key.pem" "$dir/certs-wrong-client/key.pem"
	cp "$t/ca.pem" "$dir/certs-no-client/ca.pem"
	rm -f "$dir/certs-no-client/cert.pem" "$dir/certs-no-client/key.pem"
}

make_certs
[ "${1:-}" = "--certs" ] && exit 0

# ---- SSH ----

need openssh-server openssh-client
s=$dir/ssh
mkdir -p "$s" /root/.ssh /run/sshd
chmod 700 "$s" /root/.ssh
[ -s "$s/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C cutipfs-test-host -f "$s/ssh_host_ed25519_key"
[ -s "$s/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C cutipfs-test-client -f "$s/id_ed25519"
# Only this test key may log in, and only to this sshd (its own AuthorizedKeysFile).
cp "$s/id_ed25519.pub" "$s/authorized_keys"
chmod 600 "$s/authorized_keys"
cat >"$s/sshd_config" <<EOF
# written by cutipfs contrib/endpoints-up.sh: the mount tests' ssh endpoint
ListenAddress 127.0.0.1
Port $ssh_port
HostKey $s/ssh_host_ed25519_key
PidFile $s/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $s/authorized_keys
AllowStreamLocalForwarding yes
AllowTcpForwarding yes
UsePAM no
StrictModes no
MaxStartups 100:30:200
MaxSessions 100
LogLevel INFO
Subsystem sftp internal-sftp
EOF
hostkey=$(cut -d' ' -f1,2 "$s/ssh_host_ed25519_key.pub")
# By address, and by the alias cutipfs-ssh-proxy verifies it under (HostKeyAlias).
printf '[127.0.0.1]:%s %s\ncutipfs-ssh-test %s\n' "$ssh_port" "$hostkey" "$hostkey" >"$s/known_hosts"
: >"$s/known_hosts.empty"
chmod 644 "$s/known_hosts" "$s/known_hosts.empty"

mkdir -p /etc/ssh/ssh_config.d
cat >/etc/ssh/ssh_config.d/cutipfs-test.conf <<EOF
# written by cutipfs contrib/endpoints-up.sh: the mount tests' ssh endpoint (127.0.0.1:$ssh_port)
Host cutipfs-ssh-test
	HostName 127.0.0.1
	Port $ssh_port
	User root
	IdentityFile $s/id_ed25519
	IdentitiesOnly yes
	UserKnownHostsFile $s/known_hosts
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
	BatchMode yes
	ConnectTimeout 5

# The same server through a test's proxy on 127.0.0.1:$((ssh_port + 1)) (the proxy is started and
# stopped by tests/mount/case-*.sh; nothing listens there otherwise).
Host cutipfs-ssh-proxy
	HostName 127.0.0.1
	Port $((ssh_port + 1))
	HostKeyAlias cutipfs-ssh-test
	User root
	IdentityFile $s/id_ed25519
	IdentitiesOnly yes
	UserKnownHostsFile $s/known_hosts
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
	BatchMode yes
	ConnectTimeout 5

# The same server, but its host key is known nowhere: "Host key verification failed".
Host cutipfs-ssh-unknown
	HostName 127.0.0.1
	Port $ssh_port
	User root
	IdentityFile $s/id_ed25519
	IdentitiesOnly yes
	UserKnownHostsFile $s/known_hosts.empty
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
	BatchMode yes
	ConnectTimeout 5
EOF
grep -Eqs '^[[:space:]]*Include[[:space:]]+/etc/ssh/ssh_config\.d/\*\.conf' /etc/ssh/ssh_config ||
	{ echo "endpoints-up: /etc/ssh/ssh_config does not include ssh_config.d/*.conf" >&2; exit 1; }

ssh_ok() { timeout 10 ssh -o BatchMode=yes cutipfs-ssh-test true </dev/null >/dev/null 2>&1; }
if ! ssh_ok; then
	/usr/sbin/sshd -t -f "$s/sshd_config"
	/usr/sbin/sshd -D -f "$s/sshd_config" -E "$state/sshd.log" &
	echo "sshd $!" >>"$state/engines.pids"
	for _ in $(seq 1 50); do ssh_ok && break; sleep 0.2; done
	ssh_ok || { echo "endpoints-up: sshd on 127.0.0.1:$ssh_port does not let cutipfs-ssh-test in" >&2; cat "$state/sshd.log" >&2; exit 1; }
fi
# The remote end of ssh:// for the docker CLI and for Podman: the engines' sockets on this host.
timeout 20 ssh cutipfs-ssh-test 'command -v docker >/dev/null && test -S /run/docker.sock && test -S /run/podman/podman.sock' </dev/null ||
	{ echo "endpoints-up: over ssh, docker or the engine sockets are missing" >&2; exit 1; }

# ---- the Docker context, written as the docker CLI writes it ----

# contexts/meta/<sha256(name)>/meta.json and contexts/tls/<sha256(name)>/docker/{ca,cert,key}.pem
write_context() { # write_context DOCKER_CONFIG NAME HOST CURRENT(yes|no)
	local cfg=$1 name=$2 host=$3 id
	id=$(printf '%s' "$name" | sha256sum | cut -d' ' -f1)
	mkdir -p "$cfg/contexts/meta/$id" "$cfg/contexts/tls/$id/docker"
	printf '{"Name":"%s","Metadata":{"Description":"cutipfs test: dockerd over TLS"},"Endpoints":{"docker":{"Host":"%s","SkipTLSVerify":false}}}\n' \
		"$name" "$host" >"$cfg/contexts/meta/$id/meta.json"
	cp "$dir/tls/ca.pem" "$cfg/contexts/tls/$id/docker/ca.pem"
	cp "$dir/tls/cert.pem" "$cfg/contexts/tls/$id/docker/cert.pem"
	cp "$dir/tls/key.pem" "$cfg/contexts/tls/$id/docker/key.pem"
	chmod 700 "$cfg"
	if [ "$4" = yes ]; then
		printf '{\n\t"currentContext": "%s"\n}\n' "$name" >"$cfg/config.json"
	else
		printf '{}\n' >"$cfg/config.json"
	fi
}
write_context "$dir/docker-config" cutipfs-tls "tcp://127.0.0.1:$tls_port" no
write_context "$dir/docker-config-current" cutipfs-tls "tcp://127.0.0.1:$tls_port" yes

# ---- checks, with the clients users have ----

t=$dir/tls
curl -sf --max-time 5 --cacert "$t/ca.pem" --cert "$t/cert.pem" --key "$t/key.pem" \
	"https://127.0.0.1:$tls_port/_ping" | grep -q OK ||
	{ echo "endpoints-up: dockerd does not answer TLS on 127.0.0.1:$tls_port (was it started by engines-up.sh?)" >&2; exit 1; }
if command -v docker >/dev/null; then
	DOCKER_CONFIG=$dir/docker-config timeout 20 docker --context cutipfs-tls version --format '{{.Server.Version}}' >/dev/null ||
		{ echo "endpoints-up: docker --context cutipfs-tls fails" >&2; exit 1; }
	DOCKER_CONFIG=$dir/docker-config DOCKER_HOST=ssh://cutipfs-ssh-test timeout 30 docker version --format '{{.Server.Version}}' </dev/null >/dev/null ||
		{ echo "endpoints-up: DOCKER_HOST=ssh://cutipfs-ssh-test docker fails" >&2; exit 1; }
fi
echo "endpoints-up: tls tcp://127.0.0.1:$tls_port (certs in $t), ssh cutipfs-ssh-test (127.0.0.1:$ssh_port), context cutipfs-tls in $dir/docker-config"
