/* vmm/complete.c against the architecture (SDM vol. 2), without KVM: each
 * completion's registers, flags and memory, and what it must refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/complete.h"

#define CF 0x1u
#define PF 0x4u
#define AF 0x10u
#define ZF 0x40u
#define SF 0x80u
#define OF 0x800u
#define AC 0x40000u
#define ARITH (CF | PF | AF | ZF | SF | OF)
#define RIP0 0xffffffff81000000ull
#define MEM0 0x1000u /* linear base of the fake memory */

static uint8_t ram[64];
static unsigned writes;

static int fake_read(void *ctx, uint64_t lin, void *buf, size_t len)
{
	if (lin < MEM0 || lin + len > MEM0 + sizeof(ram))
		return -14;
	memcpy(buf, ram + (lin - MEM0), len);
	return 0;
}

static int fake_write(void *ctx, uint64_t lin, const void *buf, size_t len)
{
	if (lin < MEM0 || lin + len > MEM0 + sizeof(ram))
		return -14;
	memcpy(ram + (lin - MEM0), buf, len);
	writes++;
	return 0;
}

static const struct complete_mem mem = { NULL, fake_read, fake_write };

static struct complete_cpu cpu0(void)
{
	struct complete_cpu c;

	memset(&c, 0, sizeof(c));
	c.rip = RIP0;
	c.rflags = 0x2;
	c.bits = 64;
	c.cr0 = 0x80050033; /* PG WP NE ET MP PE, as Linux runs */
	for (unsigned i = 0; i < CPL_NGPR; i++)
		c.gpr[i] = 0x1111111111111111ull * i;
	return c;
}

static enum complete_kind run(struct completer *k, const uint8_t *code, size_t len,
			      struct complete_cpu *c, int *vec)
{
	return complete_insn(k, code, len, c, &mem, vec);
}

static int setup(void **state)
{
	struct completer *k = calloc(1, sizeof(*k));

	assert_int_equal(completer_init(k), 0);
	*state = k;
	memset(ram, 0, sizeof(ram));
	writes = 0;
	return 0;
}

static int teardown(void **state)
{
	completer_free(*state);
	free(*state);
	return 0;
}

static void test_int3(void **state)
{
	static const uint8_t code[] = { 0xcc, 0x90 };
	struct complete_cpu c = cpu0(), before = c;
	int vec;

	assert_int_equal(run(*state, code, sizeof(code), &c, &vec), COMPLETE_INT3);
	assert_int_equal(vec, 3);                /* #BP, a trap: */
	assert_true(c.rip == RIP0 + 1);          /* the frame holds the next RIP */
	assert_true(c.rflags == before.rflags);
	assert_memory_equal(c.gpr, before.gpr, sizeof(c.gpr));
}

static void test_fwait(void **state)
{
	static const uint8_t code[] = { 0x9b };
	struct complete_cpu c = cpu0();
	int vec;

	assert_int_equal(run(*state, code, 1, &c, &vec), COMPLETE_FWAIT);
	assert_int_equal(vec, -1);
	assert_true(c.rip == RIP0 + 1);
	/* A pending unmasked x87 exception is #MF; TS with MP is #NM. */
	c = cpu0();
	c.fsw = 0x0081;
	assert_int_equal(run(*state, code, 1, &c, &vec), COMPLETE_NONE);
	assert_true(c.rip == RIP0);
	c = cpu0();
	c.cr0 |= 0x8;
	assert_int_equal(run(*state, code, 1, &c, &vec), COMPLETE_NONE);
}

static void test_clac_stac(void **state)
{
	static const uint8_t clac[] = { 0x0f, 0x01, 0xca }, stac[] = { 0x0f, 0x01, 0xcb };
	struct complete_cpu c = cpu0();
	int vec;

	c.rflags |= AC | ZF | CF;
	assert_int_equal(run(*state, clac, 3, &c, &vec), COMPLETE_CLAC);
	assert_true(c.rflags == (0x2 | ZF | CF));
	assert_true(c.rip == RIP0 + 3);
	assert_int_equal(run(*state, stac, 3, &c, &vec), COMPLETE_STAC);
	assert_true(c.rflags == (0x2 | ZF | CF | AC));
	assert_true(c.rip == RIP0 + 6);
	c.cpl = 3; /* #UD outside ring 0 */
	assert_int_equal(run(*state, clac, 3, &c, &vec), COMPLETE_NONE);
	assert_true(c.rflags & AC);
}

static void test_popcnt_reg(void **state)
{
	/* popcnt rax, rbx; popcnt eax, ebx; popcnt ax, bx */
	static const uint8_t q[] = { 0xf3, 0x48, 0x0f, 0xb8, 0xc3 };
	static const uint8_t d[] = { 0xf3, 0x0f, 0xb8, 0xc3 };
	static const uint8_t w[] = { 0x66, 0xf3, 0x0f, 0xb8, 0xc3 };
	struct complete_cpu c = cpu0();
	int vec;

	c.gpr[CPL_RBX] = 0xf00000000000000full;
	c.rflags |= ARITH;
	assert_int_equal(run(*state, q, sizeof(q), &c, &vec), COMPLETE_POPCNT);
	assert_true(c.gpr[CPL_RAX] == 8);
	assert_true((c.rflags & ARITH) == 0); /* all cleared, ZF too: source != 0 */
	assert_true(c.rip == RIP0 + sizeof(q));
	c = cpu0();
	c.gpr[CPL_RAX] = ~0ull;
	c.gpr[CPL_RBX] = 0xffffffff00000000ull; /* the low 32 bits are 0 */
	assert_int_equal(run(*state, d, sizeof(d), &c, &vec), COMPLETE_POPCNT);
	assert_true(c.gpr[CPL_RAX] == 0); /* zero-extended into RAX */
	assert_true((c.rflags & ARITH) == ZF);
	c = cpu0();
	c.gpr[CPL_RAX] = 0xaaaaaaaaaaaaaaaaull;
	c.gpr[CPL_RBX] = 0x12340007ull;
	assert_int_equal(run(*state, w, sizeof(w), &c, &vec), COMPLETE_POPCNT);
	assert_true(c.gpr[CPL_RAX] == 0xaaaaaaaaaaaa0003ull); /* 16-bit: upper bits kept */
}

static void test_popcnt_mem(void **state)
{
	/* popcnt r9, [rsi + rcx*8 + 8]; popcnt rdx, [rip + 0x10] */
	static const uint8_t m[] = { 0xf3, 0x4c, 0x0f, 0xb8, 0x4c, 0xce, 0x08 };
	static const uint8_t rip[] = { 0xf3, 0x48, 0x0f, 0xb8, 0x15, 0x10, 0x00, 0x00, 0x00 };
	uint64_t v = 0x0101010101010101ull;
	struct complete_cpu c = cpu0();
	int vec;

	memcpy(ram + 24, &v, 8);
	c.gpr[CPL_RSI] = MEM0;
	c.gpr[CPL_RCX] = 2;
	assert_int_equal(run(*state, m, sizeof(m), &c, &vec), COMPLETE_POPCNT);
	assert_true(c.gpr[9] == 8);
	c = cpu0();
	c.rip = MEM0 + 16 - 0x10 - sizeof(rip); /* next RIP + 0x10 = MEM0 + 16 */
	memcpy(ram + 16, &v, 8);
	assert_int_equal(run(*state, rip, sizeof(rip), &c, &vec), COMPLETE_POPCNT);
	assert_true(c.gpr[CPL_RDX] == 8);
	/* A fault reading the operand completes nothing. */
	c = cpu0();
	c.gpr[CPL_RSI] = 0x900000;
	assert_int_equal(run(*state, m, sizeof(m), &c, &vec), COMPLETE_NONE);
	assert_true(c.gpr[9] == cpu0().gpr[9]);
	assert_true(c.rip == RIP0);
}

static void test_cmpxchg16b(void **state)
{
	/* lock cmpxchg16b [rdi] */
	static const uint8_t code[] = { 0xf0, 0x48, 0x0f, 0xc7, 0x0f };
	uint64_t cur[2] = { 0x1234, 0x5678 }, got[2];
	struct complete_cpu c = cpu0();
	int vec;

	memcpy(ram + 16, cur, 16);
	c.gpr[CPL_RDI] = MEM0 + 16;
	c.gpr[CPL_RAX] = 0x1234;
	c.gpr[CPL_RDX] = 0x5678;
	c.gpr[CPL_RBX] = 0xaaaa;
	c.gpr[CPL_RCX] = 0xbbbb;
	c.rflags |= CF;
	assert_int_equal(run(*state, code, sizeof(code), &c, &vec), COMPLETE_CMPXCHG16B);
	memcpy(got, ram + 16, 16);
	assert_true(got[0] == 0xaaaa && got[1] == 0xbbbb);
	assert_true((c.rflags & (ZF | CF)) == (ZF | CF)); /* only ZF changes */
	assert_true(c.rip == RIP0 + sizeof(code));
	/* Not equal: the operand is loaded into RDX:RAX, ZF cleared, no store. */
	writes = 0;
	c.rip = RIP0;
	c.gpr[CPL_RAX] = 1;
	assert_int_equal(run(*state, code, sizeof(code), &c, &vec), COMPLETE_CMPXCHG16B);
	assert_true(c.gpr[CPL_RAX] == 0xaaaa && c.gpr[CPL_RDX] == 0xbbbb);
	assert_true(!(c.rflags & ZF));
	assert_int_equal(writes, 0);
	/* Misaligned: #GP, not completed. */
	c = cpu0();
	c.gpr[CPL_RDI] = MEM0 + 8;
	assert_int_equal(run(*state, code, sizeof(code), &c, &vec), COMPLETE_NONE);
}

static void test_other_instructions(void **state)
{
	/* xsave [rdi]; hlt; and a truncated popcnt */
	static const uint8_t xsave[] = { 0x0f, 0xae, 0x27 }, hlt[] = { 0xf4 };
	static const uint8_t cut[] = { 0xf3, 0x48, 0x0f };
	struct complete_cpu c = cpu0(), before = c;
	int vec;

	assert_int_equal(run(*state, xsave, 3, &c, &vec), COMPLETE_NONE);
	assert_int_equal(run(*state, hlt, 1, &c, &vec), COMPLETE_NONE);
	assert_int_equal(run(*state, cut, 3, &c, &vec), COMPLETE_NONE);
	assert_memory_equal(&c, &before, sizeof(c));
	assert_int_equal(vec, -1);
	assert_string_equal(complete_name(COMPLETE_CMPXCHG16B), "cmpxchg16b");
}

/* The frame kvm_pvm's SYSCALL fault pushed, as measured on the development
 * host (brk from busybox's /init): error 0x15, RIP = CR2 = LSTAR, user CS. */
static void test_syscall_fault(void **state)
{
	const uint64_t lstar = 0xffffffff81200040ull;
	uint64_t frame[6] = { 0x15, lstar, 0x33, 0x10002, 0x7fffbee76620ull, 0x2b };
	struct complete_cpu c = cpu0();
	uint16_t cs, ss;

	c.gpr[CPL_RCX] = 0x49641b;
	c.gpr[CPL_R11] = 0x246;
	assert_true(complete_syscall_fault(frame, lstar, lstar, &c));
	assert_true(c.rip == lstar);
	assert_true(c.gpr[CPL_RSP] == 0x7fffbee76620ull); /* SYSCALL keeps RSP */
	assert_true(c.rflags == 0x2);                      /* without the fault's RF */
	assert_true(c.gpr[CPL_RCX] == 0x49641b && c.gpr[CPL_R11] == 0x246);
	complete_syscall_selectors(0x0023001000000000ull, &cs, &ss); /* Linux's STAR */
	assert_int_equal(cs, 0x10);
	assert_int_equal(ss, 0x18);
	/* Not that fault: a data fault, a kernel-mode fault, another address. */
	c = cpu0();
	frame[0] = 0x6;
	assert_false(complete_syscall_fault(frame, lstar, lstar, &c));
	frame[0] = 0x15;
	frame[2] = 0x10;
	assert_false(complete_syscall_fault(frame, lstar, lstar, &c));
	frame[2] = 0x33;
	assert_false(complete_syscall_fault(frame, lstar + 1, lstar, &c));
	frame[1] = 0x401000;
	assert_false(complete_syscall_fault(frame, 0x401000, lstar, &c));
	assert_true(c.rip == RIP0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_int3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fwait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clac_stac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_popcnt_reg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_popcnt_mem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmpxchg16b, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_instructions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syscall_fault, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
