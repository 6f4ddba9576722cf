/* The hash of all guest RAM (vmm/memhash.h): equal to the hash computed
 * from scratch after any sequence of writes, commits and peeks; blind to
 * pages counted as written but unchanged (what KVM's dirty log over-counts);
 * sensitive to a page's place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "vmm/memhash.h"

#define NPAGES 70 /* more than one bitmap word */

static uint8_t ram[NPAGES * MEMHASH_PAGE];
static uint64_t written[(NPAGES + 63) / 64];

/* The definition, page by page. */
static uint64_t from_scratch(void)
{
	uint64_t sum = 0;

	for (uint64_t pg = 0; pg < NPAGES; pg++)
		sum += XXH3_64bits(ram + pg * MEMHASH_PAGE, MEMHASH_PAGE) * (2 * pg + 1);
	return sum;
}

static void mark(uint64_t pg)
{
	written[pg / 64] |= 1ull << (pg % 64);
}

static void setup_all(struct memhash *h)
{
	memset(ram, 0, sizeof(ram));
	memset(written, 0, sizeof(written));
	assert_int_equal(memhash_init(h, NPAGES), 0);
}

static void test_zero_ram(void **state)
{
	struct memhash h;

	(void)state;
	setup_all(&h);
	assert_true(memhash_peek(&h, ram, written) == from_scratch());
	memhash_free(&h);
}

static void test_writes_then_commit(void **state)
{
	struct memhash h;
	uint64_t a, b;

	(void)state;
	setup_all(&h);
	ram[3 * MEMHASH_PAGE + 17] = 0x5a;
	ram[66 * MEMHASH_PAGE] = 1;
	mark(3);
	mark(66);
	a = memhash_peek(&h, ram, written);
	assert_true(a == from_scratch());
	assert_true(a != memhash_peek(&h, ram, (uint64_t[2]){ 0 }));
	/* Pages counted as written but unchanged add nothing. */
	mark(0);
	mark(64);
	mark(69);
	assert_true(memhash_peek(&h, ram, written) == a);
	/* A peek changes nothing; a commit makes the state the new start. */
	assert_true(memhash_commit(&h, ram, written) == a);
	memset(written, 0, sizeof(written));
	assert_true(memhash_peek(&h, ram, written) == a);
	/* A page written and written back is as if untouched. */
	ram[10 * MEMHASH_PAGE] = 9;
	mark(10);
	b = memhash_peek(&h, ram, written);
	assert_true(b != a && b == from_scratch());
	ram[10 * MEMHASH_PAGE] = 0;
	assert_true(memhash_peek(&h, ram, written) == a);
	memhash_free(&h);
}

static void test_place_counts(void **state)
{
	struct memhash h;
	uint64_t a;

	(void)state;
	setup_all(&h);
	ram[1 * MEMHASH_PAGE] = 7;
	ram[2 * MEMHASH_PAGE] = 8;
	mark(1);
	mark(2);
	a = memhash_commit(&h, ram, written);
	ram[1 * MEMHASH_PAGE] = 8;
	ram[2 * MEMHASH_PAGE] = 7;
	assert_true(memhash_peek(&h, ram, written) != a);
	assert_true(memhash_peek(&h, ram, written) == from_scratch());
	memhash_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zero_ram),
		cmocka_unit_test(test_writes_then_commit),
		cmocka_unit_test(test_place_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
