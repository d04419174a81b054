#!/usr/bin/env bash
# units/ and groups/: a Group of two units planned, brought up in order, taken down, kept down
# across a card edit and a remount, brought up again, taken down with --rm; status words and
# member lines, plan steps, events lines, errors naming the failed step, and bad commands.
. "$(dirname "$0")/lib.sh"
mount_fs
setup_image
events_start

unit_card() {
	printf 'apiVersion: cutip/v1\nkind: Unit\nmetadata:\n  name: %s\nspec:\n  containerRef: {ref: containers/%s}\n' "$1" "$2"
}
# group_card NAME UNIT...
group_card() {
	local name=$1 u
	shift
	printf 'apiVersion: cutip/v1\nkind: Group\nmetadata:\n  name: %s\nspec:\n  workflow: workflow.py\n  units:\n' "$name"
	for u in "$@"; do printf '  - {ref: units/%s}\n' "$u"; done
}
# put FILE: the card on stdin into cards/FILE through one writer (a second close commits twice).
put() {
	cat >"$T/card.tmp"
	cp "$T/card.tmp" "$M/cards/$1" || fail "cp of $1 failed"
}
first_line() { head -n 1 "$M/$1/status"; }
word_is() { [ "$(first_line "$1")" = "$2" ]; }
started_at() { api_json "/containers/$1/json" 'j["State"]["StartedAt"]'; }
finished_at() { api_json "/containers/$1/json" 'j["State"]["FinishedAt"]'; }
# ts_before A B: RFC 3339 time A is before B (the engines drop trailing zeros of the fraction,
# so the strings do not compare as they are).
ts_before() {
	python3 -c '
import re, sys
def key(s):
    m = re.match(r"(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?", s)
    return (m.group(1), float("0." + (m.group(2) or "0")))
sys.exit(0 if key(sys.argv[1]) < key(sys.argv[2]) else 1)' "$1" "$2"
}

G=${P}app
mkdir -p "$M/cards/app"
: >"$M/cards/app/workflow.py"
isolated_card "${P}db" "${P}bb" | put app/db.container.yaml
isolated_card "${P}web" "${P}bb" | put app/web.container.yaml
unit_card "${P}db" "${P}db" | put app/db.unit.yaml
unit_card "${P}web" "${P}web" | put app/web.unit.yaml
group_card "$G" "${P}db" "${P}web" | put app/group.yaml
wait_state "containers/${P}db" running 60
wait_state "containers/${P}web" running 60

log "ls units groups; a new group is up, its units in declaration order"
[ "$(ls "$M/units" | grep -c "^${P}")" = 2 ] || fail "units/: $(ls "$M/units")"
ls "$M/groups" | grep -qx "$G" || fail "groups/: $(ls "$M/groups")"
[ "$(ls "$M/groups/$G" | tr '\n' ' ')" = "card ctl plan status " ] || fail "groups/$G has: $(ls "$M/groups/$G")"
wait_until 20 word_is "groups/$G" up || fail "group status: $(cat "$M/groups/$G/status")"
sed -n 2p "$M/groups/$G/status" | grep -qx "${P}db running" || fail "first member line: $(cat "$M/groups/$G/status")"
sed -n 3p "$M/groups/$G/status" | grep -qx "${P}web running" || fail "second member line: $(cat "$M/groups/$G/status")"
grep -qx "card: app/group.yaml" "$M/groups/$G/status" || fail "no card line: $(cat "$M/groups/$G/status")"
[ "$(readlink "$M/groups/$G/card")" = ../../cards/app/group.yaml ] || fail "card link: $(readlink "$M/groups/$G/card")"
word_is "units/${P}web" up || fail "unit status: $(cat "$M/units/${P}web/status")"
[ "$(cat "$M/groups/$G/plan")" = "nothing to do" ] || fail "plan when up: $(cat "$M/groups/$G/plan")"

log "down: both stopped, in reverse order; the group, its units and events say down"
ev_mark
echo down >"$M/groups/$G/ctl" || fail "echo down failed"
[ "$(engine_state "${P}db")" = exited ] || fail "db after down: $(engine_state "${P}db")"
[ "$(engine_state "${P}web")" = exited ] || fail "web after down: $(engine_state "${P}web")"
wait_until 20 word_is "groups/$G" down || fail "group after down: $(cat "$M/groups/$G/status")"
sed -n 2p "$M/groups/$G/status" | grep -Eqx "${P}db exited exit_code=[0-9]+" || fail "member after down: $(cat "$M/groups/$G/status")"
wait_event 20 "$(ev group "$G" down)"
wait_event 20 "$(ev unit "${P}web" down)"
# web stops before db (the reverse of the Group's order): its finish is not later.
ts_before "$(finished_at "${P}web")" "$(finished_at "${P}db")" || fail "web did not stop before db"
plan=$(cat "$M/groups/$G/plan")
[ "$plan" = "$(printf 'start_container %s\nstart_container %s' "${P}db" "${P}web")" ] || fail "plan when down: $plan"

log "kept down: a card edit changes nothing in the engine"
isolated_card "${P}web" "${P}bb" "sh -c 'trap \"exit 0\" TERM; sleep 3601 & wait'" | put app/web.container.yaml
sleep 2
[ "$(engine_state "${P}web")" = exited ] || fail "web started by a card edit while down: $(engine_state "${P}web")"
grep -q "^replace_container ${P}web (unit ${P}web)$" "$M/groups/$G/plan" || fail "plan after the edit: $(cat "$M/groups/$G/plan")"
grep -q "^start_container ${P}db$" "$M/groups/$G/plan" || fail "plan after the edit lost db: $(cat "$M/groups/$G/plan")"

log "kept down across a remount"
umount_fs
mount_fs
events_start
sleep 3
[ "$(engine_state "${P}db")" = exited ] || fail "db started by the remount: $(engine_state "${P}db")"
[ "$(engine_state "${P}web")" = exited ] || fail "web started by the remount: $(engine_state "${P}web")"
wait_until 20 word_is "groups/$G" down || fail "group after the remount: $(cat "$M/groups/$G/status")"

log "up: in order, the edited card applied; plan and status say up"
db_id=$(engine_id "${P}db")
ev_mark
echo up >"$M/groups/$G/ctl" || fail "echo up failed"
[ "$(engine_state "${P}db")" = running ] || fail "db after up: $(engine_state "${P}db")"
[ "$(engine_state "${P}web")" = running ] || fail "web after up: $(engine_state "${P}web")"
[ "$(engine_id "${P}db")" = "$db_id" ] || fail "db (unchanged) was replaced by up"
api_json "/containers/${P}web/json" '" ".join(j["Config"]["Cmd"])' | grep -q "sleep 3601" || fail "web was not replaced with its edited card"
ts_before "$(started_at "${P}db")" "$(started_at "${P}web")" || fail "db did not start before web"
wait_until 20 word_is "groups/$G" up || fail "group after up: $(cat "$M/groups/$G/status")"
wait_event 20 "$(ev group "$G" up)"
[ "$(cat "$M/groups/$G/plan")" = "nothing to do" ] || fail "plan after up: $(cat "$M/groups/$G/plan")"

log "a unit alone: down, partial group, up"
echo down >"$M/units/${P}db/ctl" || fail "unit down failed"
[ "$(engine_state "${P}db")" = exited ] || fail "db after unit down"
wait_until 20 word_is "groups/$G" partial || fail "group with one unit down: $(cat "$M/groups/$G/status")"
echo up >"$M/units/${P}db/ctl" || fail "unit up failed"
wait_until 20 word_is "groups/$G" up || fail "group after unit up: $(cat "$M/groups/$G/status")"

log "down --rm: removed; status says absent; up makes them again"
echo "down --rm" >"$M/groups/$G/ctl" || fail "down --rm failed"
engine_has_container "${P}db" && fail "db still in the engine after down --rm"
engine_has_container "${P}web" && fail "web still in the engine after down --rm"
wait_until 20 word_is "groups/$G" down || fail "group after down --rm: $(cat "$M/groups/$G/status")"
grep -qx "${P}web absent" "$M/groups/$G/status" || fail "member after down --rm: $(cat "$M/groups/$G/status")"
grep -q "^create_container ${P}db (unit ${P}db)$" "$M/groups/$G/plan" || fail "plan after down --rm: $(cat "$M/groups/$G/plan")"
echo restart >"$M/groups/$G/ctl" || fail "restart failed"
[ "$(engine_state "${P}web")" = running ] || fail "web after restart: $(engine_state "${P}web")"
[ "$(engine_state "${P}db")" = running ] || fail "db after restart: $(engine_state "${P}db")"

log "bad commands: EINVAL, nothing done; rmdir refused"
expect_fail "Invalid argument" bash -c "echo 'up now' >'$M/groups/$G/ctl'"
expect_fail "Invalid argument" bash -c "echo 'downn' >'$M/units/${P}web/ctl'"
[ "$(engine_state "${P}web")" = running ] || fail "a bad command changed web"
expect_fail "Operation not permitted" rmdir "$M/groups/$G"
head -n 1 "$M/groups/$G/ctl" | grep -q "up, down" || fail "ctl help: $(cat "$M/groups/$G/ctl")"

log "a member whose ref names no card: pending; up fails naming the step"
unit_card "${P}ghost" "${P}ghost" | put app/ghost.unit.yaml
group_card "${P}g2" "${P}web" "${P}ghost" | put app/g2.yaml
wait_until 20 word_is "groups/${P}g2" pending || fail "group with a missing container: $(cat "$M/groups/${P}g2/status")"
grep -q "^${P}ghost pending reason=\"waits for containers/${P}ghost\"$" "$M/groups/${P}g2/status" ||
	fail "missing member line: $(cat "$M/groups/${P}g2/status")"
grep -qx "missing containers/${P}ghost (unit ${P}ghost)" "$M/groups/${P}g2/plan" || fail "plan with a missing card: $(cat "$M/groups/${P}g2/plan")"
expect_fail "No such file or directory" bash -c "echo up >'$M/groups/${P}g2/ctl'"
grep -q "groups/${P}g2/ctl: up: create_container ${P}ghost" "$M/errors" || fail "errors does not name the step: $(tail -3 "$M/errors")"

log "removing the unit card lets its container run as any card"
echo down >"$M/units/${P}web/ctl" || fail "unit down"
[ "$(engine_state "${P}web")" = exited ] || fail "web after unit down"
rm "$M/cards/app/g2.yaml" "$M/cards/app/ghost.unit.yaml" "$M/cards/app/group.yaml" "$M/cards/app/web.unit.yaml"
[ -e "$M/units/${P}web" ] && fail "units/${P}web stays after its card went"
# A stopped container with an unchanged card is the user's: it stays as it is, but the card is
# applied again (its status no longer says held).
wait_until 20 sh -c "! grep -q held '$M/containers/${P}web/status'" || fail "web still held: $(cat "$M/containers/${P}web/status")"
umount_fs
