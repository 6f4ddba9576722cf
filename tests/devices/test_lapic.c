/* Local APIC: priority logic (IRR/ISR/TPR/PPR, CR8), EOI and its broadcast,
 * SVR and the LVT masks, ESR, self-IPIs, LINT pins, IA32_APIC_BASE, and the
 * timer (divide values, one-shot and periodic, armed and disarmed, masked),
 * each with save -> restore -> continue. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/devices/lapic.h"

static vclock_ns fake_now;
static unsigned clock_reads;
static int eoi_vector;
static unsigned eoi_calls;

static vclock_ns fake_clock(void *opaque)
{
	(void)opaque;
	clock_reads++;
	return fake_now;
}

static void fake_eoi(void *opaque, uint8_t vector)
{
	(void)opaque;
	eoi_vector = vector;
	eoi_calls++;
}

static void setup(struct lapic *l)
{
	fake_now = 0;
	clock_reads = eoi_calls = 0;
	eoi_vector = -1;
	lapic_init(l, fake_clock, NULL, fake_eoi, NULL);
}

static uint32_t rd(struct lapic *l, uint16_t off)
{
	return lapic_ops.mmio_read(l, off, 4);
}

static void wr(struct lapic *l, uint16_t off, uint32_t v)
{
	lapic_ops.mmio_write(l, off, 4, v);
}

static void enable(struct lapic *l)
{
	wr(l, 0xf0, 0x1ff); /* SVR: software enable, spurious vector 0xff */
}

/* Save -> restore into a fresh APIC (callbacks from init, state from the
 * blob): the copy must behave exactly like the original from here on. */
static void clone(const struct lapic *from, struct lapic *to)
{
	uint8_t blob[sizeof(struct lapic_state)];

	assert_int_equal(lapic_ops.state_size, sizeof(blob));
	lapic_ops.save(from, blob);
	lapic_init(to, fake_clock, NULL, fake_eoi, NULL);
	assert_int_equal(lapic_ops.restore(to, blob), 0);
}

static void test_power_on(void **state)
{
	struct lapic l;

	(void)state;
	setup(&l);
	assert_int_equal(lapic_get_base(&l), 0xfee00900u); /* base | enable | BSP */
	assert_int_equal(rd(&l, 0x30), 0x00050014);        /* version 0x14, 6 LVTs */
	assert_int_equal(rd(&l, 0xf0), 0xff);              /* software-disabled */
	assert_int_equal(rd(&l, 0xe0), 0xffffffffu);
	for (uint16_t off = 0x320; off <= 0x370; off += 0x10)
		assert_int_equal(rd(&l, off), 0x10000);
	/* Software-disabled: nothing is accepted, an LVT cannot be unmasked. */
	lapic_accept(&l, 0x40, false);
	assert_int_equal(lapic_pending(&l), -1);
	wr(&l, 0x350, 0x700);
	assert_int_equal(rd(&l, 0x350), 0x10700);
	assert_false(lapic_lint0_extint(&l));
	lapic_bios_handoff(&l);
	assert_true(lapic_lint0_extint(&l));
	assert_int_equal(rd(&l, 0x360), 0x400);
	assert_int_equal(rd(&l, 0xf0), 0x1ff);
}

static void test_priority(void **state)
{
	struct lapic l, c;

	(void)state;
	setup(&l);
	enable(&l);
	lapic_accept(&l, 0x31, false);
	lapic_accept(&l, 0x52, false);
	lapic_accept(&l, 0x45, false);
	assert_int_equal(rd(&l, 0x200 + 0x10 * (0x52 / 32)) >> (0x52 % 32) & 1, 1);
	assert_int_equal(lapic_pending(&l), 0x52);
	/* TPR class 5 blocks 0x52 (class 5 is not above 5), lets nothing through. */
	wr(&l, 0x80, 0x50);
	assert_int_equal(lapic_ppr(&l), 0x50);
	assert_int_equal(lapic_pending(&l), -1);
	/* CR8 is TPR[7:4]: CR8 = 4 lets class 5 in, not class 4. */
	lapic_set_cr8(&l, 4);
	assert_int_equal(rd(&l, 0x80), 0x40);
	assert_int_equal(lapic_get_cr8(&l), 4);
	assert_int_equal(lapic_intack(&l), 0x52);
	/* In service 0x52: PPR is its class, 0x45 must wait. */
	assert_int_equal(lapic_ppr(&l), 0x50);
	assert_int_equal(rd(&l, 0xa0), 0x50);
	assert_int_equal(lapic_pending(&l), -1);
	/* Save here, continue both. */
	clone(&l, &c);
	for (struct lapic *p = &l; p; p = p == &l ? &c : NULL) {
		wr(p, 0xb0, 0); /* EOI 0x52 */
		assert_int_equal(lapic_ppr(p), 0x40);
		assert_int_equal(lapic_pending(p), -1); /* class 4 is not above TPR 0x40 */
		lapic_set_cr8(p, 0);
		assert_int_equal(lapic_intack(p), 0x45);
		lapic_accept(p, 0x90, false); /* a higher class nests */
		assert_int_equal(lapic_intack(p), 0x90);
		assert_int_equal(lapic_ppr(p), 0x90);
		wr(p, 0xb0, 0); /* EOI ends the highest in service: 0x90 */
		assert_int_equal(lapic_ppr(p), 0x40);
		wr(p, 0xb0, 0);
		assert_int_equal(lapic_intack(p), 0x31);
		wr(p, 0xb0, 0);
		assert_int_equal(lapic_pending(p), -1);
		assert_int_equal(lapic_intack(p), 0xff); /* spurious */
		assert_int_equal(rd(p, 0x100 + 0x10 * (0xff / 32)), 0);
	}
	assert_int_equal(eoi_calls, 0); /* all edge-triggered */
}

static void test_level_eoi_broadcast(void **state)
{
	struct lapic l;

	(void)state;
	setup(&l);
	enable(&l);
	lapic_accept(&l, 0x61, true);
	lapic_accept(&l, 0x62, false);
	assert_int_equal(rd(&l, 0x180 + 0x10 * 3) >> 1 & 3, 1); /* TMR: 0x61 only */
	assert_int_equal(lapic_intack(&l), 0x62);
	wr(&l, 0xb0, 0);
	assert_int_equal(eoi_calls, 0);
	assert_int_equal(lapic_intack(&l), 0x61);
	wr(&l, 0xb0, 0);
	assert_int_equal(eoi_calls, 1);
	assert_int_equal(eoi_vector, 0x61);
}

static void test_illegal_vectors_and_esr(void **state)
{
	struct lapic l, c;

	(void)state;
	setup(&l);
	enable(&l);
	wr(&l, 0x370, 0xfe); /* error LVT unmasked, vector 0xfe */
	lapic_accept(&l, 0x0f, false);
	assert_int_equal(lapic_pending(&l), 0xfe);
	assert_int_equal(rd(&l, 0x280), 0); /* not latched until ESR is written */
	clone(&l, &c);
	for (struct lapic *p = &l; p; p = p == &l ? &c : NULL) {
		wr(p, 0x280, 0);
		assert_int_equal(rd(p, 0x280), 0x40); /* receive illegal vector */
		wr(p, 0x300, 0x40005); /* self-IPI of vector 5 */
		rd(p, 0x3f0);          /* reserved register */
		wr(p, 0x280, 0);
		assert_int_equal(rd(p, 0x280), 0xa0); /* send illegal + illegal register */
		wr(p, 0x280, 0);
		assert_int_equal(rd(p, 0x280), 0);
	}
}

static void test_self_ipi_and_lint(void **state)
{
	struct lapic l;

	(void)state;
	setup(&l);
	enable(&l);
	wr(&l, 0x300, 0x40000 | 0x77); /* shorthand self, fixed */
	assert_int_equal(rd(&l, 0x300), 0x40077); /* delivery status 0: sent */
	assert_int_equal(lapic_intack(&l), 0x77);
	wr(&l, 0xb0, 0);
	wr(&l, 0x300, 0xc0000 | 0x78); /* all excluding self: no one */
	assert_int_equal(lapic_pending(&l), -1);
	wr(&l, 0x310, 0x01000000);     /* to APIC ID 1: not us */
	wr(&l, 0x300, 0x79);
	assert_int_equal(lapic_pending(&l), -1);
	wr(&l, 0x310, 0);              /* to APIC ID 0: us */
	wr(&l, 0x300, 0x7a);
	assert_int_equal(lapic_intack(&l), 0x7a);
	wr(&l, 0xb0, 0);
	/* LINT1 as NMI: an edge, not a level. */
	wr(&l, 0x360, 0x400);
	lapic_set_lint(&l, 1, true);
	lapic_set_lint(&l, 1, true);
	assert_true(lapic_nmi_take(&l));
	assert_false(lapic_nmi_take(&l));
	/* LINT0 in fixed mode delivers its vector. */
	wr(&l, 0x350, 0x33);
	assert_false(lapic_lint0_extint(&l));
	lapic_set_lint(&l, 0, true);
	assert_int_equal(lapic_pending(&l), 0x33);
	/* Software disable sets every mask. */
	wr(&l, 0xf0, 0xff);
	assert_int_equal(rd(&l, 0x350) & 0x10000, 0x10000);
	assert_int_equal(lapic_pending(&l), -1);
}

static void test_logical_destination(void **state)
{
	struct lapic l;

	(void)state;
	setup(&l);
	wr(&l, 0xd0, 0x02000000); /* LDR: bit 1 */
	assert_true(lapic_match(&l, 0x02, true));
	assert_true(lapic_match(&l, 0x03, true));
	assert_false(lapic_match(&l, 0x04, true));
	assert_true(lapic_match(&l, 0xff, true));
	wr(&l, 0xe0, 0x0fffffff); /* cluster model */
	wr(&l, 0xd0, 0x31000000); /* cluster 3, member bit 0 */
	assert_int_equal(rd(&l, 0xe0), 0x0fffffff);
	assert_true(lapic_match(&l, 0x31, true));
	assert_false(lapic_match(&l, 0x21, true));
	assert_true(lapic_match(&l, 0x00, false)); /* physical ID 0 */
	assert_false(lapic_match(&l, 0x01, false));
}

static void test_apic_base(void **state)
{
	struct lapic l;

	(void)state;
	setup(&l);
	enable(&l);
	lapic_accept(&l, 0x40, false);
	assert_int_equal(lapic_set_base(&l, 0xfed00900u), -EOPNOTSUPP); /* relocation */
	assert_int_equal(lapic_set_base(&l, 0xfee00d00u), -EINVAL);     /* x2APIC */
	assert_int_equal(lapic_set_base(&l, 0xfee00901u), -EINVAL);     /* reserved */
	assert_int_equal(lapic_set_base(&l, 0xfee00000u), 0);           /* disable */
	assert_false(lapic_enabled(&l));
	assert_int_equal(lapic_get_base(&l), 0xfee00100u); /* BSP stays */
	assert_int_equal(rd(&l, 0x20), 0xffffffffu);       /* not decoded */
	assert_true(lapic_lint0_extint(&l));               /* LINT0 is INTR */
	assert_int_equal(lapic_set_base(&l, 0xfee00800u), 0);
	assert_true(lapic_enabled(&l));
	assert_int_equal(rd(&l, 0xf0), 0xff); /* back in its power-on state */
	assert_int_equal(lapic_pending(&l), -1);
}

/* ---- timer ---- */

static void arm(struct lapic *l, uint32_t lvt, uint32_t dcr, uint32_t initial)
{
	wr(l, 0x3e0, dcr);
	wr(l, 0x320, lvt);
	wr(l, 0x380, initial);
}

static void test_timer_divide_values(void **state)
{
	/* DCR bits 3,1,0 -> divider. */
	static const struct { uint32_t dcr, div; } t[] = {
		{ 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
		{ 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 },
	};
	struct lapic l;

	(void)state;
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		setup(&l);
		enable(&l);
		fake_now = 1000;
		arm(&l, 0x20040, t[i].dcr, 100); /* periodic, vector 0x40 */
		assert_int_equal(rd(&l, 0x3e0), t[i].dcr);
		/* 1 GHz bus clock: a count lasts DIV ns. */
		assert_int_equal(lapic_next_deadline(&l), 1000 + 100 * t[i].div);
		fake_now = 1000 + 10 * t[i].div;
		assert_int_equal(rd(&l, 0x390), 90);
		fake_now = 1000 + 10 * t[i].div + t[i].div - 1;
		assert_int_equal(rd(&l, 0x390), 90);
	}
}

static void test_timer_one_shot(void **state)
{
	struct lapic l, c;

	(void)state;
	setup(&l);
	enable(&l);
	arm(&l, 0x41, 0xb, 500); /* one-shot, divide by 1 */
	assert_int_equal(rd(&l, 0x380), 500);
	assert_int_equal(lapic_next_deadline(&l), 500);
	fake_now = 200;
	assert_int_equal(rd(&l, 0x390), 300);
	clone(&l, &c);
	for (struct lapic *p = &l; p; p = p == &l ? &c : NULL) {
		fake_now = 499;
		lapic_update(p);
		assert_int_equal(lapic_pending(p), -1);
		fake_now = 700; /* late: fires once, then stays at 0 */
		assert_int_equal(lapic_next_deadline(p), 500);
		lapic_update(p);
		assert_int_equal(lapic_pending(p), 0x41);
		assert_int_equal(rd(p, 0x390), 0);
		assert_int_equal(lapic_next_deadline(p), VCLOCK_NEVER);
		assert_int_equal(lapic_intack(p), 0x41);
		wr(p, 0xb0, 0);
		fake_now = 5000;
		lapic_update(p);
		assert_int_equal(lapic_pending(p), -1);
	}
}

static void test_timer_periodic_coalesces(void **state)
{
	struct lapic l, c;

	(void)state;
	setup(&l);
	enable(&l);
	fake_now = 10;
	arm(&l, 0x20042, 0x0, 50); /* periodic, divide by 2: period 100 ns */
	assert_int_equal(lapic_next_deadline(&l), 110);
	fake_now = 110;
	lapic_update(&l);
	assert_int_equal(lapic_intack(&l), 0x42);
	wr(&l, 0xb0, 0);
	assert_int_equal(lapic_next_deadline(&l), 210);
	assert_int_equal(rd(&l, 0x390), 50); /* reloaded */
	clone(&l, &c);
	for (struct lapic *p = &l; p; p = p == &l ? &c : NULL) {
		fake_now = 545; /* three periods due: one interrupt */
		lapic_update(p);
		assert_int_equal(lapic_intack(p), 0x42);
		assert_int_equal(lapic_pending(p), -1);
		assert_int_equal(lapic_next_deadline(p), 610);
		assert_int_equal(rd(p, 0x390), 50 - 35 / 2);
		wr(p, 0xb0, 0);
	}
}

static void test_timer_disarm_mask_and_divide_change(void **state)
{
	struct lapic l, c;

	(void)state;
	setup(&l);
	enable(&l);
	arm(&l, 0x20043, 0xb, 1000);
	fake_now = 400;
	wr(&l, 0x3e0, 0x0); /* divide by 2 from here: 600 counts left take 1200 ns */
	assert_int_equal(rd(&l, 0x390), 600);
	assert_int_equal(lapic_next_deadline(&l), 1600);
	clone(&l, &c);
	for (struct lapic *p = &l; p; p = p == &l ? &c : NULL) {
		fake_now = 1000;
		assert_int_equal(rd(p, 0x390), 300);
		/* Masked: the count runs on, no interrupt, no deadline. */
		wr(p, 0x320, 0x30043);
		assert_int_equal(lapic_next_deadline(p), VCLOCK_NEVER);
		fake_now = 1700;
		assert_int_equal(rd(p, 0x390), 1000 - 50);
		assert_int_equal(lapic_pending(p), -1);
		/* Unmasked again: the next period's expiry is at 1600 + 2000. */
		wr(p, 0x320, 0x20043);
		assert_int_equal(lapic_next_deadline(p), 3600);
		/* Disarmed by an initial count of 0. */
		wr(p, 0x380, 0);
		assert_int_equal(rd(p, 0x390), 0);
		assert_int_equal(lapic_next_deadline(p), VCLOCK_NEVER);
		fake_now = 10000;
		lapic_update(p);
		assert_int_equal(lapic_pending(p), -1);
	}
}

static void test_timer_idle_reads_no_clock(void **state)
{
	struct lapic l;

	(void)state;
	setup(&l);
	enable(&l);
	wr(&l, 0xb0, 0);
	rd(&l, 0x390);
	rd(&l, 0x80);
	/* A stopped timer needs no time: no clock read is logged. */
	assert_int_equal(clock_reads, 0);
}

static void test_restore_rejects_garbage(void **state)
{
	struct lapic l;
	struct lapic_state st;

	(void)state;
	setup(&l);
	memset(&st, 0, sizeof(st));
	st.timer_running = true; /* running with no count */
	assert_int_equal(lapic_ops.restore(&l, &st), -EINVAL);
	st.timer_running = false;
	st.apic_base = 0xfee00d00u;
	assert_int_equal(lapic_ops.restore(&l, &st), -EINVAL);
	assert_int_equal(lapic_get_base(&l), 0xfee00900u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_power_on),
		cmocka_unit_test(test_priority),
		cmocka_unit_test(test_level_eoi_broadcast),
		cmocka_unit_test(test_illegal_vectors_and_esr),
		cmocka_unit_test(test_self_ipi_and_lint),
		cmocka_unit_test(test_logical_destination),
		cmocka_unit_test(test_apic_base),
		cmocka_unit_test(test_timer_divide_values),
		cmocka_unit_test(test_timer_one_shot),
		cmocka_unit_test(test_timer_periodic_coalesces),
		cmocka_unit_test(test_timer_disarm_mask_and_divide_change),
		cmocka_unit_test(test_timer_idle_reads_no_clock),
		cmocka_unit_test(test_restore_rejects_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
