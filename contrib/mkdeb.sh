#!/usr/bin/env bash
# Builds a .deb of this tree with Debian's own tools: meson into a staging root (prefix /usr,
# /etc for configuration), dpkg-shlibdeps for the library dependencies of the binary,
# dpkg-gencontrol for the control file, dpkg-deb for the archive.
#   bash contrib/mkdeb.sh [OUTDIR]      -> OUTDIR/cutipfs_VERSION_ARCH.deb (default: .)
#   dpkg -i cutipfs_*.deb; dpkg -r cutipfs
# Needs dpkg-dev (and the build dependencies of .ci/run).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath "${1:-.}")
work=$(mktemp -d /tmp/cutipfs-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT

meson setup "$work/build" "$src" --prefix=/usr --sysconfdir=/etc --buildtype=release \
	-Dtests=false >"$work/setup.log" || { cat "$work/setup.log"; exit 1; }
ninja -C "$work/build" >/dev/null
DESTDIR="$work/root" meson install -C "$work/build" --no-rebuild >/dev/null
version=$(meson introspect --projectinfo "$work/build" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')

# dpkg-shlibdeps and dpkg-gencontrol read a source package's debian/control.
mkdir -p "$work/pkg/debian" "$work/root/DEBIAN"
cat >"$work/pkg/debian/control" <<CONTROL
Source: cutipfs
Section: utils
Priority: optional
Maintainer: cutipfs developers <cutipfs@localhost>
Standards-Version: 4.6.2

Package: cutipfs
Architecture: any
Depends: \${shlibs:Depends}, fuse3
Recommends: docker.io | podman, openssh-client
Description: containers as files: a FUSE filesystem over CUTIP cards
 cutipfs mounts a CUTIP workspace: cards written into MOUNT/cards become images,
 networks and containers of a Docker or Podman engine (or a Docker Swarm), and the
 engine's objects appear as directories of small files kept current by its events.
CONTROL
cat >"$work/pkg/debian/changelog" <<CHANGELOG
cutipfs ($version) unstable; urgency=medium

  * Built from the source tree by contrib/mkdeb.sh.

 -- cutipfs developers <cutipfs@localhost>  $(date -R)
CHANGELOG
(cd "$work/pkg" && dpkg-shlibdeps -T"$work/substvars" -e"$work/root/usr/bin/cutipfs" 2>/dev/null)
gzip -9n "$work/root/usr/share/man/man1/cutipfs.1" # Debian policy 12.3
(cd "$work/pkg" && dpkg-gencontrol -pcutipfs -T"$work/substvars" -P"$work/root" -v"$version")
dpkg-deb --root-owner-group --build "$work/root" "$out" >/dev/null
ls "$out"/cutipfs_"$version"_*.deb
