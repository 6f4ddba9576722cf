#!/usr/bin/env python3
"""rrvm run --serial-out FILE: the guest's output goes to FILE, not stdout.
usage: serial_out.py RRVM KERNEL  (exits with rrvm's status; prints rrvm's stdout)"""
import os
import subprocess
import sys
import tempfile

rrvm, kernel = sys.argv[1], sys.argv[2]
with tempfile.TemporaryDirectory() as d:
    out = os.path.join(d, "serial.out")
    p = subprocess.run([rrvm, "run", "--serial-in", "none", "--serial-out", out, kernel],
                       capture_output=True)
    sys.stdout.write(p.stdout.decode(errors="replace"))
    if open(out).read() != "long mode ok\n":
        print("FAIL: --serial-out file holds", repr(open(out).read()))
        sys.exit(1)
    sys.exit(p.returncode)
