#!/usr/bin/env python3
"""--apic on|off end to end: the trace header names the interrupt controller
(`rrvm info`), the default is off and changes nothing for an existing guest
(same initial image and CPUID as --apic off), and time travel across an APIC
recording restores the local APIC and IOAPIC from checkpoints without a
divergence (every APIC read is cross-checked against the trace).
usage: apic_test.py RRVM APIC_KERNEL PIC_KERNEL"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from checks import check, summary  # noqa: E402
from kvmcheck import kvm_status  # noqa: E402



def run(*cmd, stdin=None):
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=180,
                          input=stdin)


def info_field(rrvm, trace, field):
    p = run(rrvm, "info", trace)
    m = re.search(rf"^{field}:\s+(.*)$", p.stdout, re.M)
    return m.group(1) if m else None


def main():
    if (status := kvm_status()) is not None:
        return status
    rrvm, apic_kernel, pic_kernel = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as d:
        on, off, dflt = (os.path.join(d, n + ".trace") for n in ("on", "off", "default"))
        rec = run(rrvm, "record", "--serial-in", "none", "--apic", "on", "-o", on, apic_kernel)
        check(rec.returncode == 1, f"apic recording exited {rec.returncode}: {rec.stderr}")
        irq = info_field(rrvm, on, "interrupts") or ""
        check(irq.startswith("apic (local APIC at 0xfee00000, IOAPIC at 0xfec00000"),
              f"info names the APIC: {irq!r}")
        for path, extra in ((off, ["--apic", "off"]), (dflt, [])):
            p = run(rrvm, "record", "--serial-in", "none", *extra, "-o", path, pic_kernel)
            check(p.returncode == 1, f"pic recording {extra} exited {p.returncode}: {p.stderr}")
        check((info_field(rrvm, dflt, "interrupts") or "").startswith("pic"),
              "the default is the 8259 pair")
        for field in ("guest memory", "cpuid"):
            check(info_field(rrvm, off, field) == info_field(rrvm, dflt, field),
                  f"--apic off and the default agree on {field}")
        # Backwards and forwards through checkpoints of the APIC recording.
        script = "goto 4000\ngoto 1000\nrstep 3\ngoto 3000\nstep 5\ngoto end\nwhen\n"
        con = run(rrvm, "console", "-q", "-x", "-", on, stdin=script)
        check(con.returncode == 0, f"console exited {con.returncode}: {con.stderr}")
        check("diverge" not in con.stdout + con.stderr, f"no divergence: {con.stderr}")
        m = re.findall(r"^position (\d+):0 \(sync point (\d+) of (\d+)\)$", con.stdout, re.M)
        check(m and m[-1][0] == m[-1][2], f"reached the end: {con.stdout[-300:]}")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
