#!/usr/bin/env python3
"""Record/replay benchmark: ratios measured in one run on this machine.

  bench/rr_bench.py [BUILD_DIR]        (default: build)

For each sample: wall time of `rrvm run`, `rrvm record` and `rrvm replay`
(median of 3), record/run and replay/record, and trace bytes per second of
guest (virtual) time.  Then steady-state throughput of an exit-heavy guest
(tests/e2e/kernels/spin.elf: clock reads in a loop) under run and record for
2 s each: the recording overhead without start-up costs.
"""
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

root = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build"))
rrvm = os.path.join(build, "rrvm")
NULL = subprocess.DEVNULL


def timed(cmd):
    t0 = time.monotonic()
    subprocess.run(cmd, stdin=NULL, stdout=NULL, stderr=NULL)
    return time.monotonic() - t0


def median_time(cmd, n=3):
    return statistics.median(timed(cmd) for _ in range(n))


def spin_rate(args, seconds=2.0):
    """Rounds per second of spin.elf (1024 per dot printed)."""
    p = subprocess.Popen([rrvm, *args], stdin=NULL, stdout=subprocess.PIPE, stderr=NULL)
    time.sleep(seconds)
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate()
    return out.count(b".") * 1024 / seconds


def prelude():
    """bench/common.sh: an optimized tree with what we run, and the header."""
    sys.stdout.flush()
    r = subprocess.run(["sh", "-c", '. "$root/bench/common.sh" && '
                        'bench_build "$1" rrvm samples test_kernels && bench_header record/replay',
                        "rr_bench", build], env={**os.environ, "root": root})
    if r.returncode:
        sys.exit(r.returncode)


def main():
    prelude()
    print(f"{'sample':10} {'run s':>7} {'record s':>9} {'replay s':>9} {'rec/run':>8} "
          f"{'rpl/rec':>8} {'trace B/s guest':>16}")
    with tempfile.TemporaryDirectory() as d:
        for s in ("hello", "timer", "usermode", "race"):
            k = os.path.join(build, "samples", f"{s}.elf")
            trace = os.path.join(d, f"{s}.trace")
            base = ["--serial-in", "none", "--serial-out", "/dev/null"]
            t_run = median_time([rrvm, "run", *base, k])
            t_rec = median_time([rrvm, "record", *base, "-o", trace, k])
            t_rpl = median_time([rrvm, "replay", "-q", trace])
            info = subprocess.run([rrvm, "info", trace], capture_output=True, text=True).stdout
            vdur = float(re.search(r"duration: +([0-9.]+) s virtual", info).group(1))
            rate = os.path.getsize(trace) / vdur if vdur else 0
            print(f"{s:10} {t_run:7.3f} {t_rec:9.3f} {t_rpl:9.3f} {t_rec / t_run:8.2f} "
                  f"{t_rpl / t_rec:8.2f} {rate:16.0f}")
        spin = os.path.join(build, "tests", "e2e", "kernels", "spin.elf")
        run_rate = spin_rate(["run", "--serial-in", "none", spin])
        rec_rate = spin_rate(["record", "--serial-in", "none", "-o",
                              os.path.join(d, "spin.trace"), spin])
        size = os.path.getsize(os.path.join(d, "spin.trace"))
        print(f"spin (exit-heavy, steady state): run {run_rate:.0f} rounds/s, record "
              f"{rec_rate:.0f} rounds/s, record/run time per round {run_rate / rec_rate:.3f}, "
              f"trace {size / 2.0:.0f} B/s")


if __name__ == "__main__":
    main()
