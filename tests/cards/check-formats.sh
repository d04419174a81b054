#!/usr/bin/env bash
# `cutipfs check` for editors and CI, through the binary: --format=json and --format=sarif say
# what the text says, line for line, in the same order, with the same exit status; --quiet
# drops the warnings; `-` reads a card (an editor's unsaved buffer) from stdin; a sub-folder
# reports what the whole workspace reports about it; 2 when it cannot run.
# usage: check-formats.sh CUTIPFS FIXTURES
set -u
CUTIPFS=$1
cd "$2" || exit 1
HERE=$(dirname "$(readlink -f "$0")")
TMP=$(mktemp -d /tmp/cutipfs-check-formats-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
failed=0
fail() {
	echo "FAIL: $*"
	failed=1
}

# Runs check with the arguments in every format; leaves $TMP/out.{text,json,sarif} and the
# status in $rc; fails unless the three agree.
check_all() {
	"$CUTIPFS" check "$@" >"$TMP/out.text" 2>"$TMP/err"
	rc=$?
	for format in json sarif; do
		"$CUTIPFS" check --format=$format "$@" >"$TMP/out.$format" 2>>"$TMP/err"
		local frc=$?
		[ "$frc" = "$rc" ] || fail "$*: --format=$format exits $frc, text $rc"
		if ! python3 "$HERE/check-lines.py" $format "$TMP/out.$format" >"$TMP/lines.$format"; then
			fail "$*: --format=$format output is not valid"
		elif ! diff -u "$TMP/out.text" "$TMP/lines.$format"; then
			fail "$*: --format=$format differs from the text"
		fi
	done
	[ -s "$TMP/err" ] && fail "$*: stderr: $(cat "$TMP/err")"
}

# Problems of every kind the fixtures have, and none: the formats agree, and the status says.
for args in ws-broken ws-good ws-kinds "ws-broken/cutip/cards/a.container.yaml ws-good" \
	ws-broken/cutip/units ws-broken/cutip/groups/g/group.yaml; do
	# shellcheck disable=SC2086 # several paths in one case
	check_all $args
	want=0
	grep -q ': error: ' "$TMP/out.text" && want=1
	[ "$rc" = "$want" ] || fail "$args: exit $rc, want $want"
done
check_all ws-broken
[ "$(wc -l <"$TMP/out.text")" -ge 10 ] || fail "ws-broken: only $(wc -l <"$TMP/out.text") problems"
cp "$TMP/out.text" "$TMP/whole"

# A sub-folder or a file: exactly the whole workspace's lines about it, in the same order (refs
# into the rest of the workspace resolve), whatever the format.
for sub in ws-broken/cutip/units ws-broken/cutip/cards ws-broken/cutip/groups \
	ws-broken/cutip/cards/a.container.yaml ws-broken/cutip/units/u4.unit.yaml; do
	check_all "$sub"
	awk -v p="$sub" 'index($0, p ":") == 1 || index($0, p "/") == 1' "$TMP/whole" >"$TMP/want"
	[ -s "$TMP/want" ] || fail "$sub: the whole workspace has nothing to say about it"
	diff -u "$TMP/want" "$TMP/out.text" || fail "$sub: not the whole workspace's lines"
done

# --quiet: the errors only; the status is the same.
"$CUTIPFS" check ws-broken/cutip/cards/a.container.yaml >"$TMP/loud"
loud=$?
"$CUTIPFS" check --quiet ws-broken/cutip/cards/a.container.yaml >"$TMP/quiet"
quiet=$?
grep -q ': warning: ' "$TMP/loud" || fail "the fixture has no warning"
grep -v ': warning: ' "$TMP/loud" | diff -u - "$TMP/quiet" || fail "--quiet is not errors only"
[ "$loud" = "$quiet" ] || fail "--quiet exits $quiet, not $loud"
"$CUTIPFS" check -q --format=json ws-broken | python3 "$HERE/check-lines.py" json /dev/stdin |
	grep -c ': warning: ' | grep -qx 0 || fail "--quiet --format=json has warnings"

# stdin: the same card on stdin says the same, under its --stdin-name (or "-").
card=ws-broken/cutip/cards/a.container.yaml
"$CUTIPFS" check --stdin-name=$card - <$card >"$TMP/stdin"
src=$?
diff -u "$TMP/loud" "$TMP/stdin" || fail "--stdin-name: not what the file says"
[ "$src" = "$loud" ] || fail "--stdin-name exits $src, not $loud"
# An unsaved buffer wins over the file on disk: a clean unit whose ref the editor broke.
sed 's|containers/web|containers/nope|' ws-good/cutip/units/web/web.unit.yaml |
	"$CUTIPFS" check --format=json --stdin-name=ws-good/cutip/units/web/web.unit.yaml - \
		>"$TMP/buffer.json"
[ $? = 1 ] || fail "a broken buffer does not fail"
python3 "$HERE/check-lines.py" json "$TMP/buffer.json" |
	grep -q "^ws-good/cutip/units/web/web.unit.yaml:.*containers/nope" ||
	fail "the buffer's broken ref is not reported: $(cat "$TMP/buffer.json")"
"$CUTIPFS" check ws-good/cutip/units/web/web.unit.yaml || fail "the file on disk is not clean"
# No name: "-", a new card checked against the workspace of the working directory: its ref
# resolves there, and its name must be new there.
cd ws-good/cutip/units/web || exit 1
sed 's/name: web/name: web2/' web.unit.yaml | "$CUTIPFS" check - >"$TMP/dash" ||
	fail "a new card on stdin fails: $(cat "$TMP/dash")"
"$CUTIPFS" check - <web.unit.yaml >"$TMP/dash"
r=$?
if [ $r != 1 ] || ! grep -q "^-:4:9: error: Duplicate Unit name 'web'" "$TMP/dash"; then
	fail "a second unit web on stdin: exit $r, $(cat "$TMP/dash")"
fi
cd - >/dev/null || exit 1
printf 'kind: [\n' | "$CUTIPFS" check --format=json - >"$TMP/dash.json"
[ $? = 1 ] || fail "broken YAML on stdin does not fail"
python3 "$HERE/check-lines.py" json "$TMP/dash.json" | grep -q '^-:[0-9]*:[0-9]*: error: YAML syntax error' ||
	fail "broken YAML on stdin: $(cat "$TMP/dash.json")"

# The workspace's own files: a backend CUTIP does not know in cutip.yaml, a vars.yaml with no
# paths.yaml; named by themselves, they are checked as what they are, not as cards.
mkdir -p "$TMP/ws/cutip/cards"
printf 'apiVersion: cutip/v1\nproject: {name: ws, backend: dockr}\n' >"$TMP/ws/cutip.yaml"
printf 'old: value\n' >"$TMP/ws/cutip/vars.yaml"
check_all "$TMP/ws"
[ "$rc" = 1 ] || fail "a bad cutip.yaml exits $rc"
grep -q "cutip.yaml:2:.*: error: project.backend: Unknown backend 'dockr'" "$TMP/out.text" ||
	fail "cutip.yaml: $(cat "$TMP/out.text")"
grep -q "vars.yaml: warning: " "$TMP/out.text" || fail "vars.yaml: $(cat "$TMP/out.text")"
grep -q '"rule":	"workspace-file"' "$TMP/out.json" || fail "cutip.yaml: $(cat "$TMP/out.json")"
check_all "$TMP/ws/cutip.yaml"
grep -q 'Missing required field' "$TMP/out.text" && fail "cutip.yaml checked as a card"
grep -q "Unknown backend" "$TMP/out.text" || fail "cutip.yaml alone: $(cat "$TMP/out.text")"
check_all ws-good/cutip/paths.yaml ws-good/cutip/secrets.yaml ws-good/cutip.yaml
if [ "$rc" != 0 ] || [ -s "$TMP/out.text" ]; then
	fail "ws-good's own files: exit $rc, $(cat "$TMP/out.text")"
fi

# Could not run: 2, nothing on stdout, the reason on stderr.
for args in "nope" "ws-good nope" "--format=xml ws-good" "--bogus ws-good" "--format=json" ""; do
	# shellcheck disable=SC2086
	"$CUTIPFS" check $args >"$TMP/out" 2>"$TMP/err"
	r=$?
	[ "$r" = 2 ] || fail "check $args: exit $r, want 2"
	[ -s "$TMP/out" ] && fail "check $args: stdout $(cat "$TMP/out")"
	[ -s "$TMP/err" ] || fail "check $args: no reason on stderr"
done

# Output that cannot be written (a full disk) is a run that failed, not a clean one.
for format in text json sarif; do
	"$CUTIPFS" check --format=$format ws-broken >/dev/full 2>"$TMP/err"
	r=$?
	[ "$r" = 2 ] || fail "--format=$format to a full disk: exit $r, want 2"
	[ -s "$TMP/err" ] || fail "--format=$format to a full disk: no reason on stderr"
done

# --help: the options, on stdout, exit 0.
"$CUTIPFS" check --help >"$TMP/out" || fail "check --help fails"
for opt in --format=json --format=sarif --quiet --stdin-name; do
	grep -q -- "$opt" "$TMP/out" || fail "check --help does not list $opt"
done

[ "$failed" = 0 ] && echo "check-formats: all passed"
exit "$failed"
