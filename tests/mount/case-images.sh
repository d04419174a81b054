#!/usr/bin/env bash
# images/ lists every image in the engine as `docker images` does: one directory per tag, the
# docker CLI's familiar name with '/' written %2F (localhost%2Fx:v1), an untagged image by its
# short id; an ImageCard's image under the card's name only. Each has status, id and
# inspect.json; tags made and removed outside cutipfs come and go with their events; rmdir
# removes the tag (docker rmi), EBUSY while a container uses the image.
. "$(dirname "$0")/lib.sh"
mount_fs
setup_image
events_start
# What `docker images` shows, in images/ names.
docker_images() {
	DOCKER_HOST=$ENGINE docker images --format '{{.Repository}}:{{.Tag}} {{.ID}}' |
		awk '{ print ($1 == "<none>:<none>") ? $2 : $1 }' | sed 's|/|%2F|g' | sort -u
}
# images/ less the image cards' own names (no ':' in them), which docker images shows by tag.
mount_images() { ls "$M/images" | grep : | sort; ls "$M/images" | grep -v : | grep -v "^${P}bb\$" | sort; }
matches() {
	docker_images >"$T/want"
	mount_images | sort >"$T/got"
	# The card's image shows as images/${P}bb, docker images says ${P}bb:latest.
	grep -vx "${P}bb:latest" "$T/want" | cmp -s - "$T/got"
}

log "ls images is docker images"
REPO=localhost/${P}img/x
api -f -X POST "$API/images/$TEST_IMAGE/tag?repo=$REPO&tag=v1" || fail "cannot tag"
D=$M/images/localhost%2F${P}img%2Fx:v1
wait_event 30 "$(ev image "localhost%2F${P}img%2Fx:v1" tagged "tag=$REPO:v1")"
wait_until 20 matches || fail "ls images and docker images differ: $(diff "$T/want" "$T/got")"
[ -d "$M/images/${P}bb" ] && [ ! -e "$M/images/${P}bb:latest" ] || fail "the card's image is not under the card's name alone"

log "status, id, inspect.json of an image no card made"
[ "$(ls "$D")" = "$(printf 'id\nimage.tar\ninspect.json\nstatus')" ] || fail "files: $(ls "$D")"
id=$(api_json "/images/$REPO:v1/json" 'j["Id"]')
[ "$(cat "$D/id")" = "$id" ] || fail "id: $(cat "$D/id"), want $id"
[ "$(state_of "images/localhost%2F${P}img%2Fx:v1")" = present ] || fail "status: $(cat "$D/status")"
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Id"])' "$D/inspect.json")" = "$id" ] ||
	fail "inspect.json: $(head -c 300 "$D/inspect.json")"

log "in use: rmdir is refused"
api -f -o /dev/null -X POST -H 'Content-Type: application/json' "$API/containers/create?name=${P}user" \
	-d "{\"Image\":\"$REPO:v1\",\"Cmd\":[\"sleep\",\"60\"],\"Labels\":{\"cutipfs.workspace\":\"$W\"}}" ||
	fail "cannot create ${P}user"
expect_fail "Device or resource busy" rmdir "$D"
api -f -o /dev/null -X DELETE "$API/containers/${P}user?force=1" || fail "cannot remove ${P}user"

log "rmdir removes the tag, as docker rmi"
rmdir "$D" || fail "rmdir of the image"
[ "$(api "$API/images/$REPO:v1/json" -o /dev/null -w '%{http_code}')" = 404 ] || fail "the tag is still in the engine"
[ ! -e "$D" ] || fail "still listed after the rmdir"
api -f -o /dev/null "$API/images/$TEST_IMAGE/json" || fail "the image itself went with the tag"

log "a tag removed outside cutipfs leaves images/"
api -f -X POST "$API/images/$TEST_IMAGE/tag?repo=$REPO&tag=v2" || fail "cannot tag v2"
wait_until 20 test -d "$M/images/localhost%2F${P}img%2Fx:v2" || fail "v2 did not appear"
ev_mark
api -f -o /dev/null -X DELETE "$API/images/$REPO:v2?noprune=1" || fail "cannot untag v2"
wait_event 30 "$(ev image "localhost%2F${P}img%2Fx:v2" removed "tag=$REPO:v2")"
[ ! -e "$M/images/localhost%2F${P}img%2Fx:v2" ] || fail "v2 is still listed after its removed line"
umount_fs
