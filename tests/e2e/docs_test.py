#!/usr/bin/env python3
"""The command-line documentation has one source, docs/rrvm.md.

  docs_test.py ROOT

1. docs/rrvm.1 and the README's generated part are what scripts/gen_docs.py
   makes from it now (else: run the script and commit).
2. The man page renders without a warning (groff -man -Tutf8 -ww) and
   through man -l, where those tools are installed.
3. Its exit-status table lists exactly the statuses of cli/cli.h.
Prints 'N passed, M failed'.
"""
import os
import re
import shutil
import subprocess
import sys

from checks import check, summary
from kvmcheck import required

root = sys.argv[1]


def main():
    man = os.path.join(root, "docs", "rrvm.1")
    p = subprocess.run([sys.executable, os.path.join(root, "scripts", "gen_docs.py"), "--check"],
                       capture_output=True, text=True)
    check(p.returncode == 0, "docs/rrvm.1 and README.md match docs/rrvm.md", p.stdout + p.stderr)
    if shutil.which("groff"):
        g = subprocess.run(["groff", "-man", "-Tutf8", "-ww", man], capture_output=True,
                           text=True)
        check(g.returncode == 0 and not g.stderr, "groff renders the man page without "
              "warnings", g.stderr)
        for want in ("EXIT STATUS", "rrvm console", "--script FILE", "RRVM_HISTORY"):
            text = re.sub(r".\x08", "", g.stdout).replace("\u2010", "-")  # no overstrikes
            check(want in text, f"the rendered page shows {want!r}", text[:500])
    else:
        check(not required(), "groff is there (scripts/setup.sh installs groff-base)")
        print("no groff: rendering not checked")
    if shutil.which("man"):
        m = subprocess.run(["man", "-l", man], capture_output=True, text=True,
                           env={**os.environ, "MANPAGER": "cat", "MANWIDTH": "80"})
        check(m.returncode == 0 and "SYNOPSIS" in m.stdout, "man -l docs/rrvm.1", m.stderr)
    else:
        check(not required(), "man is there (scripts/setup.sh installs man-db)")
    with open(os.path.join(root, "cli", "cli.h")) as f:
        codes = {int(n) for n in re.findall(r"^\s*CLI_\w+ = (\d+),", f.read(), re.M)}
    with open(os.path.join(root, "docs", "rrvm.md")) as f:
        src = f.read()
    table = src.split("## EXIT STATUS", 1)[-1].split("\n## ", 1)[0]
    documented = {int(n) for n in re.findall(r"^\| (\d+) \|", table, re.M)}
    check(codes and codes == documented, f"exit statuses in cli/cli.h {sorted(codes)} are the "
          f"documented ones {sorted(documented)}")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
