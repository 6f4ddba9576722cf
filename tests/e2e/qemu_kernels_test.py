#!/usr/bin/env python3
"""Test kernels made for QEMU, run unchanged (issue 17).

  qemu_kernels_test.py modules RRVM QEMUENV   fw_cfg and a multiboot module's
                                              environment text agree with
                                              --mem; run, record, replay
                                              exactly, replay with the module
                                              moved; another module, another
                                              count: status 26
  qemu_kernels_test.py qemu RRVM QEMUENV      the same kernel and module under
                                              qemu-system-x86_64 -kernel
                                              -initrd: the same output
  qemu_kernels_test.py lowreal RRVM LOWREAL   a kernel linked at 32 KiB that
                                              runs in real mode for a while:
                                              rrvm's boot area moves aside;
                                              run, record, replay exactly

Prints 'N passed, M failed'; exit 0 when all passed, 77 to skip without
/dev/kvm or QEMU (unless RRVM_REQUIRE_KVM=1)."""
import os
import re
import subprocess
import sys
import tempfile

from checks import check, summary
from kvmcheck import kvm_status, tool_status

MEM_MIB = 32  # not the default (64): the output must follow --mem


def run(cmd, timeout=120, cwd=None):
    return subprocess.run(cmd, capture_output=True, timeout=timeout, text=True,
                          stdin=subprocess.DEVNULL, cwd=cwd)


def qemuenv_lines(module_cmdline, mib):
    return [
        "qemuenv: CPU count and RAM size from fw_cfg and from a multiboot module",
        f'qemuenv: 1 module, the first "{module_cmdline}", {len(env_text(mib))} bytes',
        "PASS: the module is page-aligned",
        f"qemuenv: fw_cfg: 1 CPU, {mib} MiB of RAM",
        f"qemuenv: environment: NR_CPUS=1 MEMSIZE={mib}",
        "PASS: one CPU, both ways",
        "PASS: the same RAM size both ways",
        "PASS: RAM size within 1 MiB of the multiboot memory information",
        "SUMMARY: 4 tests, 0 failures",
    ]


def env_text(mib):
    # As hypervisor test suites write it for the guest: one NAME=value a line.
    return f"NR_CPUS=1\nMEMSIZE={mib}\n"


def lines(text):
    return text.replace("\r", "").splitlines()


def test_modules(rrvm, kernel, d):
    env = os.path.join(d, "env.txt")
    with open(env, "w") as f:
        f.write(env_text(MEM_MIB))
    spec = f"{env} unit=qemuenv"
    want = qemuenv_lines(spec, MEM_MIB)
    base = [rrvm, "run", "--serial-in", "none", "--mem", f"{MEM_MIB}M"]
    p = run(base + ["--initrd", spec, kernel])
    ok = check(p.returncode == 1, f"run exited {p.returncode}: {p.stderr.strip()}")
    ok &= check(lines(p.stdout) == want, f"run printed\n{p.stdout}\nnot\n" + "\n".join(want))
    # Without the module the kernel says so (status 5): the module is what it read.
    p = run(base + [kernel])
    ok &= check(p.returncode == 5 and "qemuenv: no multiboot module" in p.stdout,
                f"without --initrd: status {p.returncode}, {p.stdout!r}")
    trace = os.path.join(d, "env.trace")
    p = run([rrvm, "record", "--serial-in", "none", "--mem", f"{MEM_MIB}M", "-o", trace,
             "--initrd", spec, kernel])
    ok &= check(p.returncode == 1 and lines(p.stdout) == want,
                f"record exited {p.returncode}, printed\n{p.stdout}{p.stderr}")
    p = run([rrvm, "info", trace])
    ok &= check(re.search(rf'^module: +{re.escape(env)} \({len(env_text(MEM_MIB))} bytes, '
                          rf'xxh64 [0-9a-f]{{16}}\), command line "{re.escape(spec)}"$',
                          p.stdout, re.M) is not None, f"info lists no module:\n{p.stdout}")
    p = run([rrvm, "replay", trace])
    ok &= check(p.returncode == 0 and "replay matched" in p.stderr,
                f"replay exited {p.returncode}: {p.stderr.strip()}")
    ok &= check(lines(p.stdout) == want, f"replay printed\n{p.stdout}")
    # The module moved: replay finds it where --initrd says (the same
    # QEMU-style item works; only its path counts), the guest still sees
    # the recorded command line.
    moved = os.path.join(d, "moved.txt")
    os.rename(env, moved)
    p = run([rrvm, "replay", trace])
    ok &= check(p.returncode == 4 and p.stderr.startswith(f"rrvm: {env}: No such file"),
                f"replay with the module gone: {p.returncode} {p.stderr.strip()}")
    p = run([rrvm, "replay", "--initrd", f"{moved} whatever", trace])
    ok &= check(p.returncode == 0 and lines(p.stdout) == want,
                f"replay of the moved module exited {p.returncode}: {p.stderr.strip()}\n{p.stdout}")
    # Another module (other bytes), or another count: refused, status 26.
    other = os.path.join(d, "other.txt")
    with open(other, "w") as f:
        f.write(env_text(MEM_MIB * 2))
    p = run([rrvm, "replay", "--initrd", other, trace])
    ok &= check(p.returncode == 26 and "is not module 1 this trace recorded" in p.stderr,
                f"replay with another module: {p.returncode} {p.stderr.strip()}")
    p = run([rrvm, "replay", "--initrd", f"{moved},{other}", trace])
    ok &= check(p.returncode == 26 and "recorded 1 multiboot module, --initrd names 2" in p.stderr,
                f"replay with two modules: {p.returncode} {p.stderr.strip()}")
    # A trace without modules refuses one too.
    plain = os.path.join(d, "plain.trace")
    p = run([rrvm, "record", "--serial-in", "none", "-o", plain, kernel])
    ok &= check(p.returncode == 5, f"record without a module exited {p.returncode}")
    p = run([rrvm, "replay", "--initrd", moved, plain])
    ok &= check(p.returncode == 26 and "recorded 0 multiboot modules, not 1" in p.stderr,
                f"module for a trace without: {p.returncode} {p.stderr.strip()}")
    return ok


def test_qemu(rrvm, kernel, d):
    env = os.path.join(d, "env.txt")
    with open(env, "w") as f:
        f.write(env_text(MEM_MIB))
    # Relative paths: the module's command line (the whole -initrd item) is
    # printed, and must read the same under both.
    spec = "env.txt unit=qemuenv"
    p = run([rrvm, "run", "--serial-in", "none", "--mem", f"{MEM_MIB}M", "--initrd", spec,
             kernel], cwd=d)
    ok = check(p.returncode == 1, f"rrvm exited {p.returncode}: {p.stderr.strip()}")
    out = os.path.join(d, "qemu.out")
    q = run(["qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-cpu", "max",
             "-m", str(MEM_MIB), "-kernel", kernel, "-initrd", spec, "-display", "none",
             "-monitor", "none", "-no-reboot", "-serial", f"file:{out}",
             "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"], timeout=60, cwd=d)
    ok &= check(q.returncode == 1, f"qemu exited {q.returncode}: {q.stdout}{q.stderr}")
    with open(out, errors="replace") as f:
        qout = f.read()
    ok &= check(lines(qout) == qemuenv_lines(spec, MEM_MIB), f"qemu printed\n{qout}")
    ok &= check(lines(qout) == lines(p.stdout), f"rrvm printed\n{p.stdout}\nqemu\n{qout}")
    return ok


LOWREAL = [
    "lowreal: protected mode, linked at 0x8000",
    "lowreal: real mode, printing through port I/O",
    "lowreal: back in protected mode, real-mode segment read ok",
]


def test_lowreal(rrvm, kernel, d):
    env = dict(os.environ, RRVM_LOG="info")
    p = subprocess.run([rrvm, "run", "--serial-in", "none", kernel], capture_output=True,
                       text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
    emul = re.search(r"^rrvm: KVM cannot emulate .*in real mode$", p.stderr, re.M)
    if emul:
        # A host whose KVM cannot run this real-mode code must say so: then
        # that line is the outcome to check, and the rest cannot be.
        return check(p.returncode == 12 and lines(p.stdout) == LOWREAL[:1],
                     f"real mode refused, but: status {p.returncode}, {p.stdout!r}")
    ok = check(p.returncode == 1, f"run exited {p.returncode}: {p.stderr.strip()}")
    ok &= check(lines(p.stdout) == LOWREAL, f"run printed\n{p.stdout}")
    ok &= check(re.search(r"boot area .* at 0x10000-0x1ffff, beside the kernel", p.stderr)
                is not None, f"no moved boot area in\n{p.stderr}")
    trace = os.path.join(d, "low.trace")
    p = run([rrvm, "record", "--serial-in", "none", "-o", trace, kernel])
    ok &= check(p.returncode == 1 and lines(p.stdout) == LOWREAL,
                f"record exited {p.returncode}: {p.stderr.strip()}\n{p.stdout}")
    p = run([rrvm, "replay", trace])
    ok &= check(p.returncode == 0 and "replay matched" in p.stderr,
                f"replay exited {p.returncode}: {p.stderr.strip()}")
    ok &= check(lines(p.stdout) == LOWREAL, f"replay printed\n{p.stdout}")
    return ok


def main():
    mode, rrvm, kernel = sys.argv[1:4]
    st = kvm_status()
    if st is None and mode == "qemu":
        st = tool_status("qemu-system-x86_64")
    if st is not None:
        return st
    rrvm, kernel = os.path.abspath(rrvm), os.path.abspath(kernel)
    with tempfile.TemporaryDirectory() as d:
        {"modules": test_modules, "qemu": test_qemu, "lowreal": test_lowreal}[mode](
            rrvm, kernel, d)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
