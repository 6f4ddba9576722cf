"""One rule for every test that needs /dev/kvm: skip (77) when it is not
usable, except under RRVM_REQUIRE_KVM=1 (CI), where that is a failure."""
import os

SKIP = 77


def kvm_status():
    """None when /dev/kvm is usable, else the exit status to return, after
    saying why in one line."""
    if os.access("/dev/kvm", os.R_OK | os.W_OK):
        return None
    if os.environ.get("RRVM_REQUIRE_KVM") == "1":
        print("FAIL: /dev/kvm is not usable and RRVM_REQUIRE_KVM=1")
        return 1
    print("SKIP: /dev/kvm is not usable")
    return SKIP
