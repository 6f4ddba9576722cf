#!/usr/bin/env python3
"""End-to-end checks of `rrvm record` and `rrvm replay` on real kernels.

  rr_test.py repeat   RRVM KERNEL N [OPT...] record once (with record options
                                             OPT), replay N times: every
                                             replay matches, byte for byte
  rr_test.py vary     RRVM CHECKER MANIFEST NAME KERNEL
                                             two recordings differ in their
                                             run-dependent lines; each replays
  rr_test.py vary-raw RRVM KERNEL          two recordings print differently;
                                             each replays its own output
  rr_test.py diverge  RRVM TRACE_EDIT KERNEL an edited input is caught at its
                                             own sync point
  rr_test.py regdiff  RRVM TRACE_EDIT KERNEL an edited TSC value is caught at the
                                             next register checkpoint, with a
                                             per-register diff
  rr_test.py diverge_landmark RRVM TRACE_EDIT KERNEL
                                             a landmark no place matches is
                                             reported with the closest hit
  rr_test.py late     RRVM KERNEL            ring-3 loops without exits: interrupts
                                             wait, and record says so once
  rr_test.py sigkill  RRVM KERNEL            a recording killed with SIGKILL
                                             replays up to its last chunk
  rr_test.py sigint   RRVM KERNEL            Ctrl-C ends a recording cleanly
  rr_test.py mismatch RRVM KERNEL OTHER      replay with another kernel is refused
  rr_test.py cpuid    RRVM TRACE_EDIT KERNEL replay of a trace from another CPU is refused
  rr_test.py serial   RRVM KERNEL INPUT      serial input is recorded and replayed
                                             without the input file
  rr_test.py serial-chaos RRVM KERNEL INPUT  with --chaos the same input arrives a
                                             byte at a time, and replays

Prints 'N passed, M failed'; exit 0 when all passed, 77 to skip without
/dev/kvm (unless RRVM_REQUIRE_KVM=1).
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from checks import check, summary
from kvmcheck import kvm_status



def run(cmd, timeout=120, **kw):
    return subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          **kw)


def record(rrvm, trace, kernel, *extra):
    """Records KERNEL to its end: a guest exit status (odd, isa-debug-exit)
    is the only good outcome; rrvm's own statuses are even."""
    p = run([rrvm, "record", "--serial-in", "none", "-o", trace, *extra, kernel])
    check(p.returncode % 2 == 1, f"recording {kernel} exited {p.returncode}: "
          f"{p.stderr.decode(errors='replace')}")
    return p


def replay(rrvm, trace, *extra):
    return run([rrvm, "replay", *extra, trace])


def matched_line(p):
    lines = p.stderr.decode(errors="replace").splitlines()
    return lines[-1] if lines else ""


def t_repeat(rrvm, kernel, n, *rest):
    """rest: options for `record` (they must reach replay through the
    trace alone), then the work directory."""
    *extra, d = rest
    trace = os.path.join(d, "t.trace")
    rec = record(rrvm, trace, kernel, *extra)
    if not check(rec.returncode % 2 == 1, f"recording exited {rec.returncode}: {rec.stderr}"):
        return
    verdicts = set()
    for i in range(int(n)):
        p = replay(rrvm, trace)
        check(p.returncode == 0, f"replay {i} exited {p.returncode}: {p.stderr.decode()}")
        check(p.stdout == rec.stdout, f"replay {i} printed different serial output")
        verdicts.add(matched_line(p))
    check(len(verdicts) == 1 and next(iter(verdicts)).startswith("rrvm: replay matched:"),
          f"replay verdicts differ or did not match: {verdicts}")


def t_noise(rrvm, kernel, n, d):
    """Replays of a recording with landmarks match while the dirty tracker
    is told of pages nobody wrote (RRVM_DIRTY_NOISE), as KVM's dirty log
    over-counts by an amount that depends on the host: the landmark's
    memory hash depends on contents alone."""
    trace = os.path.join(d, "t.trace")
    rec = record(rrvm, trace, kernel)
    info = run([rrvm, "info", trace]).stdout.decode()
    lm = re.search(r"landmark (\d+)", info)
    check(lm and int(lm.group(1)) >= 20, f"the recording has landmarks: {info}")
    env = dict(os.environ, RRVM_DIRTY_NOISE="1")
    for i in range(int(n)):
        p = subprocess.run([rrvm, "replay", trace], capture_output=True, env=env, timeout=300)
        check(p.returncode == 0 and matched_line(p).startswith("rrvm: replay matched:") and
              p.stdout == rec.stdout,
              f"replay {i} with dirty-log noise: status {p.returncode}: {p.stderr.decode()[-600:]}")


def t_vary(rrvm, checker, manifest, name, kernel, d):
    values = []
    for i in range(2):
        trace = os.path.join(d, f"v{i}.trace")
        out = os.path.join(d, f"v{i}.out")
        rec = record(rrvm, trace, kernel)
        with open(out, "wb") as f:
            f.write(rec.stdout)
        ok = run([sys.executable, checker, manifest, name, str(rec.returncode), out])
        check(ok.returncode == 0, f"recording {i} output: {ok.stdout.decode()}")
        vary = run([sys.executable, checker, "--varying", manifest, name, out])
        values.append(vary.stdout.split())
        p = replay(rrvm, trace)
        check(p.returncode == 0 and p.stdout == rec.stdout, f"recording {i} does not replay")
    check(values[0] and values[0] != values[1],
          f"two recordings gave the same run-dependent values {values}")


def t_vary_raw(rrvm, kernel, d):
    outs = []
    for i in range(2):
        trace = os.path.join(d, f"r{i}.trace")
        rec = record(rrvm, trace, kernel)
        outs.append(rec.stdout)
        p = replay(rrvm, trace)
        check(p.returncode == 0 and p.stdout == rec.stdout, f"recording {i} does not replay")
    check(outs[0] and outs[0] != outs[1], f"two recordings printed the same: {outs[0]}")


def t_late(rrvm, kernel, d):
    """Ring-3 loops without exits on a host without ring-3 breakpoints: the
    recording says once that interrupts waited for the next exit."""
    trace = os.path.join(d, "t.trace")
    rec = record(rrvm, trace, kernel)
    err = rec.stderr.decode()
    doc = run([rrvm, "doctor"]).stdout.decode()
    late_here = re.search(r"^interrupts in exit-free code, ring 3 +at the next exit", doc, re.M)
    n = len(re.findall(r"^rrvm: interrupts were delivered late", err, re.M))
    if late_here:
        check(n == 1 and re.search(r"late \(at the next exit, \d+ times\): the guest ran code "
                                   r"in ring 3 without exits", err),
              f"the recording says once that interrupts came late in ring 3: {err}")
    else:
        check(n == 0, f"landmarks work in ring 3 here, yet: {err}")
    p = replay(rrvm, trace)
    check(p.returncode == 0 and p.stdout == rec.stdout, "the recording replays")


def t_diverge_landmark(rrvm, edit, kernel, d):
    trace, bad = os.path.join(d, "t.trace"), os.path.join(d, "bad.trace")
    record(rrvm, trace, kernel)
    e = run([edit, trace, bad, "landmark"])
    if not check(e.returncode == 0 and e.stdout.strip(), f"trace_edit: {e.stderr.decode()}"):
        return
    sync = e.stdout.decode().strip()
    p = replay(rrvm, bad, "--quiet")
    err = p.stderr.decode()
    check(p.returncode == 24, f"replay of an edited trace exited {p.returncode}, not 24")
    check(re.search(rf"^rrvm: replay diverged at sync point {sync} \(rip 0x[0-9a-f]+\): "
                    r"the guest (made a [a-z-]+|ran for \d+ s without an exit) before reaching "
                    r"the landmark the trace has at "
                    r"rip 0x[0-9a-f]+ \(rax 0x[0-9a-f]+ .*\): \d+ hits there, .*"
                    r"rflags=0x[0-9a-f]+/0x[0-9a-f]+", err, re.M),
          f"landmark divergence not reported at sync point {sync} with the closest hit: {err}")


def t_diverge(rrvm, edit, kernel, d):
    trace, bad = os.path.join(d, "t.trace"), os.path.join(d, "bad.trace")
    record(rrvm, trace, kernel)
    e = run([edit, trace, bad, "3"])
    if not check(e.returncode == 0, f"trace_edit: {e.stderr.decode()}"):
        return
    sync = e.stdout.decode().strip()
    p = replay(rrvm, bad, "--quiet")
    err = p.stderr.decode()
    check(p.returncode == 24, f"replay of an edited trace exited {p.returncode}, not 24")
    check(re.search(rf"^rrvm: replay diverged at sync point {sync} \(rip 0x[0-9a-f]+\): "
                    r"the device at 0x[0-9a-f]+ answered", err, re.M),
          f"divergence not reported at sync point {sync}: {err}")
    check("the last" in err, "the report lacks the events before the divergence")


def t_sigkill(rrvm, kernel, d):
    trace = os.path.join(d, "k.trace")
    p = subprocess.Popen([rrvm, "record", "--serial-in", "none", "--chunk-ms", "20",
                          "-o", trace, kernel], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    p.kill()
    p.wait()
    info = run([rrvm, "info", trace])
    out = info.stdout.decode()
    m = re.search(r"^replayable: +up to sync point (\d+)", out, re.M)
    check(info.returncode == 20 and "truncated" in out, f"info on a killed trace: {out}")
    p = replay(rrvm, trace, "--quiet")
    err = p.stderr.decode()
    check(p.returncode == 0 and "replay matched the truncated trace up to sync point" in err,
          f"killed trace replay exited {p.returncode}: {err}")
    got = re.search(r"matched the truncated trace up to sync point (\d+)", err)
    check(m and got and got.group(1) == m.group(1),
          f"replay did not match up to the end of the last chunk: {err} vs {out}")


def t_sigint(rrvm, kernel, d):
    trace = os.path.join(d, "i.trace")
    p = subprocess.Popen([rrvm, "record", "--serial-in", "none", "-o", trace, kernel],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)
    check(p.returncode == 18, f"recording stopped by SIGINT exited {p.returncode}")
    info = run([rrvm, "info", trace])
    check(info.returncode == 0 and "complete" in info.stdout.decode(),
          f"a Ctrl-C'd trace is not complete: {info.stdout.decode()}")
    r = replay(rrvm, trace, "--quiet")
    check(r.returncode == 0 and "replay matched" in r.stderr.decode(),
          f"a Ctrl-C'd trace does not replay: {r.stderr.decode()}")


def t_regdiff(rrvm, edit, kernel, d):
    """A TSC value edited in the trace: no device answer to cross-check, so
    the next register checkpoint catches it, naming the register that took
    the wrong value (tscloop folds every TSC read into r8) with both values;
    the TSC registers themselves are right again by then."""
    trace, bad = os.path.join(d, "t.trace"), os.path.join(d, "bad.trace")
    record(rrvm, trace, kernel)
    e = run([edit, trace, bad, "tsc:20"])
    if not check(e.returncode == 0, f"trace_edit: {e.stderr.decode()}"):
        return
    sync = int(e.stdout.decode().strip())
    p = replay(rrvm, bad, "--quiet")
    err = p.stderr.decode()
    at = re.search(r"^rrvm: replay diverged at sync point (\d+) \(rip 0x[0-9a-f]+\): registers "
                   r"differ", err, re.M)
    check(p.returncode == 24 and at and sync <= int(at.group(1)) <= sync + 16,
          f"an edited TSC value is not caught by the next register checkpoint: {err}")
    diff = re.findall(r"^rrvm:   (\w+) +recorded (0x[0-9a-f]+), replayed (0x[0-9a-f]+)$", err, re.M)
    names = [n for n, _, _ in diff]
    check("r8" in names and all(a != b for _, a, b in diff),
          f"the register diff does not name r8 with two values: {err}")
    check(not {"rax", "rdx", "rip"} & set(names), f"the diff names registers that are right: {err}")


def t_mismatch(rrvm, kernel, other, d):
    trace = os.path.join(d, "m.trace")
    record(rrvm, trace, kernel)
    p = replay(rrvm, trace, "--kernel", other)
    err = p.stderr.decode()
    check(p.returncode == 26 and len(err.splitlines()) == 1 and
          "is not the kernel this trace recorded" in err, f"mismatch: {p.returncode} {err}")
    p = replay(rrvm, os.path.join(d, "missing.trace"))
    check(p.returncode == 20 and len(p.stderr.splitlines()) == 1,
          f"missing trace: {p.returncode} {p.stderr}")


def t_cpuid(rrvm, edit, kernel, d):
    trace, bad = os.path.join(d, "t.trace"), os.path.join(d, "cpu.trace")
    record(rrvm, trace, kernel)
    e = run([edit, trace, bad, "cpuid"])
    if not check(e.returncode == 0, f"trace_edit: {e.stderr.decode()}"):
        return
    p = replay(rrvm, bad)
    err = p.stderr.decode()
    check(p.returncode == 26 and len(err.splitlines()) == 1 and
          "the CPUID table differs in leaf 0x1.0" in err, f"cpuid mismatch: {p.returncode} {err}")


def t_serial(rrvm, kernel, infile, d):
    trace = os.path.join(d, "s.trace")
    rec = run([rrvm, "record", "--serial-in", infile, "-o", trace, kernel])
    check(rec.returncode == 1 and rec.stdout == b"HELLO, RRVM\n",
          f"recording with input: {rec.returncode} {rec.stdout}")
    dump = run([rrvm, "dump", trace]).stdout.decode()
    check("serial_input" in dump, "the trace has no serial input event")
    p = replay(rrvm, trace)
    check(p.returncode == 0 and p.stdout == rec.stdout,
          f"replay without input: {p.returncode} {p.stdout} {p.stderr}")


def t_serial_chaos(rrvm, kernel, infile, d):
    trace = os.path.join(d, "c.trace")
    rec = run([rrvm, "record", "--chaos", "--seed", "3", "--serial-in", infile, "-o", trace,
               kernel])
    check(rec.returncode == 1 and rec.stdout == b"HELLO, RRVM\n",
          f"chaos recording with input: {rec.returncode} {rec.stdout}")
    dump = run([rrvm, "dump", trace]).stdout.decode()
    data = re.findall(r"^ *(\d+) .*serial_input data=([0-9a-f]+)$", dump, re.M)
    syncs = [int(s) for s, _ in data]
    check(len(data) == len("hello, rrvm\n") and all(len(b) == 2 for _, b in data) and
          all(b > a for a, b in zip(syncs, syncs[1:])),
          f"with chaos serial input comes one byte per event, at growing sync points: {data}")
    p = replay(rrvm, trace)
    check(p.returncode == 0 and p.stdout == rec.stdout,
          f"chaos replay without input: {p.returncode} {p.stdout} {p.stderr}")


def main():
    if (status := kvm_status()) is not None:
        return status
    tests = {"repeat": t_repeat, "noise": t_noise, "vary": t_vary, "vary-raw": t_vary_raw, "diverge": t_diverge,
             "regdiff": t_regdiff,
             "diverge_landmark": t_diverge_landmark, "late": t_late,
             "sigkill": t_sigkill,
             "sigint": t_sigint, "mismatch": t_mismatch, "cpuid": t_cpuid,
             "serial": t_serial, "serial-chaos": t_serial_chaos}
    with tempfile.TemporaryDirectory() as d:
        tests[sys.argv[1]](*sys.argv[2:], d)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
