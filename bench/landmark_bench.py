#!/usr/bin/env python3
"""Landmark benchmark: interrupt fidelity in exit-free ring-0 code, what
landmarks cost, and the measurements behind the two bounds.  Figures of one
run on this machine (optimized build: RelWithDebInfo).

  bench/landmark_bench.py [BUILD_DIR] [SECONDS] [PARTS]
      (default build, 10, fidelity,cost,stretch)

Guests: samples/busywait with "bench" (an exit-free ring-0 compute loop at a
1 kHz PIT, printing per round the ticks it received and the ticks that fell
due by its TSC) and tests/e2e/kernels/spin.elf (exit-heavy: clock reads).
1. fidelity: ticks delivered / ticks due over a recording, and the
   injections' lateness (`rrvm info`), at the default interrupt bound and
   at others (RRVM_IRQ_BOUND_US);
2. cost: guest work per host second, record against run, on both guests,
   and record with landmarks against record without (RRVM_LANDMARKS=0);
3. the stretch bound (RRVM_STRETCH_BOUND_US): record throughput against
   the step-back latency it buys (bench/tt_bench on a recording of each),
   on busywait "bench quiet" (timer masked: only the bound ends stretches).
"""
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "build")
secs = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
parts = (sys.argv[3] if len(sys.argv) > 3 else "fidelity,cost,stretch").split(",")
rrvm = os.path.join(build, "rrvm")
busywait = os.path.join(build, "samples", "busywait.elf")
spin = os.path.join(build, "tests", "e2e", "kernels", "spin.elf")
NULL = subprocess.DEVNULL


def build_type():
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            m = re.search(r"^CMAKE_BUILD_TYPE:\w+=(.*)$", f.read(), re.M)
            return m.group(1) if m and m.group(1) else "(none)"
    except OSError:
        return "?"


def timed_run(args, env=None, seconds=secs):
    """Runs rrvm ARGS for SECONDS, then SIGINT; returns (stdout, host s)."""
    e = dict(os.environ, **(env or {}))
    t0 = time.monotonic()
    p = subprocess.Popen([rrvm, *args], stdin=NULL, stdout=subprocess.PIPE, stderr=NULL, env=e)
    time.sleep(seconds)
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=300)
    return out.decode(errors="replace"), time.monotonic() - t0


def rounds(out):
    """(ticks received, ticks due, iterations) summed over busywait's rounds."""
    r = re.findall(r"round \d+ received (\d+) ticks, (\d+) fell due, (\d+) iterations", out)
    return tuple(sum(int(x[i]) for x in r) for i in range(3)) if r else (0, 0, 0)


def lateness(trace):
    info = subprocess.run([rrvm, "info", trace], capture_output=True, text=True).stdout
    m = re.search(r"(\d+) injected, (\d+) at landmarks; lateness \(virtual\) median ([\d.]+) "
                  r"ms, p99 ([\d.]+) ms, max ([\d.]+) ms", info)
    return m.groups() if m else ("?",) * 5


def fidelity(d, bound_us=None):
    trace = os.path.join(d, "f.trace")
    env = {"RRVM_IRQ_BOUND_US": str(bound_us)} if bound_us is not None else {}
    out, _ = timed_run(["record", "--serial-in", "none", "-o", trace, busywait, "--", "bench"],
                       env)
    got, due, _ = rounds(out)
    n, at_lm, med, p99, mx = lateness(trace)
    label = f"{bound_us} us" if bound_us is not None else "default"
    print(f"  irq bound {label:>8}: delivered/due {got}/{due} = "
          f"{got / due if due else 0:.3f}; {n} injections ({at_lm} at landmarks), lateness "
          f"median {med} ms, p99 {p99} ms, max {mx} ms (1 period = 1 ms)")


def busywait_rate(args, env=None):
    out, t = timed_run(args + [busywait, "--", "bench"], env)
    return rounds(out)[2] / t


def spin_rate(args, env=None):
    out, t = timed_run(args + [spin], env, seconds=min(secs, 4))
    return out.count(".") * 1024 / t


def tt_step_back(d, stretch_us):
    trace = os.path.join(d, f"s{stretch_us}.trace")
    env = {"RRVM_STRETCH_BOUND_US": str(stretch_us)}
    out, t = timed_run(["record", "--serial-in", "none", "-o", trace, busywait, "--", "bench",
                        "quiet"], env)
    rate = rounds(out)[2] / t
    tt = subprocess.run([os.path.join(build, "bench", "tt_bench"), busywait, trace, "10"],
                        capture_output=True, text=True, timeout=1800).stdout
    m = re.search(r"^step back +median +([\d.]+) ms, p95 +([\d.]+) ms", tt, re.M)
    return rate, m.groups() if m else ("?", "?")


def cost(d):
    print("cost (guest work per host second, one run each):")
    run = busywait_rate(["run", "--serial-in", "none"])
    rec = busywait_rate(["record", "--serial-in", "none", "-o", os.path.join(d, "c.trace")])
    print(f"  busywait (exit-free): run {run:.0f}, record {rec:.0f} iterations/s: "
          f"record/run {run / rec if rec else 0:.3f}")
    sr = spin_rate(["run", "--serial-in", "none"])
    sl = spin_rate(["record", "--serial-in", "none", "-o", os.path.join(d, "s.trace")])
    s0 = spin_rate(["record", "--serial-in", "none", "-o", os.path.join(d, "s0.trace")],
                   {"RRVM_LANDMARKS": "0"})
    print(f"  spin (exit-heavy): run {sr:.0f}, record {sl:.0f}, record without landmarks "
          f"{s0:.0f} rounds/s: record/run {sr / sl if sl else 0:.3f}, landmarks cost "
          f"{s0 / sl if sl else 0:.3f}x")


def main():
    load = os.getloadavg()[0]
    print(f"# rrvm landmark benchmark, {time.strftime('%Y-%m-%d', time.gmtime())}, build type "
          f"{build_type()}, {os.cpu_count()} cores, {os.uname().release}, load average "
          f"{load:.1f} at start")
    with tempfile.TemporaryDirectory() as d:
        if "fidelity" in parts:
            print(f"fidelity (busywait bench, {secs:.0f} s recordings):")
            fidelity(d)
            for b in (50, 500, 1000):
                fidelity(d, b)
        if "cost" in parts:
            cost(d)
        if "stretch" in parts:
            print("stretch bound: record throughput against step-back latency:")
            for us in (1000, 5000, 20000):
                rate, (med, p95) = tt_step_back(d, us)
                print(f"  {us / 1000:5.0f} ms: record {rate:.0f} iterations/s, step back "
                      f"median {med} ms, p95 {p95} ms")


if __name__ == "__main__":
    main()
