#!/usr/bin/env python3
"""Catching a flaky kernel bug and bisecting it, on a git repository of a
small kernel that this test writes and builds with the host gcc.

  bisect_test.py RRVM

The repository has 12 commits.  Commit 8 (index 7) drops the cli/sti around two port
reads of the main loop, between which a flag is set: a PIT tick that lands
at the second read finds the flag set and the kernel prints RACE.  Without
chaos that takes a tick due within the few microseconds between the two
reads; with chaos an interrupt lands at one of the next sync points where
it could.  Commit 6, the first midpoint, does not build (commit 7 fixes it).

1. the race's hit rate and where interrupts land, plain against --chaos, in
   TRIES recordings each (the numbers are printed; enough of them that a
   slow build, whose plain recordings spread too, still tells the two apart);
2. record --chaos --until-output RACE catches it; the trace has the seed and
   settings and replays exactly, 20 times;
3. rrvm bisect names commit 8, having skipped the commit that does not
   build; the kept failing trace replays exactly; the repository is back
   on its branch with no bisect in progress; the gdb command it prints,
   scripted, finds the culprit store with a watchpoint and reverse-continue;
4. on a terminal, --until and bisect draw progress lines (stdout keeps only
   the summary); with --good the parent of --bad, bisect names --bad;
5. Ctrl-C during rrvm bisect: status 18, the branch back, bisect reset;
6. bad input: outside a work tree, no condition.
Prints 'N passed, M failed'; 77 skips without /dev/kvm, gcc, git or gdb.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from checks import check, summary
from flaky_repo import BROKEN, CULPRIT, build_at, git, make_repo, run
from kvmcheck import kvm_status, tool_status

rrvm = sys.argv[1]
TRIES = 50

def inject_rips(trace):
    """The rip of every interrupt injected at an exit in TRACE: where chaos
    chooses among the sync points an interrupt could land at.  (At a
    landmark, the place is where the host's kick stopped the vCPU, which
    varies with host timing with chaos or without.)"""
    p = run([rrvm, "dump", "--json", trace])
    rips = []
    for line in p.stdout.splitlines():
        ev = json.loads(line)
        if ev.get("kind") == "irq_inject" and not ev.get("at_landmark"):
            rips.append(ev.get("rip"))
    return rips


def hit_rates(tmp, elf):
    """Race hits and interrupt landing places in TRIES plain and TRIES chaos
    recordings."""
    res = {}
    for mode in ("plain", "chaos"):
        hits, places, late = 0, {}, 0
        for i in range(TRIES):
            t = os.path.join(tmp, f"{mode}{i}.trace")
            args = [rrvm, "record", "-o", t, "--serial-in", "none"]
            if mode == "chaos":
                args += ["--seed", str(1000 + i)]
            p = run(args + [elf])
            hits += "RACE" in p.stdout
            for r in inject_rips(t):
                places[r] = places.get(r, 0) + 1
        if i == TRIES - 1:
            info = run([rrvm, "info", t]).stdout
            check((f"chaos:        seed {1000 + i:#x}," if mode == "chaos" else "chaos:        off") in info,
                  f"rrvm info of a {mode} recording names its chaos", info)
        top = max(places.values())
        res[mode] = (hits, places, sum(places.values()) - top)
        print(f"{mode}: race in {hits}/{TRIES} recordings; interrupts landed at {len(places)} "
              f"places, {sum(places.values()) - top} of {sum(places.values())} away from the "
              f"commonest")
    return res


def tty_stderr(args, cwd=None):
    """Runs ARGS with stderr on a pseudo-terminal: (stdout, what the
    terminal got)."""
    master, slave = os.openpty()
    p = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=slave, text=True,
                       stdin=subprocess.DEVNULL, timeout=300)
    os.close(slave)
    got = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        got += chunk
    os.close(master)
    return p.stdout, got.decode(errors="replace")


def progress(tmp, repo, shas):
    good = os.path.join(tmp, "good.elf")
    out, tty = tty_stderr([rrvm, "record", "--until-output", "RACE", "--tries", "3",
                           "--serial-in", "none", "-o", os.path.join(tmp, "p.trace"), good])
    check(re.search(r"rrvm: try 3 of 3, \d+\.\d s, seed 0x[0-9a-f]+", tty) and
          out.startswith("not caught in 3 tries"),
          "on a terminal, --until draws a progress line (try, time, seed)", tty + out)
    out, tty = tty_stderr([rrvm, "bisect", "--good", shas[CULPRIT - 1], "--bad", shas[CULPRIT],
                           "--build", "sh build.sh", "--kernel", "flaky.elf", "--chaos",
                           "--until-output", "RACE", "-o", os.path.join(tmp, "bisect-tty")],
                          cwd=repo)
    check(re.search(r"rrvm: bisect step 0, [0-9a-f]{10}: recording", tty) and
          "first bad commit: " + shas[CULPRIT] in out,
          "on a terminal, bisect draws a progress line; adjacent good/bad name --bad",
          tty + out)


def until_and_replay(tmp, bad):
    trace = os.path.join(tmp, "caught.trace")
    p = run([rrvm, "record", "--chaos", "--until-output", "RACE", "--tries", "30",
             "--serial-in", "none", "-o", trace, bad])
    check(p.returncode == 0 and re.match(r"caught on try \d+ of 30 \(seed 0x[0-9a-f]+\)", p.stdout),
          "record --chaos --until-output RACE catches the race", p.stdout + p.stderr)
    check(p.stdout.count("\n") == 1, "on a pipe, --until prints one summary line", p.stdout)
    tries = open(trace + ".tries").read().splitlines()
    check(tries and "output matched (stopped on request at sync point" in tries[-1] and
          all(re.match(r"try \d+ seed 0x[0-9a-f]+ status \d+ ", t) for t in tries),
          "TRACE.tries has each try's seed and outcome", "\n".join(tries))
    info = run([rrvm, "info", trace]).stdout
    check(re.search(r"^chaos: +seed 0x[0-9a-f]+, interrupts held back up to 8 sync points", info, re.M),
          "rrvm info shows the chaos seed and settings", info)
    outs = set()
    ok = 0
    for _ in range(20):
        r = run([rrvm, "replay", trace])
        ok += r.returncode == 0 and "rrvm: replay matched" in r.stderr
        outs.add(r.stdout)
    check(ok == 20 and len(outs) == 1 and "RACE" in outs.pop(),
          f"the chaos recording replays exactly 20 times ({ok} matched)")
    # The same seed, the same choices: the clock phase drawn from it.
    phases = set()
    for i in range(2):
        t = os.path.join(tmp, f"seed{i}.trace")
        run([rrvm, "record", "--seed", "77", "--serial-in", "none", "-o", t, bad])
        phases.add(re.search(r"clock phase (\d+)", run([rrvm, "info", t]).stdout).group(1))
    check(len(phases) == 1, "the same seed draws the same clock phase", str(phases))
    # Not caught: a documented status and one summary line.
    good = os.path.join(tmp, "good.elf")
    p = run([rrvm, "record", "--until-output", "RACE", "--tries", "3", "--serial-in", "none",
             "-o", os.path.join(tmp, "none.trace"), good])
    check(p.returncode == 30 and p.stdout.startswith("not caught in 3 tries") and
          not os.path.exists(os.path.join(tmp, "none.trace")),
          "a good kernel is not caught: status 30, no trace kept", p.stdout + p.stderr)
    # The race's exit status (isa-debug-exit 1: status 3) as the condition.
    t = os.path.join(tmp, "status.trace")
    p = run([rrvm, "record", "--until-status", "3", "--tries", "30", "--serial-in", "none",
             "-o", t, bad])
    check(p.returncode == 0 and open(t + ".tries").read().splitlines()[-1].endswith(
          "exit status matched (guest exited with status 3)") and
          run([rrvm, "replay", "-q", t]).returncode == 0,
          "--until-status 3 catches the race's exit and it replays", p.stdout + p.stderr)
    # A hang bound in virtual time ends the recording cleanly.
    t = os.path.join(tmp, "hang.trace")
    p = run([rrvm, "record", "--until-timeout", "0.003", "--tries", "1", "--serial-in", "none",
             "-o", t, good])
    r = run([rrvm, "replay", "-q", t])
    check(p.returncode == 0 and r.returncode == 0 and "replay matched" in r.stderr and
          "signal" in r.stderr, "--until-timeout ends the recording cleanly and it replays",
          p.stdout + p.stderr + r.stderr)
    return trace


def bisect(repo, tmp, shas):
    out = os.path.join(tmp, "bisect-out")
    start = time.monotonic()
    p = run([rrvm, "bisect", "--good", shas[0], "--bad", shas[-1], "--build", "sh build.sh",
             "--kernel", "flaky.elf", "--tries", "10", "--chaos", "--seed", "1",
             "--until-output", "RACE", "-o", out], cwd=repo, timeout=300)
    print(f"bisect: {time.monotonic() - start:.1f} s wall")
    print(p.stdout)
    check(p.returncode == 0, f"rrvm bisect ends with status 0 (got {p.returncode})", p.stderr)
    m = re.search(r"^first bad commit: ([0-9a-f]{40}) ", p.stdout, re.M)
    check(m and m.group(1) == shas[CULPRIT], "rrvm bisect names the culprit commit", p.stdout)
    check(re.search(rf"^step \d+ {shas[BROKEN][:12]} skip: the build failed", p.stdout, re.M),
          "the commit that does not build is skipped", p.stdout)
    check(re.search(r"^step \d+ [0-9a-f]{12} good after 10 tries", p.stdout, re.M),
          "good commits are reported with their confidence", p.stdout)
    summ = open(os.path.join(out, "summary.txt")).read()
    check(all(l in summ for l in p.stdout.splitlines()), "DIR/summary.txt has the summary lines",
          summ)
    m = re.search(r"^failing recording: (\S+)$", p.stdout, re.M)
    g = re.search(r"^open it: (gdb (\S+) -ex 'target remote \| (\S+) gdb --stdio (\S+)')$",
                  p.stdout, re.M)
    trace = m.group(1) if m else ""
    check(m and shas[CULPRIT][:12] in trace and g and g.group(4) == trace and
          os.path.exists(g.group(2)) and os.path.samefile(g.group(3), rrvm),
          "it names the failing recording and the gdb command", p.stdout)
    r = run([rrvm, "replay", trace]) if trace else None
    check(r and r.returncode == 0 and "RACE" in r.stdout and "replay matched" in r.stderr,
          "the kept failing trace replays exactly", r.stderr if r else "")
    check(git(repo, "symbolic-ref", "--short", "HEAD") == "main" and
          run(["git", "bisect", "log"], cwd=repo).returncode != 0,
          "after bisect the repository is on main, bisect reset")
    if g:
        gdb_hunt(g.group(1))


def gdb_hunt(command):
    """The printed gdb COMMAND, scripted: from the end of the failing
    recording, a watchpoint on the flag and reverse-continue stop on the
    culprit store, the flag set before the second read."""
    script = ["set pagination off", "continue", "watch -l *(int *)&busy",
              "reverse-continue", "x/i $pc", "p/x &busy", "monitor when"]
    args = command.replace("gdb ", "gdb -batch -nx " + " ".join(
        f"-ex '{c}'" for c in script[:1]) + " ", 1)
    args += " " + " ".join(f"-ex '{c}'" for c in script[1:])
    p = subprocess.run(args, shell=True, capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL)
    out = p.stdout + p.stderr
    store = re.search(r"^=> (0x[0-9a-f]+) <main_loop\+\d+>:\s+movl\s+\$0x1,(0x[0-9a-f]+)", out,
                      re.M)
    busy = re.search(r"^\$1 = 0x([0-9a-f]+)", out, re.M)
    check("Old value = 1" in out and "New value = 0" in out and store and busy and
          int(store.group(2), 16) == int(busy.group(1), 16),
          "gdb on the kept trace: watch busy + reverse-continue stops on the culprit store",
          out)


def interrupt(repo, tmp, shas):
    out = os.path.join(tmp, "bisect-int")
    p = subprocess.Popen([rrvm, "bisect", "--good", shas[0], "--bad", shas[-1], "--build",
                          "sh build.sh", "--kernel", "flaky.elf", "--tries", "10", "--chaos",
                          "--until-output", "RACE", "-o", out], cwd=repo,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    summ = os.path.join(out, "summary.txt")
    while time.monotonic() < deadline:  # a step or two in, mid-way through one
        if os.path.exists(summ) and open(summ).read().count("\n") >= 1:
            break
        time.sleep(0.01)
    time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    so, se = p.communicate(timeout=60)
    check(p.returncode == 18, f"Ctrl-C ends rrvm bisect with status 18 (got {p.returncode})",
          so + se)
    check(git(repo, "symbolic-ref", "--short", "HEAD") == "main" and
          run(["git", "bisect", "log"], cwd=repo).returncode != 0 and
          git(repo, "status", "--porcelain") == "",
          "after Ctrl-C the repository is on main, bisect reset, clean", se)


def bad_input(tmp):
    p = run([rrvm, "bisect", "--good", "a", "--bad", "b", "--build", "true", "--kernel", "k",
             "--until-output", "x", "-o", os.path.join(tmp, "o1")], cwd="/")
    check(p.returncode == 2 and p.stderr.startswith("rrvm: bisect: not inside a git work tree"),
          "bisect outside a work tree: status 2, one line", p.stderr)
    p = run([rrvm, "bisect", "--good", "a", "--bad", "b", "--build", "true", "--kernel", "k"])
    check(p.returncode == 2 and p.stderr.startswith("rrvm: bisect: no condition"),
          "bisect without a condition: status 2, one line", p.stderr)


def main():
    for st in (kvm_status(), tool_status("gcc"), tool_status("git"), tool_status("gdb")):
        if st is not None:
            return st
    with tempfile.TemporaryDirectory(prefix="rrvm-bisect-") as tmp:
        repo = os.path.join(tmp, "repo")
        shas = make_repo(repo)
        bad = build_at(repo, shas[CULPRIT], os.path.join(tmp, "bad.elf"))
        good = build_at(repo, shas[CULPRIT - 1], os.path.join(tmp, "good.elf"))
        if not check(bad and good, "the kernels build"):
            return summary()
        rates = hit_rates(tmp, bad)
        (ph, pp, pa), (ch, cp, ca) = rates["plain"], rates["chaos"]
        check(5 * ch >= TRIES and ch > 2 * ph, f"the race shows in a fifth or more of chaos "
              f"recordings ({ch}/{TRIES}), twice as often as in plain ones ({ph}/{TRIES})")
        pn, cn = sum(pp.values()), sum(cp.values())
        check(ca / cn > pa / pn, f"chaos widens where interrupts land: {ca} of {cn} "
              f"injections away from the commonest place, against {pa} of {pn} without")
        until_and_replay(tmp, bad)
        bisect(repo, tmp, shas)
        progress(tmp, repo, shas)
        interrupt(repo, tmp, shas)
        bad_input(tmp)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
