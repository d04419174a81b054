#!/usr/bin/env bash
# A build shows its progress while it runs: images/NAME/status says `building step N/M` as the
# builder goes through the Dockerfile's steps (Docker's "Step 3/8 :", Podman's "STEP 3/4:"),
# and images/NAME/log grows with the build's output, so that `tail -f` follows it. The third
# step sleeps: while the status says step 3/N, the log has the second step's output and not
# yet the fourth's. (A pull's percentage cannot be shown here, with no registry: the unit test
# engine_progress checks it on recorded streams.)
. "$(dirname "$0")/lib.sh"
mount_fs
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
