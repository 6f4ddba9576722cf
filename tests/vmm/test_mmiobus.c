/* The MMIO bus (ranges, overlaps, offsets, 8-byte accesses split in two)
 * and the MP table (checksums, the entries Linux reads). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/device.h"
#include "vmm/mmiobus.h"
#include "vmm/mptable.h"

struct fake {
	uint16_t off[2];
	unsigned n;
	uint32_t val;
};

static uint32_t fake_read(void *dev, uint16_t off, unsigned size)
{
	struct fake *f = dev;

	(void)size;
	f->off[f->n++ % 2] = off;
	return 0x11220000u | off;
}

static void fake_write(void *dev, uint16_t off, unsigned size, uint32_t v)
{
	struct fake *f = dev;

	(void)size;
	f->off[f->n++ % 2] = off;
	f->val = v;
}

static const struct vmm_device_ops dev_a = { .name = "a", .mmio_base = 0xfee00000u,
					     .mmio_len = 0x1000, .mmio_read = fake_read,
					     .mmio_write = fake_write };
static const struct vmm_device_ops dev_b = { .name = "b", .mmio_base = 0xfee00800u,
					     .mmio_len = 0x10, .mmio_read = fake_read,
					     .mmio_write = fake_write };
static const struct vmm_device_ops dev_c = { .name = "c", .mmio_base = 0xfec00000u,
					     .mmio_len = 0x20, .mmio_read = fake_read,
					     .mmio_write = fake_write };

static void test_bus(void **state)
{
	struct mmiobus b;
	struct fake a = { 0 }, c = { 0 };
	uint64_t v = 7;

	(void)state;
	mmiobus_init(&b);
	assert_int_equal(mmiobus_add(&b, &dev_a, &a), 0);
	assert_int_equal(mmiobus_add(&b, &dev_b, &a), -EEXIST);
	assert_int_equal(mmiobus_add(&b, &dev_c, &c), 0);
	assert_true(mmiobus_read(&b, 0xfee00030u, 4, &v));
	assert_int_equal(v, 0x11220030u);
	assert_true(mmiobus_read(&b, 0xfee00030u, 1, &v));
	assert_int_equal(v, 0x30);
	assert_true(mmiobus_read(&b, 0xfec00010u, 8, &v)); /* two halves */
	assert_int_equal(v, 0x1122001411220010ull);
	assert_int_equal(c.off[0], 0x10);
	assert_int_equal(c.off[1], 0x14);
	v = 7;
	assert_false(mmiobus_read(&b, 0xfec0001eu, 4, &v)); /* past the end */
	assert_false(mmiobus_read(&b, 0xfed00000u, 4, &v));
	assert_int_equal(v, 7);
	assert_true(mmiobus_write(&b, 0xfee000b0u, 4, 0));
	assert_int_equal(a.off[(a.n - 1) % 2], 0xb0);
	assert_false(mmiobus_write(&b, 0x1000, 4, 0));
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void test_mptable(void **state)
{
	uint8_t buf[1024];
	size_t n;
	uint32_t addr, lapic;
	uint16_t len, count;
	const uint8_t *e, *t;
	int irq0_pin = -1, extint_pin = -1, lint_extint = -1, lint_nmi = -1, ioapic_id = -1;

	(void)state;
	assert_int_equal(mptable_build(buf, 100, 0x9fc00, 0, 0), 0); /* too small */
	memset(buf, 0xee, sizeof(buf));
	n = mptable_build(buf, sizeof(buf), 0x9fc00, 0x206a7, 0x200);
	assert_true(n > 60 && n <= MPTABLE_MAX);
	assert_memory_equal(buf, "_MP_", 4);
	assert_int_equal(sum(buf, 16), 0);
	memcpy(&addr, buf + 4, 4);
	assert_int_equal(addr, 0x9fc10);
	t = buf + 16;
	assert_memory_equal(t, "PCMP", 4);
	memcpy(&len, t + 4, 2);
	memcpy(&count, t + 34, 2);
	memcpy(&lapic, t + 36, 4);
	assert_int_equal(len, n - 16);
	assert_int_equal(sum(t, len), 0);
	assert_int_equal(lapic, 0xfee00000u);
	e = t + 44;
	for (unsigned i = 0; i < count; i++) {
		if (e[0] == 2)
			ioapic_id = e[1];
		if (e[0] == 3 && e[1] == 0 && e[5] == 0)
			irq0_pin = e[7];
		if (e[0] == 3 && e[1] == 3)
			extint_pin = e[7];
		if (e[0] == 4 && e[1] == 3)
			lint_extint = e[7];
		if (e[0] == 4 && e[1] == 1)
			lint_nmi = e[7];
		e += e[0] == 0 ? 20 : 8;
	}
	assert_ptr_equal(e, t + len);
	assert_int_equal(ioapic_id, MPTABLE_IOAPIC_ID);
	assert_int_equal(irq0_pin, 2);
	assert_int_equal(extint_pin, 0);
	assert_int_equal(lint_extint, 0);
	assert_int_equal(lint_nmi, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bus),
		cmocka_unit_test(test_mptable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
