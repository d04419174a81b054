#!/usr/bin/env bash
# The cutipfs benchmark: the mount side by side with the docker CLI and the raw Engine API
# (curl --unix-socket), in one run, against a real engine.
#
#   bash bench/run.sh [--quick] [--engine unix:///PATH]
#
#   --quick    a smoke run (about 4 minutes on 2 idle cores): N = 10, 50, loops of 100 reads,
#              a 10 MiB log read 3 times, one round of starts, 200 and 500 containers at scale
#              and a burst of 200, instead of N = 10, 100, 500, loops of 1000 reads, a 50 MiB
#              log read 5 times, 3 rounds of starts at N = 10, 500 and 2,000 containers at scale
#              and a burst of 1,000 (the full run: about 40 minutes on 2 cores).
#   --engine   the engine's socket (default unix:///run/docker.sock; Podman:
#              unix:///run/podman/podman.sock). The docker CLI is pointed at it too.
#
# Environment: CUTIPFS_BIN (the binary; default: build/fs/cutipfs, built with ninja first;
# copied at the start, so a rebuild meanwhile changes nothing), CUTIPFS_BENCH_REV (what to call
# that binary in the report; default: the tree's commit, "+changes" when it has edits),
# CUTIPFS_BENCH_IMAGE (a local image with sh and sleep; default cutipfs-busybox:latest, see
# contrib/engines-up.sh). Needs /dev/fuse, fusermount3, curl, python3, a C compiler, libcurl's
# headers, libfuse's headers (bench/floorfs.c), and the docker CLI.
#
# What it measures (the targets of the issue; each printed as met or missed):
#   1. the state of all N containers: `cat containers/*/status` vs `docker ps -a --format`
#      vs `docker inspect` per container vs GET /containers/json. Target: at most half of
#      docker ps's time. Beside it, the floor of FUSE: the same cat of as many files in
#      bench/floorfs.c (a FUSE file system that answers from memory with every cache on).
#   2. one container's state read many times, per read: a `cat status` loop vs a
#      `docker inspect -f` loop vs a curl loop; and in one process, open/read/close of status
#      (bench/readloop.c) vs one HTTP request per read on a kept-alive connection
#      (bench/httploop.c), with the same reads of a local file as the floor, and of a file of
#      bench/floorfs.c as the floor of FUSE. Targets: readloop within 3x of the local file, and
#      at least 1000x faster than docker inspect -f.
#   3. `ls -l containers` at each N: the engine requests it makes (the `requests:` line of the
#      mount's `engine` file, before and after, less what reading that file costs) and its time
#      vs `docker ps -a`. Targets: one request per listing, no slower than docker ps -a.
#   4. starting N containers from N cards (one `cp` of N prepared cards, and a `cp` per card;
#      until every status says running) vs `docker run -d` N times vs create+start with curl;
#      and the engine requests per container, counted until the daemon is quiet again (its
#      reads after its own changes' events included). Targets: one cp at most 0.8x the docker
#      run loop at N >= 100 (no slower at N = 10), a cp per card no slower; 3 requests per start.
#   5. `cat logs` of a container that wrote 50 MiB vs `docker logs` vs GET /logs, on a fresh
#      mount, and the daemon's peak RSS (VmHWM) after it. Targets: at least as fast as docker
#      logs, under 32 MiB.
#   6. the daemon's VmRSS at 500 containers. Target: under 32 MiB (48 MiB at 2,000).
#   7. start-up at scale: 500, then 2,000 containers created (not started) in the engine; the
#      time from starting the daemon to a complete `ls containers`, and at 2,000 targets 1, 3
#      and 6 again. Target: within 1 s at 500.
#   8. engine requests per event: containers made, started, killed and removed outside
#      cutipfs, the mount's requests over the lines its events file showed for them.
#   9. a burst of 1,000 container events (created and removed outside cutipfs, 8 at a time):
#      every create and destroy line reaches `cat events`, each container's in the engine's
#      order (as `docker events` gives it for the same window). Target: complete and in order.
#      Across containers the engine has no one order for concurrent events (two `docker
#      events` readers differ): how far cat events and a second reader are from the first one's
#      order is counted beside it (bench/order.py).
#
# Output: the medians as it goes; at the end a table, bench/results/<UTC time>.csv (every
# median, ratio and target) and bench/results/latest.md (the table, for the README). Raw samples
# and the run's facts go to bench/results/<UTC time>-samples.csv and -meta.env (python3
# bench/report.py makes the report again from them).
#
# Everything it makes in the engine is named cfsb<PID>* (containers, the image card's tag
# cfsb<PID>bb): it is all removed on exit, Ctrl-C included; the mount is unmounted, its daemon
# stopped, and the temporary directory (workspaces, cards, helpers) deleted.
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
QUICK=0
ENGINE=unix:///run/docker.sock
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--engine) ENGINE=${2:?--engine needs unix:///PATH}; shift ;;
	--engine=*) ENGINE=${1#--engine=} ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
case $ENGINE in
unix:///*) ;;
*) echo "run.sh: --engine must be unix:///PATH" >&2; exit 2 ;;
esac
SOCK=${ENGINE#unix://}
IMAGE=${CUTIPFS_BENCH_IMAGE:-cutipfs-busybox:latest}
API=http://localhost/v1.41
export DOCKER_HOST=$ENGINE

if [ "$QUICK" = 1 ]; then
	NS=(10 50)
	ITER=100 # reads per loop in target 2
	LOG_BYTES=$((10 << 20))
	SCALE=(200 500) # target 7: containers created, not started
	BURST=200	# target 9: containers created and removed
else
	NS=(10 100 500)
	ITER=1000
	LOG_BYTES=$((50 << 20))
	SCALE=(500 2000)
	BURST=1000
fi
RUNS=5      # fast things: medians of 5, after a warm-up
LOG_RUNS=$([ "$QUICK" = 1 ] && echo 3 || echo 5)
LOOP_RUNS=3 # loops of ITER reads

P=cfsb$$ # every name this run makes in the engine starts with it
T=$(mktemp -d /tmp/cutipfs-bench.XXXXXX)
RESULTS=$HERE/results
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
SAMPLES=$T/samples.csv
echo "case,n,ops,run,value,unit" >"$SAMPLES"
PID=
M=
W=
MI=0

say() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*"; }
die() {
	echo "run.sh: $*" >&2
	exit 1
}

# ---- clean-up: always, Ctrl-C included ----

api() { curl -sS --max-time 60 --unix-socket "$SOCK" "$@"; }

# Ids of this run's containers whose name starts with $1 (default: all of this run's).
bench_ids() {
	api "$API/containers/json?all=1" 2>/dev/null | python3 -c '
import json, sys
try:
    cs = json.load(sys.stdin)
except Exception:
    cs = []
for c in cs:
    if any(n.lstrip("/").startswith(sys.argv[1]) for n in c.get("Names") or []):
        print(c["Id"])' "${1:-$P-}"
}
# Force-removes them, eight at a time.
remove_containers() {
	bench_ids "${1:-$P-}" | xargs -r -P 8 -I{} \
		curl -sS --max-time 60 --unix-socket "$SOCK" -o /dev/null -X DELETE "$API/containers/{}?force=1&v=1" || true
}

unmount() {
	[ -n "$M" ] || return 0
	if grep -q " $M fuse" /proc/mounts; then
		fusermount3 -u "$M" 2>/dev/null || fusermount3 -uz "$M" 2>/dev/null || true
	fi
	if [ -n "$PID" ]; then
		local i
		for i in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
		kill "$PID" 2>/dev/null || true
		wait "$PID" 2>/dev/null || true
		PID=
	fi
}

# floor_up N FILE: bench/floorfs on $T/floor, N directories each with a status of FILE's bytes:
# the floor of a read through FUSE (every kernel cache on, answers from memory). floor_down.
FLOOR=
FLOOR_PID=
floor_up() {
	floor_down
	FLOOR=$T/floor
	mkdir -p "$FLOOR"
	"$T/floorfs" "$FLOOR" "$2" "$1" 2>>"$T/floorfs.log" &
	FLOOR_PID=$!
	local i
	for i in $(seq 100); do grep -q " $FLOOR fuse" /proc/mounts && return 0; sleep 0.05; done
	die "bench/floorfs did not mount: $(cat "$T/floorfs.log")"
}
floor_down() {
	[ -n "$FLOOR_PID" ] || return 0
	fusermount3 -u "$FLOOR" 2>/dev/null || fusermount3 -uz "$FLOOR" 2>/dev/null || true
	wait "$FLOOR_PID" 2>/dev/null || true
	FLOOR_PID=
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	[ "$rc" -eq 0 ] || say "stopping (exit $rc): cleaning up"
	floor_down
	unmount
	remove_containers "$P-"
	# The image card's tag (an alias of $IMAGE: only the tag goes).
	api -o /dev/null -X DELETE "$API/images/${P}bb:latest" 2>/dev/null
	if [ "$rc" -ne 0 ] && [ -s "$T/daemon.log" ]; then
		echo "--- the daemon's log (last 20 lines):" >&2
		tail -20 "$T/daemon.log" >&2
	fi
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- preflight and build ----

[ -c /dev/fuse ] || die "no /dev/fuse"
# On a fresh machine: install what is missing, start the engines and import the test image
# (idempotent: engines that answer and an image that is there are left alone).
if ! command -v docker >/dev/null || ! command -v fusermount3 >/dev/null ||
	! api "http://localhost/_ping" >/dev/null 2>&1 ||
	! api -f "$API/images/$IMAGE/json" >/dev/null 2>&1; then
	say "setting up engines (contrib/engines-up.sh)"
	bash "$ROOT/contrib/engines-up.sh" >&2 || die "contrib/engines-up.sh failed"
fi
for tool in curl python3 fusermount3 docker cc; do
	command -v "$tool" >/dev/null || die "$tool is needed"
done
api "http://localhost/_ping" >/dev/null 2>&1 || die "no engine answers at $ENGINE"
api -f "$API/images/$IMAGE/json" >/dev/null 2>&1 ||
	die "image $IMAGE is not in the engine (contrib/engines-up.sh makes it)"

BIN=${CUTIPFS_BIN:-}
if [ -z "$BIN" ]; then
	BUILD=$ROOT/build
	if [ ! -f "$BUILD/build.ninja" ]; then
		say "meson setup $BUILD"
		meson setup "$BUILD" "$ROOT" >"$T/setup.log" 2>&1 || { cat "$T/setup.log"; die "meson setup failed"; }
	fi
	say "building cutipfs (ninja -C $BUILD fs/cutipfs)"
	ninja -C "$BUILD" fs/cutipfs >"$T/build.log" 2>&1 || {
		tail -20 "$T/build.log"
		[ -x "$BUILD/fs/cutipfs" ] || die "build failed"
		say "build failed: benchmarking the binary already there"
	}
	BIN=$BUILD/fs/cutipfs
fi
[ -x "$BIN" ] || die "no cutipfs binary at $BIN"
# A copy: a rebuild of the tree during the run must not change what is measured.
cp "$BIN" "$T/cutipfs"
BIN_FROM=$BIN
BIN=$T/cutipfs

cc -O2 -o "$T/readloop" "$HERE/readloop.c" || die "cannot build bench/readloop.c"
# shellcheck disable=SC2046
cc -O2 -o "$T/floorfs" "$HERE/floorfs.c" $(pkg-config --cflags --libs fuse3) ||
	die "cannot build bench/floorfs.c (libfuse's headers: apt-get install libfuse3-dev)"
# shellcheck disable=SC2046
cc -O2 -o "$T/httploop" "$HERE/httploop.c" $(pkg-config --cflags --libs libcurl 2>/dev/null || echo -lcurl) ||
	die "cannot build bench/httploop.c (libcurl headers: apt-get install libcurl4-openssl-dev)"

ENGINE_VERSION=$(api "$API/version" | python3 -c 'import json,sys; v=json.load(sys.stdin); print(v.get("Version","?"))')
BACKEND=docker
api -D - -o /dev/null "http://localhost/_ping" | grep -qi '^Libpod-Api-Version' && BACKEND=podman
OTHERS=$(api "$API/containers/json?all=1" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
cat >"$T/meta.env" <<EOF
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
mode=$([ "$QUICK" = 1 ] && echo quick || echo full)
engine=$ENGINE
backend=$BACKEND
engine_version=$ENGINE_VERSION
cpus=$(nproc)
kernel=$(uname -r)
binary=$BIN_FROM
commit=${CUTIPFS_BENCH_REV:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" status --porcelain -- backends fs cards 2>/dev/null | grep -q . && echo +changes)}
others=$OTHERS
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
iter=$ITER
log_bytes=$LOG_BYTES
command=bash bench/run.sh$([ "$QUICK" = 1 ] && echo " --quick")$([ "$ENGINE" != unix:///run/docker.sock ] && echo " --engine $ENGINE")
EOF
say "cutipfs benchmark: $BACKEND $ENGINE_VERSION at $ENGINE, N = ${NS[*]}, $(nproc) CPUs, $OTHERS containers already in the engine"

# ---- measuring ----

secs() { # secs START END ($EPOCHREALTIME values) -> seconds
	local us=$((${2/./} - ${1/./}))
	printf '%d.%06d' $((us / 1000000)) $((us % 1000000))
}
record() { echo "$1,$2,$3,$4,$5,$6" >>"$SAMPLES"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
fmt_s() { awk -v s="$1" 'BEGIN { if (s < 1e-3) printf "%.0f us", s*1e6; else if (s < 1) printf "%.1f ms", s*1e3; else printf "%.2f s", s }'; }

# compare N OPS RUNS CASE FN [CASE FN]...: a warm-up run of each FN, then RUNS rounds running
# every FN once in turn (a slow moment of the machine hits each tool alike); records wall
# seconds per run and prints the medians (per op when OPS > 1).
compare() {
	local n=$1 ops=$2 runs=$3 i j s e v
	shift 3
	local -a spec=("$@")
	local -A vals=()
	for ((j = 0; j < ${#spec[@]}; j += 2)); do
		"${spec[j + 1]}" || die "${spec[j]} failed (warm-up)"
	done
	for ((i = 1; i <= runs; i++)); do
		for ((j = 0; j < ${#spec[@]}; j += 2)); do
			s=$EPOCHREALTIME
			"${spec[j + 1]}" || die "${spec[j]} failed"
			e=$EPOCHREALTIME
			v=$(secs "$s" "$e")
			record "${spec[j]}" "$n" "$ops" "$i" "$v" s
			vals[${spec[j]}]+=" $v"
		done
	done
	for ((j = 0; j < ${#spec[@]}; j += 2)); do
		# shellcheck disable=SC2086
		v=$(median ${vals[${spec[j]}]})
		if [ "$ops" -gt 1 ]; then
			say "  $(printf '%-16s' "${spec[j]}") N=$n: $(fmt_s "$v") for $ops, $(fmt_s "$(awk -v v="$v" -v o="$ops" 'BEGIN{print v/o}')") each"
		else
			say "  $(printf '%-16s' "${spec[j]}") N=$n: $(fmt_s "$v")"
		fi
	done
}

# timed CASE N RUN CMD...: one run of CMD (N operations), recorded.
timed() {
	local c=$1 n=$2 run=$3 s e v
	shift 3
	s=$EPOCHREALTIME
	"$@" || die "$c failed"
	e=$EPOCHREALTIME
	v=$(secs "$s" "$e")
	record "$c" "$n" "$n" "$run" "$v" s
	say "  $(printf '%-16s' "$c") N=$n: $(fmt_s "$v") ($(fmt_s "$(awk -v v="$v" -v n="$n" 'BEGIN{print v/n}')") per container)"
}

# ---- the mount ----

# A fresh workspace and mountpoint each time, with the image card applied.
mount_fs() {
	mount_bare
	cat >"$M/cards/bb.image.yaml" <<EOF || die "the image card was refused: $(cat "$M/errors")"
apiVersion: cutip/v1
kind: ImageCard
metadata:
  name: ${P}bb
spec:
  source: pull
  image: ${IMAGE%:*}
  tag: "${IMAGE##*:}"
EOF
	wait_state "images/${P}bb" present
	# A fresh mount's own first requests (its lists, the image card's pull and reads) are not a
	# start's: the starts are counted from a quiet daemon on.
	settle
}
# The same, without cards: returns once mounted.
mount_bare() {
	MI=$((MI + 1))
	W=$T/ws$MI
	M=$T/mnt$MI
	mkdir -p "$W" "$M"
	"$BIN" -f -o "engine=$ENGINE,workspace=$W" "$M" 2>>"$T/daemon.log" &
	PID=$!
	local i
	for i in $(seq 100); do
		mountpoint -q "$M" && break
		kill -0 "$PID" 2>/dev/null || die "cutipfs exited before mounting: $(tail -5 "$T/daemon.log")"
		sleep 0.1
	done
	mountpoint -q "$M" || die "not mounted after 10 s"
}

state_of() {
	local s
	read -r s <"$M/$1/status" 2>/dev/null || return 1
	echo "$s"
}
wait_state() { # wait_state PATH STATE
	local i
	for i in $(seq 600); do
		[ "$(state_of "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	die "$1: '$(state_of "$1")' after 60 s, want $2 ($(tail -3 "$M/errors"))"
}
# The `requests:` line of the engine file.
engine_requests() {
	local l
	while IFS= read -r l; do
		case $l in "requests: "*)
			echo "${l#requests: }"
			return 0
			;;
		esac
	done <"$M/engine"
	die "the engine file has no 'requests:' line: is $BIN built from this tree?"
}
rss_kib() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$PID/status"; }
# The daemon's CPU time so far (user + system), in ms.
cpu_ms() {
	local f
	read -ra f <"/proc/$PID/stat"
	# Fields 14 and 15 (utime, stime), counted after the ")" that ends the command name.
	local i=0
	while [[ ${f[i]} != *")" ]]; do i=$((i + 1)); done
	echo $(((f[i + 12] + f[i + 13]) * 1000 / CLK_TCK))
}
CLK_TCK=$(getconf CLK_TCK)
# What a rendering of the engine file costs in requests, the least of three tries:
# engine_read_cost GAP reads it twice GAP seconds apart. GAP 0: the second read finds the
# file's 1 s cache warm (its ping only); GAP 1.2: expired (a ping and a GET /version).
engine_read_cost() {
	local i a b cost=
	for i in 1 2 3; do
		a=$(engine_requests)
		sleep "$1"
		b=$(engine_requests)
		[ -n "$cost" ] && [ "$cost" -le $((b - a)) ] || cost=$((b - a))
	done
	echo "$cost"
}
# settle: waits until the daemon is quiet (no engine request in 1.2 s but those of the engine
# file's own rendering, ECOST; at most 30 s); REQ_B is the requests count then and READS what
# the renderings of the engine file it took cost: the file is kept 1 s, and every read here
# comes later than that after the one before (REQ_A's included). (Counting one request per
# rendering, as this did before, took the second for the daemon's: quiet never came, and 25
# more renderings were counted as about 30 requests of the starts.)
settle() {
	local now i n=1
	[ -n "${ECOST:-}" ] || ECOST=$(engine_read_cost 1.2)
	sleep 1.2
	REQ_B=$(engine_requests)
	for i in $(seq 25); do
		sleep 1.2
		now=$(engine_requests)
		n=$((n + 1))
		if [ "$now" -le $((REQ_B + ECOST)) ]; then
			REQ_B=$now
			break
		fi
		REQ_B=$now
	done
	READS=$((n * ECOST))
}

# create_many PREFIX FROM TO: creates containers PREFIX-FROM .. PREFIX-TO (not started), eight
# at a time.
create_many() {
	seq "$2" "$3" | xargs -P 8 -I{} curl -sf --max-time 120 --unix-socket "$SOCK" -o /dev/null \
		-X POST -H 'Content-Type: application/json' "$API/containers/create?name=$1-{}" \
		-d "{\"Image\":\"$IMAGE\",\"Cmd\":[\"sleep\",\"3600\"]}"
}

container_card() { # container_card NAME
	cat <<EOF
apiVersion: cutip/v1
kind: ContainerCard
metadata:
  name: $1
spec:
  imageRef: {ref: images/${P}bb}
  command: "sleep 3600"
EOF
}

# Waits until N statuses of containers named PREFIX* say running.
all_running() {
	local prefix=$1 want=$2 got i
	for i in $(seq 6000); do
		got=$(grep -lx running "$M"/containers/"$prefix"*/status 2>/dev/null | wc -l)
		[ "$got" -ge "$want" ] && return 0
		sleep 0.05
	done
	echo "only $got of $want running after 5 min; errors: $(tail -3 "$M/errors")" >&2
	return 1
}

# ---- 1., 3. and 6. on the mount M, with the containers NAMES in the engine ----

measure_state() { # measure_state N
	local N=$1 total runs
	total=$(find "$M/containers" -mindepth 1 -maxdepth 1 | wc -l)
	say "N = $N: target 1, the state of all containers ($total in the engine)"
	record t1.count "$N" 1 1 "$total" containers
	# Other users' containers may come and go meanwhile (a status that vanishes between the
	# glob and the open fails cat): tolerated while the mount is alive.
	t1_cat() { cat "$M"/containers/*/status >/dev/null 2>&1 || mountpoint -q "$M"; }
	t1_ps() { docker ps -a --format '{{.Names}} {{.State}}' >/dev/null; }
	t1_inspect_each() {
		local c
		for c in "${NAMES[@]}"; do docker inspect "$c" >/dev/null || return 1; done
	}
	t1_api() { curl -sf --unix-socket "$SOCK" "$API/containers/json?all=1" >/dev/null; }
	# The floor: as many status files, of the first one's bytes, in bench/floorfs.
	cp "$(find "$M/containers" -mindepth 2 -maxdepth 2 -name status | head -1)" "$T/t1.status"
	floor_up "$total" "$T/t1.status"
	t1_cat_floor() { cat "$FLOOR"/*/status >/dev/null; }
	runs=$RUNS
	[ "$N" -lt 500 ] || runs=3
	if [ "$N" -gt 500 ]; then
		# docker inspect of each of thousands takes minutes; 500 tells the story.
		compare "$N" 1 "$runs" t1.cat t1_cat t1.ps t1_ps t1.api t1_api t1.cat_floor t1_cat_floor
	else
		compare "$N" 1 "$runs" t1.cat t1_cat t1.ps t1_ps t1.inspect_each t1_inspect_each t1.api t1_api \
			t1.cat_floor t1_cat_floor
	fi
	floor_down
}

measure_ls() { # measure_ls N
	local N=$1 cost a b s e i
	say "N = $N: target 3, ls -l containers"
	t3_ls() { ls -l "$M/containers" >/dev/null; }
	t3_ps() { docker ps -a >/dev/null; }
	compare "$N" 1 "$RUNS" t3.ls t3_ls t3.ps t3_ps
	# What reading the engine file costs (its ping), to subtract.
	cost=$(engine_read_cost 0)
	local -a reqs_cold=() reqs_warm=()
	for ((i = 1; i <= RUNS; i++)); do
		# Cold: after the mount's list cache (1 s) and the kernel's entries (1 s) expired.
		sleep 1.2
		a=$(engine_requests)
		s=$EPOCHREALTIME
		ls -l "$M/containers" >/dev/null
		e=$EPOCHREALTIME
		b=$(engine_requests)
		record t3.ls_cold "$N" 1 "$i" "$(secs "$s" "$e")" s
		record t3.req_cold "$N" 1 "$i" $((b - a - cost)) requests
		reqs_cold+=($((b - a - cost)))
		# Warm: right after another listing.
		a=$(engine_requests)
		ls -l "$M/containers" >/dev/null
		b=$(engine_requests)
		record t3.req_warm "$N" 1 "$i" $((b - a - cost)) requests
		reqs_warm+=($((b - a - cost)))
	done
	say "  engine requests per ls -l (reading the engine file costs $cost, subtracted): expired caches ${reqs_cold[*]}; right after another ls ${reqs_warm[*]}"
}

measure_memory() { # measure_memory N
	record t6.rss "$1" 1 1 "$(rss_kib VmRSS)" KiB
	record t6.hwm "$1" 1 1 "$(rss_kib VmHWM)" KiB
	say "N = $1: target 6, daemon VmRSS $(rss_kib VmRSS) KiB (peak $(rss_kib VmHWM) KiB)"
}

# ======== 2. one container's state, read ITER times ========

say "target 2: one container's status read $ITER times"
mount_fs
ONE=$P-one
api -f -o /dev/null -X POST -H 'Content-Type: application/json' "$API/containers/create?name=$ONE" \
	-d "{\"Image\":\"$IMAGE\",\"Cmd\":[\"sleep\",\"3600\"]}" || die "cannot create $ONE"
api -f -o /dev/null -X POST "$API/containers/$ONE/start" || die "cannot start $ONE"
wait_state "containers/$ONE" running
STATUS=$M/containers/$ONE/status

t2_cat() {
	local i
	for ((i = 0; i < ITER; i++)); do cat "$STATUS" >/dev/null || return 1; done
}
t2_inspect() {
	local i
	for ((i = 0; i < ITER; i++)); do docker inspect -f '{{.State.Status}}' "$ONE" >/dev/null || return 1; done
}
t2_curl() {
	local i
	for ((i = 0; i < ITER; i++)); do
		curl -sf --unix-socket "$SOCK" "$API/containers/$ONE/json" >/dev/null || return 1
	done
}
# The floor: the same reads of a copy of the status in a local file (no FUSE, no engine).
LOCAL=$T/status.copy
cp "$STATUS" "$LOCAL"
t2_cat_local() {
	local i
	for ((i = 0; i < ITER; i++)); do cat "$LOCAL" >/dev/null || return 1; done
}
compare 1 "$ITER" "$LOOP_RUNS" t2.cat t2_cat t2.inspect t2_inspect t2.curl t2_curl t2.cat_local t2_cat_local

# The in-process loops time themselves: their own total is recorded.
inproc() { # inproc CASE CMD...
	local c=$1 i out total
	shift
	"$@" >/dev/null || die "$c failed (warm-up)"
	for ((i = 1; i <= RUNS; i++)); do
		out=$("$@") || die "$c failed"
		total=$(sed -n 's/.*total_s=\([0-9.]*\).*/\1/p' <<<"$out")
		record "$c" 1 "$ITER" "$i" "$total" s
	done
	say "  $(printf '%-16s' "$c") last run: $out"
}
inproc t2.readloop "$T/readloop" "$STATUS" "$ITER" running
inproc t2.httploop "$T/httploop" "$SOCK" "$ONE" "$ITER"
inproc t2.readloop_local "$T/readloop" "$LOCAL" "$ITER" running
floor_up 1 "$LOCAL"
inproc t2.readloop_floor "$T/readloop" "$FLOOR/c00000/status" "$ITER" running
floor_down

# ======== 5. cat logs of a container that wrote 50 MB ========

say "target 5: the logs of a container that wrote $((LOG_BYTES >> 20)) MiB"
# A fresh daemon: its peak RSS is the logs runs'.
unmount
mount_fs
LOGS=$P-logs
LINE=$(printf 'x%.0s' $(seq 99))
api -f -o /dev/null -X POST -H 'Content-Type: application/json' "$API/containers/create?name=$LOGS" \
	-d "{\"Image\":\"$IMAGE\",\"Cmd\":[\"sh\",\"-c\",\"yes $LINE | head -c $LOG_BYTES; echo logs-done; sleep 3600\"]}" ||
	die "cannot create $LOGS"
api -f -o /dev/null -X POST "$API/containers/$LOGS/start" || die "cannot start $LOGS"
for i in $(seq 1200); do
	api "$API/containers/$LOGS/logs?stdout=1&tail=1" 2>/dev/null | grep -q logs-done && break
	sleep 0.1
done
wait_state "containers/$LOGS" running
got=$(wc -c <"$M/containers/$LOGS/logs")
[ "$got" -eq $((LOG_BYTES + 10)) ] || die "containers/$LOGS/logs has $got bytes, want $((LOG_BYTES + 10))"
t5_cat() { cat "$M/containers/$LOGS/logs" >/dev/null; }
t5_docker() { docker logs "$LOGS" >/dev/null 2>&1; }
t5_curl() { curl -sf --unix-socket "$SOCK" "$API/containers/$LOGS/logs?stdout=1&stderr=1" >/dev/null; }
compare logs 1 "$LOG_RUNS" t5.cat t5_cat t5.docker t5_docker t5.curl t5_curl
record t5.hwm logs 1 1 "$(rss_kib VmHWM)" KiB
say "  daemon peak RSS after the logs runs: $(rss_kib VmHWM) KiB"
unmount
remove_containers "$P-"

# ======== for each N: 4. starting N, then 1., 3. and 6. with them ========

for N in "${NS[@]}"; do
	say "N = $N: target 4, starting $N containers"

	# The engine alone: docker run -d, then create + start with curl. No mount meanwhile.
	t4_docker() {
		local i
		for ((i = 1; i <= N; i++)); do
			docker run -d --name "$P-d$N-$i" "$IMAGE" sleep 3600 >/dev/null || return 1
		done
	}
	t4_api() {
		local i
		for ((i = 1; i <= N; i++)); do
			curl -sf --unix-socket "$SOCK" -o /dev/null -X POST -H 'Content-Type: application/json' \
				"$API/containers/create?name=$P-a$N-$i" \
				-d "{\"Image\":\"$IMAGE\",\"Cmd\":[\"sleep\",\"3600\"]}" || return 1
			curl -sf --unix-socket "$SOCK" -o /dev/null -X POST "$API/containers/$P-a$N-$i/start" || return 1
		done
	}
	# Cards, a cp each: every cp returns when its container is created (or refused); then one
	# cp of the N cards, whose containers stay for the measurements below. A fresh mount and
	# workspace each time. Small N: the median of 3 rounds, the four ways in turn.
	mkdir -p "$T/cards-c$N" "$T/cards-r$N"
	for ((i = 1; i <= N; i++)); do
		container_card "$P-c$N-$i" >"$T/cards-c$N/$P-c$N-$i.container.yaml"
		container_card "$P-r$N-$i" >"$T/cards-r$N/$P-r$N-$i.container.yaml"
	done
	# Besides the time: the engine requests the cps made (the final status check excluded) and
	# the daemon's CPU time, both per container.
	t4_cp_each() {
		local f
		REQ_A=$(engine_requests)
		for f in "$T/cards-c$N"/*.yaml; do cp "$f" "$M/cards/" || return 1; done
		all_running "$P-c$N-" "$N"
	}
	t4_cp_all() {
		REQ_A=$(engine_requests)
		cp "$T/cards-r$N"/*.yaml "$M/cards/" || return 1
		all_running "$P-r$N-" "$N"
	}
	# t4_cards CASE FN RUN: FN timed; then, once the daemon is quiet, its requests (what its
	# own changes' events made it read included) and CPU.
	t4_cards() {
		local c0 c1 req
		c0=$(cpu_ms)
		timed "$1" "$N" "$3" "$2"
		settle
		c1=$(cpu_ms)
		req=$((REQ_B - REQ_A - READS))
		record "$1.req" "$N" "$N" "$3" "$req" requests
		record "$1.cpu" "$N" "$N" "$3" $((c1 - c0)) ms
		say "    $(awk -v r="$req" -v n="$N" 'BEGIN{printf "%.1f", r/n}') engine requests and $(awk -v c=$((c1 - c0)) -v n="$N" 'BEGIN{printf "%.1f", c/n}') ms of daemon CPU per container"
	}
	rounds=1
	[ "$N" -gt 10 ] || [ "$QUICK" = 1 ] || rounds=3
	for ((r = 1; r <= rounds; r++)); do
		timed t4.docker "$N" "$r" t4_docker
		remove_containers "$P-d$N-"
		# At 500 the one cp against the docker run loop tells it; the curl loop and a cp per
		# card would add a quarter of an hour.
		if [ "$N" -lt 500 ]; then
			timed t4.api "$N" "$r" t4_api
			remove_containers "$P-a$N-"
			mount_fs
			t4_cards t4.cp_each t4_cp_each "$r"
			unmount
			remove_containers "$P-c$N-"
		fi
		mount_fs
		t4_cards t4.cp_all t4_cp_all "$r"
		if [ "$r" -lt "$rounds" ]; then
			unmount
			remove_containers "$P-r$N-"
		fi
	done
	NAMES=()
	for ((i = 1; i <= N; i++)); do NAMES+=("$P-r$N-$i"); done

	running=$(grep -lx running "$M/containers/$P-r$N-"*/status | wc -l)
	[ "$running" -eq "$N" ] || die "only $running of $N statuses say running"
	measure_state "$N"
	measure_ls "$N"
	measure_memory "$N"

	unmount
	remove_containers "$P-r$N-"
done

# ======== 7. start-up at scale, with 1., 3. and 6. at the largest ========

have=0
for S in "${SCALE[@]}"; do
	say "target 7: $S containers created (not started), a new mount"
	create_many "$P-s" $((have + 1)) "$S" || die "cannot create containers $P-s-$((have + 1)) .. $S"
	have=$S
	got=$(bench_ids "$P-s-" | wc -l)
	[ "$got" -eq "$S" ] || die "$got of $S containers created"
	for ((r = 1; r <= 3; r++)); do
		# From starting the daemon to an `ls containers` that names every one.
		s=$EPOCHREALTIME
		mount_bare
		while [ "$(ls "$M/containers" | grep -c "^$P-s-")" -lt "$S" ]; do
			[ $((${EPOCHREALTIME/./} - ${s/./})) -lt 120000000 ] || die "ls containers incomplete after 120 s"
			sleep 0.01
		done
		e=$EPOCHREALTIME
		record t7.listing "$S" 1 "$r" "$(secs "$s" "$e")" s
		# At once, from the list if it is not inspected yet: the state.
		st=$(state_of "containers/$P-s-$S") || die "no status for $P-s-$S"
		[ "$st" = created ] || die "containers/$P-s-$S/status says '$st', want created"
		say "  mount to a complete ls containers (N=$S, run $r): $(fmt_s "$(secs "$s" "$e")")"
		[ "$r" -eq 3 ] || unmount
	done
	if [ "$S" -gt 500 ]; then
		NAMES=()
		measure_state "$S"
		measure_ls "$S"
		measure_memory "$S"
	fi
	unmount
done
remove_containers "$P-s-"

# ======== 8. engine requests per event ========

say "target 8: engine requests per event (containers made and removed outside cutipfs)"
mount_bare
EV8=$T/events8.log
cat "$M/events" >"$EV8" &
EVPID=$!
settle # the first lists
REQ_A=$REQ_B
for ((i = 1; i <= 10; i++)); do
	api -f -o /dev/null -X POST -H 'Content-Type: application/json' "$API/containers/create?name=$P-e-$i" \
		-d "{\"Image\":\"$IMAGE\",\"Cmd\":[\"sleep\",\"3600\"]}" || die "create $P-e-$i"
	api -f -o /dev/null -X POST "$API/containers/$P-e-$i/start" || die "start $P-e-$i"
	api -f -o /dev/null -X POST "$API/containers/$P-e-$i/kill" || die "kill $P-e-$i"
	api -f -o /dev/null -X DELETE "$API/containers/$P-e-$i?force=1" || die "remove $P-e-$i"
done
for i in $(seq 300); do
	[ "$(grep -c " container $P-e-[0-9]* destroy" "$EV8")" -ge 10 ] && break
	sleep 0.1
done
settle
lines=$(grep -c " container $P-e-" "$EV8" || true)
req=$((REQ_B - REQ_A - READS))
record t8.req events "$lines" 1 "$req" requests
say "  $req engine requests for $lines event lines: $(awk -v r="$req" -v l="$lines" 'BEGIN{printf "%.2f", l ? r/l : 0}') per event"
kill "$EVPID" 2>/dev/null || true
wait "$EVPID" 2>/dev/null || true
unmount

# ======== 9. a burst of events ========

say "target 9: a burst of $BURST containers created and removed outside cutipfs"
mount_bare
EV9=$T/events9.log
cat "$M/events" >"$EV9" &
EVPID=$!
# The engine's own account, live (it replays only its last 256 events afterwards), twice: the
# order of concurrent events across containers differs between two subscribers of one dockerd
# (each event is sent to each subscriber by a goroutine of its own), so a second reader shows
# how far apart two plain readers are.
for k in 1 2; do
	docker events --filter type=container --filter event=create --filter event=destroy \
		--format '{{.Action}} {{.Actor.Attributes.name}}' >"$T/burst.engine$k" &
	eval "DEVPID$k=\$!"
done
sleep 1
s=$EPOCHREALTIME
create_many "$P-b" 1 "$BURST" || die "the burst's creates failed"
remove_containers "$P-b-"
for i in $(seq 1200); do
	[ "$(grep -c " container $P-b-[0-9]* destroy" "$EV9")" -ge "$BURST" ] && break
	sleep 0.1
done
e=$EPOCHREALTIME
sleep 1
kill "$DEVPID1" "$DEVPID2" 2>/dev/null || true
wait "$DEVPID1" "$DEVPID2" 2>/dev/null || true
grep " $P-b-" "$T/burst.engine1" >"$T/burst.want" || true
grep " $P-b-" "$T/burst.engine2" >"$T/burst.want2" || true
grep -E " container $P-b-[0-9]+ (create|destroy)( |\$)" "$EV9" | awk '{print $4, $3}' >"$T/burst.got" || true
read -r want got ordered moved moved2 < <(python3 "$HERE/order.py" "$T/burst.want" "$T/burst.got" "$T/burst.want2")
record t9.want burst "$BURST" 1 "$want" lines
record t9.got burst "$BURST" 1 "$got" lines
record t9.ordered burst "$BURST" 1 "$ordered" bool
record t9.moved burst "$BURST" 1 "$moved" lines
record t9.moved_docker burst "$BURST" 1 "$moved2" lines
record t9.time burst "$BURST" 1 "$(secs "$s" "$e")" s
say "  the engine's events: $want create and destroy lines; events showed $got, each container's in order: $([ "$ordered" = 1 ] && echo yes || echo no); out of the first docker reader's order: $moved (a second docker reader: $moved2)"
kill "$EVPID" 2>/dev/null || true
wait "$EVPID" 2>/dev/null || true
unmount

# ======== the report ========

echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$T/meta.env"
mkdir -p "$RESULTS"
cp "$SAMPLES" "$RESULTS/$STAMP-samples.csv"
cp "$T/meta.env" "$RESULTS/$STAMP-meta.env"
python3 "$HERE/report.py" "$SAMPLES" "$T/meta.env" "$RESULTS/$STAMP.csv" "$RESULTS/latest.md"
say "saved $RESULTS/$STAMP.csv, $RESULTS/$STAMP-samples.csv and $RESULTS/latest.md"
