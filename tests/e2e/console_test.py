#!/usr/bin/env python3
"""`rrvm console` driven through a pipe on a recording of the race sample.

  console_test.py RRVM RACE_ELF DOCS_MD

1. break list_insert, continue twice, rcontinue: back at the first hit.
2. the bug hunt: continue to the end, watch the link the panic names,
   rcontinue: stops in list_insert, after the store of the pointer the panic
   names.
3. regs, x, disas (AT&T, and Intel by option), events, goto #EVENT, info,
   help (the commands documented in docs/rrvm.md, no more, no fewer).
4. errors: one `rrvm:` line each, the script goes on, status 28; --script.
Nothing on stderr when all went well: no prompt and no progress bar
without a terminal (nor from `rrvm replay`).  Prints 'N passed, M failed'; 77 without /dev/kvm.
"""
import os
import re
import subprocess
import sys
import tempfile

from checks import check, summary
from kvmcheck import kvm_status
from recording import RACE_PANIC, record_until

rrvm, elf, docs = sys.argv[1:4]
RECORD_SIZE = 32  # samples/race/race.c: struct record, `next` at offset 0


def console(trace, script, *opts):
    # Checkpoints by sync point: the same in every run of the test.
    p = subprocess.run([rrvm, "console", "--checkpoint-every", "256", *opts, trace],
                       input=script, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def doc_commands():
    with open(docs) as f:
        text = f.read()
    table = text.split("| command | what it does |", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^\| `(\w+)", table, re.M)


def t_breakpoints(trace):
    st, out, err = console(trace, "break list_insert\ncontinue\ncontinue\nrcontinue\nwhen\n")
    check(st == 0 and err == "", f"breakpoints: status {st}, stderr {err!r}", out)
    check(re.search(r"^breakpoint 1 at 0x[0-9a-f]+ <list_insert>$", out, re.M),
          "break list_insert names the symbol", out)
    hits = re.findall(r"^breakpoint 1, 0x[0-9a-f]+ <list_insert>, position (\d+:\d+)$", out,
                      re.M)
    check(len(hits) == 3 and hits[0] == hits[2] and hits[1] != hits[0],
          f"continue, continue, rcontinue: back at the first hit: {hits}", out)
    check(re.search(r"^=> 0x[0-9a-f]+ <list_insert>:\t", out, re.M),
          "each stop shows the instruction at rip", out)
    when = re.findall(r"^position (\d+:\d+) \(sync point \d+ of \d+\)$", out, re.M)
    check(hits and when == [hits[0]], f"when says where rcontinue stopped: {when}", out)


def t_hunt(trace, rec_out):
    m = re.search(RACE_PANIC, rec_out)
    if not check(m, "the race panicked (the hunt needs it)", rec_out):
        return
    p, n = int(m.group(1)), int(m.group(2))
    st, out, err = console(trace, f"continue\nwatch journal_pool+{p * RECORD_SIZE} 8\n"
                                  "rcontinue\nregs\n")
    check(st == 0 and err == "", f"hunt: status {st}, stderr {err!r}", out)
    check(re.search(r"^end of the trace, position \d+:0$", out, re.M),
          "continue runs to the end of the trace", out)
    w = re.search(r"^watchpoint 1: 8 bytes at (0x[0-9a-f]+) written: old (0x[0-9a-f]+|0), "
                  r"new (0x[0-9a-f]+), position \d+:\d+$", out, re.M)
    check(w, "rcontinue stops at the watched write", out)
    if w:
        pool = int(w.group(1), 16) - p * RECORD_SIZE
        check(int(w.group(3), 16) == pool + n * RECORD_SIZE,
              f"it stored journal_pool[{n}], the record the panic names", out)
    check(re.search(r"^=> 0x[0-9a-f]+ <list_insert\+\d+>:", out, re.M),
          "the culprit store is in list_insert", out)
    check(re.search(r"^rip +0x[0-9a-f]+ <list_insert\+\d+>$", out, re.M),
          "regs shows rip in list_insert", out)


def t_views(trace):
    # disas decodes in the CPU's mode where it stands: the first event may be
    # a landmark in the 32-bit boot code, so look at list_insert from the end.
    st, out, err = console(trace, "goto #0\nx journal_pool 20\nevents 4\ngoto end\n"
                                  "disas list_insert 3\ninfo\nhelp\nhelp watch\n")
    check(st == 0 and err == "", f"views: status {st}, stderr {err!r}", out)
    check(re.search(r"^position \d+:0$", out, re.M), "goto #0 lands on S:0", out)
    check(len(re.findall(r"^0x[0-9a-f]{8}:( [0-9a-f]{2})+$", out, re.M)) == 2,
          "x journal_pool 20: two lines of bytes", out)
    check(len(re.findall(r"^   0x[0-9a-f]+ <list_insert(\+\d+)?>:\t\w+", out, re.M)) == 3 and
          "pushq\t%rbp" in out, "disas list_insert 3: three AT&T instructions", out)
    ev = re.findall(r"^  #(\d+) +\d+ rip=0x", out, re.M)
    check(len(ev) >= 2 and "  --- position " in out, f"events 4: events around a marker {ev}",
          out)
    check(re.search(r"^symbols: +\S+race\.elf \(\d+ functions\)$", out, re.M),
          "info names the symbol file", out)
    helped = [c for c in re.findall(r"^  (\w+) +", out, re.M) if c in doc_commands()]
    check(sorted(set(helped)) == sorted(doc_commands()),
          f"help lists the documented commands: {sorted(set(helped))} vs {doc_commands()}",
          out)
    check(re.search(r"^watch ADDR\|SYMBOL LEN\n  write watchpoint", out, re.M),
          "help watch", out)
    st, out, err = console(trace, "goto end\ndisas list_insert 1\n", "--syntax", "intel")
    check(st == 0 and re.search(r"<list_insert>:\tpush\trbp$", out, re.M),
          "--syntax intel", out + err)


def t_events(trace):
    """`events` and `goto #I` number the events as `rrvm dump` lists them."""
    dump = subprocess.run([rrvm, "dump", trace], capture_output=True, text=True,
                          timeout=60).stdout.splitlines()
    i = min(300, len(dump) - 2)
    sync = dump[i].split()[0]
    st, out, err = console(trace, f"goto #{i}\nevents 6\n")
    check(st == 0 and re.search(rf"^position {sync}:0$", out, re.M),
          f"goto #{i} lands on {sync}:0, the sync point of dump line {i}", out + err)
    shown = re.findall(r"^  #(\d+) +(.*)$", out, re.M)
    check(len(shown) == 6 and all(dump[int(k)] == line for k, line in shown),
          "each event shown as #K is line K of rrvm dump", out)
    before = [int(k) for k, _ in shown[:3]]
    check(i in before, f"event #{i} was consumed at {sync}:0: before the marker", out)


def t_errors(trace, d):
    script = "bogus\nbreak no_such_symbol\ngoto 99999999\nstep 0\nwhen\n"
    st, out, err = console(trace, script)
    lines = err.splitlines()
    check(st == 28, f"a failed command makes a script exit 28, not {st}", err)
    check(len(lines) == 4 and all(x.startswith("rrvm: ") for x in lines),
          "one rrvm: line per failed command", err)
    check(len(lines) == 4 and "'bogus'" in lines[0] and "no_such_symbol" in lines[1] and
          "99999999" in lines[2] and "past the end" in lines[2],
          "the lines name the command, the symbol and the position", err)
    check(re.search(r"^position 0:0 ", out, re.M), "the script goes on after errors", out)
    path = os.path.join(d, "cmds")
    with open(path, "w") as f:
        f.write("# a comment\n\nwhen\nquit\nwhen\n")
    p = subprocess.run([rrvm, "console", "-x", path, trace], capture_output=True, text=True,
                       timeout=120)
    check(p.returncode == 0 and p.stdout.count("position 0:0") == 1 and not p.stderr,
          "--script FILE: comments skipped, quit ends it", p.stdout + p.stderr)
    p = subprocess.run([rrvm, "console", "-x", os.path.join(d, "none"), trace],
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 22 and p.stderr.startswith("rrvm: ") and "none" in p.stderr,
          "a missing script: status 22 naming it", p.stderr)
    p = subprocess.run([rrvm, "console", os.path.join(d, "missing.trace")], capture_output=True,
                       text=True, timeout=60, stdin=subprocess.DEVNULL)
    check(p.returncode == 20 and len(p.stderr.splitlines()) == 1 and
          "missing.trace" in p.stderr, "a missing trace: status 20, one line naming it",
          p.stderr)


def t_no_bar(trace):
    """No progress bar when stderr is not a terminal."""
    p = subprocess.run([rrvm, "replay", trace], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    check(p.returncode == 0 and len(p.stderr.splitlines()) == 1 and
          p.stderr.startswith("rrvm: replay matched") and "\r" not in p.stderr,
          "replay with stderr on a pipe: its one line, no progress bar", p.stderr)


def main():
    if (status := kvm_status()) is not None:
        return status
    with tempfile.TemporaryDirectory() as d:
        trace = os.path.join(d, "race.trace")
        rec, _ = record_until(rrvm, elf, trace, RACE_PANIC)
        check(os.path.exists(trace), "recorded race", rec.stderr)
        t_no_bar(trace)
        t_breakpoints(trace)
        t_hunt(trace, rec.stdout)
        t_views(trace)
        t_events(trace)
        t_errors(trace, d)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
