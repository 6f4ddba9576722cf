#!/bin/sh
# Builds the tiny Linux test guest from Debian's linux-source-6.1 and busybox-static
# (scripts/setup.sh installs both) and prints the folder that holds it:
#   bzImage  vmlinux  System.map  config  initramfs.cpio (uncompressed newc)
# The build is cached in ${RRVM_CACHE:-/var/cache/rrvm}/linux-<key>, where <key> hashes
# the two package versions and every file of this folder, so it runs once (~2.5 min
# with -j2 on the development host) and is reused until one of them changes.  A lock
# lets parallel callers wait for one build.  Log: <cache>/linux-<key>.log.
# Usage: build.sh [--key]   (--key prints the folder without building)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${RRVM_CACHE:-/var/cache/rrvm}
jobs=${RRVM_LINUX_JOBS:-2}

pkgver() {
	dpkg-query -W -f='${Version}' "$1" 2>/dev/null ||
		{ echo "build.sh: package $1 is not installed (run scripts/setup.sh)" >&2; exit 1; }
}
srcver=$(pkgver linux-source-6.1)
bbver=$(pkgver busybox-static)
key=$({ echo "linux-source-6.1 $srcver busybox-static $bbver"; cat "$here"/*; } |
	sha256sum | cut -c1-16)
out=$cache/linux-$key
if [ "${1:-}" = "--key" ]; then echo "$out"; exit 0; fi
[ -f "$out/done" ] && { echo "$out"; exit 0; }

mkdir -p "$cache"
exec 9>"$out.lock"
flock 9
[ -f "$out/done" ] && { echo "$out"; exit 0; }

log=$out.log
work=$out.tmp
rm -rf "$work"
mkdir -p "$work"
echo "build.sh: building Linux $srcver into $out (log $log)" >&2
{
	tar -C "$work" -xf /usr/src/linux-source-6.1.tar.xz
	src=$work/linux-source-6.1
	make -C "$src" -s tinyconfig
	"$src"/scripts/kconfig/merge_config.sh -m -O "$src" "$src/.config" "$here/tiny.config"
	make -C "$src" -s olddefconfig
	# Every line of the fragment must have survived (a dependency can drop one).
	grep -E '^(CONFIG_|# CONFIG_)' "$here/tiny.config" | while read -r line; do
		case $line in
		"# "*) sym=${line#\# }; sym=${sym%% *}
			! grep -q "^$sym=" "$src/.config" ||
				{ echo "build.sh: $sym is set" >&2; exit 1; } ;;
		*) grep -qx "$line" "$src/.config" ||
				{ echo "build.sh: $line did not survive olddefconfig" >&2; exit 1; } ;;
		esac
	done
	make -C "$src" -s -j"$jobs" bzImage
	# The initramfs: busybox and one link per applet, /init, the console node.
	list=$work/initramfs.list
	{
		echo "dir /dev 755 0 0"
		echo "nod /dev/console 600 0 0 c 5 1"
		echo "dir /proc 755 0 0"
		echo "dir /bin 755 0 0"
		echo "file /bin/busybox /bin/busybox 755 0 0"
		for a in $(/bin/busybox --list); do
			[ "$a" = busybox ] || echo "slink /bin/$a busybox 777 0 0"
		done
		echo "file /init $here/init 755 0 0"
	} >"$list"
	"$src"/usr/gen_init_cpio "$list" >"$work/initramfs.cpio"
	cp "$src/arch/x86/boot/bzImage" "$src/vmlinux" "$src/System.map" "$work/"
	cp "$src/.config" "$work/config"
	rm -rf "$src" "$list"
} >"$log" 2>&1 || { echo "build.sh: build failed, see $log" >&2; tail -20 "$log" >&2; exit 1; }
date -u >"$work/done"
rm -rf "$out"
mv "$work" "$out"
echo "$out"
