#!/bin/sh
# Sets up, builds and runs every test:
#   1. build-debug/  gcc Debug build: unit tests, end-to-end tests on /dev/kvm
#                    (rrvm, gdb), the samples under QEMU; not the Linux boots;
#   2. build/        gcc RelWithDebInfo (what users and the benchmarks run),
#                    warnings as errors: it compiles, the unit tests pass, and
#                    the Linux boots (minutes of emulated ring 0 each, label
#                    linux: run, record and replay) run on it;
#   3. build-asan/   clang with AddressSanitizer + UBSan: unit and end-to-end
#                    tests again (not the Linux boots: minutes each), and every
#                    libFuzzer target for a bounded time (RRVM_FUZZ_SECONDS
#                    each, default 30).
# With RRVM_REQUIRE_KVM=1 (.ci/run sets it; so does CI=true) a test that needs
# /dev/kvm fails instead of skipping.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
[ "${CI:-}" = true ] && export RRVM_REQUIRE_KVM=1
jobs=$(nproc)

BUILD_DIR=$root/build-debug BUILD_TYPE=Debug sh "$root/scripts/build.sh"
(cd "$root/build-debug" && ctest --output-on-failure -j"$jobs" -LE linux)

sh "$root/scripts/build.sh" -DRRVM_WERROR=ON
(cd "$root/build" && ctest --output-on-failure -j"$jobs" -L 'unit|linux')

BUILD_DIR=$root/build-asan BUILD_TYPE=Debug CC=clang sh "$root/scripts/build.sh" \
	-DRRVM_SANITIZE=ON -DRRVM_FUZZ=ON
(cd "$root/build-asan" && ASAN_OPTIONS=detect_leaks=1 \
	ctest --output-on-failure -j"$jobs" -L 'unit|e2e|fuzz' -LE 'qemu|linux')
