#!/usr/bin/env python3
"""The guest must see rrvm's fixed CPUID table, or rrvm must say it does not.
usage: cpuid_check.py RRVM CPUID_KERNEL

Where `rrvm doctor` reports the table honoured, the cpuid test kernel must
pass all its checks (status 1).  Where the backend rewrites leaf 0x1 (kvm_pvm
does), the kernel must see it (a check fails: status != 1) and rrvm must name
the rewritten leaves when asked for info-level logs."""
import os
import re
import subprocess
import sys

rrvm, kernel = sys.argv[1], sys.argv[2]
doc = subprocess.run([rrvm, "doctor"], capture_output=True, text=True, timeout=60).stdout
m = re.search(r"^fixed CPUID table \(KVM_SET_CPUID2\) +(.*)$", doc, re.M)
if not m:
    print("FAIL: doctor has no CPUID row\n" + doc)
    sys.exit(1)
row = m.group(1)
env = dict(os.environ, RRVM_LOG="info")
run = subprocess.run([rrvm, "run", "--serial-in", "none", kernel], capture_output=True,
                     text=True, timeout=60, env=env)
failed = []
if row == "honoured":
    if run.returncode != 1:
        failed.append(f"table honoured but the guest check {run.returncode >> 1} failed")
else:
    leaves = re.match(r"rewritten by KVM in leaves (.*)$", row)
    if not leaves:
        failed.append(f"unexpected doctor answer {row!r}")
    else:
        if f"rewrote CPUID leaves {leaves.group(1)}" not in run.stderr:
            failed.append("rrvm run did not report the rewritten leaves: " + run.stderr)
        if "0x1" in leaves.group(1).split() and run.returncode == 1:
            failed.append("leaf 0x1 rewritten, yet the guest saw the fixed table")
if failed:
    print("FAIL: " + "; ".join(failed))
    sys.exit(1)
print(f"1 passed, 0 failed (CPUID table: {row}; guest status {run.returncode})")
