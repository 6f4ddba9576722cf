#!/bin/sh
# The main job on a bundled sample kernel: set up, build, ask the host what
# its KVM can do, then boot the samples on rrvm.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
sh "$root/scripts/build.sh" >/dev/null
rrvm=$root/build/rrvm
echo "== rrvm doctor"
"$rrvm" doctor
for s in hello timer usermode; do
	echo "== rrvm run build/samples/$s.elf"
	"$rrvm" run --serial-in none "$root/build/samples/$s.elf" -- demo && status=0 || status=$?
	echo "(exit status $status: guest isa-debug-exit value $((status >> 1)))"
done
