"""Chaos in exit-free code (issue 16): in a ring-0 loop without exits an
interrupt lands at a landmark, where the recorder's kick stopped the vCPU.
With --chaos the kick comes at a random time between the deadline and the
machine's bound past it (RRVM_IRQ_BOUND_US, 200 us), so interrupts land at
other instructions from seed to seed; without it the kick comes the bound
late, as before.

Checked on busywait.elf (a busy-wait sleep, a compute loop and a counting
loop, all ring 0 without exits), in the test's own numbers:
1. every recording, plain or chaos, replays exactly (output, verdict);
2. rrvm info names the kick range of a chaos recording, and none of a
   plain one;
3. plain: the interrupts injected at landmarks waited about the bound
   (under 10 % of them less than 3/4 of it, a narrow spread); chaos: their
   lateness spreads over what chaos allows (the kick's delay within the
   bound, then holds over later sync points within 2 ms): an interquartile
   range at least three times the plain one;
4. the landmark places (RIP and registers) where interrupts landed differ
   between seeds.

usage: chaos_landmark_test.py RRVM BUSYWAIT_ELF"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

from checks import check, summary
from kvmcheck import kvm_status

BOUND_NS = 200000  # MACHINE_IRQ_BOUND (vmm/machine.h)
SEEDS = (11, 12, 13, 14)
# Waits shorter than this take a kick before the bound: without chaos the
# kick comes the bound late (plus the host's signal latency, some 50 us).
SHORT_NS = BOUND_NS * 3 // 4


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)


def landed(rrvm, trace):
    """(lateness of every injection at a landmark, the landmark places
    where they landed): from rrvm dump --json."""
    late, places, lms = [], set(), {}
    for line in run([rrvm, "dump", "--json", trace]).stdout.splitlines():
        ev = json.loads(line)
        if ev.get("kind") == "landmark":
            lms[ev["sync"]] = (ev["rip"], tuple(ev["regs"]))
        elif ev.get("kind") == "irq_inject" and ev.get("at_landmark"):
            late.append(ev["lateness_ns"])
            if ev["sync"] in lms:
                places.add(lms[ev["sync"]])
    return late, places


def one(rrvm, kernel, d, name, extra):
    trace = os.path.join(d, name + ".trace")
    rec = run([rrvm, "record", "--serial-in", "none", "-o", trace, *extra, kernel])
    check(rec.returncode % 2 == 1, f"{name}: recording exited {rec.returncode}", rec.stderr)
    rpl = run([rrvm, "replay", trace])
    verdict = rpl.stderr.splitlines()[-1] if rpl.stderr else ""
    check(rpl.returncode == 0 and rpl.stdout == rec.stdout and
          verdict.startswith("rrvm: replay matched:"),
          f"{name}: the recording replays exactly ({rpl.returncode}, {verdict})", rpl.stderr)
    info = run([rrvm, "info", trace]).stdout
    kicked = "exit-free code kicked 0-200 us past a deadline" in info
    check(kicked == bool(extra) and ("chaos:        off" in info) == (not extra),
          f"{name}: rrvm info shows {'the kick range' if extra else 'chaos off'}", info)
    late, places = landed(rrvm, trace)
    check(len(late) >= 50, f"{name}: interrupts landed at landmarks ({len(late)})")
    short = sum(x < SHORT_NS for x in late) / max(len(late), 1)
    q = statistics.quantiles(late, n=4) if len(late) > 1 else [0, 0, 0]
    iqr = q[2] - q[0]
    print(f"{name}: {len(late)} interrupts at landmarks, {len(places)} places, lateness quartiles "
          f"{q[0] / 1000:.0f}/{q[1] / 1000:.0f}/{q[2] / 1000:.0f} us, "
          f"{100 * short:.0f} % under {SHORT_NS // 1000} us")
    return short, iqr, places


def main():
    rrvm, kernel = sys.argv[1], sys.argv[2]
    st = kvm_status()
    if st is not None:
        return st
    with tempfile.TemporaryDirectory() as d:
        plain = [one(rrvm, kernel, d, f"plain{i}", []) for i in range(2)]
        chaos = [one(rrvm, kernel, d, f"seed{s}", ["--chaos", "--seed", str(s)]) for s in SEEDS]
    for i, (short, _, _) in enumerate(plain):
        check(short < 0.10, f"plain{i}: interrupts at landmarks wait about the bound "
              f"({100 * short:.0f} % waited under 3/4 of it)")
    plain_iqr = max(q for _, q, _ in plain)
    for s, (_, iqr, _) in zip(SEEDS, chaos):
        check(iqr >= 3 * plain_iqr, f"seed {s}: chaos spreads lateness (interquartile range "
              f"{iqr / 1000:.0f} us, plain {plain_iqr / 1000:.0f} us)")
    for i in range(len(SEEDS)):
        for j in range(i + 1, len(SEEDS)):
            a, b = chaos[i][2], chaos[j][2]
            check(a != b, f"seeds {SEEDS[i]} and {SEEDS[j]} land interrupts at the same places")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
