/* fw_cfg: the items a QEMU test kernel reads, byte by byte as
 * kvm-unit-tests does (outw selector, inb data), the ends of items, the
 * selector's high bits, and save -> restore -> continue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/devices/fwcfg.h"

static void sel(struct fwcfg *f, uint16_t key)
{
	fwcfg_ops.io[0].write(f, 0, 2, key);
}

/* Reads N bytes of the selected item as little-endian, one inb each. */
static uint64_t get(struct fwcfg *f, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)fwcfg_ops.io[0].read(f, 1, 1) << (8 * i);
	return v;
}

static void test_items(void **state)
{
	struct fwcfg f;
	char sig[5] = { 0 };

	fwcfg_init(&f, 64ull << 20, 1, "console=ttyS0 nr=1");
	assert_int_equal(fwcfg_ops.io[0].base, 0x510);
	assert_int_equal(fwcfg_ops.io[0].len, 2);
	sel(&f, FWCFG_SIGNATURE);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)fwcfg_ops.io[0].read(&f, 1, 1);
	assert_string_equal(sig, "QEMU");
	assert_int_equal(get(&f, 1), 0); /* past the end */
	sel(&f, FWCFG_ID);
	assert_int_equal(get(&f, 4), 1);
	sel(&f, FWCFG_NB_CPUS);
	assert_int_equal(get(&f, 2), 1);
	sel(&f, FWCFG_MAX_CPUS);
	assert_int_equal(get(&f, 2), 1);
	sel(&f, FWCFG_RAM_SIZE);
	assert_int_equal(get(&f, 8), 64ull << 20);
	sel(&f, FWCFG_UUID);
	assert_int_equal(get(&f, 8) | get(&f, 8), 0);
	sel(&f, FWCFG_FILE_DIR);
	assert_int_equal(get(&f, 4), 0);
	sel(&f, FWCFG_CMDLINE_SIZE);
	assert_int_equal(get(&f, 4), strlen("console=ttyS0 nr=1") + 1);
}

static void test_cmdline_and_ends(void **state)
{
	struct fwcfg f;
	char buf[32];

	fwcfg_init(&f, 2ull << 20, 1, "a b");
	sel(&f, FWCFG_CMDLINE_DATA);
	for (int i = 0; i < 5; i++)
		buf[i] = (char)fwcfg_ops.io[0].read(&f, 1, 1);
	assert_memory_equal(buf, "a b\0\0", 5);
	/* A wide read is that many byte reads, first byte lowest. */
	sel(&f, FWCFG_RAM_SIZE);
	assert_int_equal(fwcfg_ops.io[0].read(&f, 1, 4), 2u << 20);
	assert_int_equal(fwcfg_ops.io[0].read(&f, 1, 4), 0);
	/* A new selection starts again at offset 0. */
	sel(&f, FWCFG_RAM_SIZE);
	assert_int_equal(get(&f, 8), 2ull << 20);
	/* Unknown items, the write channel and architecture-local items read
	 * as empty; the selector port reads 0; data writes change nothing. */
	sel(&f, 0x2a);
	assert_int_equal(get(&f, 4), 0);
	sel(&f, FWCFG_WRITE | FWCFG_NB_CPUS);
	assert_int_equal(get(&f, 2), 0);
	sel(&f, FWCFG_ARCH_LOCAL | FWCFG_NB_CPUS);
	assert_int_equal(get(&f, 2), 0);
	assert_int_equal(fwcfg_ops.io[0].read(&f, 0, 2), 0);
	sel(&f, FWCFG_NB_CPUS);
	fwcfg_ops.io[0].write(&f, 1, 1, 0x55);
	assert_int_equal(get(&f, 2), 1);
	fwcfg_init(&f, 2ull << 20, 1, NULL);
	sel(&f, FWCFG_CMDLINE_SIZE);
	assert_int_equal(get(&f, 4), 1);
}

static void test_save_restore_continue(void **state)
{
	struct fwcfg a, b;
	uint8_t blob[sizeof(struct fwcfg_state)];

	assert_int_equal(fwcfg_ops.state_size, sizeof(blob));
	fwcfg_init(&a, 64ull << 20, 1, "x");
	sel(&a, FWCFG_SIGNATURE);
	assert_int_equal(fwcfg_ops.io[0].read(&a, 1, 1), 'Q');
	fwcfg_ops.save(&a, blob);
	fwcfg_init(&b, 64ull << 20, 1, "x");
	assert_int_equal(fwcfg_ops.restore(&b, blob), 0);
	assert_int_equal(fwcfg_ops.io[0].read(&b, 1, 1), 'E');
	assert_int_equal(fwcfg_ops.io[0].read(&a, 1, 1), 'E');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_items),
		cmocka_unit_test(test_cmdline_and_ends),
		cmocka_unit_test(test_save_restore_continue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
