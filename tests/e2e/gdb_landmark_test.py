#!/usr/bin/env python3
"""The real gdb across landmarks, on a recording of the busywait sample
(ring-0 loops without exits at a 1 kHz PIT: its interrupts land at
landmarks, sync points where the guest did not exit).

  gdb_landmark_test.py RRVM BUSYWAIT_ELF BUSYWAIT_ELF64

1. In the counting loop (no exits), an interrupt arrives: stopped at the
   first instruction of its stub (isr32), `reverse-stepi` returns to the
   loop instruction it interrupted, and `stepi` enters the stub again.
2. `watch ticks` from inside the counting loop and `reverse-continue`,
   three times: each stops in timer_irq, at the store, with the counter
   one lower each time (interval after interval of the recording).
Prints 'N passed, M failed'; 77 skips without gdb or /dev/kvm.
"""
import os
import re
import subprocess
import sys
import tempfile

from gdb_util import check, gdb_batch, skip_status, summary
from recording import record

rrvm, elf, elf64 = sys.argv[1:4]


def gdb(trace, *cmds):
    return gdb_batch(rrvm, trace, elf64, *cmds, timeout=600)


def symbol_range(name):
    out = subprocess.run(["nm", "-S", elf64], capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) == 4 and f[3].startswith(name):
            return int(f[0], 16), int(f[0], 16) + int(f[1], 16)
    return None


def reverse_step_out_of_handler(trace):
    lo, hi = symbol_range("count_in_memory")
    out = gdb(trace, "break count_in_memory", "continue", "delete", "break isr32",
              "continue", "p/x $pc", "reverse-stepi", "p/x $pc", "monitor when",
              "stepi", "p/x $pc")
    pcs = [int(v, 16) for v in re.findall(r"^\$\d+ = (0x[0-9a-f]+)$", out, re.M)]
    isr = symbol_range("isr32")[0]
    check(len(pcs) == 3 and pcs[0] == isr, f"stopped at the stub's first instruction {pcs}",
          out)
    check(len(pcs) == 3 and lo <= pcs[1] < hi,
          f"reverse-stepi returns into the counting loop [{lo:#x}, {hi:#x}): {pcs}", out)
    check(len(pcs) == 3 and pcs[2] == isr, f"stepi enters the stub again: {pcs}", out)


def watch_ticks_backwards(trace):
    lo, hi = symbol_range("timer_irq")
    out = gdb(trace, "break count_in_memory", "continue", "delete", "break isr32",
              "continue", "continue", "continue", "delete", "watch ticks",
              *["reverse-continue", "p/x $pc", "p ticks"] * 3)
    pcs = [int(v, 16) for v in re.findall(r"^\$\d+ = (0x[0-9a-f]+)$", out, re.M)]
    vals = [int(v) for v in re.findall(r"^\$\d+ = (\d+)$", out, re.M)]
    check(len(pcs) == 3 and all(lo <= p < hi for p in pcs),
          f"each reverse-continue stops in timer_irq [{lo:#x}, {hi:#x}): {pcs}", out)
    check(len(vals) == 3 and vals[0] - 1 == vals[1] and vals[1] - 1 == vals[2],
          f"the tick counter goes down by one each interval: {vals}", out)


def main():
    st = skip_status()
    if st is not None:
        return st
    with tempfile.TemporaryDirectory() as d:
        trace = os.path.join(d, "busywait.trace")
        rec = record(rrvm, elf, trace)
        if not check(rec.returncode in (1, 3), f"recording: {rec.returncode} {rec.stderr}"):
            return summary()
        info = subprocess.run([rrvm, "info", trace], capture_output=True, text=True).stdout
        m = re.search(r"(\d+) at landmarks", info)
        check(m and int(m.group(1)) > 10, "the recording has injections at landmarks", info)
        check(re.search(r"lateness \(virtual\) median [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms",
                        info), "rrvm info prints the interrupt lateness", info)
        dump = subprocess.run([rrvm, "dump", "--json", trace], capture_output=True,
                              text=True).stdout
        check(re.search(r'"kind":"irq_inject","vector":32,"lateness_ns":\d+,"at_landmark":true',
                        dump) and re.search(r'"kind":"landmark","regs":\[(\d+,){16}\d+\]', dump),
              "dump --json carries lateness, at_landmark and landmarks", dump[:2000])
        reverse_step_out_of_handler(trace)
        watch_ticks_backwards(trace)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
