"""Recording a sample for the end-to-end tests that debug one."""
import signal
import subprocess
import time


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
