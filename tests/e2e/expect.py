#!/usr/bin/env python3
"""Runs one command and checks what a user would see: the exit status, the
standard output, and that a failure says exactly one line on stderr.

  expect.py [--status N] [--stdout-re RE]... [--stderr-re RE] [--stdin FILE]
            [--timeout S] [--kvm] -- COMMAND...

--kvm: the command needs /dev/kvm; without it the test is skipped (77),
unless RRVM_REQUIRE_KVM=1, when a missing /dev/kvm fails the test.
"""
import argparse
import os
import re
import subprocess
import sys

from kvmcheck import kvm_status


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--status", type=int)
    ap.add_argument("--stdout-re", action="append", default=[])
    ap.add_argument("--stdout-not-re", action="append", default=[])
    ap.add_argument("--stderr-re")
    ap.add_argument("--stdin", default=os.devnull)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--kvm", action="store_true")
    ap.add_argument("cmd", nargs="+")
    a = ap.parse_args()

    if a.kvm and (status := kvm_status()) is not None:
        return status

    with open(a.stdin, "rb") as stdin:
        try:
            p = subprocess.run(a.cmd, stdin=stdin, capture_output=True, timeout=a.timeout)
        except subprocess.TimeoutExpired:
            print(f"FAIL: {a.cmd} did not finish within {a.timeout} s")
            return 1
    out = p.stdout.decode(errors="replace")
    err = p.stderr.decode(errors="replace")
    failures = []
    if a.status is not None and p.returncode != a.status:
        failures.append(f"exit status {p.returncode}, expected {a.status}")
    for rx in a.stdout_re:
        if not re.search(rx, out, re.M):
            failures.append(f"stdout lacks /{rx}/")
    for rx in a.stdout_not_re:
        if re.search(rx, out, re.M):
            failures.append(f"stdout has /{rx}/")
    if a.stderr_re is not None:
        lines = err.splitlines()
        if len(lines) != 1:
            failures.append(f"stderr has {len(lines)} lines, expected exactly one")
        if not re.search(a.stderr_re, err):
            failures.append(f"stderr lacks /{a.stderr_re}/")
    if failures:
        print("FAIL: " + "; ".join(failures))
        print("--- command:", " ".join(a.cmd))
        print("--- stdout:\n" + out + "--- stderr:\n" + err, end="")
        return 1
    print("PASS:", " ".join(a.cmd))
    return 0


if __name__ == "__main__":
    sys.exit(main())
