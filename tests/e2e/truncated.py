#!/usr/bin/env python3
"""rrvm run on KERNEL cut at many lengths: each must fail with status 4 and
one line on stderr, never crash (status >= 128) or hang.
usage: truncated.py RRVM KERNEL"""
import os
import subprocess
import sys
import tempfile

rrvm, kernel = sys.argv[1], sys.argv[2]
data = open(kernel, "rb").read()
cuts = sorted(set(list(range(0, 80)) + list(range(80, len(data), max(1, len(data) // 40)))))
bad = 0
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "truncated.elf")
    for n in cuts:
        with open(path, "wb") as f:
            f.write(data[:n])
        p = subprocess.run([rrvm, "run", "--serial-in", "none", path],
                           capture_output=True, timeout=30)
        err = p.stderr.decode(errors="replace").splitlines()
        # A cut that keeps every loaded byte may still boot; a crash never.
        if p.returncode >= 128 or (p.returncode != 85 and (p.returncode != 4 or len(err) != 1)):
            print(f"cut at {n}: status {p.returncode}, stderr {err}")
            bad += 1
print(f"{len(cuts) - bad} passed, {bad} failed")
sys.exit(1 if bad else 0)
