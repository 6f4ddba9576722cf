#!/usr/bin/env python3
"""CPUID in guest ring 3 (vmm/hostcpu.h).  On a host whose KVM runs the
guest's ring-3 CPUID on the host CPU itself (kvm_pvm, `rrvm doctor` says
so), the guest's user space sees the APIC ID of the CPU the vCPU thread is
on: a recording pins its thread to one CPU and keeps that CPU's CPUID hash,
and a replay runs on a CPU with the same hash or refuses (status 26).  The
test records cpuidring3 once on each allowed CPU (taskset), checks that the
guest saw different APIC IDs on different CPUs, that each trace replays
exactly with any affinity that includes its CPU, and that a replay allowed
only another CPU refuses.  Where ring 3 reads rrvm's table instead, the
trace must not be pinned and both rings must see the same answer.

  cpuid_ring3_test.py RRVM KERNEL

Exit 0 when all passed, 77 to skip without /dev/kvm (unless
RRVM_REQUIRE_KVM=1)."""
import os
import re
import subprocess
import sys
import tempfile

from checks import check, summary
from kvmcheck import kvm_status


def run(cmd, cpus=None, timeout=120):
    if cpus is not None:
        cmd = ["taskset", "-c", ",".join(map(str, cpus))] + cmd
    return subprocess.run(cmd, capture_output=True, timeout=timeout, text=True,
                          stdin=subprocess.DEVNULL)


def apic_ids(out):
    """(ring 0's, ring 3's) APIC ID in the guest's output."""
    r0 = re.search(r"ring 0: apic id (\d+)", out)
    r3 = re.search(r"ring 3: apic id (\d+)", out)
    return (r0 and int(r0.group(1)), r3 and int(r3.group(1)))


def main():
    rrvm, kernel = sys.argv[1], sys.argv[2]
    st = kvm_status()
    if st is not None:
        return st
    doctor = run([rrvm, "doctor"]).stdout
    host = re.search(r"CPUID in ring 3\s+answered by the host CPU", doctor) is not None
    cpus = sorted(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        if not host:
            t = os.path.join(tmp, "t")
            rec = run([rrvm, "record", "-o", t, kernel])
            check(rec.returncode == 1 and "PASS" in rec.stdout, f"record: {rec.stderr}")
            r0, r3 = apic_ids(rec.stdout)
            check(r0 is not None and r0 == r3, f"rings saw APIC IDs {r0} and {r3}")
            info = run([rrvm, "info", t]).stdout
            check("ring-3 CPUID from the host CPU" not in info, "a trace pinned for no reason")
            return summary()
        if not check(len(cpus) >= 2, f"needs two CPUs to move between, has {cpus}"):
            return summary()
        outs = {}
        for c in cpus[:2]:
            t = os.path.join(tmp, f"cpu{c}")
            rec = run([rrvm, "record", "-o", t, kernel], cpus=[c])
            check(rec.returncode == 1 and "PASS: ring 3 got one answer" in rec.stdout,
                  f"record on CPU {c}: status {rec.returncode}: {rec.stdout}{rec.stderr}")
            outs[c] = rec.stdout
            info = run([rrvm, "info", t]).stdout
            check("ring-3 CPUID from the host CPU (pinned" in info, f"info of CPU {c}'s trace",
                  info)
            rep = run([rrvm, "replay", t], cpus=cpus)
            check(rep.returncode == 0 and "replay matched" in rep.stderr,
                  f"replay of CPU {c}'s trace: status {rep.returncode}: {rep.stderr}")
            check(rep.stdout == rec.stdout, f"replay of CPU {c}'s trace printed other output")
            other = [d for d in cpus[:2] if d != c]
            rep = run([rrvm, "replay", t], cpus=other)
            check(rep.returncode == 26 and "no CPU of this host answers CPUID as the "
                  "recording's did" in rep.stderr and rep.stderr.count("\n") == 1,
                  f"replay of CPU {c}'s trace on CPU {other}: status {rep.returncode}: "
                  f"{rep.stderr}")
        ids = [apic_ids(o)[1] for o in outs.values()]
        check(None not in ids and ids[0] != ids[1],
              f"ring 3 saw APIC IDs {ids} on two CPUs: the host does not show its CPU")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
