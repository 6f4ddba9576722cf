# Sourced by the bench/*.sh scripts: an optimized build tree, and the first
# line every benchmark prints.
#   bench_build BUILD_DIR TARGET...   configure BUILD_DIR (RelWithDebInfo) if
#                                     new, refuse a Debug tree, build TARGETs
#   bench_header NAME                 "# rrvm NAME benchmark, <type>, <date>, <machine>"
bench_build() {
	bench_dir=$1
	shift
	if [ ! -f "$bench_dir/CMakeCache.txt" ]; then
		cmake -S "$root" -B "$bench_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	fi
	bench_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$bench_dir/CMakeCache.txt")
	case $bench_type in
	Release | RelWithDebInfo | MinSizeRel) ;;
	*)
		echo "bench: $bench_dir is a '${bench_type:-unset}' build; benchmarks need an optimized one (sh scripts/build.sh)" >&2
		exit 2
		;;
	esac
	if grep -q '^RRVM_SANITIZE:BOOL=ON' "$bench_dir/CMakeCache.txt"; then
		echo "bench: $bench_dir is a sanitizer build" >&2
		exit 2
	fi
	cmake --build "$bench_dir" -j"$(nproc)" --target "$@" >/dev/null
}

bench_header() {
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
	echo "# rrvm $1 benchmark, build $bench_type, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ${cpu:-?}, Linux $(uname -r)"
}
