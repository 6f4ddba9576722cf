#!/bin/sh
# Trace write/read throughput (events per second) and bytes per event.
# A benchmark, not a timed test: prints the figures of one run.
# usage: bench/trace_bench.sh [BUILD_DIR] [EVENTS]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
events=${2:-5000000}

if [ ! -f "$build/CMakeCache.txt" ]; then
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" --target trace_bench >/dev/null
echo "trace_bench: $events events per mix, build type $(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt")"
"$build/trace-format/trace_bench" "$events" "${TMPDIR:-/tmp}"
