#!/usr/bin/env bash
# Installed like a filesystem (suite install, once, as root, against Docker): the .deb that
# contrib/mkdeb.sh builds installs and removes cleanly; `meson install` of the build under test
# puts cutipfs on PATH with its man page (no warning from man), its bash completion and its
# systemd units (systemd-analyze verify); then the installed binary mounts a working tree
# through `mount -t fuse.cutipfs`, through an fstab line (mount -T FILE, fstab's own options
# ignored) and through the system unit's own ExecStart with a NOTIFY_SOCKET, which gets
# READY=1 only once the tree answers, and STOPPING=1 at SIGTERM, after which the mount is gone.
# `--help` and the man page list the same options. What meson installed is uninstalled at the
# end (ninja uninstall).
. "$(dirname "$0")/lib.sh"
: "${CUTIPFS_BUILD_ROOT:?meson passes the build directory}"
: "${CUTIPFS_SOURCE_ROOT:?meson passes the source directory}"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (installs)"; exit 77; }
# It installs into the build's prefix and dpkg's database: only when asked (.ci/run asks).
[ "${CUTIPFS_TEST_INSTALL:-}" = 1 ] || { echo "SKIP: set CUTIPFS_TEST_INSTALL=1 to let it install"; exit 77; }
PREFIX=$(meson introspect --buildoptions "$CUTIPFS_BUILD_ROOT" | python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"][0])')
CLEANUP+=("ninja -C '$CUTIPFS_BUILD_ROOT' uninstall >/dev/null 2>&1" "dpkg -r cutipfs >/dev/null 2>&1")

log "the .deb: built with Debian's tools, installed, removed without a trace"
bash "$CUTIPFS_SOURCE_ROOT/contrib/mkdeb.sh" "$T" >"$T/deb.log" 2>&1 || fail "mkdeb: $(cat "$T/deb.log")"
deb=$(ls "$T"/cutipfs_*.deb)
dpkg -i "$deb" >"$T/dpkg.log" 2>&1 || fail "dpkg -i: $(cat "$T/dpkg.log")"
files=$(dpkg -L cutipfs | while read -r f; do [ -f "$f" ] && echo "$f"; done)
echo "$files" | grep -qx /usr/bin/cutipfs || fail "dpkg -L: $files"
echo "$files" | grep -qx /usr/share/man/man1/cutipfs.1.gz || fail "dpkg -L: $files"
/usr/bin/cutipfs --version | grep -q '^cutipfs version' || fail "/usr/bin/cutipfs --version"
dpkg -r cutipfs >"$T/dpkg.log" 2>&1 || fail "dpkg -r: $(cat "$T/dpkg.log")"
for f in $files; do [ ! -e "$f" ] || fail "left after dpkg -r: $f"; done

log "meson install: cutipfs on PATH, man cutipfs, completion, units"
meson install -C "$CUTIPFS_BUILD_ROOT" --no-rebuild >"$T/install.log" 2>&1 || fail "meson install: $(cat "$T/install.log")"
BIN=$(PATH=$PREFIX/bin:$PATH command -v cutipfs)
[ "$BIN" = "$PREFIX/bin/cutipfs" ] || fail "cutipfs on PATH is $BIN"
[ "$(realpath "$(man -w cutipfs)")" = "$PREFIX/share/man/man1/cutipfs.1" ] || fail "man -w: $(man -w cutipfs 2>&1)"
warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 cutipfs 2>&1 >/dev/null)
[ -z "$warn" ] || fail "man --warnings: $warn"
man cutipfs 2>/dev/null | grep -q 'mount -t fuse.cutipfs' || fail "man cutipfs has no mount -t line"
# The options `cutipfs --help` lists in its own part are the man page's -o options.
help_opts=$("$BIN" --help | sed -n '/^cutipfs options:/,/^$/p' | grep -oE '^ +-o [a-z_]+' | awk '{print $2}' | sort -u)
man_opts=$(man cutipfs 2>/dev/null | sed -n '/^ *cutipfs options/,/^ *mount(8) options/p' | grep -oE '^ +-o [a-z_]+' | awk '{print $2}' | sort -u)
[ -n "$help_opts" ] && [ "$help_opts" = "$man_opts" ] ||
	fail "--help and the man page differ: $(diff <(echo "$help_opts") <(echo "$man_opts") | tr '\n' ' ')"
complete_words() { # complete_words WORD...: what the installed completion offers for the last
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _cutipfs; printf "%s\n" "${COMPREPLY[@]}"' \
		complete "$PREFIX/share/bash-completion/completions/cutipfs" "$@" 2>/dev/null
}
[ "$(complete_words cutipfs -o back)" = "backend=" ] || fail "completion of -o back: $(complete_words cutipfs -o back)"
[ "$(complete_words cutipfs -o engine=x,backend=sw)" = "engine=x,backend=swarm" ] ||
	fail "completion after a comma: $(complete_words cutipfs -o engine=x,backend=sw)"
case $'\n'"$(complete_words cutipfs check --form)"$'\n' in
*$'\n--format=json\n'*) ;;
*) fail "completion of check --form: $(complete_words cutipfs check --form)" ;;
esac
unit=$PREFIX/lib/systemd/system/cutipfs@.service
user_unit=$PREFIX/lib/systemd/user/cutipfs-user@.service
[ -f "$unit" ] && [ -f "$user_unit" ] || fail "units not installed: $(ls "$PREFIX/lib/systemd"/*)"
mkdir -p "$T/units" "$T/xdg"
chmod 700 "$T/xdg"
cp "$unit" "$T/units/cutipfs@srv-containers.service"
cp "$user_unit" "$T/units/cutipfs-user@home-u-containers.service"
out=$(systemd-analyze verify "$T/units/cutipfs@srv-containers.service" 2>&1) || fail "systemd-analyze verify: $out"
out=$(XDG_RUNTIME_DIR=$T/xdg systemd-analyze --user verify --man=no "$T/units/cutipfs-user@home-u-containers.service" 2>&1) ||
	fail "systemd-analyze --user verify: $out"

# A tree that works: a card becomes a container the engine has.
works() {
	ls "$M" | grep -qx containers || fail "$1: no containers/ in $(ls "$M")"
	image_card "${P}bb$2" >"$M/cards/bb.image.yaml"
	container_card "${P}c$2" "${P}bb$2" >"$M/cards/c.container.yaml"
	wait_until 30 engine_has_container "${P}c$2" || fail "$1: the card made no container: $(cat "$M/errors")"
	wait_until 10 sh -c "[ \"\$(head -1 '$M/containers/${P}c$2/status')\" = running ]" ||
		fail "$1: status: $(cat "$M/containers/${P}c$2/status")"
	rm "$M/cards/c.container.yaml" "$M/cards/bb.image.yaml"
	wait_until 30 sh -c "! curl -sf --unix-socket '$SOCK' '$API/containers/${P}c$2/json' >/dev/null" || fail "$1: the container stayed"
}
gone() { ! grep -q " $M fuse" /proc/mounts && ! pgrep -f "cutipfs.* $M" >/dev/null; }

log "mount -t fuse.cutipfs SOURCE MOUNTPOINT -o ... (mount's own options ignored)"
mount -t fuse.cutipfs cutipfs "$M" -o "engine=$ENGINE,workspace=$W,noauto,_netdev,nofail,x-systemd.automount" 2>"$T/mount.err" ||
	fail "mount -t: $(cat "$T/mount.err")"
[ ! -s "$T/mount.err" ] || fail "mount -t said: $(cat "$T/mount.err")"
grep -q "^cutipfs $M fuse.cutipfs " /proc/mounts || fail "/proc/mounts: $(grep "$M" /proc/mounts)"
works "mount -t" 1
umount "$M" || fail "umount"
wait_until 10 gone || fail "after umount: $(grep "$M" /proc/mounts; pgrep -af "cutipfs.* $M")"

log "an fstab line: mount MOUNTPOINT, umount MOUNTPOINT; the source may name the engine"
echo "$ENGINE $M fuse.cutipfs workspace=$W,noauto,user,_netdev 0 0" >"$T/fstab"
mount -T "$T/fstab" "$M" 2>"$T/mount.err" || fail "mount -T: $(cat "$T/mount.err")"
works "fstab" 2
grep -q "^engine: $ENGINE\$\|^endpoint: $ENGINE\$" "$M/engine" || fail "the source was not the engine: $(cat "$M/engine")"
umount "$M" || fail "umount"
wait_until 10 gone || fail "after umount: $(grep "$M" /proc/mounts)"

log "the system unit's ExecStart, as systemd runs it: READY=1 once the tree answers"
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
opts="-o engine=$ENGINE,workspace=$W"
cmd=${exec_start//\$CUTIPFS_OPTIONS/$opts}
cmd=${cmd//%f/$M}
python3 - "$T/notify.sock" >"$T/notify.log" 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    msg = s.recv(4096).decode()
    print(msg.replace("\n", " "), flush=True)
    if "STOPPING=1" in msg:
        break
PY
BG+=($!)
wait_until 5 test -S "$T/notify.sock" || fail "no notify socket"
# shellcheck disable=SC2086 # the unit's words, as systemd splits them
NOTIFY_SOCKET=$T/notify.sock $cmd </dev/null 2>>"$LOG" &
PID=$!
wait_until 20 grep -q 'READY=1' "$T/notify.log" || fail "no READY=1: $(cat "$T/notify.log")"
# Ready means answering: the tree is there the moment systemd hears of it.
ls "$M/containers" >/dev/null || fail "READY=1 before the tree answers"
works "the unit" 3
kill -TERM "$PID"
wait "$PID" || fail "the unit's cutipfs exited $? at SIGTERM"
PID=
wait_until 5 grep -q 'STOPPING=1' "$T/notify.log" || fail "no STOPPING=1: $(cat "$T/notify.log")"
wait_until 10 gone || fail "SIGTERM left the mount: $(grep "$M" /proc/mounts)"

log "the daemon's messages: stderr in the foreground by -o loglevel=, nothing on the terminal in the background"
"$BIN" -f -o "engine=$ENGINE,workspace=$W,loglevel=info" "$M" </dev/null 2>"$T/fg.err" &
PID=$!
wait_until 10 mountpoint -q "$M" || fail "foreground mount"
wait_until 10 grep -q "mounted: workspace $W" "$T/fg.err" || fail "loglevel=info said: $(cat "$T/fg.err")"
fusermount3 -u "$M"
wait "$PID"
PID=
grep -q "unmounting" "$T/fg.err" || fail "loglevel=info at the end: $(cat "$T/fg.err")"
"$BIN" -o "engine=$ENGINE,workspace=$W,loglevel=debug" "$M" </dev/null >"$T/bg.out" 2>&1 || fail "background mount: $(cat "$T/bg.out")"
[ ! -s "$T/bg.out" ] || fail "a background mount wrote on the terminal: $(cat "$T/bg.out")"
ls "$M/containers" >/dev/null || fail "background mount does not answer"
fusermount3 -u "$M"
wait_until 10 gone || fail "background daemon stayed"
expect_fail "loglevel=loud" "$BIN" -o "engine=$ENGINE,workspace=$W,loglevel=loud" "$M"
