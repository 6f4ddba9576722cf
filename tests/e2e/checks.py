"""The pass/fail bookkeeping of the Python end-to-end tests: check() each
condition, then return summary() as the exit status."""
passed = failed = 0


def check(cond, what, out=""):
    """Counts COND; on failure prints WHAT and the tail of OUT.  Returns
    COND."""
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)
        if out:
            print(out[-3000:])
    return cond


def summary():
    """Prints 'N passed, M failed'; 0 when nothing failed, else 1."""
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0
