#!/bin/sh
# Time-travel benchmark on a one-minute recording (SECONDS to change it) of
# the exit-heavy spin test kernel, or of busywait's exit-free ring-0 compute
# loop at 1 kHz (GUEST=busywait: its stretches end at landmarks).  Figures of
# one run.
#   bench/tt_bench.sh [BUILD_DIR] [SECONDS] [spin|busywait]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
secs=${2:-60}
guest=${3:-spin}
. "$root/bench/common.sh"
bench_build "$build" tt_bench rrvm test_kernels samples
trace=${TMPDIR:-/tmp}/rrvm-tt-bench-$guest.trace
samples=40
if [ "$guest" = busywait ]; then
	kernel=$build/samples/busywait.elf
	samples=10 # it calls dot() once a second or so: fewer hits to go back to
	set -- -- bench
else
	kernel=$build/tests/e2e/kernels/spin.elf
	set --
fi
bench_header "time-travel ($guest)"
"$build/rrvm" record --serial-in none --serial-out /dev/null -o "$trace" "$kernel" "$@" &
pid=$!
sleep "$secs"
kill -INT $pid
wait $pid || true
echo "recording: $secs s, $(du -h "$trace" | cut -f1)"
"$build/bench/tt_bench" "$kernel" "$trace" "$samples"
