#!/bin/sh
# VMM benchmark: exits per second and the guest's ring-3 loop speed against
# the same loop natively, plus `rrvm run` wall time per sample.  Ratios are
# measured in one run on this machine.
#   bench/vmm_bench.sh [BUILD_DIR]      (default: build)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
cmake --build "$build" --target vmm_bench rrvm samples >/dev/null
echo "# rrvm VMM benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r)"
"$build/bench/vmm_bench"
for s in hello timer usermode race; do
	t0=$(date +%s%N)
	"$build/rrvm" run --serial-in none --serial-out /dev/null "$build/samples/$s.elf" || true
	t1=$(date +%s%N)
	echo "rrvm run $s: $(( (t1 - t0) / 1000000 )) ms"
done
