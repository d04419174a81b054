#!/usr/bin/env bash
# Images without a registry: images/NAME/image.tar is the image as `docker save` writes it,
# streamed (cat, cp, tar t < all read it; it is a stream: no seeks); a tar archive copied into
# images/ loads, as `docker load`, the writer's close waiting for the load, so that the images
# are listed and usable when cp returns, and the load's progress is their log. A bad archive
# (cut short, random bytes, a tar with no image in it) fails the close with EINVAL, with the
# reason in errors, and leaves nothing: no image, no file in images/.
. "$(dirname "$0")/lib.sh"
mount_fs
events_start
B=$M/images/$TEST_IMAGE
NEW=${P}h2x:v1
# The names and the manifest's config and layers of an archive: what docker load reads.
archive_summary() {
	tar tf "$1" | grep -v '/$' | sort
	tar xOf "$1" manifest.json | python3 -c '
import json, sys
for m in json.load(sys.stdin):
    print(m["Config"], *m["Layers"])'
}

log "image.tar is docker save's archive"
wait_until 20 test -d "$B" || fail "$TEST_IMAGE is not listed: $(ls "$M/images")"
cat "$B/image.tar" >"$T/got.tar" || fail "cat image.tar"
api -f -o "$T/want.tar" "$API/images/$TEST_IMAGE/get" || fail "the witness's save"
archive_summary "$T/want.tar" >"$T/want.sum"
archive_summary "$T/got.tar" >"$T/got.sum" || fail "not a tar with a manifest: $(head -c 200 "$T/got.tar" | od -c | head)"
cmp -s "$T/want.sum" "$T/got.sum" || fail "image.tar differs from docker save: $(diff "$T/want.sum" "$T/got.sum")"
tar t <"$B/image.tar" >"$T/list" || fail "tar t < image.tar"
grep -qx manifest.json "$T/list" || fail "tar t < image.tar: no manifest.json in $(cat "$T/list")"
cp "$B/image.tar" "$T/cp.tar" || fail "cp image.tar"
archive_summary "$T/cp.tar" | cmp -s "$T/want.sum" - || fail "cp of image.tar differs"

log "a reader that stops early ends the save; the next reads it whole"
head -c 10000 "$B/image.tar" | wc -c | grep -qx 10000 || fail "head -c of image.tar"
cat "$B/image.tar" >"$T/again.tar" || fail "cat image.tar after a reader left early"
archive_summary "$T/again.tar" | cmp -s "$T/want.sum" - || fail "image.tar after a reader left early"

log "image.tar is a stream: a seek fails with ESPIPE"
python3 - "$B/image.tar" <<'PY' || fail "a seek on image.tar did not fail with ESPIPE"
import errno, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
try:
    os.lseek(fd, 4096, os.SEEK_SET)
    sys.exit(1)
except OSError as e:
    sys.exit(0 if e.errno == errno.ESPIPE else 1)
PY

log "a saved image, removed, comes back by cp into images/"
api -f -X POST "$API/images/$TEST_IMAGE/tag?repo=${P}h2x&tag=v1" || fail "cannot tag"
wait_until 20 test -d "$M/images/$NEW" || fail "the tag did not appear"
cat "$M/images/$NEW/image.tar" >"$T/new.tar" || fail "save of $NEW"
rmdir "$M/images/$NEW" || fail "rmdir $NEW"
[ "$(api -o /dev/null -w '%{http_code}' "$API/images/$NEW/json")" = 404 ] || fail "$NEW still in the engine"
ev_mark
cp "$T/new.tar" "$M/images/" || fail "cp into images/"
[ -d "$M/images/$NEW" ] || fail "not listed when cp returned: $(ls "$M/images")"
api -f -o /dev/null "$API/images/$NEW/json" || fail "not in the engine after the load"
! ls "$M/images" | grep -q 'new\.tar' || fail "the archive's name stays in images/"
grep -q "$NEW" "$M/images/$NEW/log" || fail "the load is not its log: $(cat "$M/images/$NEW/log")"
wait_event 20 "$(ev image "$NEW" tagged "tag=([a-z.]+/)*$NEW")"
log "usable: a container of the loaded image runs"
api -f -o /dev/null -X POST -H 'Content-Type: application/json' "$API/containers/create?name=${P}run" \
	-d "{\"Image\":\"$NEW\",\"Cmd\":[\"sh\",\"-c\",\"exit 7\"],\"Labels\":{\"cutipfs.test\":\"$W\"}}" ||
	fail "cannot create a container of $NEW"
api -f -o /dev/null -X POST "$API/containers/${P}run/start" || fail "cannot start it"
code=$(api -f -X POST "$API/containers/${P}run/wait" | python3 -c 'import json,sys; print(json.load(sys.stdin)["StatusCode"])')
[ "$code" = 7 ] || fail "the container of the loaded image exited $code, want 7"
api -f -o /dev/null -X DELETE "$API/containers/${P}run?force=1" || fail "cannot remove ${P}run"

log "a shell redirection loads too"
rmdir "$M/images/$NEW" || fail "rmdir $NEW once its container went"
sh -c "cat '$T/new.tar' > '$M/images/again.tar'" || fail "cat > images/again.tar"
[ -d "$M/images/$NEW" ] || fail "not listed after cat >"

log "two loads at once: each image listed, each with its own load as its log"
api -f -X POST "$API/images/$TEST_IMAGE/tag?repo=${P}h2x&tag=v2" || fail "cannot tag v2"
wait_until 20 test -d "$M/images/${P}h2x:v2" || fail "v2 did not appear"
cat "$M/images/${P}h2x:v2/image.tar" >"$T/v2.tar" || fail "save of v2"
rmdir "$M/images/$NEW" "$M/images/${P}h2x:v2" || fail "rmdir of both"
cp "$T/new.tar" "$M/images/one.tar" &
one=$!
cp "$T/v2.tar" "$M/images/two.tar" || fail "cp two.tar"
wait "$one" || fail "cp one.tar"
for v in v1 v2; do
	[ -d "$M/images/${P}h2x:$v" ] || fail "${P}h2x:$v not listed after two loads"
	grep -q "loaded ${P}h2x:$v" "$M/images/${P}h2x:$v/log" || fail "the log of $v: $(cat "$M/images/${P}h2x:$v/log")"
done

log "a load's progress, while it runs, in events (Docker: Podman's load says no counts)"
# An image with a layer of its own (committed from a container), so that the engine loads a
# layer and counts it.
api -f -o /dev/null -X POST -H 'Content-Type: application/json' "$API/containers/create?name=${P}lay" \
	-d "{\"Image\":\"$TEST_IMAGE\",\"Cmd\":[\"sh\",\"-c\",\"head -c 3000000 /dev/urandom >/blob\"],\"Labels\":{\"cutipfs.test\":\"$W\"}}" ||
	fail "cannot create ${P}lay"
api -f -o /dev/null -X POST "$API/containers/${P}lay/start" || fail "cannot start ${P}lay"
api -f -o /dev/null -X POST "$API/containers/${P}lay/wait" || fail "cannot wait for ${P}lay"
api -f -o /dev/null -X POST -H 'Content-Type: application/json' -d '{}' "$API/commit?container=${P}lay&repo=${P}layer&tag=1" || fail "cannot commit ${P}lay"
api -f -o /dev/null -X DELETE "$API/containers/${P}lay?force=1" || fail "cannot remove ${P}lay"
LAYER=${P}layer:1
wait_until 20 test -d "$M/images/$LAYER" || fail "the committed image did not appear"
cat "$M/images/$LAYER/image.tar" >"$T/layer.tar" || fail "save of $LAYER"
rmdir "$M/images/$LAYER" || fail "rmdir $LAYER"
ev_mark
cp "$T/layer.tar" "$M/images/" || fail "cp of layer.tar into images/"
[ -d "$M/images/$LAYER" ] || fail "$LAYER not listed when cp returned"
if [ "$(engine_line backend)" = docker ]; then
	wait_event 20 "$(ev image layer.tar loading 'progress="[0-9]+% \([0-9.]+/[0-9.]+ MB\)"')"
	grep -Eq '^loading [0-9]+% ' "$M/images/$LAYER/log" || fail "no counts in the log: $(cat "$M/images/$LAYER/log")"
else
	log "(Podman: no counts in its load's answer)"
fi
rmdir "$M/images/$LAYER" || fail "rmdir $LAYER after the load"

log "bad archives: EINVAL at the close, the reason in errors, nothing left"
head -c 3000 "$T/new.tar" >"$T/cut.tar"
head -c 200000 /dev/urandom >"$T/random.tar"
echo hello >"$T/hello.txt"
tar cf "$T/noimage.tar" -C "$T" hello.txt
for bad in cut random noimage; do
	expect_fail "Invalid argument" cp "$T/$bad.tar" "$M/images/$bad.tar"
	grep -q "images/$bad.tar: cannot load: not an image archive" "$M/errors" ||
		fail "no clear reason for $bad.tar in errors: $(tail -3 "$M/errors")"
	[ ! -e "$M/images/$bad.tar" ] || fail "$bad.tar left in images/"
done
log "an archive the engine refuses: EIO at the close, the engine's words in errors"
mkdir -p "$T/bogus"
echo '[{"Config":"nothing.json","RepoTags":["'"${P}h2x"':bogus"],"Layers":["nothing/layer.tar"]}]' >"$T/bogus/manifest.json"
tar cf "$T/bogus.tar" -C "$T/bogus" manifest.json
expect_fail "Input/output error" cp "$T/bogus.tar" "$M/images/bogus.tar"
grep -q "images/bogus.tar: cannot load: ." "$M/errors" || fail "no reason for bogus.tar in errors"
[ "$(api -o /dev/null -w '%{http_code}' "$API/images/${P}h2x:bogus/json")" = 404 ] || fail "a bogus image was made"
! ls "$M/images" | grep -q '\.tar' || fail "archives left in images/: $(ls "$M/images")"
log "an image's name is not written over, nor its directory written into"
expect_fail "Is a directory" sh -c "cat '$T/new.tar' >'$M/images/$NEW'"
expect_fail "Operation not permitted" cp "$T/new.tar" "$M/images/$NEW/"
umount_fs
