#!/usr/bin/env python3
"""RDTSC in ring 3 (issue 13): a kernel that reads the TSC through one
function from ring 0 and from a ring-3 task behaves under `rrvm record` as
under `rrvm run` (no #GP), every one of its reads is in the trace, and the
recording replays exactly, N times in a row (record and replay each time).

  tsc_ring3_test.py repeat  RRVM KERNEL N
  tsc_ring3_test.py console RRVM KERNEL    breakpoints in the guest's own #GP
                                           path hit once, though every ring-3
                                           RDTSC passes the #GP vector
  tsc_ring3_test.py unpatched RRVM KERNEL  a #GP handler the trap cannot use
                                           (tscring3h): the sites ring 3 runs
                                           are left as they are, the guest
                                           runs as natively, record says so

Prints 'N passed, M failed'; exit 0 when all passed, 77 to skip without
/dev/kvm (unless RRVM_REQUIRE_KVM=1)."""
import json
import os
import re
import subprocess
import sys
import tempfile

from checks import check, summary
from kvmcheck import kvm_status



def run(cmd, timeout=120, **kw):
    if "input" not in kw:
        kw["stdin"] = subprocess.DEVNULL
    return subprocess.run(cmd, capture_output=True, timeout=timeout, text=True, **kw)


def guest_ok(p, what):
    """The guest's verdict: its PASS lines, no exception, status 1."""
    out = p.stdout
    return (check(p.returncode == 1, f"{what} exited {p.returncode}: {p.stderr.strip()}")
            and check("EXCEPTION" not in out and "FAIL" not in out,
                      f"{what}: the guest saw a fault or failed a check:\n{out}")
            and check(re.search(r"^SUMMARY: \d+ tests, 0 failures$", out, re.M) is not None,
                      f"{what}: no clean summary:\n{out}"))


def reads_printed(out):
    m = re.search(r"^PASS: (\d+) TSC reads from both rings", out, re.M)
    return int(m.group(1)) if m else -1


def t_repeat(rrvm, kernel, n, d):
    trace = os.path.join(d, "t.trace")
    if not guest_ok(run([rrvm, "run", "--serial-in", "none", kernel]), "run"):
        return
    for i in range(int(n)):
        rec = run([rrvm, "record", "--serial-in", "none", "-o", trace, kernel])
        if not guest_ok(rec, f"recording {i}"):
            return
        check("warning" not in rec.stderr, f"recording {i} warned: {rec.stderr.strip()}")
        dump = run([rrvm, "dump", "--json", trace])
        tsc = [e for e in map(json.loads, dump.stdout.splitlines()) if e["kind"] == "tsc_read"]
        # Every read the guest made, from either ring, came from the trace.
        check(len(tsc) == reads_printed(rec.stdout),
              f"recording {i}: {len(tsc)} TSC reads logged, the guest made "
              f"{reads_printed(rec.stdout)}")
        rpl = run([rrvm, "replay", trace])
        check(rpl.returncode == 0, f"replay {i} exited {rpl.returncode}: {rpl.stderr.strip()}")
        check(rpl.stdout == rec.stdout, f"replay {i} printed different serial output")
        last = rpl.stderr.strip().splitlines()[-1:] or [""]
        check(re.match(r"rrvm: replay matched: .* state hash [0-9a-f]{16}(;|$)", last[0]) is not None,
              f"replay {i}: {last[0]}")


def t_console(rrvm, kernel, d):
    trace = os.path.join(d, "t.trace")
    rec = run([rrvm, "record", "--serial-in", "none", "-o", trace, kernel])
    if not guest_ok(rec, "recording"):
        return
    script = ("break on_gp\ncontinue\nstep\nrstep\ncontinue\nrcontinue\n"
              "x isr13 1\n")
    p = run([rrvm, "console", trace], input=script)
    out = p.stdout
    check(p.returncode == 0, f"console exited {p.returncode}: {p.stderr.strip()}")
    hits = re.findall(r"^breakpoint 1, 0x[0-9a-f]+ <on_gp>, position (\d+:\d+)$", out, re.M)
    # One hit forward, one backward from the end, at the same place: the
    # ring-3 RDTSCs, though they pass the #GP vector, never reach the
    # guest's handler.
    check(len(hits) == 2 and hits[0] == hits[1], f"on_gp hits: {hits}\n{out}")
    check(re.search(r"^end of the trace", out, re.M) is not None,
          f"the second continue did not reach the end:\n{out}")
    steps = re.findall(r"^position (\d+:\d+)$", out, re.M)
    check(len(steps) == 2 and hits and steps[1] == hits[0],
          f"step then rstep did not come back to the hit: {steps}")
    # Memory reads never show the trap's HLT (0xf4) at the handler.
    m = re.search(r"^0x0*([0-9a-f]+): ([0-9a-f]{2})$", out, re.M)
    check(m is not None and m.group(2) != "f4", f"isr13's first byte: {m and m.group(2)}\n{out}")


def t_unpatched(rrvm, kernel, d):
    trace = os.path.join(d, "t.trace")
    if not guest_ok(run([rrvm, "run", "--serial-in", "none", kernel]), "run"):
        return
    rec = run([rrvm, "record", "--serial-in", "none", "-o", trace, kernel])
    if not guest_ok(rec, "recording"):
        return
    warn = [l for l in rec.stderr.splitlines() if "left unpatched" in l]
    check(len(warn) == 1 and "not deterministic" in warn[0] and "starts with HLT" in warn[0],
          f"record's warning: {rec.stderr.strip()}")
    dump = run([rrvm, "dump", "--json", trace])
    tsc = [e for e in map(json.loads, dump.stdout.splitlines()) if e["kind"] == "tsc_read"]
    check(len(tsc) == 0 and reads_printed(rec.stdout) > 0,
          f"{len(tsc)} TSC reads in the trace of a kernel whose only site was left native")
    rpl = run([rrvm, "replay", "-q", trace])
    # Native reads differ from run to run: replay may diverge, and says so.
    check(rpl.returncode in (0, 24), f"replay exited {rpl.returncode}: {rpl.stderr.strip()}")
    check("left unpatched" not in rpl.stderr, "replay repeated record's warning")


def main():
    if (status := kvm_status()) is not None:
        return status
    tests = {"repeat": t_repeat, "console": t_console, "unpatched": t_unpatched}
    with tempfile.TemporaryDirectory() as d:
        tests[sys.argv[1]](*sys.argv[2:], d)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
