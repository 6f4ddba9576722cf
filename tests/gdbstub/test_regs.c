/* target.xml: well-formed, and its registers agree with the register table
 * and with the size of a 'g' reply. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gdbstub/dispatch.h"
#include "gdbstub/regs.h"
#include "tests/gdbstub/fake_target.h"

static char xml[GDB_TARGET_XML_MAX];

/* A minimal XML checker: every element closed in order, attributes quoted,
 * no stray '<' or '&'.  Enough for our generated document. */
static void check_well_formed(const char *s)
{
	char stack[16][64];
	int depth = 0;

	assert_true(strncmp(s, "<?xml version=\"1.0\"?>", 21) == 0);
	while ((s = strchr(s, '<')) != NULL) {
		const char *end = strchr(s, '>');
		char name[64];
		size_t n;

		assert_non_null(end);
		assert_null(memchr(s + 1, '<', (size_t)(end - s - 1)));
		if (s[1] == '?' || s[1] == '!') {
			s = end + 1;
			continue;
		}
		n = strcspn(s + 1 + (s[1] == '/'), " />");
		assert_true(n > 0 && n < sizeof(name));
		memcpy(name, s + 1 + (s[1] == '/'), n);
		name[n] = 0;
		if (s[1] == '/') {
			assert_true(depth > 0);
			assert_string_equal(stack[--depth], name);
		} else if (end[-1] != '/') {
			assert_true(depth < 16);
			strcpy(stack[depth++], name);
		}
		/* quotes balanced inside the tag */
		n = 0;
		for (const char *q = s; q < end; q++)
			n += *q == '"';
		assert_int_equal(n % 2, 0);
		s = end + 1;
	}
	assert_int_equal(depth, 0);
}

static int attr(const char *tag, const char *key, char *out, size_t size)
{
	char pat[32];
	const char *p;
	size_t n;

	snprintf(pat, sizeof(pat), " %s=\"", key);
	p = strstr(tag, pat);
	if (!p || p > strchr(tag, '>'))
		return -1;
	p += strlen(pat);
	n = strcspn(p, "\"");
	assert_true(n < size);
	memcpy(out, p, n);
	out[n] = 0;
	return 0;
}

static void test_xml_well_formed(void **state)
{
	long n = gdb_regs_target_xml(xml, sizeof(xml));

	assert_true(n > 0 && n < (long)sizeof(xml));
	assert_int_equal(strlen(xml), (size_t)n);
	check_well_formed(xml);
	assert_non_null(strstr(xml, "<architecture>i386:x86-64</architecture>"));
	assert_non_null(strstr(xml, "<feature name=\"org.gnu.gdb.i386.core\">"));
	assert_non_null(strstr(xml, "<feature name=\"org.gnu.gdb.i386.segments\">"));
	assert_non_null(strstr(xml, "<feature name=\"org.rrvm.x86.control\">"));
	/* too small a buffer fails cleanly */
	assert_int_equal(gdb_regs_target_xml(xml, 100), -ENOSPC);
}

/* Registers in document order must be 0, 1, 2, ... with our sizes, and
 * add up to the 'g' packet. */
static void test_xml_matches_table(void **state)
{
	const char *p = xml;
	int count = 0;
	size_t bytes = 0;

	gdb_regs_target_xml(xml, sizeof(xml));
	while ((p = strstr(p, "<reg ")) != NULL) {
		char name[32], bits[8], num[8];

		assert_int_equal(attr(p, "name", name, sizeof(name)), 0);
		assert_int_equal(attr(p, "bitsize", bits, sizeof(bits)), 0);
		assert_int_equal(attr(p, "regnum", num, sizeof(num)), 0);
		assert_int_equal(atoi(num), count);
		assert_string_equal(name, gdb_reg_info(count)->name);
		assert_int_equal((unsigned)atoi(bits), gdb_reg_info(count)->bits);
		assert_int_equal(gdb_reg_by_name(name), count);
		bytes += (size_t)atoi(bits) / 8;
		count++;
		p++;
	}
	assert_int_equal(count, GDB_REG_COUNT);
	assert_int_equal(bytes, gdb_regs_total_size());
	/* GDB's amd64 core feature is exactly 40 registers, st0 at 24 */
	assert_int_equal(GDB_REG_ST0, 24);
	assert_int_equal(GDB_REG_XMM0, 40);
	assert_int_equal(gdb_reg_by_name("fs_base"), 57);
	assert_int_equal(gdb_reg_by_name("cr3"), 61);
	assert_int_equal(gdb_reg_by_name("efer"), 64);
	assert_int_equal(gdb_reg_size(GDB_REG_ST0), 10);
	assert_int_equal(gdb_reg_size(GDB_REG_EFLAGS), 4);
	assert_int_equal(gdb_reg_size(-1), 0);
	assert_null(gdb_reg_info(GDB_REG_COUNT));
	assert_int_equal(gdb_reg_by_name("nope"), -1);
}

static int io_null(void *ctx, const void *buf, size_t len)
{
	return 0;
}

/* The 'g' reply has 2 hex digits per byte of the table. */
static void test_g_length(void **state)
{
	static struct fake_target t;
	static struct gdb_session s;
	struct gdb_target_ops ops;
	const struct gdb_session_io io = { .write = io_null };

	fake_target_init(&t);
	fake_target_ops(&t, &ops);
	gdb_session_init(&s, &ops, &io);
	assert_true(gdb_dispatch(&s, "g", 1));
	assert_int_equal(s.reply_len, 2 * gdb_regs_total_size());
	assert_true(gdb_regs_total_size() <= FAKE_REGS_SIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml_well_formed),
		cmocka_unit_test(test_xml_matches_table),
		cmocka_unit_test(test_g_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
