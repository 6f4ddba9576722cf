#!/usr/bin/env python3
"""Fault injection: recordings killed (SIGKILL) or stopped (SIGTERM) at
random moments, and one trace cut and flipped at random bytes.  For every
case, `rrvm info`'s verdict and `rrvm replay`'s outcome must agree:

  complete              => replay exits 0, "replay matched"
  truncated             => replays to the sync point info names and says so
                           (0), or replays nothing and says so (20)
  corrupt               => exits 20 naming the chunk info names
  unreadable (no trace) => both exit 20

and no run dies from a signal or hangs.  Seeded (RRVM_FAULT_SEED, or the
time): the seed is printed first, so a failure reproduces.

  fault_test.py RRVM KERNELS_DIR SAMPLES_DIR

Prints "seed S: tried N, agreed N", then 'N passed, M failed'; 77 skips
without /dev/kvm.
"""
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time

from checks import check, summary
from kvmcheck import kvm_status

rrvm, kdir, sdir = sys.argv[1:4]
KILLS = 20         # recordings stopped at random moments
CUTS = 12          # truncations of one trace
FLIPS = 12         # one-byte flips of it
MAX_WAIT = 0.8     # latest moment of a kill, s
TIMEOUT = 60       # per rrvm run: a hang is a failure

tried = agreed = 0


def rrvm_run(*args):
    try:
        return subprocess.run([rrvm, *args], capture_output=True, text=True, timeout=TIMEOUT,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None


def verdict(trace):
    """info's verdict: (kind, detail)."""
    p = rrvm_run("info", trace)
    if p is None or p.returncode < 0:
        return "crash", p
    if p.returncode == 0 and "status:       complete" in p.stdout:
        return "complete", None
    m = re.search(r"^status: +corrupt: (chunk \d+) at", p.stdout, re.M)
    if p.returncode == 20 and m:
        return "corrupt", m.group(1)
    last = re.search(r"^replayable: +up to sync point (\d+)", p.stdout, re.M)
    if p.returncode == 20 and "status:       truncated" in p.stdout:
        return "truncated", int(last.group(1)) if last else None
    if p.returncode == 20 and len(p.stderr.splitlines()) == 1:
        return "unreadable", None
    return "other", p


def agree(what, trace):
    """Runs info and replay on TRACE and checks they agree."""
    global tried, agreed
    kind, detail = verdict(trace)
    r = rrvm_run("replay", "--quiet", trace)
    tried += 1
    if r is None or r.returncode < 0 or kind in ("crash", "other"):
        ok = False
    elif kind == "complete":
        ok = r.returncode == 0 and "rrvm: replay matched" in r.stderr
    elif kind == "corrupt":
        ok = r.returncode == 20 and f"({detail} at byte offset" in r.stderr
    elif kind == "truncated" and detail is None:
        ok = r.returncode == 20 and "nothing to replay" in r.stderr
    elif kind == "truncated":
        ok = r.returncode == 0 and (
            f"replay matched the truncated trace up to sync point {detail} " in r.stderr or
            "replay of the truncated trace reached the guest's own end" in r.stderr)
    else:
        ok = r.returncode == 20 and len(r.stderr.splitlines()) == 1
    agreed += ok
    check(ok, f"{what}: info says {kind} {detail}, replay exited "
              f"{r.returncode if r else 'hung'}", r.stderr if r else "")


def record_and_stop(kernel, trace, sig, wait):
    p = subprocess.Popen([rrvm, "record", "--serial-in", "none", "--chunk-ms", "10",
                          "-o", trace, kernel], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    time.sleep(wait)
    p.send_signal(sig)
    try:
        p.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return "hung"
    # SIGKILL kills; SIGTERM must end it cleanly (18), or the guest ended
    # first.  rrvm catches SIGTERM from the first line of main(), before it
    # creates the trace: a SIGTERM in the dynamic loader's milliseconds
    # before that kills it with no trace, which is not rrvm's doing.
    if sig == signal.SIGTERM and p.returncode < 0 and os.path.exists(trace):
        return f"died from signal {-p.returncode}"
    return None


def main():
    if (status := kvm_status()) is not None:
        return status
    seed = int(os.environ.get("RRVM_FAULT_SEED", time.time_ns() % 1000000007))
    print(f"seed {seed} (RRVM_FAULT_SEED={seed} reproduces)", flush=True)
    rnd = random.Random(seed)
    kernels = [os.path.join(sdir, "timer.elf"), os.path.join(sdir, "race.elf"),
               os.path.join(kdir, "spin.elf"), os.path.join(kdir, "compute.elf")]
    with tempfile.TemporaryDirectory() as d:
        for i in range(KILLS):
            kernel = rnd.choice(kernels)
            sig = rnd.choice([signal.SIGKILL, signal.SIGTERM])
            wait = rnd.uniform(0, MAX_WAIT)
            trace = os.path.join(d, f"k{i}.trace")
            what = f"{os.path.basename(kernel)} {sig.name} at {wait:.3f} s"
            bad = record_and_stop(kernel, trace, sig, wait)
            if not check(bad is None, f"{what}: record {bad}"):
                continue
            if os.path.exists(trace):
                agree(what, trace)
        base = os.path.join(d, "base.trace")
        record_and_stop(os.path.join(kdir, "spin.elf"), base, signal.SIGTERM, 0.8)
        data = open(base, "rb").read()
        for i in range(CUTS + FLIPS):
            off = rnd.randrange(len(data))
            mutated = bytearray(data[:off] if i < CUTS else data)
            if i >= CUTS:
                mutated[off] ^= 1 << rnd.randrange(8)
            trace = os.path.join(d, f"m{i}.trace")
            open(trace, "wb").write(mutated)
            agree(f"spin trace {'cut' if i < CUTS else 'flipped'} at byte {off}", trace)
    print(f"seed {seed}: tried {tried}, agreed {agreed}")
    check(tried >= KILLS, f"enough cases were tried ({tried})")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
