"""Recording a sample for the end-to-end tests that debug one."""
import re
import signal
import subprocess
import time

# race.elf's PANIC line: the link an interrupt overwrote (samples/manifest.txt).
RACE_PANIC = r"overwritten link: journal_pool\[(\d+)\]\.next -> journal_pool\[(\d+)\]"


def record(rrvm, kernel, trace, seconds=None):
    """Records KERNEL into TRACE (no serial input); with SECONDS, stops it
    with SIGINT after that long (the recording's length, not a wait for
    output).  Returns the finished process, its output as text."""
    p = subprocess.Popen([rrvm, "record", "--serial-in", "none", "-o", trace, kernel],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if seconds:
        time.sleep(seconds)
        p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def record_until(rrvm, kernel, trace, pattern, tries=10):
    """Records KERNEL into TRACE again and again, at most TRIES times, until
    its output matches PATTERN (a failure that shows in most recordings,
    not all): returns (the process, the match), the match None when no try
    showed it, which a test must count as a failure."""
    for _ in range(tries):
        rec = record(rrvm, kernel, trace)
        m = re.search(pattern, rec.stdout)
        if m:
            return rec, m
    return rec, None
