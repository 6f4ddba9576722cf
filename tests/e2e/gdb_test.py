#!/usr/bin/env python3
"""The real gdb against `rrvm gdb --stdio` on a recording of the race sample.

  gdb_test.py RRVM RACE_ELF RACE_ELF64

1. break at list_insert and continue; stepi then reverse-stepi come back to
   the same rip; continue to the next hit and reverse-continue back to the
   first (same position, by `monitor when`).
2. the bug hunt: from the end of the recording, `watch -l` the link the
   panic names and reverse-continue: gdb stops in list_insert called from
   journal_append (the unlocked path), with the overwrite undone.
Prints 'N passed, M failed'; 77 skips without gdb or /dev/kvm.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from kvmcheck import kvm_status

rrvm, elf, elf64 = sys.argv[1:4]
passed = failed = 0


def check(cond, what, out=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)
        print(out[-3000:])


def gdb(trace, *cmds):
    args = ["gdb", "-batch", "-nx", "-ex", "set pagination off",
            "-ex", f"target remote | {rrvm} gdb --stdio {trace}"]
    for c in cmds:
        args += ["-ex", c]
    p = subprocess.run(args + [elf64], capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL)
    return p.stdout + p.stderr


def main():
    if not shutil.which("gdb"):
        print("SKIP: no gdb")
        return 77
    if (status := kvm_status()) is not None:
        return status
    with tempfile.TemporaryDirectory() as d:
        trace = os.path.join(d, "race.trace")
        rec = subprocess.run([rrvm, "record", "--serial-in", "none", "-o", trace, elf],
                             capture_output=True, text=True, timeout=120)
        out = gdb(trace, "break list_insert", "continue", "monitor when", "p/x $pc",
                  "stepi", "p/x $pc", "reverse-stepi", "p/x $pc", "continue", "monitor when",
                  "reverse-continue", "monitor when")
        check("Breakpoint 1, list_insert" in out, "break and continue to list_insert", out)
        pcs = re.findall(r"^\$\d+ = (0x[0-9a-f]+)$", out, re.M)
        check(len(pcs) == 3 and pcs[0] == pcs[2] and pcs[1] != pcs[0],
              f"stepi/reverse-stepi return to the same pc: {pcs}", out)
        whens = re.findall(r"^position (\d+:\d+)", out, re.M)
        check(len(whens) == 3 and whens[0] == whens[2] and whens[1] != whens[0],
              f"reverse-continue returns to the first hit: {whens}", out)
        m = re.search(r"overwritten link: journal_pool\[(\d+)\]\.next", rec.stdout)
        if not m:
            print("this recording did not panic with an overwritten link; hunt skipped")
        else:
            out = gdb(trace, "continue", f"watch -l journal_pool[{m.group(1)}].next",
                      "reverse-continue", "bt 3")
            check(re.search(r"Hardware watchpoint 1: -location journal_pool", out) and
                  re.search(r"^Old value = ", out, re.M), "the watchpoint triggered", out)
            check(re.search(r"#0 .* in list_insert .*\n#1 .* in journal_append ", out),
                  "reverse-continue stops in list_insert called from journal_append", out)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
