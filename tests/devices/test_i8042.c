/* i8042: the status port a kernel polls before a reset, the controller
 * commands, the reset line (pulse 0xfe, and output-port bit 0 through
 * 0xd1), and save -> restore -> continue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/devices/i8042.h"

static unsigned resets;

static void fake_reset(void *opaque)
{
	assert_ptr_equal(opaque, &resets);
	resets++;
}

static uint8_t st(struct i8042 *k)
{
	return (uint8_t)i8042_ops.io[I8042_IO_CMD].read(k, 0, 1);
}

static void cmd(struct i8042 *k, uint8_t c)
{
	i8042_ops.io[I8042_IO_CMD].write(k, 0, 1, c);
}

static void test_ports_and_status(void **state)
{
	struct i8042 k;

	i8042_init(&k, fake_reset, &resets);
	assert_int_equal(i8042_ops.io[I8042_IO_DATA].base, 0x60);
	assert_int_equal(i8042_ops.io[I8042_IO_CMD].base, 0x64);
	/* Input buffer never full (Linux's kb_wait), output empty, SYS set. */
	assert_int_equal(st(&k) & 0x03, 0);
	assert_true(st(&k) & 0x04);
	cmd(&k, 0xaa);
	assert_int_equal(st(&k) & 0x09, 0x09); /* OBF, last write a command */
	assert_int_equal(i8042_ops.io[I8042_IO_DATA].read(&k, 0, 1), 0x55);
	assert_int_equal(st(&k) & 0x01, 0);
	cmd(&k, 0x20);
	assert_int_equal(i8042_ops.io[I8042_IO_DATA].read(&k, 0, 1), 0x45);
	cmd(&k, 0x60);
	i8042_ops.io[I8042_IO_DATA].write(&k, 0, 1, 0x30);
	assert_int_equal(st(&k) & 0x08, 0);
	cmd(&k, 0x20);
	assert_int_equal(i8042_ops.io[I8042_IO_DATA].read(&k, 0, 1), 0x30);
	cmd(&k, 0xae);
	cmd(&k, 0x20);
	assert_int_equal(i8042_ops.io[I8042_IO_DATA].read(&k, 0, 1), 0x20);
	assert_int_equal(resets, 0);
}

static void test_reset_line(void **state)
{
	struct i8042 k;

	resets = 0;
	i8042_init(&k, fake_reset, &resets);
	cmd(&k, 0xff); /* pulse nothing */
	cmd(&k, 0xfd); /* pulse line 1 only */
	assert_int_equal(resets, 0);
	cmd(&k, 0xfe); /* what Linux's reboot writes */
	assert_int_equal(resets, 1);
	cmd(&k, 0xd1);
	i8042_ops.io[I8042_IO_DATA].write(&k, 0, 1, 0x03); /* reset stays high */
	assert_int_equal(resets, 1);
	cmd(&k, 0xd0);
	assert_int_equal(i8042_ops.io[I8042_IO_DATA].read(&k, 0, 1), 0x03);
	cmd(&k, 0xd1);
	i8042_ops.io[I8042_IO_DATA].write(&k, 0, 1, 0x02); /* bit 0 low: reset */
	assert_int_equal(resets, 2);
	/* A data byte without a pending command is for the (absent) keyboard. */
	i8042_ops.io[I8042_IO_DATA].write(&k, 0, 1, 0x00);
	assert_int_equal(resets, 2);
}

static void test_save_restore(void **state)
{
	struct i8042 a, b;
	uint8_t blob[sizeof(struct i8042_state)];

	resets = 0;
	i8042_init(&a, fake_reset, &resets);
	i8042_init(&b, fake_reset, &resets);
	assert_int_equal(i8042_ops.state_size, sizeof(blob));
	cmd(&a, 0x60); /* a command waiting for its data byte */
	i8042_ops.save(&a, blob);
	assert_int_equal(i8042_ops.restore(&b, blob), 0);
	i8042_ops.io[I8042_IO_DATA].write(&a, 0, 1, 0x11);
	i8042_ops.io[I8042_IO_DATA].write(&b, 0, 1, 0x11);
	cmd(&a, 0x20);
	cmd(&b, 0x20);
	assert_int_equal(i8042_ops.io[I8042_IO_DATA].read(&b, 0, 1), 0x11);
	assert_int_equal(i8042_ops.io[I8042_IO_DATA].read(&a, 0, 1), 0x11);
	assert_int_equal(st(&a), st(&b));
	assert_int_equal(memcmp(&a.s, &b.s, sizeof(a.s)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports_and_status),
		cmocka_unit_test(test_reset_line),
		cmocka_unit_test(test_save_restore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
