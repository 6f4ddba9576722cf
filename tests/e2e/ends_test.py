#!/usr/bin/env python3
"""Every trace `rrvm record` leaves replays as `rrvm info` says it will
(issue 11's reproducers; issue 13's signals in exit-free code).

  ends_test.py RRVM KERNELS_DIR SAMPLES_DIR

  exitfree   SIGTERM while compute.elf computes without exits: record ends
             within ~1 s, status 18, the end record says SIGTERM after sync
             point S; replay stops at S and matches what was checked there
  hlt        SIGINT while timer.elf idles in sti;hlt: every trace replays,
             and one that ended in HLT says so in info and replay
  sync0      a trace that ends at sync point 0 (emulfail.elf) replays, as
             does a triple fault (triple.elf) in the stretch after it
  headeronly a trace cut to its header replays nothing, status 20
  corrupt    a damaged chunk in a closed trace: replay names chunk and
             offset, replays to the chunk before, status 20
  truncated  info and replay name the same last sync point of a killed trace
  serial     the serial output of a SIGKILLed recording is on disk: at least
             what the replay of its trace prints

Prints 'N passed, M failed'; 77 skips without /dev/kvm.
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

rrvm, kdir, sdir = sys.argv[1:4]


def run(*args, timeout=120):
    return subprocess.run([rrvm, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def start(kernel, trace, stdout=subprocess.DEVNULL):
    return subprocess.Popen([rrvm, "record", "--serial-in", "none", "--chunk-ms", "20",
                             "-o", trace, kernel], stdout=stdout, stderr=subprocess.PIPE,
                            text=True)


def replayable(info_out):
    m = re.search(r"^replayable: +up to sync point (\d+)", info_out, re.M)
    return int(m.group(1)) if m else None


def t_exitfree(d):
    trace = os.path.join(d, "compute.trace")
    p = start(os.path.join(kdir, "compute.elf"), trace)
    time.sleep(1.0)  # inside its ~2 s loop without an exit
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    took = time.monotonic() - t0
    check(p.returncode == 18, f"SIGTERM ends the recording with 18 (got {p.returncode})", err)
    check(took < 1.0, f"the recording ended {took:.2f} s after SIGTERM (bound: 1 s)", err)
    info = run("info", trace).stdout
    # Where ring-0 landmarks work, the stop itself is one (at S, all state
    # checked); elsewhere the trace ends at the last sync point before it.
    m = re.search(r"^end: +signal status 15 (at|after) sync point (\d+),", info, re.M)
    check(m and "status:       complete" in info,
          "the end record says SIGTERM (15) at or after sync point S, complete", info)
    r = run("replay", "--quiet", trace)
    if m and m.group(1) == "after":
        want = (rf"^rrvm: replay matched: {m.group(2)} sync points, signal SIGTERM after sync "
                rf"point {m.group(2)} .*checked there: every event replayed, rip 0x[0-9a-f]+, "
                r"register hash [0-9a-f]{16}")
    else:
        want = (rf"^rrvm: replay matched: {m.group(2) if m else '?'} sync points, signal "
                r"SIGTERM, final rip 0x[0-9a-f]+, state hash [0-9a-f]{16}")
    check(r.returncode == 0 and m and re.search(want, r.stderr, re.M),
          "replay stops at S and says what it checked", r.stderr)


def t_hlt(d):
    seen_hlt = 0
    for i in range(12):
        if seen_hlt >= 2:
            break
        trace = os.path.join(d, f"timer{i}.trace")
        p = start(os.path.join(sdir, "timer.elf"), trace, subprocess.PIPE)
        # Its first line says it starts idling (200 ticks of 1 ms with
        # sti;hlt); record writes serial output through as it comes.
        p.stdout.readline()
        time.sleep(0.01 * i)
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=60)
        info = run("info", trace).stdout
        if not check(p.returncode in (1, 18) and "status:       complete" in info,
                     f"timer {i}: recording {p.returncode}, complete", info):
            continue
        in_hlt = "in HLT at sync point" in info
        seen_hlt += in_hlt
        r = run("replay", "--quiet", trace)
        check(r.returncode == 0 and "rrvm: replay matched:" in r.stderr and
              (" in HLT," in r.stderr) == in_hlt,
              f"timer {i}: the trace replays and matches (in HLT: {in_hlt})", r.stderr)
    check(seen_hlt, "recordings stopped while the guest idled ended in its HLT")


def t_sync0(d):
    trace = os.path.join(d, "emulfail.trace")
    rec = run("record", "--serial-in", "none", "-o", trace, os.path.join(kdir, "emulfail.elf"))
    info = run("info", trace).stdout
    check(rec.returncode == 12 and re.search(r"^end: +error status 0 after sync point 0,", info,
                                             re.M), "emulfail: error after sync point 0", info)
    r = run("replay", "--quiet", trace)
    check(r.returncode == 0 and "replay matched: 0 sync points, error" in r.stderr,
          "a trace ending at sync point 0 replays", r.stderr)
    # A guest that stops itself between sync points (a triple fault) is
    # replayed into that stop, not cut at the sync point before.
    trace = os.path.join(d, "triple.trace")
    rec = run("record", "--serial-in", "none", "-o", trace, os.path.join(kdir, "triple.elf"))
    r = run("replay", "--quiet", trace)
    check(rec.returncode == 10 and r.returncode == 0 and
          "replay matched: 0 sync points, triple_fault after the last sync point" in r.stderr,
          "a triple fault after sync point 0 replays into it", r.stderr)


def killed_spin(d, name, seconds=1.0, stdout=subprocess.DEVNULL):
    trace = os.path.join(d, name)
    p = start(os.path.join(kdir, "spin.elf"), trace, stdout)
    time.sleep(seconds)
    p.kill()
    p.wait()
    return trace


def t_headeronly(d):
    trace = killed_spin(d, "k.trace")
    data = open(trace, "rb").read()
    hlen = 24 + int.from_bytes(data[12:16], "little")
    for cut in (hlen, hlen + 30):
        cut_path = os.path.join(d, f"h{cut}.trace")
        open(cut_path, "wb").write(data[:cut])
        info = run("info", cut_path)
        check(info.returncode == 20 and "replayable:   nothing (no whole chunk)" in info.stdout,
              f"cut at {cut}: info says nothing replays", info.stdout)
        r = run("replay", cut_path)
        check(r.returncode == 20 and len(r.stderr.splitlines()) == 1 and
              "nothing to replay" in r.stderr, f"cut at {cut}: replay says so, 20", r.stderr)


def t_corrupt(d):
    trace = os.path.join(d, "c.trace")
    p = start(os.path.join(kdir, "spin.elf"), trace)
    time.sleep(1.5)
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=60)
    data = bytearray(open(trace, "rb").read())
    data[len(data) // 2] ^= 0x10  # inside a middle chunk's payload
    bad = os.path.join(d, "bad.trace")
    open(bad, "wb").write(data)
    info = run("info", bad).stdout
    m = re.search(r"^status: +corrupt: (chunk \d+ at byte offset \d+)", info, re.M)
    last = replayable(info)
    if not check(m and last is not None, "info names the damaged chunk", info):
        return
    r = run("replay", "--quiet", bad)
    check(r.returncode == 20, f"replay of a damaged trace exits 20 (got {r.returncode})",
          r.stderr)
    check(f"is corrupt ({m.group(1)}:" in r.stderr and
          f"replay matched the corrupt trace up to sync point {last} " in r.stderr,
          f"replay names {m.group(1)} and replays up to sync point {last}", r.stderr)


def t_truncated(d):
    trace = killed_spin(d, "t.trace")
    info = run("info", trace).stdout
    last = replayable(info)
    r = run("replay", "--quiet", trace)
    check(last is not None and r.returncode == 0 and
          f"replaying up to sync point {last}\n" in r.stderr and
          f"replay matched the truncated trace up to sync point {last} " in r.stderr,
          f"info, replay's first and last line name sync point {last}", info + r.stderr)


def t_serial(d):
    out_path = os.path.join(d, "serial.out")
    with open(out_path, "w") as out:
        trace = killed_spin(d, "s.trace", 1.0, out)
    written = open(out_path).read().count(".")
    r = subprocess.run([rrvm, "replay", trace], capture_output=True, text=True, timeout=120)
    replayed = r.stdout.count(".")
    check(written > 0 and written >= replayed,
          f"a killed recording's serial output is on disk: {written} dots, the replay of "
          f"its trace prints {replayed}", r.stderr)


def main():
    if (status := kvm_status()) is not None:
        return status
    tests = {"exitfree": t_exitfree, "hlt": t_hlt, "sync0": t_sync0,
             "headeronly": t_headeronly, "corrupt": t_corrupt, "truncated": t_truncated,
             "serial": t_serial}
    names = sys.argv[4:] or list(tests)
    with tempfile.TemporaryDirectory() as d:
        for n in names:
            tests[n](d)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
