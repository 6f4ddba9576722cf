/* MC146818 RTC: BCD/binary, 12-hour mode, date rollover and leap day, UIP
 * window, register C clear-on-read and IRQ8, SET bit, memory sizes, and
 * save -> restore -> continue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "vmm/devices/cmos_rtc.h"

#define SEC 1000000000ull

static vclock_ns fake_now;
static unsigned irq_calls;
static bool irq_level;

static vclock_ns fake_clock(void *opaque)
{
	return fake_now;
}

static void fake_irq(void *opaque, unsigned line, bool level)
{
	assert_int_equal(line, 8);
	assert_int_not_equal(level, irq_level);
	irq_level = level;
	irq_calls++;
}

/* 2026-12-31 23:59:59 UTC */
#define NYE_2026 1798761599ll
/* 2024-02-28 23:59:59 UTC */
#define LEAP_EVE_2024 1709164799ll

static void setup(struct cmos_rtc *r, int64_t epoch)
{
	fake_now = 0;
	irq_calls = 0;
	irq_level = false;
	rtc_init(r, epoch, 256ull << 20, fake_clock, NULL, fake_irq, NULL);
}

static uint8_t rd(struct cmos_rtc *r, uint8_t idx)
{
	rtc_ops.io[0].write(r, 0, 1, idx);
	return (uint8_t)rtc_ops.io[0].read(r, 1, 1);
}

static void wr(struct cmos_rtc *r, uint8_t idx, uint8_t v)
{
	rtc_ops.io[0].write(r, 0, 1, idx);
	rtc_ops.io[0].write(r, 1, 1, v);
}

static void test_bcd_rollover(void **state)
{
	struct cmos_rtc r;

	setup(&r, NYE_2026);
	assert_int_equal(rd(&r, 0x00), 0x59);
	assert_int_equal(rd(&r, 0x02), 0x59);
	assert_int_equal(rd(&r, 0x04), 0x23);
	assert_int_equal(rd(&r, 0x07), 0x31);
	assert_int_equal(rd(&r, 0x08), 0x12);
	assert_int_equal(rd(&r, 0x09), 0x26);
	assert_int_equal(rd(&r, 0x32), 0x20);
	assert_int_equal(rd(&r, 0x06), 5); /* Thursday */
	fake_now = SEC;
	assert_int_equal(rd(&r, 0x00), 0x00);
	assert_int_equal(rd(&r, 0x04), 0x00);
	assert_int_equal(rd(&r, 0x07), 0x01);
	assert_int_equal(rd(&r, 0x08), 0x01);
	assert_int_equal(rd(&r, 0x09), 0x27);
	assert_int_equal(rd(&r, 0x06), 6); /* Friday */
}

static void test_leap_day_binary(void **state)
{
	struct cmos_rtc r;

	setup(&r, LEAP_EVE_2024);
	wr(&r, 0x0b, 0x06); /* binary, 24h */
	fake_now = SEC;
	assert_int_equal(rd(&r, 0x08), 2);
	assert_int_equal(rd(&r, 0x07), 29);
	assert_int_equal(rd(&r, 0x09), 24);
	assert_int_equal(rd(&r, 0x32), 20);
	fake_now = SEC + 86400 * SEC;
	assert_int_equal(rd(&r, 0x08), 3);
	assert_int_equal(rd(&r, 0x07), 1);
}

static void test_12h_mode(void **state)
{
	struct cmos_rtc r;

	setup(&r, NYE_2026);
	wr(&r, 0x0b, 0x00); /* BCD, 12h */
	assert_int_equal(rd(&r, 0x04), 0x80 | 0x11); /* 11 PM */
	fake_now = SEC;
	assert_int_equal(rd(&r, 0x04), 0x12); /* midnight is 12 AM */
	fake_now = SEC + 12 * 3600 * SEC;
	assert_int_equal(rd(&r, 0x04), 0x80 | 0x12); /* noon is 12 PM */
	fake_now = SEC + 13 * 3600 * SEC;
	assert_int_equal(rd(&r, 0x04), 0x80 | 0x01);
}

static void test_uip_window(void **state)
{
	struct cmos_rtc r;

	setup(&r, NYE_2026);
	fake_now = 5 * SEC - 244001;
	assert_false(rd(&r, 0x0a) & 0x80);
	fake_now = 5 * SEC - 244000;
	assert_true(rd(&r, 0x0a) & 0x80);
	fake_now = 5 * SEC - 1;
	assert_true(rd(&r, 0x0a) & 0x80);
	fake_now = 5 * SEC;
	assert_false(rd(&r, 0x0a) & 0x80);
	assert_int_equal(rd(&r, 0x0a), 0x26);
	assert_int_equal(rd(&r, 0x0d), 0x80);
	/* SET halts updates: no UIP. */
	wr(&r, 0x0b, 0x82);
	fake_now = 6 * SEC - 1000;
	assert_false(rd(&r, 0x0a) & 0x80);
}

static void test_register_c_and_irq(void **state)
{
	struct cmos_rtc r;

	setup(&r, NYE_2026);
	assert_int_equal(rtc_next_deadline(&r), VCLOCK_NEVER);
	/* The update flag is set even with UIE off; no IRQ. */
	fake_now = SEC + 10;
	/* UF, PF (1024 Hz), and AF: the zeroed alarm matches midnight. */
	assert_int_equal(rd(&r, 0x0c), 0x10 | 0x20 | 0x40);
	assert_int_equal(rd(&r, 0x0c), 0x00);        /* cleared on read */
	assert_int_equal(irq_calls, 0);
	/* Update-ended interrupt. */
	wr(&r, 0x0b, 0x12);
	assert_int_equal(rtc_next_deadline(&r), 2 * SEC);
	fake_now = 2 * SEC;
	rtc_update(&r);
	assert_true(irq_level);
	assert_int_equal(rtc_next_deadline(&r), VCLOCK_NEVER);
	fake_now = 2 * SEC + 5;
	rtc_update(&r);
	assert_int_equal(irq_calls, 1); /* stays high until C is read */
	assert_int_equal(rd(&r, 0x0c) & 0x90, 0x90);
	assert_false(irq_level);
	/* Periodic interrupt at RS=15: 2 Hz. */
	wr(&r, 0x0b, 0x42);
	wr(&r, 0x0a, 0x2f);
	assert_int_equal(rtc_next_deadline(&r), 2 * SEC + SEC / 2);
	fake_now = 2 * SEC + SEC / 2;
	rtc_update(&r);
	assert_true(irq_level);
	assert_int_equal(rd(&r, 0x0c), 0xc0);
	/* Alarm: hour and minute don't care, second 0x05. */
	wr(&r, 0x0b, 0x22);
	wr(&r, 0x01, 0x05);
	wr(&r, 0x03, 0xc0);
	wr(&r, 0x05, 0xff);
	fake_now = 4 * SEC;
	rtc_update(&r);
	assert_false(irq_level); /* it is 00:00:03 */
	fake_now = 6 * SEC;
	rtc_update(&r);
	assert_true(irq_level); /* 00:00:05 */
	assert_int_equal(rd(&r, 0x0c) & 0xa0, 0xa0);
}

static void test_set_bit(void **state)
{
	struct cmos_rtc r;

	setup(&r, NYE_2026);
	wr(&r, 0x0b, 0x82 | 0x10); /* SET (UIE gets cleared) */
	assert_int_equal(rd(&r, 0x0b), 0x82);
	wr(&r, 0x09, 0x30);
	wr(&r, 0x08, 0x06);
	wr(&r, 0x07, 0x15);
	wr(&r, 0x04, 0x08);
	wr(&r, 0x02, 0x30);
	wr(&r, 0x00, 0x00);
	fake_now = 10 * SEC;
	assert_int_equal(rd(&r, 0x00), 0x00); /* halted */
	assert_int_equal(rd(&r, 0x0c) & 0x10, 0); /* no update while SET */
	wr(&r, 0x0b, 0x02);
	assert_int_equal(rtc_epoch_now(&r), 1907742600ll); /* 2030-06-15 08:30 */
	fake_now = 13 * SEC;
	assert_int_equal(rd(&r, 0x00), 0x03);
	assert_int_equal(rd(&r, 0x09), 0x30);
	/* A write while running also sets the time. */
	wr(&r, 0x02, 0x45);
	fake_now = 14 * SEC;
	assert_int_equal(rd(&r, 0x02), 0x45);
	assert_int_equal(rd(&r, 0x00), 0x04);
}

static void test_memory_and_nmi(void **state)
{
	struct cmos_rtc r;

	rtc_init(&r, 0, 32ull << 20, fake_clock, NULL, fake_irq, NULL);
	assert_int_equal(rd(&r, 0x15) | rd(&r, 0x16) << 8, 640);
	assert_int_equal(rd(&r, 0x17) | rd(&r, 0x18) << 8, 31 * 1024);
	assert_int_equal(rd(&r, 0x30) | rd(&r, 0x31) << 8, 31 * 1024);
	assert_int_equal(rd(&r, 0x34) | rd(&r, 0x35) << 8, 16 * 16);
	rtc_init(&r, 0, 4096ull << 20, fake_clock, NULL, fake_irq, NULL);
	assert_int_equal(rd(&r, 0x17) | rd(&r, 0x18) << 8, 0xffff); /* capped */
	assert_int_equal(rd(&r, 0x34) | rd(&r, 0x35) << 8, 0xff00);
	/* NMI disable bit is not part of the index. */
	wr(&r, 0x40, 0x77);
	assert_int_equal(rd(&r, 0xc0), 0x77);
	assert_true(r.st.nmi_disabled);
	assert_int_equal(rtc_ops.io[0].read(&r, 0, 1), 0xff);
}

static void test_save_restore_continue(void **state)
{
	struct cmos_rtc a, b;
	unsigned char blob[sizeof(struct cmos_rtc_state)];

	assert_int_equal(rtc_ops.state_size, sizeof(blob));
	setup(&a, NYE_2026);
	wr(&a, 0x0b, 0x52); /* PIE, UIE */
	wr(&a, 0x0a, 0x2e); /* 4 Hz */
	fake_now = SEC / 3;
	rtc_update(&a);
	assert_true(irq_level);
	rd(&a, 0x0c);
	rtc_ops.io[0].write(&a, 0, 1, 0x00);
	rtc_ops.save(&a, blob);
	rtc_init(&b, 0, 0, fake_clock, NULL, fake_irq, NULL);
	assert_int_equal(rtc_ops.restore(&b, blob), 0);
	unsigned calls = irq_calls;
	for (struct cmos_rtc *x = &a; x; x = x == &a ? &b : NULL) {
		fake_now = SEC / 3;
		assert_int_equal(rtc_next_deadline(x), SEC / 2);
		fake_now = SEC + 1;
		/* Index 0 still selected: seconds have rolled over. */
		assert_int_equal(rtc_ops.io[0].read(x, 1, 1), 0x00);
		assert_int_equal(rd(x, 0x09), 0x27);
		assert_int_equal(rd(x, 0x0c), 0xf0); /* IRQF PF AF UF */
	}
	assert_int_equal(irq_calls, calls + 4);
	assert_memory_equal(&a.st, &b.st, sizeof(a.st));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bcd_rollover),
		cmocka_unit_test(test_leap_day_binary),
		cmocka_unit_test(test_12h_mode),
		cmocka_unit_test(test_uip_window),
		cmocka_unit_test(test_register_c_and_irq),
		cmocka_unit_test(test_set_bit),
		cmocka_unit_test(test_memory_and_nmi),
		cmocka_unit_test(test_save_restore_continue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
