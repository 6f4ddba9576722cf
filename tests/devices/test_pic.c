/* 8259A pair against the datasheet: init, priority, nesting, EOI kinds,
 * AEOI, masking, spurious IR7/IR15, IRR/ISR reads, poll, rotation, cascade,
 * and save -> restore -> continue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/devices/pic8259.h"

static void outb(struct pic_pair *p, uint16_t port, uint8_t v)
{
	if (port >= 0xa0)
		pic_ops.io[PIC_IO_SLAVE].write(p, (uint16_t)(port - 0xa0), 1, v);
	else
		pic_ops.io[PIC_IO_MASTER].write(p, (uint16_t)(port - 0x20), 1, v);
}

static uint8_t inb(struct pic_pair *p, uint16_t port)
{
	if (port >= 0xa0)
		return (uint8_t)pic_ops.io[PIC_IO_SLAVE].read(p, (uint16_t)(port - 0xa0), 1);
	return (uint8_t)pic_ops.io[PIC_IO_MASTER].read(p, (uint16_t)(port - 0x20), 1);
}

/* Linux's init_8259A: master at 0x30, slave at 0x38, cascade on IR2. */
static void init_pair(struct pic_pair *p, uint8_t icw4)
{
	pic_init(p);
	outb(p, 0x20, 0x11); /* ICW1: edge, cascade, ICW4 needed */
	outb(p, 0x21, 0x30); /* ICW2: vector base */
	outb(p, 0x21, 0x04); /* ICW3: slave on IR2 */
	outb(p, 0x21, icw4); /* ICW4: 8086 mode (+AEOI) */
	outb(p, 0xa0, 0x11);
	outb(p, 0xa1, 0x38);
	outb(p, 0xa1, 0x02); /* slave id 2 */
	outb(p, 0xa1, icw4 & 0x01);
	outb(p, 0x21, 0x00);
	outb(p, 0xa1, 0x00);
}

static void pulse(struct pic_pair *p, unsigned line)
{
	pic_set_irq(p, line, true);
	pic_set_irq(p, line, false);
	pic_set_irq(p, line, true);
}

static void test_init_sequence(void **state)
{
	struct pic_pair p;

	pic_init(&p);
	assert_int_equal(inb(&p, 0x21), 0xff); /* power-on: all masked */
	pic_set_irq(&p, 1, true);
	assert_false(pic_intr_pending(&p));
	init_pair(&p, 0x01);
	assert_int_equal(inb(&p, 0x21), 0x00); /* ICW1 cleared IMR, OCW1 wrote 0 */
	/* The edge sense was reset by ICW1: a line already high is no request. */
	assert_false(pic_intr_pending(&p));
	pic_set_irq(&p, 1, false);
	pic_set_irq(&p, 1, true);
	assert_true(pic_intr_pending(&p));
	assert_int_equal(pic_intack(&p), 0x31);
	/* OCW1 round-trips through port 0x21/0xa1. */
	outb(&p, 0x21, 0xa5);
	outb(&p, 0xa1, 0x5a);
	assert_int_equal(inb(&p, 0x21), 0xa5);
	assert_int_equal(inb(&p, 0xa1), 0x5a);
}

static void test_priority_and_nesting(void **state)
{
	struct pic_pair p;

	init_pair(&p, 0x01);
	pic_set_irq(&p, 5, true);
	pic_set_irq(&p, 3, true);
	assert_int_equal(pic_intack(&p), 0x33); /* IR3 outranks IR5 */
	/* IR5 is lower priority than IR3 in service: no INTR. */
	assert_false(pic_intr_pending(&p));
	/* IR1 outranks IR3 in service: it nests. */
	pic_set_irq(&p, 1, true);
	assert_true(pic_intr_pending(&p));
	assert_int_equal(pic_intack(&p), 0x31);
	outb(&p, 0x20, 0x0b); /* OCW3: read ISR */
	assert_int_equal(inb(&p, 0x20), 0x0a);
	outb(&p, 0x20, 0x20); /* non-specific EOI clears the highest: IR1 */
	assert_int_equal(inb(&p, 0x20), 0x08);
	assert_false(pic_intr_pending(&p));
	outb(&p, 0x20, 0x20); /* IR3 */
	assert_int_equal(inb(&p, 0x20), 0x00);
	assert_int_equal(pic_intack(&p), 0x35);
}

static void test_specific_eoi_and_irr_read(void **state)
{
	struct pic_pair p;

	init_pair(&p, 0x01);
	pic_set_irq(&p, 4, true);
	pic_set_irq(&p, 6, true);
	outb(&p, 0x20, 0x0a); /* OCW3: read IRR */
	assert_int_equal(inb(&p, 0x20), 0x50);
	assert_int_equal(pic_intack(&p), 0x34);
	assert_int_equal(inb(&p, 0x20), 0x40); /* IR4 left IRR (edge mode) */
	outb(&p, 0x21, 0x40);                 /* mask IR6 */
	pic_set_irq(&p, 0, true);
	assert_int_equal(pic_intack(&p), 0x30);
	outb(&p, 0x20, 0x0b);
	assert_int_equal(inb(&p, 0x20), 0x11);
	outb(&p, 0x20, 0x64); /* specific EOI for IR4, not the highest */
	assert_int_equal(inb(&p, 0x20), 0x01);
	outb(&p, 0x20, 0x60); /* specific EOI IR0 */
	assert_int_equal(inb(&p, 0x20), 0x00);
	assert_false(pic_intr_pending(&p)); /* IR6 masked */
	outb(&p, 0x21, 0x00);
	assert_int_equal(pic_intack(&p), 0x36);
}

static void test_aeoi(void **state)
{
	struct pic_pair p;

	init_pair(&p, 0x03); /* ICW4: 8086 + AEOI */
	pic_set_irq(&p, 4, true);
	assert_int_equal(pic_intack(&p), 0x34);
	outb(&p, 0x20, 0x0b);
	assert_int_equal(inb(&p, 0x20), 0x00); /* no ISR bit kept */
	pulse(&p, 6);
	assert_true(pic_intr_pending(&p)); /* lower priority not blocked */
	assert_int_equal(pic_intack(&p), 0x36);
}

static void test_spurious_irq7(void **state)
{
	struct pic_pair p;

	init_pair(&p, 0x01);
	pic_set_irq(&p, 4, true);
	assert_true(pic_intr_pending(&p));
	pic_set_irq(&p, 4, false); /* withdrawn before INTA */
	assert_int_equal(pic_intack(&p), 0x37);
	outb(&p, 0x20, 0x0b);
	assert_int_equal(inb(&p, 0x20), 0x00); /* no ISR bit for spurious */
}

static void test_spurious_irq15(void **state)
{
	struct pic_pair p;

	init_pair(&p, 0x01);
	pic_set_irq(&p, 10, true);
	assert_true(pic_intr_pending(&p));
	/* Master IR2 latched the slave's edge; now mask the slave request so
	 * the slave has nothing to give when the INTA arrives. */
	outb(&p, 0xa1, 0x04);
	pic_set_irq(&p, 10, false);
	/* The cascade line fell too, so build the race by hand: the master
	 * sees IR2 and the slave has no request. */
	p.chip[0].irr |= 0x04;
	assert_int_equal(pic_intack(&p), 0x3f);
	outb(&p, 0xa0, 0x0b);
	assert_int_equal(inb(&p, 0xa0), 0x00);
	outb(&p, 0x20, 0x0b);
	assert_int_equal(inb(&p, 0x20), 0x04); /* master IR2 in service */
}

static void test_cascade_vectors(void **state)
{
	struct pic_pair p;

	init_pair(&p, 0x01);
	pic_set_irq(&p, 12, true);
	pic_set_irq(&p, 3, true);
	/* Slave IR4 (IRQ12) comes through master IR2, which outranks IR3. */
	assert_int_equal(pic_intack(&p), 0x3c);
	outb(&p, 0x20, 0x0b);
	outb(&p, 0xa0, 0x0b);
	assert_int_equal(inb(&p, 0x20), 0x04);
	assert_int_equal(inb(&p, 0xa0), 0x10);
	assert_false(pic_intr_pending(&p)); /* IR3 below IR2 in service */
	outb(&p, 0xa0, 0x20);
	outb(&p, 0x20, 0x20);
	assert_int_equal(pic_intack(&p), 0x33);
	/* IRQ8 and IRQ15 map onto the slave base. */
	outb(&p, 0x20, 0x20);
	pic_set_irq(&p, 8, true);
	assert_int_equal(pic_intack(&p), 0x38);
	outb(&p, 0xa0, 0x20);
	outb(&p, 0x20, 0x20);
	pic_set_irq(&p, 15, true);
	assert_int_equal(pic_intack(&p), 0x3f);
	assert_int_equal(inb(&p, 0xa0), 0x80); /* real IR15: ISR bit set */
}

static void test_masking_and_level(void **state)
{
	struct pic_pair p;

	init_pair(&p, 0x01);
	outb(&p, 0x21, 0x01);
	pic_set_irq(&p, 0, true);
	assert_false(pic_intr_pending(&p));
	outb(&p, 0x21, 0x00);
	assert_true(pic_intr_pending(&p)); /* IRR kept while masked */
	assert_int_equal(pic_intack(&p), 0x30);
	outb(&p, 0x20, 0x20);
	/* Edge mode: a line held high requests once. */
	assert_false(pic_intr_pending(&p));
	/* Level mode through ELCR (IRQ5): requests while high. */
	pic_ops.io[PIC_IO_ELCR].write(&p, 0, 1, 0x20);
	assert_int_equal(pic_ops.io[PIC_IO_ELCR].read(&p, 0, 1), 0x20);
	pic_ops.io[PIC_IO_ELCR].write(&p, 0, 1, 0x07); /* IRQ0-2 are edge-only */
	assert_int_equal(pic_ops.io[PIC_IO_ELCR].read(&p, 0, 1), 0x00);
	pic_ops.io[PIC_IO_ELCR].write(&p, 0, 1, 0x20);
	pic_set_irq(&p, 5, true);
	assert_int_equal(pic_intack(&p), 0x35);
	outb(&p, 0x20, 0x20);
	assert_true(pic_intr_pending(&p));
	assert_int_equal(pic_intack(&p), 0x35);
}

static void test_poll(void **state)
{
	struct pic_pair p;

	init_pair(&p, 0x01);
	outb(&p, 0x20, 0x0c); /* OCW3 poll */
	assert_int_equal(inb(&p, 0x20), 0x00);
	pic_set_irq(&p, 6, true);
	pic_set_irq(&p, 5, true);
	outb(&p, 0x20, 0x0c);
	assert_int_equal(inb(&p, 0x20), 0x85); /* I=1, W=5 */
	outb(&p, 0x20, 0x0b);
	assert_int_equal(inb(&p, 0x20), 0x20); /* polled level in service */
	outb(&p, 0x20, 0x0a);
	assert_int_equal(inb(&p, 0x20), 0x40); /* next read is plain IRR */
}

static void test_rotation(void **state)
{
	struct pic_pair p;

	init_pair(&p, 0x01);
	pic_set_irq(&p, 1, true);
	pic_set_irq(&p, 6, true);
	assert_int_equal(pic_intack(&p), 0x31);
	outb(&p, 0x20, 0xa0); /* rotate on non-specific EOI: IR1 lowest */
	pic_set_irq(&p, 1, false);
	pic_set_irq(&p, 1, true);
	/* Priority order now 2,3,...,7,0,1: IR6 beats IR1. */
	assert_int_equal(pic_intack(&p), 0x36);
	outb(&p, 0x20, 0x20);
	assert_int_equal(pic_intack(&p), 0x31);
	outb(&p, 0x20, 0x20);
	/* Set priority: IR4 lowest, so IR5 is highest. */
	outb(&p, 0x20, 0xc4);
	pulse(&p, 4);
	pulse(&p, 5);
	pulse(&p, 3);
	assert_int_equal(pic_intack(&p), 0x35);
	outb(&p, 0x20, 0xe5); /* rotate on specific EOI 5: IR6 highest */
	assert_int_equal(pic_intack(&p), 0x33);
	outb(&p, 0x20, 0x20);
	assert_int_equal(pic_intack(&p), 0x34);
}

static void test_special_mask(void **state)
{
	struct pic_pair p;

	init_pair(&p, 0x01);
	pic_set_irq(&p, 2 + 1, true);
	assert_int_equal(pic_intack(&p), 0x33);
	pic_set_irq(&p, 6, true);
	assert_false(pic_intr_pending(&p));
	outb(&p, 0x21, 0x08);      /* mask IR3 ... */
	outb(&p, 0x20, 0x68);      /* ... and enter special mask mode */
	assert_true(pic_intr_pending(&p));
	assert_int_equal(pic_intack(&p), 0x36);
	outb(&p, 0x20, 0x48);      /* leave special mask mode */
	pic_set_irq(&p, 7, true);
	assert_false(pic_intr_pending(&p));
}

static void test_save_restore_continue(void **state)
{
	struct pic_pair a, b;
	unsigned char blob[sizeof(struct pic_pair)];

	assert_int_equal(pic_ops.state_size, sizeof(blob));
	init_pair(&a, 0x01);
	outb(&a, 0x20, 0xc4); /* a rotated priority, to be carried over */
	pic_set_irq(&a, 12, true);
	pic_set_irq(&a, 5, true);
	pic_set_irq(&a, 6, true);
	assert_int_equal(pic_intack(&a), 0x35);
	outb(&a, 0x20, 0x0b);
	pic_ops.save(&a, blob);
	pic_init(&b);
	assert_int_equal(pic_ops.restore(&b, blob), 0);
	/* Both continue identically. */
	for (struct pic_pair *x = &a; x; x = x == &a ? &b : NULL) {
		assert_int_equal(inb(x, 0x20), 0x20); /* ISR read selected */
		outb(x, 0x20, 0x20);
		assert_int_equal(pic_intack(x), 0x36); /* IR5 after 4: 5,6,..2 */
		outb(x, 0x20, 0x20);
		assert_int_equal(pic_intack(x), 0x3c);
	}
	assert_memory_equal(&a, &b, sizeof(a));
	/* A corrupt blob is refused. */
	blob[offsetof(struct pic_pair, chip[0].init_step)] = 9;
	assert_int_equal(pic_ops.restore(&b, blob), -22);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_sequence),
		cmocka_unit_test(test_priority_and_nesting),
		cmocka_unit_test(test_specific_eoi_and_irr_read),
		cmocka_unit_test(test_aeoi),
		cmocka_unit_test(test_spurious_irq7),
		cmocka_unit_test(test_spurious_irq15),
		cmocka_unit_test(test_cascade_vectors),
		cmocka_unit_test(test_masking_and_level),
		cmocka_unit_test(test_poll),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_special_mask),
		cmocka_unit_test(test_save_restore_continue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
