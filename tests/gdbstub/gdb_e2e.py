#!/usr/bin/env python3
"""The real gdb against the GDB stub serving the TEST-ONLY fake target.

    gdb_e2e.py FAKE_TARGET_SERVER

Proves that gdb accepts our target description (core, sse, segments and the
custom control-register feature), the reverse packets, the replaylog stop
reason, watchpoint stop replies, monitor commands, refused writes, and that
Ctrl-C (SIGINT to gdb → 0x03) reaches a running resume over TCP.
Exit 0 on success, 1 on a failed check, 77 when gdb is not installed.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from gdb_util import free_port  # noqa: E402
from kvmcheck import tool_status  # noqa: E402

GDB = shutil.which("gdb")


def run_gdb(args, timeout=60):
    cmd = [GDB, "-batch", "-nx"] + args
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout, text=True)
    return p.stdout


def check(out, patterns, what):
    """Each pattern must match, in order."""
    pos = 0
    ok = True
    for pat in patterns:
        m = re.compile(pat, re.M).search(out, pos)
        if not m:
            print(f"FAIL [{what}]: no match for /{pat}/ after offset {pos}")
            ok = False
            continue
        print(f"ok   [{what}] {m.group(0).strip()}")
        pos = m.end()
    if not ok:
        print("---- gdb output ----\n" + out + "--------------------")
    return ok


def stdio_session(server):
    ex = [
        f"target remote | {server} --stdio",
        "info registers rip",
        "x/4xb 0x1000",
        "stepi",
        "info registers rip",
        "reverse-stepi",
        "reverse-stepi",
        "info registers cr3",
        "p/x $cr0",
        "p/x $efer",
        "p/x $fs_base",
        "p $xmm0.uint128",
        "info threads",
        "break *0x1005",
        "continue",
        "reverse-continue",
        "delete",
        "watch *(char *)0x3003",
        "continue",
        "delete",
        "x/1xb 0x20000",
        "set var $rax = 5",
        "monitor when",
        "continue",
    ]
    args = []
    for e in ex:
        args += ["-ex", e]
    out = run_gdb(args)
    return check(out, [
        r"^0x0000000000001000 in \?\? \(\)",
        r"^rip\s+0x1000\s",
        r"^0x1000:\s+0x90\s+0x90\s+0x90\s+0x90",
        r"^0x0000000000001001 in \?\? \(\)",
        r"^rip\s+0x1001\s",
        r"^0x0000000000001000 in \?\? \(\)",
        r"^No more reverse-execution history\.",
        r"^cr3\s+0x4000\s",
        r"^\$1 = 0x80000011",
        r"^\$2 = 0x500",
        r"^\$3 = 0x7000",
        r"^\$4 = 0",
        r"^\* 1\s+Thread 1 ",
        r"^\s+2\s+Thread 2 ",
        r"hit Breakpoint 1, 0x0000000000001005",
        r"^No more reverse-execution history\.",
        r"^Hardware watchpoint 2: \*\(char \*\)0x3003",
        r"hit Hardware watchpoint 2",
        r"^New value = 3 '\\003'",
        r"Cannot access memory at address 0x20000",
        r"Could not write register \"rax\"; remote failure reply 'E30'",
        r"^position 4 of 64",
        r"^No more reverse-execution history\.",  # replaylog:end forwards
    ], "stdio")


def tcp_interrupt(server):
    port = free_port()
    srv = subprocess.Popen([server, "--port", str(port), "--spin"],
                           stderr=subprocess.PIPE, text=True)
    try:
        line = srv.stderr.readline()  # "listening on port N": bound
        if "listening" not in line:
            print(f"FAIL [tcp]: server said {line!r}")
            return False
        gdb = subprocess.Popen(
            [GDB, "-batch", "-nx", "-ex", f"target remote 127.0.0.1:{port}",
             "-ex", "continue", "-ex", "info registers rip"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(1.5)  # let "continue" start spinning
        gdb.send_signal(signal.SIGINT)
        out, _ = gdb.communicate(timeout=30)
        ok = check(out, [
            r"received signal SIGINT, Interrupt\.",
            r"^rip\s+0x1000\s",
            r"detached",
        ], "tcp ctrl-c")
        # The server survives the detach, ready for the next debugger.
        out2 = run_gdb(["-ex", f"target remote 127.0.0.1:{port}",
                        "-ex", "info registers cr4"])
        ok &= check(out2, [r"^cr4\s+0x20\s"], "tcp reconnect")
        return ok
    finally:
        srv.send_signal(signal.SIGINT)  # gdb_server_stop from a handler
        try:
            srv.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.kill()
            print("FAIL [tcp]: server ignored SIGINT")
            return False


def main():
    if (status := tool_status("gdb")) is not None:
        return status
    server = os.path.abspath(sys.argv[1])
    ok = stdio_session(server)
    ok &= tcp_interrupt(server)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
