#!/usr/bin/env python3
"""End-to-end checks of `rrvm record` and `rrvm replay` on real kernels.

  rr_test.py repeat   RRVM KERNEL N          record once, replay N times: every
                                             replay matches, byte for byte
  rr_test.py vary     RRVM CHECKER MANIFEST NAME KERNEL
                                             two recordings differ in their
                                             run-dependent lines; each replays
  rr_test.py vary-raw RRVM KERNEL          two recordings print differently;
                                             each replays its own output
  rr_test.py diverge  RRVM TRACE_EDIT KERNEL an edited input is caught at its
                                             own sync point
  rr_test.py sigkill  RRVM KERNEL            a recording killed with SIGKILL
                                             replays up to its last chunk
  rr_test.py sigint   RRVM KERNEL            Ctrl-C ends a recording cleanly
  rr_test.py mismatch RRVM KERNEL OTHER      replay with another kernel is refused
  rr_test.py cpuid    RRVM TRACE_EDIT KERNEL replay of a trace from another CPU is refused
  rr_test.py serial   RRVM KERNEL INPUT      serial input is recorded and replayed
                                             without the input file

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

from kvmcheck import kvm_status

results = {"passed": 0, "failed": 0}


def check(cond, what):
    results["passed" if cond else "failed"] += 1
    if not cond:
        print("FAIL:", what)
    return cond


def run(cmd, timeout=120, **kw):
    return subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          **kw)


def record(rrvm, trace, kernel, *extra):
    return run([rrvm, "record", "--serial-in", "none", "-o", trace, *extra, kernel])


def replay(rrvm, trace, *extra):
    return run([rrvm, "replay", *extra, trace])


def matched_line(p):
    lines = p.stderr.decode(errors="replace").splitlines()
    return lines[-1] if lines else ""


def t_repeat(rrvm, kernel, n, *rest):
    """Record KERNEL (with the record options in REST before the temporary
    directory), then replay it N times: every replay matches exactly."""
    d, extra = rest[-1], rest[:-1]
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
    m = re.search(r"sync points \d+\.\.(\d+)", out)
    check(info.returncode == 20 and "truncated" in out, f"info on a killed trace: {out}")
    p = replay(rrvm, trace, "--quiet")
    err = p.stderr.decode()
    check(p.returncode == 0 and "replay matched the truncated trace up to sync point" in err,
          f"killed trace replay exited {p.returncode}: {err}")
    if m:
        got = re.search(r"up to sync point (\d+)", err)
        check(got and int(got.group(1)) >= int(m.group(1)) - 1,
              f"replay stopped short of the last chunk: {err} vs {m.group(0)}")


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


def main():
    if (status := kvm_status()) is not None:
        return status
    tests = {"repeat": t_repeat, "vary": t_vary, "vary-raw": t_vary_raw, "diverge": t_diverge,
             "sigkill": t_sigkill,
             "sigint": t_sigint, "mismatch": t_mismatch, "cpuid": t_cpuid,
             "serial": t_serial}
    with tempfile.TemporaryDirectory() as d:
        tests[sys.argv[1]](*sys.argv[2:], d)
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
