"""One rule for every test that needs /dev/kvm, or a tool that
scripts/setup.sh installs (gdb, tmux, groff, man, QEMU): skip (77) when it
is missing, except under RRVM_REQUIRE_KVM=1 (CI, after setup), where that is
a failure."""
import os
import shutil

SKIP = 77


def required():
    """True under CI, where nothing may be skipped for want of a tool."""
    return os.environ.get("RRVM_REQUIRE_KVM") == "1"


def tool_status(name):
    """None when NAME is on PATH, else the exit status to return, after
    saying why in one line."""
    if shutil.which(name):
        return None
    if required():
        print(f"FAIL: {name} is missing and RRVM_REQUIRE_KVM=1 (scripts/setup.sh installs it)")
        return 1
    print(f"SKIP: no {name}")
    return SKIP


def kvm_status():
    """None when /dev/kvm is usable, else the exit status to return, after
    saying why in one line."""
    if os.access("/dev/kvm", os.R_OK | os.W_OK):
        return None
    if required():
        print("FAIL: /dev/kvm is not usable and RRVM_REQUIRE_KVM=1")
        return 1
    print("SKIP: /dev/kvm is not usable")
    return SKIP
