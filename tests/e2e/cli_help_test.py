#!/usr/bin/env python3
"""Every subcommand's --help, bad options and the top-level flags, without KVM.

  cli_help_test.py RRVM DOCS_MD

For each command `rrvm --help` lists: `rrvm CMD --help` exits 0 with the
usage line first; every long option it shows is documented in its section
of docs/rrvm.md; a bad option exits 2 with exactly one stderr line starting
'rrvm:'.  The commands listed and the commands documented are the same.
Prints 'N passed, M failed'.
"""
import re
import subprocess
import sys

from checks import check, summary

rrvm, docs = sys.argv[1:3]


def run(*args):
    return subprocess.run([rrvm, *args], capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)


def doc_sections(text):
    """{command: the text of its '### rrvm CMD' section}."""
    out = {}
    for m in re.finditer(r"^### rrvm (\w+)\n(.*?)(?=^##|\Z)", text, re.M | re.S):
        out[m.group(1)] = m.group(2)
    return out


def one_error_line(p):
    lines = p.stderr.splitlines()
    return len(lines) == 1 and lines[0].startswith("rrvm: ")


def main():
    with open(docs) as f:
        sections = doc_sections(f.read())
    top = run("--help")
    check(top.returncode == 0 and top.stdout.startswith("usage: rrvm COMMAND"),
          "rrvm --help", top.stdout + top.stderr)
    cmds = re.findall(r"^  (\w+) +\S", top.stdout.split("commands:")[-1], re.M)
    check(len(cmds) >= 8, f"rrvm --help lists the commands: {cmds}", top.stdout)
    check(sorted(cmds) == sorted(sections), f"commands listed {sorted(cmds)} are the "
          f"commands documented in docs/rrvm.md {sorted(sections)}")
    v = run("--version")
    check(v.returncode == 0 and re.fullmatch(r"rrvm \d+\.\d+\.\d+\n", v.stdout),
          "rrvm --version", v.stdout + v.stderr)
    for args, what in (((), "no command"), (("frob",), "an unknown command")):
        p = run(*args)
        check(p.returncode == 2 and one_error_line(p), f"{what}: status 2, one rrvm: line",
              p.stderr)
    for c in cmds:
        h = run(c, "--help")
        check(h.returncode == 0 and h.stdout.startswith(f"usage: rrvm {c} ") and not h.stderr,
              f"rrvm {c} --help: status 0 and the usage line first", h.stdout + h.stderr)
        doc = sections.get(c, "")
        for opt in sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", h.stdout))):
            if opt == "--help":
                continue
            check(opt in doc or (c == "record" and opt in sections.get("run", "")),
                  f"rrvm {c} {opt} is documented in docs/rrvm.md")
        b = run(c, "--frobnicate")
        check(b.returncode == 2 and one_error_line(b) and "frobnicate" in b.stderr,
              f"rrvm {c} --frobnicate: status 2 and one rrvm: line naming it", b.stderr)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
