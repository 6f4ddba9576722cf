"""What the real-gdb tests share: a free TCP port and the skip rule (and,
from checks.py, the pass/fail counting)."""
import socket

from checks import check, summary  # noqa: F401 (for the gdb tests)
from kvmcheck import kvm_status, tool_status


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
