#!/usr/bin/env python3
"""Check a sample kernel's serial output and exit status against samples/manifest.txt.

    check_output.py MANIFEST NAME STATUS OUTPUT_FILE
        exit 0 if the output and status match one of NAME's outcomes, else print
        why each outcome failed (a line diff) and exit 1.  Exit 2 on usage errors.
    check_output.py --varying MANIFEST NAME OUTPUT_FILE
        print the run-dependent values ('?' lines) of the matching outcome, one per
        line, so two runs (or a recording and its replay) can be compared.
    check_output.py --info MANIFEST NAME
        print "append <text>" and "timeout <seconds>" for NAME.

The manifest format is documented at the top of samples/manifest.txt.  Python 3
standard library only.
"""
import re
import sys


class Outcome:
    def __init__(self, label, status):
        self.label = label
        self.status = status
        self.lines = []          # (kind, text, regex or None), kind in '=', '~', '?'


class Sample:
    def __init__(self, name):
        self.name = name
        self.append = ""
        self.timeout = 10.0
        self.outcomes = []


def parse_manifest(path):
    samples = {}
    cur = None
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            body = line.lstrip()
            if not body or body.startswith("#"):
                continue
            where = f"{path}:{lineno}"
            if body[0] in "=~?":
                if cur is None or not cur.outcomes:
                    raise ValueError(f"{where}: expected line outside an outcome")
                text = body[2:] if body[1:2] == " " else body[1:]
                rx = None
                if body[0] != "=":
                    try:
                        rx = re.compile(text)
                    except re.error as e:
                        raise ValueError(f"{where}: bad regex: {e}") from None
                cur.outcomes[-1].lines.append((body[0], text, rx))
                continue
            word, _, rest = body.partition(" ")
            if word == "sample":
                cur = Sample(rest.strip())
                samples[cur.name] = cur
            elif cur is None:
                raise ValueError(f"{where}: '{word}' before any 'sample'")
            elif word == "append":
                cur.append = rest.strip()
            elif word == "timeout":
                cur.timeout = float(rest)
            elif word == "outcome":
                parts = rest.split()
                if len(parts) != 2:
                    raise ValueError(f"{where}: want 'outcome <label> <status>'")
                cur.outcomes.append(Outcome(parts[0], int(parts[1], 0)))
            else:
                raise ValueError(f"{where}: unknown directive '{word}'")
    return samples


def split_output(data):
    text = data.decode("utf-8", errors="replace").replace("\r", "")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def line_matches(exp, line):
    kind, text, rx = exp
    if kind == "=":
        return line == text
    return rx.fullmatch(line) is not None


def match_outcome(outcome, status, lines):
    """Returns a list of problems; empty if the outcome matches."""
    problems = []
    if status is not None and status != outcome.status:
        problems.append(f"exit status {status}, expected {outcome.status}")
    n = max(len(lines), len(outcome.lines))
    for i in range(n):
        exp = outcome.lines[i] if i < len(outcome.lines) else None
        got = lines[i] if i < len(lines) else None
        if exp is not None and got is not None and line_matches(exp, got):
            continue
        want = f"{exp[0]} {exp[1]}" if exp else "(end of output)"
        have = repr(got) if got is not None else "(end of output)"
        problems.append(f"line {i + 1}: expected {want}\n         got      {have}")
    return problems


def varying_values(outcome, lines):
    values = []
    for exp, line in zip(outcome.lines, lines):
        if exp[0] == "?":
            m = exp[2].fullmatch(line)
            values.append(m.group(1) if m and m.groups() else line)
    return values


def load(manifest, name):
    try:
        samples = parse_manifest(manifest)
    except (OSError, ValueError) as e:
        print(f"check_output: {e}", file=sys.stderr)
        sys.exit(2)
    if name not in samples:
        print(f"check_output: no sample '{name}' in {manifest}", file=sys.stderr)
        sys.exit(2)
    return samples[name]


def read_output(path):
    try:
        with open(path, "rb") as f:
            return split_output(f.read())
    except OSError as e:
        print(f"check_output: {e}", file=sys.stderr)
        sys.exit(2)


def main(argv):
    if len(argv) == 3 and argv[0] == "--info":
        s = load(argv[1], argv[2])
        print(f"append {s.append}")
        print(f"timeout {s.timeout:g}")
        return 0
    if len(argv) == 4 and argv[0] == "--varying":
        s = load(argv[1], argv[2])
        lines = read_output(argv[3])
        for o in s.outcomes:
            if not match_outcome(o, None, lines):
                for v in varying_values(o, lines):
                    print(v)
                return 0
        print(f"check_output: output matches no outcome of '{s.name}'", file=sys.stderr)
        return 1
    if len(argv) != 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    manifest, name, status_s, path = argv
    s = load(manifest, name)
    try:
        status = int(status_s, 0)
    except ValueError:
        print(f"check_output: bad status '{status_s}'", file=sys.stderr)
        return 2
    lines = read_output(path)
    report = []
    for o in s.outcomes:
        problems = match_outcome(o, status, lines)
        if not problems:
            print(f"{name}: matches outcome '{o.label}' (status {status})")
            return 0
        report.append((o, problems))
    print(f"{name}: output (status {status}) matches no outcome")
    for o, problems in report:
        print(f"  outcome '{o.label}' (status {o.status}):")
        for p in problems:
            print(f"    {p}")
    print(f"  output was ({len(lines)} lines):")
    for line in lines:
        print(f"    | {line}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
