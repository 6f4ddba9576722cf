#!/usr/bin/env python3
"""Linux boot benchmark: the tiny 6.1 of samples/linux booted to /init's
marker and `reboot -f`, one run of each, ratios measured in that run.

  bench/linux_bench.py [BUILD_DIR]     (default: build; use an optimized one)

rrvm: wall time of `run`, `record`, `replay`, record/run and replay/record,
trace bytes, events by kind and interrupt lateness (from `rrvm info`).  QEMU 7.2 TCG on the same
kernel and initramfs: plain, `-icount shift=auto,rr=record` and `rr=replay`,
record/plain and the size of its replay log, next to rrvm's.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "build")
rrvm = os.path.join(build, "rrvm")
CMDLINE = "console=ttyS0 nolapic lpj=10000 clearcpuid=rdrand,rdseed"


def timed(cmd):
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True)
    return time.monotonic() - t0, p


def main():
    d = subprocess.run(["sh", os.path.join(here, "..", "samples/linux/build.sh")],
                       capture_output=True, text=True, check=True).stdout.strip()
    k, rd = os.path.join(d, "vmlinux"), os.path.join(d, "initramfs.cpio")
    cache = open(os.path.join(build, "CMakeCache.txt")).read()
    btype = re.search(r"CMAKE_BUILD_TYPE:STRING=(\S*)", cache)
    print(f"# Linux boot benchmark, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, build type "
          f"{btype.group(1) if btype else '?'}, kernel {d}")
    with tempfile.TemporaryDirectory() as t:
        trace = os.path.join(t, "boot.trace")
        base = ["--serial-in", "none", "--initrd", rd]
        t_run, p = timed([rrvm, "run", *base, k, "--", *CMDLINE.split()])
        t_rec, p2 = timed([rrvm, "record", "-o", trace, *base, k, "--", *CMDLINE.split()])
        t_rpl, p3 = timed([rrvm, "replay", "-q", trace])
        ok = all(b"RRVM-LINUX-OK" in x.stdout for x in (p, p2)) and p3.returncode == 0
        info = subprocess.run([rrvm, "info", trace], capture_output=True, text=True).stdout
        events = re.search(r"events: +(.*)", info)
        print(f"rrvm   run {t_run:6.1f} s  record {t_rec:6.1f} s  replay {t_rpl:6.1f} s  "
              f"record/run {t_rec / t_run:.2f}  replay/record {t_rpl / t_rec:.2f}  "
              f"trace {os.path.getsize(trace)} B  {'boots and matches' if ok else 'FAILED'}")
        print(f"rrvm   events {events.group(1) if events else '?'}")
        late = re.search(r"^interrupts: +(.*)", info, re.M)
        print(f"rrvm   interrupts {late.group(1) if late else '?'}")
        q = ["qemu-system-x86_64", "-M", "pc", "-m", "64", "-display", "none", "-serial",
             "stdio", "-no-reboot", "-kernel", k, "-initrd", rd, "-append", CMDLINE]
        log = os.path.join(t, "qemu.rr")
        t_q, _ = timed(q)
        t_qr, _ = timed(q + ["-icount", f"shift=auto,rr=record,rrfile={log}"])
        size = os.path.getsize(log) if os.path.exists(log) else 0
        t_qp, _ = timed(q + ["-icount", f"shift=auto,rr=replay,rrfile={log}"])
        print(f"qemu   plain {t_q:6.1f} s  rr=record {t_qr:6.1f} s  rr=replay {t_qp:6.1f} s  "
              f"record/plain {t_qr / t_q:.2f}  log {size} B")


if __name__ == "__main__":
    main()
