/* 8254 PIT: mode 0/2/3 counts at fake clock times, latch, lohi order,
 * read-back status, IRQ0 edges and deadlines, port 0x61, save/restore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/devices/pit8254.h"

static vclock_ns fake_now;
static unsigned irq_calls, irq_rises;
static bool irq_level;

static vclock_ns fake_clock(void *opaque)
{
	return fake_now;
}

static void fake_irq(void *opaque, unsigned line, bool level)
{
	assert_int_equal(line, 0);
	assert_int_not_equal(level, irq_level); /* only on changes */
	irq_level = level;
	irq_calls++;
	irq_rises += level;
}

/* Virtual time of tick K since time 0 (ticks are 838.1 ns). */
static vclock_ns tick_ns(uint64_t k)
{
	return (vclock_ns)((k * 1000000000ull + PIT_HZ - 1) / PIT_HZ);
}

static void setup(struct pit8254 *p)
{
	fake_now = 0;
	irq_calls = irq_rises = 0;
	irq_level = false;
	pit_init(p, fake_clock, NULL, fake_irq, NULL);
}

static void outb(struct pit8254 *p, uint16_t port, uint8_t v)
{
	if (port == 0x61)
		pit_ops.io[PIT_IO_PORT61].write(p, 0, 1, v);
	else
		pit_ops.io[PIT_IO_COUNTERS].write(p, (uint16_t)(port - 0x40), 1, v);
}

static uint8_t inb(struct pit8254 *p, uint16_t port)
{
	if (port == 0x61)
		return (uint8_t)pit_ops.io[PIT_IO_PORT61].read(p, 0, 1);
	return (uint8_t)pit_ops.io[PIT_IO_COUNTERS].read(p, (uint16_t)(port - 0x40), 1);
}

static uint16_t read16(struct pit8254 *p, uint16_t port)
{
	uint8_t lo = inb(p, port);

	return (uint16_t)(lo | inb(p, port) << 8);
}

static void program(struct pit8254 *p, unsigned ch, unsigned mode, uint16_t n)
{
	outb(p, 0x43, (uint8_t)(ch << 6 | 0x30 | mode << 1));
	outb(p, (uint16_t)(0x40 + ch), (uint8_t)n);
	outb(p, (uint16_t)(0x40 + ch), (uint8_t)(n >> 8));
}

static void test_mode0_count_and_out(void **state)
{
	struct pit8254 p;

	setup(&p);
	fake_now = 5000;
	program(&p, 0, 0, 1000);
	assert_false(irq_level);
	fake_now = 5000 + tick_ns(100); /* 100 ticks later */
	/* The load time's own fraction of a tick may add one. */
	uint16_t v = read16(&p, 0x40);
	assert_true(v == 900 || v == 899);
	fake_now = tick_ns(2000);
	pit_update(&p);
	assert_true(irq_level); /* terminal count reached */
	assert_int_equal(irq_rises, 1);
	/* The counter wraps past zero and keeps counting. */
	v = read16(&p, 0x40);
	assert_true(v > 0xf000);
	assert_int_equal(pit_next_deadline(&p), VCLOCK_NEVER);
}

static void test_mode2_periodic_irq(void **state)
{
	struct pit8254 p;
	const uint16_t n = 11932; /* ~100 Hz */

	setup(&p);
	program(&p, 0, 2, n);
	assert_true(irq_level); /* mode 2 OUT is high */
	assert_int_equal(read16(&p, 0x40), n);
	fake_now = tick_ns(10);
	assert_int_equal(read16(&p, 0x40), n - 10);
	assert_int_equal(pit_next_deadline(&p), tick_ns(n));
	fake_now = tick_ns(n) - 1;
	pit_update(&p);
	assert_false(irq_level); /* OUT low for the tick at count 1 */
	assert_int_equal(irq_rises, 1); /* no edge yet */
	fake_now = tick_ns(n);
	pit_update(&p);
	assert_int_equal(irq_rises, 2); /* falling then rising: one edge */
	assert_int_equal(read16(&p, 0x40), n); /* reloaded */
	assert_int_equal(pit_next_deadline(&p), tick_ns(2 * n));
	/* Ten periods missed: coalesced into one edge. */
	fake_now = tick_ns(12 * n + 5);
	pit_update(&p);
	assert_int_equal(irq_rises, 3);
	assert_int_equal(read16(&p, 0x40), n - 5);
	assert_int_equal(pit_next_deadline(&p), tick_ns(13 * n));
}

static void test_mode3_square_wave(void **state)
{
	struct pit8254 p;

	setup(&p);
	program(&p, 2, 3, 100);
	outb(&p, 0x61, 0x01); /* gate 2 on at t = 0 */
	assert_true(inb(&p, 0x61) & 0x20); /* OUT2 high first half */
	fake_now = tick_ns(10);
	assert_int_equal(read16(&p, 0x42), 80); /* runs down by 2 */
	fake_now = tick_ns(60);
	assert_false(inb(&p, 0x61) & 0x20); /* second half low */
	assert_int_equal(read16(&p, 0x42), 80);
	fake_now = tick_ns(100);
	assert_true(inb(&p, 0x61) & 0x20);
	/* Gate low forces OUT high and stops counting. */
	fake_now = tick_ns(160);
	outb(&p, 0x61, 0x00);
	assert_true(inb(&p, 0x61) & 0x20);
}

static void test_latch_holds_value(void **state)
{
	struct pit8254 p;

	setup(&p);
	program(&p, 0, 2, 50000);
	fake_now = tick_ns(1000);
	outb(&p, 0x43, 0x00); /* latch channel 0 */
	fake_now = tick_ns(3000);
	outb(&p, 0x43, 0x00); /* a second latch is ignored */
	assert_int_equal(read16(&p, 0x40), 49000);
	/* Latch released after both bytes: the live count is back. */
	assert_int_equal(read16(&p, 0x40), 47000);
}

static void test_access_modes(void **state)
{
	struct pit8254 p;

	setup(&p);
	outb(&p, 0x43, 0x94); /* ch2, LSB only, mode 2 */
	outb(&p, 0x42, 0x80);
	outb(&p, 0x61, 0x01);
	assert_int_equal(inb(&p, 0x42), 0x80);
	outb(&p, 0x43, 0xa4); /* ch2, MSB only, mode 2 */
	outb(&p, 0x42, 0x12);
	outb(&p, 0x61, 0x00);
	outb(&p, 0x61, 0x01); /* gate edge reloads */
	assert_int_equal(inb(&p, 0x42), 0x12);
	/* lohi reads: LSB first, then MSB. */
	program(&p, 2, 0, 0x1234);
	assert_int_equal(inb(&p, 0x42), 0x34);
	assert_int_equal(inb(&p, 0x42), 0x12);
}

static void test_readback_status(void **state)
{
	struct pit8254 p;

	setup(&p);
	outb(&p, 0x43, 0x34); /* ch0 lohi mode 2 */
	outb(&p, 0x43, 0xe2); /* read-back status of ch0 */
	/* OUT high, null count, rw=3, mode 2 */
	assert_int_equal(inb(&p, 0x40), 0x80 | 0x40 | 0x30 | 0x04);
	outb(&p, 0x40, 0x00);
	outb(&p, 0x40, 0x10); /* 0x1000 */
	fake_now = tick_ns(0x100);
	/* Status and count of channels 0 and 2 at once. */
	program(&p, 2, 0, 0x20);
	outb(&p, 0x43, 0xc0 | 0x02 | 0x08);
	assert_int_equal(inb(&p, 0x40), 0x34 | 0x80); /* count loaded */
	assert_int_equal(read16(&p, 0x40), 0x0f00);
	/* Channel 2, mode 0, gate low: OUT low, not counting. */
	assert_int_equal(inb(&p, 0x42), 0x30);
	assert_int_equal(read16(&p, 0x42), 0x20);
	/* Count only (bit 4 set means no status). */
	outb(&p, 0x43, 0xd2);
	assert_int_equal(read16(&p, 0x40), 0x0f00);
}

static void test_port61(void **state)
{
	struct pit8254 p;
	uint8_t a, b;

	setup(&p);
	outb(&p, 0x61, 0x03);
	a = inb(&p, 0x61);
	b = inb(&p, 0x61);
	assert_int_equal(a & 0x0f, 0x03);
	assert_int_equal((a ^ b) & 0x10, 0x10); /* refresh toggles */
	/* Linux's PIT calibration: ch2 mode 0 with the gate, poll OUT2. */
	outb(&p, 0x61, 0x01);
	program(&p, 2, 0, 1000);
	assert_false(inb(&p, 0x61) & 0x20);
	fake_now = tick_ns(999);
	assert_false(inb(&p, 0x61) & 0x20);
	fake_now = tick_ns(1001);
	assert_true(inb(&p, 0x61) & 0x20);
	/* Gate low pauses mode 0. */
	program(&p, 2, 0, 1000);
	fake_now += tick_ns(100);
	outb(&p, 0x61, 0x00);
	uint16_t v = read16(&p, 0x42);
	fake_now += tick_ns(500);
	assert_int_equal(read16(&p, 0x42), v);
}

static void test_save_restore_continue(void **state)
{
	struct pit8254 a, b;
	unsigned char blob[sizeof(struct pit8254_state)];
	const uint16_t n = 1193;

	assert_int_equal(pit_ops.state_size, sizeof(blob));
	setup(&a);
	program(&a, 0, 2, n);
	program(&a, 2, 3, 500);
	outb(&a, 0x61, 0x01);
	fake_now = tick_ns(n + 7);
	pit_update(&a);
	outb(&a, 0x43, 0x00); /* a pending latch is state too */
	assert_int_equal(inb(&a, 0x40), (n - 7) & 0xff); /* MSB pending */
	pit_ops.save(&a, blob);
	pit_init(&b, fake_clock, NULL, fake_irq, NULL);
	irq_level = true; /* b's init lowered nothing it had not raised */
	assert_int_equal(pit_ops.restore(&b, blob), 0);
	fake_now = tick_ns(5 * n);
	unsigned rises = irq_rises;
	for (struct pit8254 *x = &a; x; x = x == &a ? &b : NULL) {
		assert_int_equal(inb(x, 0x40), (n - 7) >> 8);
		assert_int_equal(pit_next_deadline(x), tick_ns(2 * n));
		assert_int_equal(read16(x, 0x40), n);
		assert_int_equal(read16(x, 0x42), 500 - 2 * ((5 * n) % 500 - 250));
		pit_update(x);
	}
	assert_int_equal(irq_rises, rises + 2);
	assert_memory_equal(&a.st, &b.st, sizeof(a.st));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode0_count_and_out),
		cmocka_unit_test(test_mode2_periodic_irq),
		cmocka_unit_test(test_mode3_square_wave),
		cmocka_unit_test(test_latch_holds_value),
		cmocka_unit_test(test_access_modes),
		cmocka_unit_test(test_readback_status),
		cmocka_unit_test(test_port61),
		cmocka_unit_test(test_save_restore_continue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
