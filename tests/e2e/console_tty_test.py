#!/usr/bin/env python3
"""`rrvm console` under a real terminal: tmux send-keys and capture-pane.

  console_tty_test.py RRVM SPIN_ELF RACE_ELF

1. the prompt shows; Tab completes a command (`wh` -> `when`) and a symbol
   (`break list_ins` -> `break list_insert`, on race).
2. a long operation (`goto end` on a few seconds' recording
   of the exit-heavy spin kernel) shows a progress bar, and Ctrl-C
   interrupts it with one `rrvm:` line, and
   the session goes on (`goto start`, `when`); Ctrl-C at the prompt drops
   the line typed so far.
3. quit leaves, and the history file holds the commands.
4. `rrvm replay TRACE >/dev/null` draws a progress bar and erases it.
5. through a pipe, Ctrl-C interrupts the command and ends with status 18.
Every wait polls the pane with a timeout.  Prints 'N passed, M failed';
77 without tmux or /dev/kvm.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from checks import check, summary
from kvmcheck import kvm_status, tool_status
from recording import record

rrvm, spin, race = sys.argv[1:4]
SOCK = f"rrvm-console-test-{os.getpid()}"
PROMPT = "(rrvm) "
RECORD_SECONDS = 4  # long enough that replaying it to the end takes seconds


def tmux(*args):
    return subprocess.run(["tmux", "-L", SOCK, *args], capture_output=True, text=True,
                          timeout=30)


def pane(name):
    return tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", name).stdout


def wait_for(name, pred, timeout=60):
    """Polls the pane until PRED(text) holds; the last text either way."""
    end = time.monotonic() + timeout
    while True:
        text = pane(name)
        if pred(text) or time.monotonic() > end:
            return text
        time.sleep(0.05)


def last_line(text):
    """The last line with text on it, without trailing blanks."""
    lines = text.rstrip("\n").split("\n")
    return lines[-1].rstrip() if lines else ""


def cursor_x(name):
    r = tmux("display-message", "-p", "-t", name, "#{cursor_x}")
    return int(r.stdout.strip() or -1)


def keys(name, *k):
    tmux("send-keys", "-t", name, *k)


def start(name, trace, hist):
    cmd = f"env RRVM_HISTORY={hist} {rrvm} console {trace}"
    r = tmux("new-session", "-d", "-s", name, "-x", "150", "-y", "50", cmd)
    check(r.returncode == 0, "tmux new-session", r.stderr)
    return wait_for(name, lambda t: last_line(t) == PROMPT.rstrip(), 120)


def recorded(kernel, trace, seconds=None):
    record(rrvm, kernel, trace, seconds)
    check(os.path.exists(trace), f"recorded {kernel}")


def t_race(d):
    trace, hist = os.path.join(d, "race.trace"), os.path.join(d, "hist.race")
    recorded(race, trace)
    text = start("race", trace, hist)
    check(PROMPT in text, "the prompt shows", text)
    keys("race", "wh", "Tab")
    text = wait_for("race", lambda t: last_line(t).startswith(PROMPT + "when"), 10)
    check(last_line(text).startswith(PROMPT + "when"), "Tab completes wh to when", text)
    keys("race", "Enter")
    text = wait_for("race", lambda t: "position 0:0" in t, 30)
    check("position 0:0 (sync point 0 of" in text, "when runs", text)
    keys("race", "break list_ins", "Tab")
    text = wait_for("race", lambda t: last_line(t).startswith(PROMPT + "break list_insert"), 10)
    check(last_line(text).startswith(PROMPT + "break list_insert"),
          "Tab completes a symbol after break", text)
    keys("race", "Enter")
    text = wait_for("race", lambda t: "breakpoint 1 at" in t, 30)
    check(re.search(r"breakpoint 1 at 0x[0-9a-f]+ <list_insert>", text),
          "break list_insert runs", text)
    keys("race", "quit", "Enter")


def t_spin(d):
    trace, hist = os.path.join(d, "spin.trace"), os.path.join(d, "hist.spin")
    recorded(spin, trace, RECORD_SECONDS)
    start("spin", trace, hist)
    keys("spin", "goto end", "Enter")
    # The operation has started once its progress bar shows (on stderr,
    # a terminal here).
    bar = r"^\[[#.]+\] +\d+% \d+/\d+ sync points$"
    text = wait_for("spin", lambda t: re.search(bar, last_line(t)) is not None, 10)
    check(re.search(bar, last_line(text)), "goto end shows a progress bar on the terminal", text)
    time.sleep(0.2)  # well inside the seconds a replay of RECORD_SECONDS of spin takes
    keys("spin", "C-c")
    text = wait_for("spin", lambda t: "interrupted" in t and last_line(t) == PROMPT.rstrip(),
                    30)
    check("rrvm: goto end: interrupted" in text, "Ctrl-C interrupts goto end, one rrvm: line",
          text)
    check(last_line(text) == PROMPT.rstrip(), "and the prompt comes back", text)
    after = text.split(PROMPT + "goto end")[-1]
    check(not re.search(r"^position \d+:\d+$", after, re.M),
          "the goto had not finished when Ctrl-C came", text)
    keys("spin", "goto start", "Enter")
    keys("spin", "when", "Enter")
    text = wait_for("spin", lambda t: "position 0:0 (sync point 0 of" in t, 60)
    check("position 0:0 (sync point 0 of" in text, "the session goes on after Ctrl-C", text)
    keys("spin", "some half-typed line")
    wait_for("spin", lambda t: "half-typed" in last_line(t), 10)
    keys("spin", "C-c")
    text = wait_for("spin", lambda t: last_line(t) == PROMPT.rstrip(), 10)
    check(last_line(text) == PROMPT.rstrip(), "Ctrl-C at the prompt drops the line", text)
    keys("spin", "quit", "Enter")
    end = time.monotonic() + 30
    while tmux("has-session", "-t", "spin").returncode == 0 and time.monotonic() < end:
        time.sleep(0.05)
    check(tmux("has-session", "-t", "spin").returncode != 0, "quit leaves the console")
    try:
        with open(hist) as f:
            h = f.read()
    except OSError:
        h = ""
    check("goto end" in h and "when" in h and "half-typed" not in h,
          "the history file holds the commands run", h)


def t_script_sigint(d):
    """Without a terminal, Ctrl-C interrupts the command and ends the script
    with status 18."""
    p = subprocess.Popen([rrvm, "console", os.path.join(d, "spin.trace")],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    p.stdin.write("when\n")
    p.stdin.flush()
    first = p.stdout.readline()  # the console is up, its Ctrl-C handler too
    p.stdin.write("goto end\nwhen\n")
    p.stdin.flush()
    time.sleep(0.2)  # well inside the seconds the goto takes
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    check(first.startswith("position 0:0") and p.returncode == 18 and
          err.startswith("rrvm: goto end: interrupted") and
          len(err.splitlines()) == 1 and "position" not in out,
          f"Ctrl-C ends a piped script with status 18, not {p.returncode}", out + err)


def t_replay_bar(d):
    """rrvm replay draws its bar on a terminal when the serial output goes
    elsewhere, and erases it at the end."""
    trace = os.path.join(d, "spin.trace")
    r = tmux("new-session", "-d", "-s", "bar", "-x", "150", "-y", "20",
             f"{rrvm} replay {trace} >/dev/null; echo replay-status $?; sleep 60")
    check(r.returncode == 0, "tmux new-session for replay", r.stderr)
    bar = re.compile(r"\[[#.]{40}\] +\d+% \d+/\d+ sync points")
    text = wait_for("bar", lambda t: bar.search(t) or "replay-status" in t, 60)
    check(bar.search(text), "replay shows a progress bar on a terminal", text)
    text = wait_for("bar", lambda t: "replay-status" in t, 120)
    check("replay-status 0" in text and "rrvm: replay matched" in text and
          not bar.search(text), "the bar is gone when replay ends", text)


def main():
    if (status := tool_status("tmux") or kvm_status()) is not None:
        return status
    with tempfile.TemporaryDirectory() as d:
        try:
            t_race(d)
            t_spin(d)
            t_replay_bar(d)
            t_script_sigint(d)
        finally:
            tmux("kill-server")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
