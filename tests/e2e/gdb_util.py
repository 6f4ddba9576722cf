"""What the real-gdb tests share: a batch gdb session over `rrvm gdb
--stdio`, a free TCP port and the skip rule (and, from checks.py, the
pass/fail counting)."""
import socket
import subprocess

from checks import check, summary  # noqa: F401 (for the gdb tests)
from kvmcheck import kvm_status, tool_status


def gdb_batch(rrvm, trace, elf, *cmds, timeout=300, remotetimeout=None):
    """gdb -batch on ELF against a replay of TRACE, running CMDS; returns
    what it printed (stdout, then stderr, where rrvm's reasons go).
    Checkpoints by sync point: the same in every run of a test.
    REMOTETIMEOUT: seconds gdb waits for one reply (its default is 2)."""
    args = ["gdb", "-batch", "-nx", "-ex", "set pagination off"]
    if remotetimeout:
        args += ["-ex", f"set remotetimeout {remotetimeout}"]
    args += ["-ex", f"target remote | {rrvm} gdb --stdio --checkpoint-every 256 {trace}"]
    for c in cmds:
        args += ["-ex", c]
    p = subprocess.run(args + [elf], capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    return p.stdout + p.stderr


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def skip_status():
    """None when gdb and /dev/kvm are usable, else the exit status to
    return, after saying why."""
    return tool_status("gdb") or kvm_status()
