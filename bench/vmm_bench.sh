#!/bin/sh
# VMM benchmark: exits per second and the guest's ring-3 loop speed against
# the same loop natively, plus `rrvm run` wall time per sample.  Ratios are
# measured in one run on this machine.
#   bench/vmm_bench.sh [BUILD_DIR]      (default: build)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
. "$root/bench/common.sh"
bench_build "$build" vmm_bench rrvm samples
bench_header VMM
"$build/bench/vmm_bench"
for s in hello timer usermode race; do
	t0=$(date +%s%N)
	"$build/rrvm" run --serial-in none --serial-out /dev/null "$build/samples/$s.elf" || true
	t1=$(date +%s%N)
	echo "rrvm run $s: $(( (t1 - t0) / 1000000 )) ms"
done
