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
  linux_test.py gdb ROOT RRVM TRACE the real gdb on TRACE (a recording
                                     linux.rr.1 made): break, bt, stepi and
                                     reverse-stepi, x/10i, a system call's
                                     user registers, watch jiffies and
                                     reverse-continue, monitor when
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
from gdb_util import gdb_batch
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


def values(out):
    """gdb's $N = 0x... values, by N."""
    return {int(n): int(v, 16) for n, v in re.findall(r"^\$(\d+) = (0x[0-9a-f]+)$", out, re.M)}


def t_gdb(rrvm, d, trace):
    """A kernel developer's session on a recorded boot, with the symbols and
    DWARF of the vmlinux that was recorded."""
    # Linux runs its ring 0 at kvm_pvm's emulated pace: one packet (a
    # continue across the boot) can take a minute.
    out = gdb_batch(rrvm, trace, os.path.join(d, "vmlinux"),
              "break start_kernel", "continue", "bt", "p/x $pc", "stepi", "p/x $pc",
              "reverse-stepi", "p/x $pc", "x/10i $pc", "info registers cs", "monitor when",
              "delete", "break do_sys_openat2", "continue", "p/x $pc", "stepi", "reverse-stepi",
              "p/x $pc", "info registers cs", "frame function do_syscall_64", "p/x regs->cs",
              "delete", "watch jiffies", "reverse-continue", "bt 4", "monitor when",
              "reverse-continue", "monitor when", timeout=1200, remotetimeout=600)
    # start_kernel, reached from the PVH entry through startup_64.
    check(re.search(r"^Breakpoint 1, start_kernel \(\) at init/main\.c:\d+", out, re.M),
          "no stop at start_kernel", out)
    check(re.search(r"^#1 .* in secondary_startup_64 \(\) at arch/x86/kernel/head_64\.S", out, re.M),
          "bt does not go through secondary_startup_64", out)
    v = values(out)
    check(len(v) >= 3 and v.get(2, 0) > v.get(1, 0) and v.get(3) == v.get(1),
          f"stepi then reverse-stepi at start_kernel: pcs {v}", out)
    insns = re.findall(r"^(?:=>)?\s+0x[0-9a-f]+ <start_kernel(?:\+\d+)?>:\t\S", out, re.M)
    check(len(insns) == 10, f"x/10i at start_kernel: {len(insns)} instructions", out)
    check(re.search(r"^cs +0x10 +16$", out, re.M), "info registers: cs is not the kernel's 0x10",
          out)
    check(re.search(r"^position \d+:\d+ \(sync point \d+ of \d+\)$", out, re.M),
          "monitor when at start_kernel gives no exact position", out)
    # /init's first open, through SYSCALL from ring 3 (rrvm completes it).
    check(re.search(r'^Breakpoint 2, do_sys_openat2 \(dfd=-100, filename=0x[0-9a-f]+ "/init"',
                    out, re.M), "no stop at do_sys_openat2 opening /init", out)
    check(v.get(4) is not None and v.get(5) == v.get(4),
          f"stepi then reverse-stepi at do_sys_openat2: pcs {v}", out)
    check(v.get(6) == 0x33, "the system call's saved cs (regs->cs) is not user mode's 0x33", out)
    # Who last changed jiffies: the timer interrupt, tick after tick.
    ticks = re.findall(r"^Old value = (\d+)\nNew value = (\d+)\ndo_timer \(", out, re.M)
    check(len(ticks) == 2 and all(int(o) == int(n) + 1 for o, n in ticks),
          f"watch jiffies + reverse-continue: {ticks}", out)
    check(re.search(r"^#1 .* in tick_periodic \(", out, re.M), "bt from do_timer", out)
    when = [int(s) for s in re.findall(r"^position (\d+):\d+ \(sync", out, re.M)]
    check(len(when) == 3 and when[1] > when[2],
          f"monitor when after each reverse-continue goes back: {when}", out)


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
    elif mode == "gdb":
        t_gdb(rrvm, d, sys.argv[4])
    else:
        t_rr(rrvm, d, sys.argv[4], "--other-initrd" in sys.argv[5:])
    return summary()


if __name__ == "__main__":
    sys.exit(main())
