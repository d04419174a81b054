#!/usr/bin/env bash
# MOUNT/events: one line per change, made by cutipfs (cards) or outside it (curl to the
# engine), from the reader's open on: container create/start/die exit_code/destroy, network
# create/remove, card accepted/rejected/pending/applied. And the ways a stream is read:
# `head -n N` returns, Ctrl-C (timeout -s INT) returns at once, select() wakes on a line,
# O_NONBLOCK gives EAGAIN. A reader that falls more than -o events_ring=N lines behind is told
# how many it missed.
. "$(dirname "$0")/lib.sh"
mount_fs
[ -f "$M/events" ] || fail "no events file"
[ "$(stat -c %s "$M/events")" -eq 0 ] || fail "events has a size"
events_start

log "cards: image, network, container (pending, then applied), rejected"
setup_image
wait_event 30 "$(ev card bb.image.yaml accepted 'ref=images/'"${P}bb")"
wait_event 60 "$(ev card bb.image.yaml applied 'ref=images/'"${P}bb")"
network_card "${P}net" 10.213.$((RANDOM % 200)).0/24 >"$M/cards/net.network.yaml"
wait_event 30 "$(ev network "${P}net" create)"
wait_event 30 "$(ev card net.network.yaml applied 'ref=networks/'"${P}net")"
container_card "${P}web" "${P}later" >"$M/cards/web.container.yaml"
wait_event 30 "$(ev card web.container.yaml pending 'ref=containers/'"${P}web"' waits=images/'"${P}later")"
image_card "${P}later" >"$M/cards/later.image.yaml"
wait_event 60 "$(ev card web.container.yaml applied 'ref=containers/'"${P}web")"
wait_event 30 "$(ev container "${P}web" create)"
wait_event 30 "$(ev container "${P}web" start)"
bad_card "${P}bad" >"$T/bad.yaml"
cp "$T/bad.yaml" "$M/cards/bad.container.yaml" 2>/dev/null && fail "a bad card was taken"
wait_event 30 "$(ev card bad.container.yaml rejected '(.* )?error=.*')"

log "the container the card made: stop (die exit_code=0), rmdir (destroy)"
api -X POST "$API/containers/${P}web/stop?t=5" >/dev/null
wait_event 30 "$(ev container "${P}web" die 'exit_code=0')"
rmdir "$M/containers/${P}web" || fail "rmdir"
wait_event 30 "$(ev container "${P}web" destroy)"
rmdir "$M/networks/${P}net" || fail "rmdir network"
wait_event 30 "$(ev network "${P}net" remove)"

log "a container made outside cutipfs"
engine_create_foreign "${P}out"
wait_event 30 "$(ev container "${P}out" create)"
wait_event 30 "$(ev container "${P}out" start)"
api -X POST "$API/containers/${P}out/kill" >/dev/null
wait_event 30 "$(ev container "${P}out" die 'exit_code=137')"
api -X DELETE "$API/containers/${P}out?force=1" >/dev/null
wait_event 30 "$(ev container "${P}out" destroy)"
grep -q "^-- cutipfs" "$EVLOG" && fail "events dropped: $(cat "$EVLOG")"

log "head -n 3 returns after three lines"
head -n 3 "$M/events" >"$T/head.out" &
hp=$!
BG+=($hp)
wait_until 10 has_open "$hp" "$M/events" || fail "head did not open events"
engine_create_foreign "${P}head"
api -X DELETE "$API/containers/${P}head?force=1" >/dev/null
wait_until 30 not_running "$hp" || fail "head -n 3 events still running: $(cat "$T/head.out")"
rc=0
wait "$hp" || rc=$?
[ "$rc" -eq 0 ] || fail "head -n 3 events: exit $rc"
[ "$(wc -l <"$T/head.out")" -eq 3 ] || fail "head: $(cat "$T/head.out")"

log "Ctrl-C on a blocked read"
t0=$EPOCHREALTIME
rc=0
timeout -s INT 1 cat "$M/events" >/dev/null || rc=$?
e=$(elapsed_since "$t0")
[ "$rc" -eq 124 ] || fail "timeout -s INT 1 cat events: exit $rc"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 2 else 1)" "$e" || fail "Ctrl-C took $e s"

log "select() and O_NONBLOCK"
python3 - "$M/events" "$SOCK" "$API" "${P}sel" "$TEST_IMAGE" "$W" <<'EOF' || fail "select/O_NONBLOCK"
import errno, json, os, select, socket, sys, http.client
path, sock, api, name, image, ws = sys.argv[1:]

class UnixHTTP(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(sock)

def call(method, url, body=None):
    c = UnixHTTP("engine")
    c.request(method, api.replace("http://engine", "") + url, body=body,
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    c.close()

import time

# Other users of the engine may cause lines at any moment: what must hold for a fresh open
# (nothing to read yet) must hold at least once in a few tries.
def fresh_nonblock():
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        os.read(fd, 4096)
        return False
    except OSError as e:
        if e.errno != errno.EAGAIN:
            sys.exit("O_NONBLOCK read: %s" % e)
        return True
    finally:
        os.close(fd)

if not any(fresh_nonblock() for _ in range(5)):
    sys.exit("O_NONBLOCK read returned data on every fresh open")

def fresh_select():
    fd = os.open(path, os.O_RDONLY)
    r, _, _ = select.select([fd], [], [], 0)
    if r:
        os.close(fd)
        return None
    return fd

fd = None
for _ in range(5):
    fd = fresh_select()
    if fd is not None:
        break
if fd is None:
    sys.exit("select: readable at once on every fresh open")

def wait_line(wait, want):
    """Until a line with want is read, waiting with wait(timeout) before each read."""
    seen = ""
    deadline = time.time() + 20
    while time.time() < deadline:
        if not wait(max(0.0, deadline - time.time())):
            break
        seen += os.read(fd, 65536).decode()
        if want in seen:
            return
    sys.exit("no %r after waiting: %r" % (want, seen))

call("POST", "/containers/create?name=" + name,
     json.dumps({"Image": image, "Cmd": ["true"], "Labels": {"cutipfs.test": ws}}))
wait_line(lambda t: select.select([fd], [], [], t)[0], " container %s create" % name)
p = select.poll()
p.register(fd, select.POLLIN)
call("DELETE", "/containers/%s?force=1" % name)
wait_line(lambda t: p.poll(int(t * 1000)), " container %s destroy" % name)
os.close(fd)
EOF
umount_fs

log "a reader that fell behind (-o events_ring=4)"
mount_fs -o events_ring=4
exec 3<"$M/events" # opened, not read
events_start
for i in 1 2; do
	engine_create_foreign "${P}ring$i"
	api -X DELETE "$API/containers/${P}ring$i?force=1" >/dev/null
done
wait_event 30 "$(ev container "${P}ring2" destroy)"
python3 -c 'import os, sys; sys.stdout.write(os.read(3, 65536).decode())' >"$T/behind.out"
exec 3<&-
head -n 1 "$T/behind.out" | grep -Eqx -- '-- cutipfs: [0-9]+ events dropped --' ||
	fail "no drop line: $(cat "$T/behind.out")"
n=$(head -n 1 "$T/behind.out" | awk '{print $3}')
[ "$n" -ge "$(($(wc -l <"$EVLOG") - 4))" ] || fail "dropped $n of $(wc -l <"$EVLOG")"
[ "$(wc -l <"$T/behind.out")" -eq 5 ] || fail "after the drop line: $(cat "$T/behind.out")"
tail -n 4 "$T/behind.out" | while IFS= read -r line; do
	grep -qxF -- "$line" "$EVLOG" || fail "not an event: $line"
done
umount_fs
