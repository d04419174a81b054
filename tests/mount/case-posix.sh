#!/usr/bin/env bash
# cards/ gives the disk's answers: the POSIX rules of posix.py (about 14,000 assertions: every
# operation over file types, flags, callers and errnos; renames, unlinks and rmdirs reusing
# the same names at once) run as root and as two users made here, once in a plain directory
# on the disk under the workspace and once inside cards/ (mounted allow_other as a user would
# to share it, and dev, since the disk has device files), and every outcome must be the same.
# Then processes race over the same names through cards/, and every name must be the same
# file through the mount as on the disk underneath (no stale names); and tar, cp -a, make and
# git clone leave the same tree in both.
#
# Prints "N passed, N failed" over the assertions; each differing one is shown with both
# outcomes (disk first).
. "$(dirname "$0")/lib.sh"
command -v useradd >/dev/null || { echo "SKIP: no useradd"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
POSIX=$(dirname "$0")/posix.py

# Two users and a group only the first is in; gone again at exit.
U1=${P}a U2=${P}b G=${P}g
groupadd "$G" || fail "groupadd"
CLEANUP+=("groupdel $G")
useradd -M -U -G "$G" -s /usr/sbin/nologin "$U1" || fail "useradd $U1"
CLEANUP+=("userdel $U1; groupdel $U1 2>/dev/null")
useradd -M -U -s /usr/sbin/nologin "$U2" || fail "useradd $U2"
CLEANUP+=("userdel $U2; groupdel $U2 2>/dev/null")

# The users reach both directories (mktemp made $T private). The plain one is a sibling of
# the workspace: the same file system as the cards underneath.
chmod 755 "$T" "$M"
mkdir -p "$T/disk" "$W"
chmod 755 "$W"
mount_fs -o allow_other,dev
mkdir "$M/cards/posix"

log "the rules on the disk"
python3 "$POSIX" "$T/disk" "$U1" "$U2" "$G" >"$T/disk.out" || fail "posix.py on the disk failed"
log "the rules in cards/"
python3 "$POSIX" "$M/cards/posix" "$U1" "$U2" "$G" >"$T/cards.out" ||
	fail "posix.py in cards/ failed"
log "names raced over through cards/, against the disk underneath"
mkdir "$M/cards/race"
python3 "$POSIX" --race "$M/cards/race" "$W/cutip/cards/race" "$U1" "$U2" "$G" >"$T/race.out" ||
	fail "posix.py --race failed"

log "tools: tar, cp -a, git clone, make, into both"
src=$T/src
mkdir -p "$src/d/e"
printf 'one\n' >"$src/a.txt"
ln "$src/a.txt" "$src/d/hard"
ln -s ../a.txt "$src/d/sym"
mkfifo "$src/d/fifo"
head -c 3000000 /dev/urandom >"$src/big.bin"
truncate -s 5M "$src/sparse"
printf 'x' | dd of="$src/sparse" bs=1 seek=4000000 conv=notrunc status=none
chmod 2750 "$src/d/e"
chown "$U1:$G" "$src/d/e" "$src/a.txt"
touch -h -d '2001-02-03 04:05:06' "$src/d/sym" "$src/d"
printf 'all: out\nout: a.txt\n\tcp a.txt out\n' >"$src/Makefile"
git init -q "$T/repo"
printf 'hello\n' >"$T/repo/f"
git -C "$T/repo" -c user.name=t -c user.email=t@t add f
git -C "$T/repo" -c user.name=t -c user.email=t@t commit -qm one
n=0
for dest in "$T/disk/tools" "$M/cards/tools"; do
	n=$((n + 1))
	mkdir "$dest"
	tar -C "$src" --xattrs -cf - . | tar -C "$dest/" --xattrs -xpf - || fail "tar into $dest"
	mkdir "$dest/cpa"
	cp -a "$src/." "$dest/cpa/" || fail "cp -a into $dest"
	# what they made, with its times, before make and git add their own
	python3 "$POSIX" --tree "$dest" "$U1" "$U2" "$G" >"$T/tools$n.tree" || fail "tree of $dest"
	make -s -C "$dest" && cmp -s "$dest/out" "$src/a.txt" || fail "make in $dest"
	git clone -q "$T/repo" "$dest/git" || fail "git clone into $dest"
	[ -z "$(git -C "$dest/git" status --porcelain)" ] || fail "git status in $dest"
	git -C "$dest/git" fsck --no-dangling --no-progress || fail "git fsck in $dest"
done
if cmp -s "$T/tools1.tree" "$T/tools2.tree"; then
	echo "tools: same" >>"$T/race.out"
else
	echo "tools: differ" >>"$T/race.out"
	diff "$T/tools1.tree" "$T/tools2.tree" || true
fi

total=$(wc -l <"$T/disk.out")
[ "$total" -gt 0 ] || fail "no assertion ran"
n=$(wc -l <"$T/cards.out")
[ "$n" -eq "$total" ] || echo "cards/ gave $n outcomes, the disk $total"
# Each assertion differing shows as a line on either side (one the other has not: a step of
# setting up that failed, or a section cut short).
only_disk=$(diff "$T/disk.out" "$T/cards.out" | grep -c '^<' || true)
only_cards=$(diff "$T/disk.out" "$T/cards.out" | grep -c '^>' || true)
differ=$((only_disk > only_cards ? only_disk : only_cards))
diff "$T/disk.out" "$T/cards.out" | head -100 || true
races=$(wc -l <"$T/race.out")
[ "$races" -gt 0 ] || fail "no race assertion ran"
stale=$(grep -vc ': same$' "$T/race.out" || true)
grep -v ": same$" "$T/race.out" | head -20 || true
umount_fs
echo "$((total + races - differ - stale)) passed, $((differ + stale)) failed"
[ "$differ" -eq 0 ] && [ "$stale" -eq 0 ] || fail "cards/ answered differently from the disk"
