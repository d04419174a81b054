#!/usr/bin/env bash
# run.sh FUZZER SECONDS [LIBFUZZER-OPTION...]: one libFuzzer target of tests/fuzz, as the meson
# test fuzz_NAME runs it and as the README's long runs do. Fuzzes for SECONDS into a fresh
# corpus, starting from what seeds.py writes for NAME, tests/fuzz/regress/NAME (every crash
# found so far: replayed first, like every seed) and, for the card targets, tests/fixtures (for
# inspect, tests/fixtures/inspect; for progress, tests/fixtures/progress: recorded streams).
# Exits non-zero on any crash, leak, sanitizer report or timeout; the input that caused it is
# kept as crash-*/leak-*/timeout-* in the working directory.
set -euo pipefail
fuzzer=$1
seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
name=$(basename "$fuzzer")
name=${name#fuzz_}
work=$(mktemp -d "${TMPDIR:-/tmp}/cutipfs-fuzz-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
python3 "$here/seeds.py" "$name" "$work/seeds"
dirs=("$work/corpus" "$work/seeds")
[ -d "$here/regress/$name" ] && dirs+=("$here/regress/$name")
case $name in
card | canon | placeholder) dirs+=("$here/../fixtures") ;;
inspect) dirs+=("$here/../fixtures/inspect") ;;
progress) dirs+=("$here/../fixtures/progress") ;;
esac
# Card inputs up to just past the 1 MiB card limit, to reach it; 64 KB for the others, whose
# only bound (64 MiB) no fuzzer reaches at speed. A run of 10 s on one input is a hang.
max_len=65536
case $name in
card | canon | placeholder) max_len=$((1024 * 1024 + 4096)) ;;
esac
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# Not exec: the EXIT trap removes the corpus afterwards. libFuzzer's own exit code for a crash
# or a leak is 77, which meson's exitcode protocol takes for a skip: every finding exits 1.
rc=0
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-max_len="$max_len" -print_final_stats=1 -error_exitcode=1 -timeout_exitcode=1 \
	"$@" "${dirs[@]}" || rc=$?
exit "$rc"
