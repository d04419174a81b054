#!/usr/bin/env bash
# A build shows its progress while it runs: images/NAME/status says `building step N/M` as the
# builder goes through the Dockerfile's steps (Docker's "Step 3/8 :", Podman's "STEP 3/4:"),
# and images/NAME/log grows with the build's output, so that `tail -f` follows it. The third
# step sleeps: while the status says step 3/N, the log has the second step's output and not
# yet the fourth's. A pull's percentage, with no registry here, comes from the fault proxy in
# front of the engine, which answers the pull with a recorded stream, slowly: the status says
# the sums of the layers' bytes as they come, and only those (the unit test engine_progress checks the sums on
# that stream and others), the log has the pull's lines, and the apply then fails, since no
# image came. That part on local engines only (the proxy is on the engine's socket).
. "$(dirname "$0")/lib.sh"
if ! is_remote; then
	fault_proxy_up
	echo 'pull POST /v[0-9.]+/images/create\?fromImage=h2xnope' >"$RULES"
fi
mount_fs

pull_progress() {
	printf 'apiVersion: cutip/v1\nkind: ImageCard\nmetadata:\n  name: %s\nspec:\n  source: pull\n  image: h2xnope/x\n  tag: "v1"\n' \
		"${P}pull" >"$T/pull.yaml"
	# Its writer's close waits for the apply, which fails (EIO) once the stream ends.
	cp "$T/pull.yaml" "$M/cards/pull.image.yaml" 2>"$T/pull.err" &
	BG+=("$!")
	# Every first line of status while it runs: the sums it says are the stream's, whichever
	# of them a read happens to see (each lasts 0.7 s).
	wait_until 30 test -e "$M/images/${P}pull/status" || fail "no status of ${P}pull"
	local i
	for i in $(seq 600); do
		state_is "images/${P}pull" error && break
		head -n 1 "$M/images/${P}pull/status" 2>/dev/null >>"$T/statuses" || true
		sleep 0.1
	done
	state_is "images/${P}pull" error || fail "the pull did not end in error: $(cat "$M/images/${P}pull/status")"
	grep -q "^pull POST" "$PLOG" || fail "the pull did not go through the proxy: $(cat "$PLOG")"
	grep '%' "$T/statuses" | sort -u >"$T/seen"
	printf '%s\n' "pulling 25% (5.0/20.0 MB)" "pulling 23% (6.2/26.9 MB)" \
		"pulling 44% (11.9/26.9 MB)" "pulling 45% (12.1/26.9 MB)" "pulling 100% (26.9/26.9 MB)" |
		sort >"$T/sums"
	[ -s "$T/seen" ] || fail "status never said how far the pull got: $(sort -u "$T/statuses")"
	comm -23 "$T/seen" "$T/sums" | grep -q . && fail "status said sums the stream does not make: $(comm -23 "$T/seen" "$T/sums")"
	[ "$(wc -l <"$T/seen")" -ge 2 ] || fail "status said one sum only: $(cat "$T/seen")"
	grep -q "3f4d90098f5b: Pull complete" "$M/images/${P}pull/log" || fail "the pull's lines: $(cat "$M/images/${P}pull/log")"
}
if is_remote; then
	log "(no pull through a remote endpoint: the fault proxy is on the local socket)"
else
	log "a pull says how far it got"
	pull_progress
fi

mkdir -p "$W/ctx"
# The echo of $P makes every step after it new to the engine's build cache.
printf 'FROM %s\nRUN echo h2x-two-%s\nRUN sleep 3\nRUN echo h2x-four-%s\n' "$TEST_IMAGE" "$P" "$P" \
	>"$W/ctx/Dockerfile"
D=$M/images/${P}slow
printf 'apiVersion: cutip/v1\nkind: ImageCard\nmetadata:\n  name: %s\nspec:\n  source: build\n  context: ctx\n' \
	"${P}slow" >"$T/slow.yaml"
# The writer's close waits for the build: write the card in the background, and watch.
cp "$T/slow.yaml" "$M/cards/slow.image.yaml" &
BG+=("$!")
wait_until 20 test -e "$D/log" || fail "no log: $(ls "$D" 2>&1)"
tail -f -s 0.2 "$D/log" >"$T/tail.out" 2>&1 &
BG+=("$!")

log "status says the step while it runs"
# cutipfs's labels are steps of their own after the Dockerfile's (Docker), or not (Podman).
wait_until 100 grep -Eqx "building step 3/[0-9]+" "$D/status" ||
	fail "status never said building step 3/N: $(cat "$D/status"); log: $(cat "$D/log")"
cat "$D/log" >"$T/during.log"
grep -q "h2x-two-$P" "$T/during.log" || fail "the log lacks step 2's output during step 3: $(cat "$T/during.log")"
! grep -q "h2x-four-$P" "$T/during.log" || fail "the log has step 4's output during step 3"

log "the build ends present, its log whole, and tail -f saw it grow"
wait_state "images/${P}slow" present 60
grep -q "h2x-four-$P" "$D/log" || fail "the log lacks step 4: $(cat "$D/log")"
wait_until 10 grep -q "h2x-four-$P" "$T/tail.out" || fail "tail -f did not follow the log: $(cat "$T/tail.out")"
grep -q "h2x-two-$P" "$T/tail.out" || fail "tail -f missed the start: $(cat "$T/tail.out")"
umount_fs
