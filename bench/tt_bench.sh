#!/bin/sh
# Time-travel benchmark on a one-minute recording (SECONDS to change it) of
# the exit-heavy spin test kernel.  Figures of one run.
#   bench/tt_bench.sh [BUILD_DIR] [SECONDS]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
secs=${2:-60}
. "$root/bench/common.sh"
bench_build "$build" tt_bench rrvm test_kernels
trace=${TMPDIR:-/tmp}/rrvm-tt-bench.trace
kernel=$build/tests/e2e/kernels/spin.elf
bench_header "time-travel"
"$build/rrvm" record --serial-in none --serial-out /dev/null -o "$trace" "$kernel" &
pid=$!
sleep "$secs"
kill -INT $pid
wait $pid || true
echo "recording: $secs s, $(du -h "$trace" | cut -f1)"
"$build/bench/tt_bench" "$kernel" "$trace"
