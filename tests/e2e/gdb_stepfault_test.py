#!/usr/bin/env python3
"""gdb's stepi over an instruction that faults, on a replay: the frame the
CPU pushes must hold the guest's own RFLAGS, not the TF that KVM sets for
the step (kernel: tests/e2e/kernels/stepfault.c, a DIV by zero at
fault_here under a #DE handler that keeps the pushed RFLAGS).

  gdb_stepfault_test.py RRVM STEPFAULT_ELF STEPFAULT_ELF64

The recording prints the flags its #DE frame had (TF clear).  In gdb:
break at fault_here, stepi (the DIV faults, the handler runs), break at
fault_done, continue: fault_flags, read there, equals the recording's, and
the replay then runs to the recording's end without diverging.
Prints 'N passed, M failed'; 77 skips without gdb or /dev/kvm.
"""
import os
import re
import sys
import tempfile

from gdb_util import check, gdb_batch, skip_status, summary
from recording import record

rrvm, elf, elf64 = sys.argv[1:4]


def main():
    st = skip_status()
    if st is not None:
        return st
    with tempfile.TemporaryDirectory() as d:
        trace = os.path.join(d, "stepfault.trace")
        rec = record(rrvm, elf, trace)
        m = re.search(r"RFLAGS (0x[0-9a-f]+), TF clear", rec.stdout)
        if not check(rec.returncode == 1 and m, f"recording: {rec.returncode} {rec.stdout}"):
            return summary()
        want = int(m.group(1), 16)
        out = gdb_batch(rrvm, trace, elf64, "break fault_here", "continue", "p/x $pc",
                        "stepi", "p/x $pc", "delete", "break fault_done", "continue",
                        "p/x fault_flags", "delete", "continue")
        vals = [int(v, 16) for v in re.findall(r"^\$\d+ = (0x[0-9a-f]+)$", out, re.M)]
        check(len(vals) == 3 and vals[0] != vals[1], f"stepi left fault_here: {vals}", out)
        check(len(vals) == 3 and vals[2] == want and not vals[2] & 0x100,
              f"the #DE frame's RFLAGS after a stepi over the DIV: "
              f"{hex(vals[2]) if len(vals) == 3 else '?'}, recorded {want:#x}", out)
        check("diverged" not in out and re.search(r"No more reverse-execution history|"
                                                  r"exited normally", out),
              "the replay runs to the recording's end without diverging", out)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
