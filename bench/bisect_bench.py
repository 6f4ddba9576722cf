#!/usr/bin/env python3
"""Chaos and bisection benchmark, on the flaky kernel of the bisect test
(tests/e2e/flaky_repo.py: a tick landing between two port reads).

  bench/bisect_bench.py [BUILD_DIR]        (default: build)

1. Recordings needed to catch the race, with and without chaos: `rrvm
   record --until-output RACE` 20 times each, median and range of the try
   that caught it (at most 300 tries).
2. The whole `rrvm bisect` over the 12-commit repository, 10 tries a step:
   wall time (median of 3) with --chaos, and how often it names the right
   commit with and without chaos (3 runs each).
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

root = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(root, "tests", "e2e"))
from flaky_repo import CULPRIT, build_at, make_repo, run  # noqa: E402

build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build"))
rrvm = os.path.join(build, "rrvm")
EXPERIMENTS = 20
MAX_TRIES = 300


def prelude():
    """bench/common.sh: an optimized tree with rrvm, and the header."""
    sys.stdout.flush()
    r = subprocess.run(["sh", "-c", '. "$root/bench/common.sh" && '
                        'bench_build "$1" rrvm && bench_header chaos/bisect',
                        "bisect_bench", build], env={**os.environ, "root": root})
    if r.returncode:
        sys.exit(r.returncode)


def tries_to_catch(tmp, elf, chaos, i):
    args = [rrvm, "record", "--until-output", "RACE", "--tries", str(MAX_TRIES),
            "--serial-in", "none", "-o", os.path.join(tmp, "c.trace")]
    args += ["--seed", str(5000 + i)] if chaos else ["--no-chaos"]
    p = run(args + [elf], timeout=600)
    m = re.match(r"caught on try (\d+)", p.stdout)
    return int(m.group(1)) if m else MAX_TRIES + 1


def bisect_once(repo, tmp, shas, chaos, k):
    out = os.path.join(tmp, f"b{int(chaos)}{k}")
    args = [rrvm, "bisect", "--good", shas[0], "--bad", shas[-1], "--build", "sh build.sh",
            "--kernel", "flaky.elf", "--tries", "10", "--until-output", "RACE", "-o", out]
    if chaos:
        args += ["--seed", str(k + 1)]
    t0 = time.monotonic()
    p = run(args, cwd=repo, timeout=600)
    wall = time.monotonic() - t0
    m = re.search(r"^first bad commit: ([0-9a-f]{40})", p.stdout, re.M)
    return wall, bool(m and m.group(1) == shas[CULPRIT])


def main():
    prelude()
    with tempfile.TemporaryDirectory(prefix="rrvm-bisect-bench-") as tmp:
        repo = os.path.join(tmp, "repo")
        shas = make_repo(repo)
        elf = build_at(repo, shas[CULPRIT], os.path.join(tmp, "bad.elf"))
        print(f"recordings to catch the race ({EXPERIMENTS} experiments each, "
              f"at most {MAX_TRIES} tries):")
        med = {}
        for chaos in (False, True):
            n = [tries_to_catch(tmp, elf, chaos, i) for i in range(EXPERIMENTS)]
            med[chaos] = statistics.median(n)
            print(f"  {'chaos' if chaos else 'plain':5}: median {med[chaos]:g}, "
                  f"min {min(n)}, max {max(n)}")
        print(f"  plain/chaos median ratio: {med[False] / med[True]:.1f}")
        print("rrvm bisect, 12 commits, 10 tries a step:")
        for chaos in (True, False):
            runs = [bisect_once(repo, tmp, shas, chaos, k) for k in range(3)]
            print(f"  {'chaos' if chaos else 'plain':5}: wall median "
                  f"{statistics.median(w for w, _ in runs):.1f} s, right commit named in "
                  f"{sum(ok for _, ok in runs)} of {len(runs)}")


if __name__ == "__main__":
    main()
