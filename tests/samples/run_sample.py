#!/usr/bin/env python3
"""Boot a sample kernel under QEMU TCG or rrvm and check it against
samples/manifest.txt.

    run_sample.py --manifest M --checker C --kernel K --name N [--rrvm RRVM]
                  [--runs R] [--expect-vary] [--out-dir D] [--apic]

Each run: qemu-system-x86_64 -machine pc -accel tcg -kernel K -append <manifest
append>, COM1 to a file, isa-debug-exit at 0xf4, the manifest's timeout; or,
with --rrvm, `RRVM run --serial-out FILE K -- <append>` (with --apic:
`RRVM run --apic on ...`; QEMU's pc machine always has its APIC and IOAPIC).  The exit status and
output are checked by check_output.py.  With --expect-vary (and R >= 2) the
run-dependent values ('?' lines) must differ between every pair of runs.

Exit 0 pass, 1 fail, 77 skip (no qemu-system-x86_64, or no /dev/kvm for rrvm
unless RRVM_REQUIRE_KVM=1).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from kvmcheck import kvm_status, tool_status  # noqa: E402



def run_once(args, qemu, append, timeout, out_path):
    if args.rrvm:
        cmd = [args.rrvm, "run", "--serial-in", "none", "--serial-out", out_path,
               *(["--apic", "on"] if args.apic else []), args.kernel, "--", *append.split()]
    else:
            cmd = [qemu, "-machine", "pc", "-accel", "tcg", "-cpu", "max", "-m", "64",
               "-kernel", args.kernel, "-append", append,
               "-display", "none", "-monitor", "none", "-no-reboot",
               "-serial", f"file:{out_path}",
               "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"{args.name}: {cmd[0]} did not exit within {timeout:g} s: {' '.join(cmd)}")
        return None
    elapsed = time.monotonic() - start
    print(f"{args.name}: {os.path.basename(cmd[0])} exit status {proc.returncode} after {elapsed:.2f} s")
    if proc.stdout:
        sys.stdout.write(proc.stdout.decode(errors="replace"))
    return proc.returncode


def checker(args, *extra):
    return subprocess.run([sys.executable, args.checker, *extra],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--checker", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--expect-vary", action="store_true")
    ap.add_argument("--out-dir")
    ap.add_argument("--rrvm", help="run under this rrvm binary instead of QEMU")
    ap.add_argument("--apic", action="store_true", help="rrvm run --apic on")
    args = ap.parse_args()

    qemu = shutil.which("qemu-system-x86_64")
    if args.rrvm:
        if (status := kvm_status()) is not None:
            return status
    elif (status := tool_status("qemu-system-x86_64")) is not None:
        return status
    if not os.path.exists(args.kernel):
        print(f"{args.kernel} does not exist (build the 'samples' target)")
        return 1

    info = checker(args, "--info", args.manifest, args.name)
    if info.returncode != 0:
        print(info.stdout)
        return 1
    fields = dict(l.split(" ", 1) if " " in l else (l, "") for l in info.stdout.splitlines())
    append, timeout = fields.get("append", ""), float(fields.get("timeout", "10"))

    out_dir = args.out_dir or tempfile.mkdtemp(prefix=f"rrvm-sample-{args.name}-")
    os.makedirs(out_dir, exist_ok=True)
    values = []
    for i in range(args.runs):
        out_path = os.path.join(out_dir, f"{args.name}.{i}.serial")
        if os.path.exists(out_path):
            os.unlink(out_path)
        status = run_once(args, qemu, append, timeout, out_path)
        if status is None:
            return 1
        res = checker(args, args.manifest, args.name, str(status), out_path)
        sys.stdout.write(res.stdout)
        if res.returncode != 0:
            return 1
        vary = checker(args, "--varying", args.manifest, args.name, out_path)
        values.append(vary.stdout.split())

    if args.expect_vary:
        if args.runs < 2 or not values[0]:
            print(f"{args.name}: --expect-vary needs two runs and a '?' line")
            return 1
        for i in range(len(values)):
            for j in range(i + 1, len(values)):
                if values[i] == values[j]:
                    print(f"{args.name}: runs {i} and {j} gave the same run-dependent "
                          f"values {values[i]}")
                    return 1
        print(f"{args.name}: run-dependent values differ: {values}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
