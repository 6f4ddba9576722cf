/* isa-debug-exit: QEMU's (v << 1) | 1 status for every access width,
 * reads of 0, and an empty save -> restore -> continue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "vmm/devices/debugexit.h"

static int last_status = -1;
static unsigned calls;

static void fake_exit(void *opaque, int status)
{
	assert_ptr_equal(opaque, &last_status);
	last_status = status;
	calls++;
}

static void test_status(void **state)
{
	struct debugexit d;

	debugexit_init(&d, fake_exit, &last_status);
	assert_int_equal(debugexit_ops.io[0].base, 0xf4);
	assert_int_equal(debugexit_ops.io[0].len, 4);
	debugexit_ops.io[0].write(&d, 0, 1, 0);
	assert_int_equal(last_status, 1);
	debugexit_ops.io[0].write(&d, 0, 1, 0x10); /* kvm-unit-tests style pass */
	assert_int_equal(last_status, 0x21);
	debugexit_ops.io[0].write(&d, 0, 4, 0x31);
	assert_int_equal(last_status, 0x63);
	debugexit_ops.io[0].write(&d, 2, 2, 0x100); /* whole value, any offset */
	assert_int_equal(last_status, 0x201);
	assert_int_equal(calls, 4);
	assert_int_equal(debugexit_ops.io[0].read(&d, 0, 4), 0);
}

static void test_save_restore_continue(void **state)
{
	struct debugexit a, b;

	debugexit_init(&a, fake_exit, &last_status);
	/* Nothing to carry: a checkpoint skips it, and a fresh one continues. */
	assert_int_equal(debugexit_ops.state_size, 0);
	assert_null(debugexit_ops.save);
	assert_null(debugexit_ops.restore);
	debugexit_init(&b, fake_exit, &last_status);
	debugexit_ops.io[0].write(&b, 0, 1, 3);
	assert_int_equal(last_status, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_save_restore_continue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
