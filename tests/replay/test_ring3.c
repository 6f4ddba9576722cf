/* The engine in guest ring 3, where this host may not follow it: on the
 * `usermode` sample, single steps into ring-3 code, and breakpoints on it,
 * either work (the host probe says single steps and breakpoints work in
 * ring 3: VT-x, AMD-V) or are refused with a message naming the host and
 * `rrvm doctor` (kvm_pvm), never answered wrongly.
 *
 *   test_ring3 KERNEL */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>

#include "replay/timeline.h"
#include "tests/replay/fixture.h"

/* Steps from sync point S until the guest is about to run ring-3 code or
 * a step fails; true when it stands in ring 3 or a step into it was
 * refused. */
static bool t_step_to_ring3(struct timeline *t, sync_seq s, int *err)
{
	struct tl_stop st;
	struct kvm_sregs sr;

	*err = tl_goto(t, (struct tl_pos){ s, 0 });
	for (int i = 0; *err == 0 && i < 3000 && tl_here(t).sync == s; i++) {
		if (tl_get_sregs(t, &sr) == 0 && sr.cs.dpl == 3)
			return true;
		*err = tl_step(t, false, &st);
	}
	return *err == -ENOTSUP;
}

int main(int argc, char **argv)
{
	static struct t_replay r;
	struct timeline *t = tl_new();
	struct tl_caps caps;
	struct t_env e;
	struct tl_stop st;
	uint64_t rip;
	int rc, err = 0;
	bool found = false;

	if (argc < 2) {
		fprintf(stderr, "usage: %s KERNEL\n", argv[0]);
		return 2;
	}
	if ((rc = t_setup(&e, argv[1])) != 0)
		return rc;
	if (t_record(&e) < 0 || t_session_open(&r, &e) < 0 || !t || tl_open(t, &r.s, r.rd) < 0)
		return 1;
	tl_caps(t, &caps);
	/* The tasks run in ring 3 between system calls and timer interrupts:
	 * some stretch after the middle of the trace returns there. */
	for (sync_seq s = 1; !found && s < tl_end_sync(t); s++)
		found = t_step_to_ring3(t, s, &err);
	CHECK(found, "no stretch of the recording reaches ring 3");
	if (caps.step_ring3) {
		CHECK(err == 0 && tl_step(t, false, &st) == 0,
		      "single steps in ring 3 work on this host: %s", tl_error(t));
		rip = rr_rip(&r.s);
	} else {
		/* Refused on the IRET that would return there: nothing ran. */
		CHECK(err == -ENOTSUP && strstr(tl_error(t), "returns to ring 3") &&
		      strstr(tl_error(t), "rrvm doctor"), "a step into ring 3 is refused, naming the "
		      "host: %d %s", err, tl_error(t));
		printf("refused: %s\n", tl_error(t));
		CHECK(tl_read_virt(t, machine_regs(&r.s.m)->rsp, &rip, 8) == 8, "the IRET frame");
	}
	err = tl_break_insert(t, rip);
	if (caps.break_ring3) {
		CHECK(err == 0, "breakpoints in ring 3 work on this host: %s", tl_error(t));
	} else {
		/* The page is user-accessible and ring 0 could run it (no
		 * SMEP): armed, with a warning that ring 3 will not hit it. */
		CHECK(err == 0 && tl_warned_user_bp(t), "a breakpoint on a user page is armed with a "
		      "warning: %d %s", err, tl_error(t));
	}
	tl_close(t);
	t_replay_close(&r);
	t_teardown(&e);
	printf("%s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
