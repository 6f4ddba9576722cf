/* 82093AA IOAPIC: registers through IOREGSEL/IOWIN, redirection (vector,
 * mode, destination, polarity), edge pins, level pins with remote IRR and
 * the EOI broadcast, masking, ExtINT on pin 0, the PC's ISA pin map, each
 * with save -> restore -> continue. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/devices/ioapic.h"
#include "vmm/devices/lapic.h"

static struct ioapic_msg last;
static unsigned sent;

static void fake_deliver(void *opaque, const struct ioapic_msg *msg)
{
	(void)opaque;
	last = *msg;
	sent++;
}

static void setup(struct ioapic *io)
{
	sent = 0;
	memset(&last, 0, sizeof(last));
	ioapic_init(io, fake_deliver, NULL);
}

static uint32_t reg_read(struct ioapic *io, uint8_t reg)
{
	ioapic_ops.mmio_write(io, 0x00, 1, reg);
	return ioapic_ops.mmio_read(io, 0x10, 4);
}

static void reg_write(struct ioapic *io, uint8_t reg, uint32_t v)
{
	ioapic_ops.mmio_write(io, 0x00, 1, reg);
	ioapic_ops.mmio_write(io, 0x10, 4, v);
}

static void route(struct ioapic *io, unsigned pin, uint32_t lo, uint8_t dest)
{
	reg_write(io, (uint8_t)(0x11 + 2 * pin), (uint32_t)dest << 24);
	reg_write(io, (uint8_t)(0x10 + 2 * pin), lo);
}

static void clone(const struct ioapic *from, struct ioapic *to)
{
	uint8_t blob[sizeof(struct ioapic_state)];

	assert_int_equal(ioapic_ops.state_size, sizeof(blob));
	ioapic_ops.save(from, blob);
	ioapic_init(to, fake_deliver, NULL);
	assert_int_equal(ioapic_ops.restore(to, blob), 0);
}

static void test_registers(void **state)
{
	struct ioapic io;

	(void)state;
	setup(&io);
	assert_int_equal(reg_read(&io, 0x01), 0x00170011); /* 24 entries, 0x11 */
	assert_int_equal(ioapic_ops.mmio_read(&io, 0x00, 4), 0x01);
	reg_write(&io, 0x00, 0xff000000u);
	assert_int_equal(reg_read(&io, 0x00), 0x0f000000u); /* 4-bit ID */
	assert_int_equal(reg_read(&io, 0x02), 0x0f000000u);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		assert_int_equal(reg_read(&io, (uint8_t)(0x10 + 2 * pin)), 0x10000); /* masked */
		assert_int_equal(reg_read(&io, (uint8_t)(0x11 + 2 * pin)), 0);
	}
	/* Read-only bits (delivery status, remote IRR) do not take writes. */
	reg_write(&io, 0x10, 0xffffffffu);
	assert_int_equal(reg_read(&io, 0x10), 0x1afff);
	reg_write(&io, 0x11, 0xffffffffu);
	assert_int_equal(reg_read(&io, 0x11), 0xff000000u);
	assert_int_equal(reg_read(&io, 0x40), 0); /* past the table */
	assert_int_equal(sent, 0);
}

static void test_edge(void **state)
{
	struct ioapic io, c;

	(void)state;
	setup(&io);
	ioapic_set_irq(&io, 4, true); /* masked: the edge is lost */
	route(&io, 4, 0x0834, 0x03); /* vector 0x34, fixed, logical, edge, high */
	assert_int_equal(sent, 0);
	ioapic_set_irq(&io, 4, false);
	ioapic_set_irq(&io, 4, true);
	assert_int_equal(sent, 1);
	assert_int_equal(last.vector, 0x34);
	assert_int_equal(last.mode, LAPIC_DM_FIXED);
	assert_true(last.logical);
	assert_int_equal(last.dest, 0x03);
	assert_false(last.level);
	clone(&io, &c);
	for (struct ioapic *p = &io; p; p = p == &io ? &c : NULL) {
		sent = 0;
		ioapic_set_irq(p, 4, true); /* no edge */
		assert_int_equal(sent, 0);
		ioapic_set_irq(p, 4, false);
		ioapic_set_irq(p, 4, true);
		assert_int_equal(sent, 1);
		assert_int_equal(reg_read(p, 0x18) & (1u << 14), 0); /* no remote IRR */
	}
}

static void test_level_remote_irr(void **state)
{
	struct ioapic io, c;

	(void)state;
	setup(&io);
	/* Active-low, level: asserted while the wire is low. */
	ioapic_set_irq(&io, 10, true);
	route(&io, 10, 0xa000 | 0x51, 0x00);
	assert_int_equal(sent, 0);
	ioapic_set_irq(&io, 10, false);
	assert_int_equal(sent, 1);
	assert_true(last.level);
	assert_int_equal(last.vector, 0x51);
	assert_int_equal(reg_read(&io, 0x24) & (1u << 14), 1u << 14);
	clone(&io, &c);
	for (struct ioapic *p = &io; p; p = p == &io ? &c : NULL) {
		sent = 0;
		ioapic_set_irq(p, 10, true);
		ioapic_set_irq(p, 10, false); /* remote IRR: waits for the EOI */
		assert_int_equal(sent, 0);
		ioapic_eoi(p, 0x52);          /* another vector: nothing */
		assert_int_equal(sent, 0);
		ioapic_eoi(p, 0x51);          /* still asserted: again */
		assert_int_equal(sent, 1);
		ioapic_set_irq(p, 10, true);  /* deasserted */
		ioapic_eoi(p, 0x51);
		assert_int_equal(sent, 1);
		assert_int_equal(reg_read(p, 0x24) & (1u << 14), 0);
	}
}

static void test_unmask_asserted_level(void **state)
{
	struct ioapic io;

	(void)state;
	setup(&io);
	ioapic_set_irq(&io, 9, true);
	route(&io, 9, 0x18000 | 0x49, 0); /* level, high, masked */
	assert_int_equal(sent, 0);
	route(&io, 9, 0x08000 | 0x49, 0); /* unmasked: asserted, so delivered */
	assert_int_equal(sent, 1);
	route(&io, 9, 0x00049, 0);        /* edge now: remote IRR cleared */
	assert_int_equal(reg_read(&io, 0x22) & (1u << 14), 0);
}

static void test_extint_and_isa_pins(void **state)
{
	struct ioapic io;

	(void)state;
	setup(&io);
	assert_false(ioapic_extint(&io, 0));
	route(&io, 0, 0x700, 0);
	assert_true(ioapic_extint(&io, 0));
	ioapic_set_irq(&io, 0, true); /* ExtINT sends no message */
	assert_int_equal(sent, 0);
	route(&io, 0, 0x10700, 0);
	assert_false(ioapic_extint(&io, 0));
	assert_int_equal(ioapic_isa_pin(0), 2); /* the PIT */
	assert_int_equal(ioapic_isa_pin(1), 1);
	assert_int_equal(ioapic_isa_pin(8), 8);
	/* NMI mode is a message of its own. */
	route(&io, 5, 0x400, 0);
	ioapic_set_irq(&io, 5, true);
	assert_int_equal(sent, 1);
	assert_int_equal(last.mode, LAPIC_DM_NMI);
}

static void test_restore_rejects_garbage(void **state)
{
	struct ioapic io;
	struct ioapic_state st;

	(void)state;
	setup(&io);
	memset(&st, 0, sizeof(st));
	st.pins = 1u << 24;
	assert_int_equal(ioapic_ops.restore(&io, &st), -EINVAL);
	assert_int_equal(reg_read(&io, 0x10), 0x10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registers),
		cmocka_unit_test(test_edge),
		cmocka_unit_test(test_level_remote_irr),
		cmocka_unit_test(test_unmask_asserted_level),
		cmocka_unit_test(test_extint_and_isa_pins),
		cmocka_unit_test(test_restore_rejects_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
