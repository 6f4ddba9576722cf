#!/bin/sh
# Installs what is missing, configures and builds rrvm in BUILD_DIR (default
# build/), optimized with asserts on (RelWithDebInfo) unless BUILD_TYPE says
# otherwise.  Extra arguments go to cmake's configure step.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
sh "$root/scripts/setup.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
