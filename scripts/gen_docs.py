#!/usr/bin/env python3
"""docs/rrvm.md is the one source of rrvm's command-line documentation.
This script makes the man page docs/rrvm.1 from it and copies it, with its
headings one level down, between the markers in README.md.

  python3 scripts/gen_docs.py          write docs/rrvm.1 and README.md
  python3 scripts/gen_docs.py --check  exit 1 if either is out of date

The source is a small subset of Markdown: '#'-headings, paragraphs, fenced
code blocks, '- ' lists and tables; `code` in text.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "docs", "rrvm.md")
MAN = os.path.join(ROOT, "docs", "rrvm.1")
README = os.path.join(ROOT, "README.md")
BEGIN = "<!-- generated from docs/rrvm.md by scripts/gen_docs.py: edit that file, then run it -->"
END = "<!-- end of the part generated from docs/rrvm.md -->"


def project_version():
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        return re.search(r"project\(rrvm VERSION ([0-9.]+)", f.read()).group(1)


def roff_escape(s):
    s = s.replace("\\", "\\e").replace("-", "\\-")
    return s


def roff_inline(s):
    """`code` in bold, the rest escaped."""
    parts = re.split(r"`([^`]*)`", s)
    out = []
    for i, p in enumerate(parts):
        out.append("\\fB" + roff_escape(p) + "\\fR" if i % 2 else roff_escape(p))
    return "".join(out)


def roff_line(s):
    """A text line that cannot be taken for a request."""
    return "\\&" + s if s[:1] in (".", "'") else s


def table_rows(lines):
    rows = []
    for ln in lines:
        cells = [c.strip() for c in ln.strip().strip("|").split("|")]
        if all(re.fullmatch(r":?-+:?", c) for c in cells):
            continue
        rows.append(cells)
    return rows[1:]  # without the header row


def blocks(text):
    """(kind, lines) for each block of the source."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        ln = lines[i]
        if not ln.strip():
            i += 1
        elif ln.startswith("```"):
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            yield "code", lines[i + 1:j]
            i = j + 1
        elif ln.startswith("#"):
            yield "head", [ln]
            i += 1
        else:
            j = i
            while j < len(lines) and lines[j].strip() and not lines[j].startswith(("#", "```")):
                j += 1
            chunk = lines[i:j]
            kind = "table" if chunk[0].startswith("|") else \
                "list" if chunk[0].startswith("- ") else "para"
            yield kind, chunk
            i = j


def to_man(text, version):
    out = []
    for kind, ls in blocks(text):
        if kind == "head":
            level = len(ls[0]) - len(ls[0].lstrip("#"))
            title = ls[0].lstrip("#").strip()
            if level == 1:
                out.append(f'.TH RRVM 1 "" "rrvm {version}" "rrvm manual"')
            elif level == 2:
                out.append(".SH " + roff_escape(title))
            else:
                out.append(".SS " + roff_inline(title))
        elif kind == "code":
            out += [".PP", ".RS 4", ".nf"] + [roff_line(roff_escape(x)) for x in ls] + \
                [".fi", ".RE"]
        elif kind == "table":
            for cells in table_rows(ls):
                out += [".TP", roff_line(roff_inline(cells[0])),
                        roff_line(roff_inline(" ".join(cells[1:])))]
        elif kind == "list":
            for x in ls:
                out += [".IP \\(bu 2", roff_line(roff_inline(x[2:]))]
        else:
            out += [".PP"] + [roff_line(roff_inline(x)) for x in ls]
    return "\n".join(out) + "\n"


def to_readme_part(text):
    """The source without its title and NAME, headings one level down."""
    keep = []
    skipping = False
    for ln in text.split("\n"):
        if ln.startswith("# "):
            continue
        if ln.startswith("## "):
            skipping = ln.strip() == "## NAME"
            if skipping:
                continue
            ln = "### " + ln[3:].strip().capitalize()
        elif ln.startswith("### "):
            ln = "#" + ln
        if not skipping:
            keep.append(ln)
    return "\n".join(keep).strip("\n") + "\n"


def new_readme(readme, part):
    a, b = readme.find(BEGIN), readme.find(END)
    if a < 0 or b < a:
        raise SystemExit("gen_docs: README.md lacks the generated-part markers")
    return readme[:a] + BEGIN + "\n\n" + part + "\n" + readme[b:]


def main():
    check = "--check" in sys.argv[1:]
    with open(SRC) as f:
        text = f.read()
    with open(README) as f:
        readme = f.read()
    want = {MAN: to_man(text, project_version()), README: new_readme(readme, to_readme_part(text))}
    stale = []
    for path, content in want.items():
        try:
            with open(path) as f:
                have = f.read()
        except FileNotFoundError:
            have = None
        if have == content:
            continue
        stale.append(os.path.relpath(path, ROOT))
        if not check:
            with open(path, "w") as f:
                f.write(content)
    if check and stale:
        print("gen_docs: out of date with docs/rrvm.md: " + ", ".join(stale) +
              " (run python3 scripts/gen_docs.py)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
