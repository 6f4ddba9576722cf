#!/bin/sh
# The main job on a bundled sample kernel: set up, build, ask the host what
# its KVM can do, boot a sample, then record the `race` sample (an unlocked
# list that an interrupt corrupts) and replay it exactly from its trace.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
sh "$root/scripts/build.sh" >/dev/null
rrvm=$root/build/rrvm
samples=$root/build/samples
trace=${TMPDIR:-/tmp}/rrvm-demo-race.trace
echo "== rrvm doctor"
"$rrvm" doctor
echo "== rrvm run $samples/hello.elf -- demo"
"$rrvm" run --serial-in none "$samples/hello.elf" -- demo || true
echo "== rrvm record -o $trace $samples/race.elf"
"$rrvm" record --serial-in none -o "$trace" "$samples/race.elf" || true
echo "== rrvm info $trace"
"$rrvm" info "$trace"
echo "== rrvm replay $trace"
"$rrvm" replay "$trace"
