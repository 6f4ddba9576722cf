#!/usr/bin/env python3
"""End-to-end tests on a real Linux: the tiny 6.1 that samples/linux/build.sh
builds from Debian's linux-source-6.1 and busybox-static (cached outside
the clone; a missing build tool or a failed build is a failure under
RRVM_REQUIRE_KVM=1, never a skip).

  linux_test.py run ROOT RRVM KIND  `rrvm run` boots KIND (vmlinux: PVH,
                                     bzImage: 64-bit protocol) to /init's
                                     marker and the i8042 reset (status 34)
  linux_test.py apic ROOT RRVM      `rrvm run --apic on` of the bzImage
                                     without nolapic: IOAPIC through the MP
                                     table, the local APIC timer ticking
  linux_test.py rr ROOT RRVM TRACE [--other-initrd]
                                     records TRACE (kept, for a look by
                                     hand) and replays it: it ends in the reset and
                                     its replay matches (final state hash),
                                     printing the same; --other-initrd: a
                                     replay with another initrd is refused

Prints 'N passed, M failed'; exit 0 when all passed, 77 to skip without
/dev/kvm (unless RRVM_REQUIRE_KVM=1).
"""
import os
import re
import subprocess
import sys
import tempfile

from checks import check, summary
from kvmcheck import kvm_status

# nolapic: kvm_pvm puts the host's APIC bit back into CPUID leaf 1 (HOST.md);
# lpj: the PIT calibration cannot pass Linux's sanity checks at kvm_pvm's
# exit cost (README "Linux guests"), and without it calibrate_delay spins
# on jiffies in ring 0 with no exit to deliver the tick at; clearcpuid:
# kvm_pvm also puts RDRAND/RDSEED back, which no trace can replay.
CMDLINE = ["console=ttyS0", "nolapic", "lpj=10000", "clearcpuid=rdrand,rdseed"]
MARKER = b"RRVM-LINUX-OK"
RESET = 34
BOOT_TIMEOUT = 600


def build(root):
    """The cached build's folder, or None after saying why."""
    p = subprocess.run(["sh", os.path.join(root, "samples/linux/build.sh")],
                       capture_output=True, text=True, timeout=3600)
    if p.returncode != 0:
        print("FAIL: samples/linux/build.sh:", p.stderr.strip().splitlines()[-3:])
        return None
    return p.stdout.strip().splitlines()[-1]


def boot(rrvm, cmd, kernel, initrd, *extra, cmdline=CMDLINE):
    return subprocess.run([rrvm, cmd, "--serial-in", "none", *extra, "--initrd", initrd,
                           kernel, "--", *cmdline],
                          capture_output=True, timeout=BOOT_TIMEOUT, stdin=subprocess.DEVNULL)


def booted(p, what):
    """The kernel ran /init, /init's output reached the serial port (its
    MARKER after reading /proc and running commands), and its last command,
    `reboot -f` (a fork, an execve and the reboot system call, all through
    the SYSCALL completion), reset the machine through the i8042."""
    out = p.stdout
    check(p.returncode == RESET, f"{what}: status {p.returncode}, not {RESET}: "
          f"{p.stderr.decode(errors='replace').strip()[-300:]}")
    check(b"Run /init as init process" in out, f"{what}: the kernel never ran /init")
    check(b"reboot: Restarting system" in out, f"{what}: /init's reboot -f never ran")
    check(b"rrvm: guest reset the machine" in p.stderr, f"{what}: no reset line on stderr")
    check(MARKER in out, f"{what}: /init's marker never reached the serial port")


def t_run(rrvm, d, kind):
    booted(boot(rrvm, "run", os.path.join(d, kind), os.path.join(d, "initramfs.cpio")),
           f"run {kind}")


def t_apic(rrvm, d):
    """Linux with its local APIC (`--apic on`, no `nolapic`): it finds the
    IOAPIC through rrvm's MP table, routes the PIT through pin 2 and then
    ticks with the local APIC timer, which /init's /proc/interrupts shows
    (LOC: about 100 Hz for the tens of seconds of the boot)."""
    cmdline = [a for a in CMDLINE if a != "nolapic"]
    p = boot(rrvm, "run", os.path.join(d, "bzImage"), os.path.join(d, "initramfs.cpio"),
             "--apic", "on", cmdline=cmdline)
    booted(p, "run --apic on")
    out = p.stdout.decode(errors="replace")
    check("Switch to symmetric I/O mode" in out, "no switch to the IOAPIC")
    check(re.search(r"^\s*0:\s+\d+\s+IO-APIC\s+2-edge\s+timer", out, re.M) is not None,
          "IRQ 0 is not on IOAPIC pin 2")
    loc = re.search(r"^\s*LOC:\s+(\d+)", out, re.M)
    check(loc is not None and int(loc.group(1)) >= 100,
          f"local APIC timer interrupts: {loc.group(1) if loc else 'none'}")


def t_rr(rrvm, d, trace, other_initrd):
    kernel, initrd = os.path.join(d, "vmlinux"), os.path.join(d, "initramfs.cpio")
    if os.path.exists(trace):
        os.unlink(trace)
    rec = boot(rrvm, "record", kernel, initrd, "-o", trace)
    booted(rec, "recording")
    p = subprocess.run([rrvm, "replay", trace], capture_output=True, timeout=BOOT_TIMEOUT)
    err = p.stderr.decode(errors="replace")
    report = [ln for ln in err.splitlines() if ln.startswith("rrvm:")]
    check(p.returncode == 0 and "rrvm: replay matched:" in err,
          f"replay: status {p.returncode}:\n" + "\n".join(report[-40:]))
    check(p.stdout == rec.stdout, "the replay printed other serial output")
    if not other_initrd:
        return
    with tempfile.TemporaryDirectory() as tmp:
        other = os.path.join(tmp, "other.cpio")
        with open(initrd, "rb") as f, open(other, "wb") as g:
            g.write(f.read() + b"\0" * 512)
        p = subprocess.run([rrvm, "replay", "--initrd", other, trace],
                           capture_output=True, timeout=60)
    check(p.returncode == 26 and b"is not the initrd this trace recorded" in p.stderr,
          f"replay with another initrd: status {p.returncode}: {p.stderr.decode()}")


def main():
    mode, root, rrvm = sys.argv[1], sys.argv[2], sys.argv[3]
    st = kvm_status()
    if st is not None:
        return st
    d = build(root)
    if d is None:
        return 1
    if mode == "run":
        t_run(rrvm, d, sys.argv[4])
    elif mode == "apic":
        t_apic(rrvm, d)
    else:
        t_rr(rrvm, d, sys.argv[4], "--other-initrd" in sys.argv[5:])
    return summary()


if __name__ == "__main__":
    sys.exit(main())
