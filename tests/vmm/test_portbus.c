/* The port bus: range map, offsets, overlaps, unassigned ports. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/device.h"
#include "vmm/portbus.h"

struct fake {
	uint16_t last_off;
	uint32_t last_val;
	unsigned last_size;
};

static uint32_t fake_read(void *dev, uint16_t off, unsigned size)
{
	struct fake *f = dev;

	f->last_off = off;
	f->last_size = size;
	return 0xabcd1200u | off;
}

static void fake_write(void *dev, uint16_t off, unsigned size, uint32_t v)
{
	struct fake *f = dev;

	f->last_off = off;
	f->last_size = size;
	f->last_val = v;
}

static const struct vmm_device_ops fake_a = { .name = "a", .io_base = 0x40, .io_len = 4,
					      .io_read = fake_read, .io_write = fake_write };
static const struct vmm_device_ops fake_b = { .name = "b", .io_base = 0x43, .io_len = 2,
					      .io_read = fake_read, .io_write = fake_write };
static const struct vmm_device_ops fake_c = { .name = "c", .io_base = 0x44, .io_len = 1,
					      .io_read = fake_read, .io_write = fake_write };

static void dispatch_passes_offsets_and_masks_size(void **state)
{
	static struct portbus b;
	struct fake a = { 0 };
	uint32_t v;

	portbus_init(&b);
	assert_int_equal(portbus_add(&b, &fake_a, &a), 0);
	assert_true(portbus_read(&b, 0x42, 1, &v));
	assert_int_equal(a.last_off, 2);
	assert_int_equal(v, 0x02); /* one byte of 0xabcd1202 */
	assert_true(portbus_read(&b, 0x41, 2, &v));
	assert_int_equal(v, 0x1201);
	assert_true(portbus_write(&b, 0x43, 1, 0x5a));
	assert_int_equal(a.last_off, 3);
	assert_int_equal(a.last_val, 0x5a);
}

static void overlap_is_rejected(void **state)
{
	static struct portbus b;
	struct fake a, x;

	portbus_init(&b);
	assert_int_equal(portbus_add(&b, &fake_a, &a), 0);
	assert_int_equal(portbus_add(&b, &fake_b, &x), -EEXIST);
	assert_int_equal(portbus_add(&b, &fake_c, &x), 0);
}

static void unassigned_reads_float_high_and_are_counted(void **state)
{
	static struct portbus b;
	uint32_t v = 0;

	portbus_init(&b);
	assert_false(portbus_read(&b, 0x80, 1, &v));
	assert_int_equal(v, 0xff);
	assert_false(portbus_read(&b, 0x80, 2, &v));
	assert_int_equal(v, 0xffff);
	assert_false(portbus_read(&b, 0x80, 4, &v));
	assert_int_equal(v, 0xffffffffu);
	assert_false(portbus_write(&b, 0x80, 1, 1));
	assert_int_equal(b.unassigned_reads, 3);
	assert_int_equal(b.unassigned_writes, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dispatch_passes_offsets_and_masks_size),
		cmocka_unit_test(overlap_is_rejected),
		cmocka_unit_test(unassigned_reads_float_high_and_are_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
