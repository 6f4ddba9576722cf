"""What the real-gdb tests share: pass/fail counting and a free TCP port."""
import shutil
import socket

from kvmcheck import SKIP, kvm_status

results = {"passed": 0, "failed": 0}


def check(cond, what, out=""):
    """Counts COND; on failure says WHAT and shows the end of OUT."""
    results["passed" if cond else "failed"] += 1
    if not cond:
        print("FAIL:", what)
        print(out[-3000:])
    return cond


def summary():
    """Prints 'N passed, M failed'; the exit status."""
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


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
    if not shutil.which("gdb"):
        print("SKIP: no gdb")
        return SKIP
    return kvm_status()
