#!/usr/bin/env bash
# Who may enter the mount. Without allow_other only the mounter; with -o allow_other,group=G
# the members of G do what the owner does, and anyone else is refused at the top (EACCES), so
# that inspect.json, logs and the cards (secrets) stay theirs. As real users: a member of a group
# made here and a stranger (useradd -M), removed again by the cleanup.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (useradd)"; exit 77; }

G=${P}g
MEMBER=${P}m
STRANGER=${P}s
groupadd "$G"
CLEANUP+=("groupdel '$G' 2>/dev/null")
useradd -M -N -G "$G" -s /bin/sh "$MEMBER"
CLEANUP=("userdel '$MEMBER' 2>/dev/null" "${CLEANUP[@]}")
useradd -M -N -s /bin/sh "$STRANGER"
CLEANUP=("userdel '$STRANGER' 2>/dev/null" "${CLEANUP[@]}")
GID=$(getent group "$G" | cut -d: -f3)
# The users must reach the mountpoint itself: mktemp made $T 0700.
chmod 711 "$T"

# as USER CMD...: CMD as that user, with their groups.
as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- "$@"
}
# refused USER CMD...: CMD as USER fails with EACCES.
refused() {
	local u=$1
	shift
	expect_fail "Permission denied" as "$u" "$@"
}
# perms PATH: "MODE UID GID" as ls -l would show them.
perms() { stat -c '%a %u %g' "$1"; }

log "refused mounts: no such group, group= without allow_other"
mkdir -p "$T/mnt2"
expect_fail "group=${P}nogroup: no such group" "$CUTIPFS_BIN" -f -o "allow_other,group=${P}nogroup,workspace=$W" "$T/mnt2"
expect_fail "group=$G needs -o allow_other" "$CUTIPFS_BIN" -f -o "group=$G,workspace=$W" "$T/mnt2"
grep -q " $T/mnt2 " /proc/mounts && fail "a refused mount is mounted"

log "default: only the mounter"
mount_fs
[ "$(perms "$M")" = "700 0 0" ] || fail "root: $(perms "$M")"
[ "$(perms "$M/README")" = "400 0 0" ] || fail "README: $(perms "$M/README")"
refused "$MEMBER" ls "$M"
refused "$STRANGER" cat "$M/README"
umount_fs

log "allow_other without group: still only the mounter"
mount_fs -o allow_other
[ "$(perms "$M")" = "700 0 0" ] || fail "root: $(perms "$M")"
refused "$MEMBER" ls "$M"
umount_fs

log "allow_other,group=$G: modes and owners"
mount_fs -o "allow_other,group=$G"
setup_image
isolated_card "${P}web" "${P}bb" >"$M/cards/web.container.yaml"
C=$M/containers/${P}web
wait_state "containers/${P}web" running 60
for f in "$M" "$M/containers" "$C" "$M/images"; do
	[ "$(perms "$f")" = "770 0 $GID" ] || fail "$f: $(perms "$f")"
done
for f in README engine "containers/${P}web/status" "containers/${P}web/inspect.json" \
	"containers/${P}web/logs"; do
	[ "$(perms "$M/$f")" = "440 0 $GID" ] || fail "$f: $(perms "$M/$f")"
done
for f in errors "containers/${P}web/ctl"; do
	[ "$(perms "$M/$f")" = "660 0 $GID" ] || fail "$f: $(perms "$M/$f")"
done
# cards/ is the directory on disk, given to the group (setgid: new cards are the group's).
[ "$(perms "$M/cards")" = "2770 0 $GID" ] || fail "cards/: $(perms "$M/cards")"
[ "$(perms "$W/cutip/cards")" = "2770 0 $GID" ] || fail "cards dir on disk: $(perms "$W/cutip/cards")"
id0=$(cat "$C/id")

log "a stranger can neither read nor stop, remove or create anything"
refused "$STRANGER" ls "$M"
refused "$STRANGER" cat "$M/README"
refused "$STRANGER" cat "$C/inspect.json"
refused "$STRANGER" cat "$M/cards/web.container.yaml"
refused "$STRANGER" cat "$W/cutip/cards/web.container.yaml"
refused "$STRANGER" sh -c "echo stop > '$C/ctl'"
refused "$STRANGER" rmdir "$C"
refused "$STRANGER" sh -c "cat '$M/cards/web.container.yaml' > '$M/cards/s.container.yaml'"
refused "$STRANGER" rm "$M/cards/web.container.yaml"
refused "$STRANGER" sh -c ": > '$M/errors'"
[ "$(engine_state "${P}web")" = running ] || fail "the stranger stopped it: $(engine_state "${P}web")"
[ "$(engine_id "${P}web")" = "$id0" ] || fail "the container changed"
[ -e "$M/cards/web.container.yaml" ] && [ ! -e "$M/cards/s.container.yaml" ] || fail "cards: $(ls "$M/cards")"

log "a member does what the owner does"
as "$MEMBER" ls "$M" "$M/containers" >/dev/null || fail "member: ls"
as "$MEMBER" cat "$M/README" "$M/engine" "$M/errors" "$C/status" "$C/inspect.json" >/dev/null ||
	fail "member: cat"
as "$MEMBER" grep -q "${P}web" "$M/cards/web.container.yaml" || fail "member: reading a card"
as "$MEMBER" grep -q hello "$C/logs" || fail "member: logs"
expect_ok as "$MEMBER" sh -c "echo stop > '$C/ctl'"
[ "$(engine_state "${P}web")" = exited ] || fail "member's stop: $(engine_state "${P}web")"
expect_ok as "$MEMBER" sh -c "echo start > '$C/ctl'"
wait_state "containers/${P}web" running 20
isolated_card "${P}mine" "${P}bb" >"$T/mine.yaml"
chmod 644 "$T/mine.yaml"
expect_ok as "$MEMBER" cp "$T/mine.yaml" "$M/cards/mine.container.yaml"
wait_state "containers/${P}mine" running 60
[ "$(stat -c %g "$W/cutip/cards/mine.container.yaml")" = "$GID" ] || fail "the member's card: $(perms "$W/cutip/cards/mine.container.yaml")"
expect_ok as "$MEMBER" sh -c ": > '$M/errors'"
expect_ok as "$MEMBER" rmdir "$M/containers/${P}mine"
engine_has_container "${P}mine" && fail "the member's rmdir left the container"
[ ! -e "$M/cards/mine.container.yaml" ] || fail "the member's rmdir left the card"
expect_ok as "$MEMBER" rmdir "$C"
engine_has_container "${P}web" && fail "the member's rmdir of the owner's container left it"
umount_fs
