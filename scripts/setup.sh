#!/bin/sh
# Installs every build and test dependency of rrvm from Debian's packages,
# only when something is missing.  Safe to run repeatedly.
set -eu

PKGS="build-essential cmake pkg-config gdb clang llvm libclang-rt-14-dev
libcapstone-dev libreadline-dev libprotobuf-c-dev protobuf-c-compiler
libcmocka-dev libzstd-dev libxxhash-dev qemu-system-x86 python3 tmux groff-base man-db
git binutils util-linux
linux-source-6.1 busybox-static bc flex bison libelf-dev libssl-dev cpio xz-utils"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "setup: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
