#!/usr/bin/env python3
"""The real gdb against `rrvm gdb` over TCP, on a recording of the endless
`spin` test kernel (a few seconds: long enough to interrupt a continue).

  gdb_tcp_test.py RRVM SPIN_ELF

1. `continue` with no breakpoint, then SIGINT to gdb (gdb sends 0x03): the
   continue stops promptly with SIGINT, before the end of the recording,
   and the session goes on (monitor when, stepi).
2. a second debugger connecting meanwhile is refused (closed without a
   byte) with a warning on rrvm's stderr, and the first is unaffected.
3. after the first detaches, the next connection finds the same position.
4. SIGINT to rrvm ends it with status 0; `--listen 0.0.0.0` warns.
Prints 'N passed, M failed'; 77 skips without gdb or /dev/kvm.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

from gdb_util import check, free_port, skip_status, summary
from recording import record

rrvm, spin = sys.argv[1:3]
RECORD_SECONDS = 4.0  # replays in about as long here; the interrupt comes at 1.5 s


def record_spin(trace):
    p = record(rrvm, spin, trace, RECORD_SECONDS)
    return p.returncode == 18, p.stderr


def start_server(trace, errpath, *opts):
    """rrvm gdb on a free port; returns (process, port) once it listens."""
    port = free_port()
    err = open(errpath, "w")
    srv = subprocess.Popen([rrvm, "gdb", "--port", str(port), *opts, trace],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    err.close()
    for _ in range(300):
        if "waiting for gdb on port" in open(errpath).read() or srv.poll() is not None:
            break
        time.sleep(0.05)
    return srv, port


def stop_server(srv, errpath, what):
    srv.send_signal(signal.SIGINT)
    try:
        rc = srv.wait(timeout=20)
    except subprocess.TimeoutExpired:
        srv.kill()
        rc = None
    err = open(errpath).read()
    check(rc == 0, f"{what}: SIGINT ends rrvm gdb with status 0 (got {rc})", err)
    return err


def gdb_cmd(port, *cmds):
    args = ["gdb", "-batch", "-nx", "-ex", "set pagination off",
            "-ex", f"target remote 127.0.0.1:{port}"]
    for c in cmds:
        args += ["-ex", c]
    return args


def second_connection_refused(port):
    """A second debugger gets EOF without a byte."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"+$qSupported#37")
        try:
            data = s.recv(64)
        except ConnectionResetError:
            data = b""
    return data


def interrupt_and_reconnect(trace, d):
    errpath = os.path.join(d, "gdb.err")
    srv, port = start_server(trace, errpath)
    if not check(srv.poll() is None, "rrvm gdb listens", open(errpath).read()):
        return
    try:
        g = subprocess.Popen(gdb_cmd(port, "continue", "monitor when", "stepi", "monitor when"),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        time.sleep(1.5)  # "continue" is replaying now
        check(second_connection_refused(port) == b"",
              "a second debugger is closed without a reply")
        t0 = time.monotonic()
        g.send_signal(signal.SIGINT)
        out, _ = g.communicate(timeout=60)
        took = time.monotonic() - t0
        check(re.search(r"^Program received signal SIGINT, Interrupt\.", out, re.M),
              "Ctrl-C stops the continue with SIGINT", out)
        whens = re.findall(r"^position (\d+):(\d+) \(sync point \d+ of (\d+)\)$", out, re.M)
        check(len(whens) == 2 and int(whens[0][0]) < int(whens[0][2]) and
              whens[0] != whens[1], f"stopped before the end, then stepped: {whens}", out)
        check(took < 10, f"the interrupt took {took:.1f} s", out)
        check("[Inferior 1 (Remote target) detached]" in out, "gdb detached at the end", out)
        out2 = subprocess.run(gdb_cmd(port, "monitor when"), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=60).stdout
        w2 = re.findall(r"^position (\d+):(\d+) ", out2, re.M)
        check(whens and w2 == [whens[-1][:2]],
              f"the next debugger finds the same position: {w2} after {whens}", out2)
    finally:
        err = stop_server(srv, errpath, "tcp")
    check(re.search(r"^rrvm: warn: refused a second debugger connection$", err, re.M),
          "the refused connection is logged", err)


def listen_warning(trace, d):
    errpath = os.path.join(d, "listen.err")
    srv, port = start_server(trace, errpath, "--listen", "0.0.0.0")
    err = stop_server(srv, errpath, "--listen")
    check(re.search(r"^rrvm: warn: gdb stub listening on 0\.0\.0\.0: anyone who can reach "
                    r"it", err, re.M) and f"waiting for gdb on port {port}" in err,
          "--listen 0.0.0.0 binds with a warning", err)


def main():
    if (status := skip_status()) is not None:
        return status
    with tempfile.TemporaryDirectory() as d:
        trace = os.path.join(d, "spin.trace")
        ok, err = record_spin(trace)
        if not check(ok, "recording spin, stopped by SIGINT", err):
            return 1
        interrupt_and_reconnect(trace, d)
        listen_warning(trace, d)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
