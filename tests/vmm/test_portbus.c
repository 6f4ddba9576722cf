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

static const struct vmm_device_ops fake_a = { .name = "a",
					      .io = { { 0x40, 4, fake_read, fake_write } } };
static const struct vmm_device_ops fake_b = { .name = "b",
					      .io = { { 0x43, 2, fake_read, fake_write } } };
static const struct vmm_device_ops fake_c = { .name = "c",
					      .io = { { 0x44, 1, fake_read, fake_write } } };

/* Two ranges with handlers of their own, as the PIC pair and the PIT have. */
static uint32_t fake_read_hi(void *dev, uint16_t off, unsigned size)
{
	return fake_read(dev, off, size) | 0x80;
}

static const struct vmm_device_ops fake_multi = {
	.name = "multi",
	.io = { { 0x20, 2, fake_read, fake_write }, { 0xa0, 2, fake_read_hi, fake_write } },
};
static const struct vmm_device_ops fake_self_overlap = {
	.name = "self", .io = { { 0x70, 4, fake_read, fake_write }, { 0x73, 1, fake_read, fake_write } },
};
static const struct vmm_device_ops fake_half_free = {
	.name = "half", .io = { { 0x30, 2, fake_read, fake_write }, { 0xa1, 1, fake_read, fake_write } },
};

static void device_with_several_ranges(void **state)
{
	static struct portbus b;
	struct fake a = { 0 }, x = { 0 };
	uint32_t v;

	portbus_init(&b);
	assert_int_equal(portbus_add(&b, &fake_multi, &a), 0);
	assert_true(portbus_read(&b, 0xa1, 1, &v));
	assert_int_equal(v, 0x81); /* the second range's handler, offset from 0xa0 */
	assert_int_equal(a.last_off, 1);
	assert_true(portbus_write(&b, 0x21, 1, 0x5a));
	assert_int_equal(a.last_off, 1);
	assert_int_equal(a.last_val, 0x5a);
	assert_false(portbus_read(&b, 0x22, 1, &v)); /* between the ranges: nobody */
	/* All ranges or none: a clash in the second leaves the first off the map. */
	assert_int_equal(portbus_add(&b, &fake_half_free, &x), -EEXIST);
	assert_false(portbus_read(&b, 0x30, 1, &v));
	assert_int_equal(portbus_add(&b, &fake_self_overlap, &x), -EEXIST);
	assert_false(portbus_read(&b, 0x70, 1, &v));
}

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
		cmocka_unit_test(device_with_several_ranges),
		cmocka_unit_test(unassigned_reads_float_high_and_are_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
