#!/bin/sh
# Trace write/read throughput (events per second) and bytes per event.
# A benchmark, not a timed test: prints the figures of one run.
# usage: bench/trace_bench.sh [BUILD_DIR] [EVENTS]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
events=${2:-5000000}

. "$root/bench/common.sh"
bench_build "$build" trace_bench
bench_header "trace ($events events per mix)"
"$build/trace-format/trace_bench" "$events" "${TMPDIR:-/tmp}"
