#!/usr/bin/env bash
# Crash safety: CRASH_ROUNDS (default 50) times, cards are written (cp), renamed onto (mv) and
# removed (rm, or rmdir of the container), and containers stopped and started (ctl), while the
# daemon is killed with SIGKILL at a random moment; then it is mounted again on the same
# mountpoint, with no fusermount3 -u in between. After each round (crash-check.py):
#   - every card operation that returned success is on disk (a write: its text, whole; an rm
#     or rmdir: no file);
#   - after the remount, each whole card has exactly one container, of the card's text, and a
#     card that is gone none;
#   - a container that was there for the card on disk when the daemon died is the same one
#     after (id), neither restarted (StartedAt) nor started or stopped (state); so is one whose
#     card no operation of the round changed (an interrupted rm included).
. "$(dirname "$0")/lib.sh"
ROUNDS=${CRASH_ROUNDS:-50}
KEYS=(k0 k1 k2 k3)
GEN=$T/gen
CARDS=$W/cutip/cards
CHECK=$(dirname "$0")/crash-check.py
mkdir -p "$GEN"
# Each card version's text is kept, so that the checks know every whole one.
VERSION=0
gen() { # gen KEY: a new version of card KEY in $GEN/KEY.vN; sets VERSION to N
	VERSION=$((VERSION + 1))
	isolated_card "${P}$1" "${P}bb" "sh -c 'echo v$VERSION; trap \"exit 0\" TERM; sleep 3600 & wait'" \
		>"$GEN/$1.v$VERSION"
}
# statfs always asks the daemon (a cached stat would not).
alive() { stat -f "$M" >/dev/null 2>&1; }

# Whether card KEY on disk is one of its versions, whole (a write the kill cut leaves a card
# that is not, and no container: only writes may follow).
whole() {
	local f=$M/cards/$1.container.yaml v
	[ -e "$f" ] || return 1
	v=$(grep -o 'echo v[0-9]*' "$f" 2>/dev/null | head -n 1) || return 1
	cmp -s "$f" "$GEN/$1.v${v#echo v}"
}

# worker JOURNAL: random operations until the mount dies, each as "try KEY OP [V]" before and
# "ok|fail KEY OP [V]" after (crash-check.py disk reads the last line of each card). Versions
# are numbered from $VERSION (the caller moves it past what this worker may use).
worker() {
	local j=$1 k op v f r
	while alive; do
		k=${KEYS[RANDOM % ${#KEYS[@]}]}
		f=$M/cards/$k.container.yaml
		op=$((RANDOM % 8))
		whole "$k" || op=$((op % 2))
		case $op in
		0) gen "$k"; v=$VERSION; op="write $v"
			echo "try $k $op" >>"$j"
			cp "$GEN/$k.v$v" "$f" 2>>"$j.err" && r=ok || r=fail ;;
		1) gen "$k"; v=$VERSION; op="write $v"
			# Written under a name that is no card, then renamed onto the card (a commit).
			cp "$GEN/$k.v$v" "$M/cards/.$k.tmp" 2>>"$j.err" || continue
			echo "try $k $op" >>"$j"
			mv "$M/cards/.$k.tmp" "$f" 2>>"$j.err" && r=ok || r=fail ;;
		2) op=rm
			echo "try $k $op" >>"$j"
			rm "$f" 2>>"$j.err" && r=ok || r=fail ;;
		3) op=rmdir
			echo "try $k $op" >>"$j"
			rmdir "$M/containers/${P}$k" 2>>"$j.err" && r=ok || r=fail ;;
		4 | 5) op=stop; echo "try $k ctl $op" >>"$j"
			echo stop >"$M/containers/${P}$k/ctl" 2>>"$j.err" && r=ok || r=fail
			op="ctl stop" ;;
		6 | 7) op=start; echo "try $k ctl $op" >>"$j"
			echo start >"$M/containers/${P}$k/ctl" 2>>"$j.err" && r=ok || r=fail
			op="ctl start" ;;
		esac
		echo "$r $k $op" >>"$j"
	done
}

mount_fs
setup_image
t0=$SECONDS
ops=0
for round in $(seq "$ROUNDS"); do
	J=$T/journal.$round
	: >"$J"
	python3 "$CHECK" snap "$SOCK" "$W" "$P" "$CARDS" "$GEN" "${KEYS[@]}" >"$T/start.$round"
	(worker "$J") &
	WPID=$!
	BG+=("$WPID")
	# A random moment: 0 to 0.3 s after the start of a random one of the first 8 operations
	# (so that short ones are hit as often as long ones, in any phase).
	read -r n d < <(python3 -c 'import random; print(random.randint(1, 8), round(random.uniform(0, 0.3), 2))')
	wait_until 30 eval '[ "$(grep -c "^try" "$J")" -ge "$n" ]' || fail "round $round: the worker is stuck: $(cat "$J")"
	sleep "$d"
	kill -9 "$PID"
	wait "$PID" 2>/dev/null || true
	PID=
	wait "$WPID" 2>/dev/null || true
	BG=()
	VERSION=$((VERSION + 1000))
	ops=$((ops + $(grep -c '^try' "$J")))
	# Every operation but the one the kill interrupted returned success.
	grep -q '^fail' <(head -n -1 "$J") && fail "round $round: an operation failed before the kill: $(cat "$J" "$J.err")"
	python3 "$CHECK" disk "$CARDS" "$GEN" "$J" "${KEYS[@]}" >"$T/check.out" ||
		fail "round $round: $(cat "$T/check.out"); journal: $(cat "$J")"
	# What the engine holds once the dead daemon's last request is done.
	sleep 1
	python3 "$CHECK" snap "$SOCK" "$W" "$P" "$CARDS" "$GEN" "${KEYS[@]}" >"$T/killed.$round"

	# The same mountpoint, dead mount and all.
	mount_fs
	[ "$(mount_count)" -eq 1 ] || fail "round $round: $(mount_count) mounts on $M"
	after=(python3 "$CHECK" after "$SOCK" "$W" "$P" "$CARDS" "$GEN" "$T/start.$round"
		"$T/killed.$round" "$J" "${KEYS[@]}")
	wait_until 60 "${after[@]}" || {
		"${after[@]}" >"$T/check.out" || true
		fail "round $round, after the remount: $(cat "$T/check.out"); journal: $(cat "$J"); at the start: $(cat "$T/start.$round"); at the kill: $(cat "$T/killed.$round")"
	}
	# The tree shows them too (not pending) before the next round drives them through it.
	for k in "${KEYS[@]}"; do
		whole "$k" || continue
		wait_until 30 sh -c "s=\$(head -n 1 '$M/containers/${P}$k/status' 2>/dev/null) && [ -n \"\$s\" ] && [ \"\$s\" != pending ]" ||
			fail "round $round: containers/${P}$k in the tree: $(cat "$M/containers/${P}$k/status" 2>&1)"
	done
	log "round $round: $(grep -c '^try' "$J") operations, $(tail -n 1 "$J")"
done
log "$ROUNDS rounds, $ops operations, $((SECONDS - t0)) s"
umount_fs
