#!/bin/sh
# Sets up, builds and runs every test:
#   1. build/       gcc Debug build: unit tests, end-to-end tests on /dev/kvm
#                   (rrvm, gdb), the samples under QEMU;
#   2. build-asan/  clang with AddressSanitizer + UBSan: unit and end-to-end
#                   tests again, and every libFuzzer target for a bounded time
#                   (RRVM_FUZZ_SECONDS each, default 30).
# Under CI (CI=true) a test that needs /dev/kvm fails instead of skipping.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
[ "${CI:-}" = true ] && export RRVM_REQUIRE_KVM=1
jobs=$(nproc)

sh "$root/scripts/build.sh"
(cd "$root/build" && ctest --output-on-failure -j"$jobs")

BUILD_DIR=$root/build-asan CC=clang sh "$root/scripts/build.sh" \
	-DRRVM_SANITIZE=ON -DRRVM_FUZZ=ON
(cd "$root/build-asan" && ASAN_OPTIONS=detect_leaks=1 \
	ctest --output-on-failure -j"$jobs" -L 'unit|e2e|fuzz' -LE qemu)
