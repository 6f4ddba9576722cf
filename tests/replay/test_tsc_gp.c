/* The #GP trap for ring-3 RDTSC (replay/tsc_gp.h) without KVM: the frame,
 * gate and descriptor decoders, the verdict, and the trap's life on a fake
 * 32-bit guest (flat segments, paging off, so linear = physical): placed at
 * the handler the IDT names, hidden from reads, a site's fault judged ours,
 * the guest's own #GP passed on with a HLT after the handler's first
 * instruction, the trap moved when the IDT changes, taken out where the
 * gate cannot carry it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/kvm.h>

#include "replay/tsc_gp.h"
#include "replay/tsc_sites.h"
#include "vmm/memory.h"
#include "vmm/paging.h"
#include "vmm/x86.h"

#define RAM (1u << 20)
#define IDT 0x1000u
#define GDT 0x2000u
#define HANDLER 0x3000u
#define HANDLER2 0x4000u
#define SITE 0x5000u
#define NOT_SITE 0x6000u
#define STACK 0x8000u

struct fake {
	struct guest_mem m;
	struct tsc_sites s;
	struct kvm_sregs sr;
};

static void set_gate(struct fake *f, uint32_t entry, uint8_t type)
{
	uint8_t *g = f->m.base + IDT + TSC_GP_VECTOR * 8;

	g[0] = entry & 0xff, g[1] = (entry >> 8) & 0xff;
	g[2] = 0x08, g[3] = 0;
	g[4] = 0, g[5] = type;
	g[6] = (entry >> 16) & 0xff, g[7] = entry >> 24;
}

/* A #GP frame from ring 3 at EIP, error code ERR. */
static void set_frame(struct fake *f, uint32_t eip, uint32_t err)
{
	uint32_t fr[6] = { err, eip, 0x1b, 0x202, 0x9000, 0x23 };

	memcpy(f->m.base + STACK, fr, sizeof(fr));
}

static int setup(void **state)
{
	static const uint64_t gdt[] = { 0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull,
					0x00cffa000000ffffull, 0x00cff2000000ffffull };
	struct fake *f = calloc(1, sizeof(*f));

	f->m.size = RAM;
	f->m.base = calloc(1, RAM);
	memcpy(f->m.base + GDT, gdt, sizeof(gdt));
	set_gate(f, HANDLER, 0x8e);
	f->m.base[HANDLER] = 0x6a, f->m.base[HANDLER + 1] = 0x0d; /* push $13 */
	f->m.base[HANDLER + 2] = 0x60;                            /* pusha */
	f->m.base[HANDLER2] = 0xfc;                               /* cld */
	f->m.base[SITE] = 0xe6, f->m.base[SITE + 1] = TSC_TRAP_PORT; /* a patched RDTSC */
	tsc_sites_init(&f->s);
	f->s.site = calloc(1, sizeof(*f->s.site));
	f->s.site[0] = (struct tsc_site){ .gpa = SITE, .kind = TSC_INSN_RDTSC, .len = 2,
					  .orig = { 0x0f, 0x31 } };
	f->s.n = f->s.cap = 1;
	f->s.region = calloc(1, sizeof(*f->s.region));
	f->s.region[0] = (struct tsc_region){ .gpa = SITE, .len = 16, .lin = SITE };
	f->s.nregion = f->s.region_cap = 1;
	f->sr.cr0 = X86_CR0_PE;
	f->sr.idt = (struct kvm_dtable){ .base = IDT, .limit = 0x7ff };
	f->sr.gdt = (struct kvm_dtable){ .base = GDT, .limit = sizeof(gdt) - 1 };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	tsc_sites_free(&f->s);
	free(f->m.base);
	free(f);
	return 0;
}

static void test_frame_decode(void **state)
{
	uint8_t raw[48] = { 0 };
	struct tsc_gp_frame f;
	uint64_t v64[6] = { 0, 0x401000, 0x23 | 0xabcd0000ull, 0x246, 0x7ffff000, 0x1b };
	uint32_t v32[6] = { 8, 0x1234, 0x1b, 0x202, 0x9000, 0x23 };

	(void)state;
	memcpy(raw, v64, sizeof(v64));
	tsc_gp_frame_decode(raw, true, &f);
	assert_int_equal(f.rip, 0x401000);
	assert_int_equal(f.cs, 0x23); /* only the selector's 16 bits */
	assert_int_equal(f.rsp, 0x7ffff000);
	assert_int_equal(f.ss, 0x1b);
	memcpy(raw, v32, sizeof(v32));
	tsc_gp_frame_decode(raw, false, &f);
	assert_int_equal(f.err, 8);
	assert_int_equal(f.rip, 0x1234);
	assert_int_equal(f.rflags, 0x202);
	assert_int_equal(f.ss, 0x23);
	assert_int_equal(tsc_gp_frame_size(true), 48);
	assert_int_equal(tsc_gp_frame_size(false), 24);
}

static void test_gate_decode(void **state)
{
	/* 64-bit interrupt gate to 0xffffffff81234567, as Linux builds them. */
	uint8_t g[16] = { 0x67, 0x45, 0x10, 0, 0, 0x8e, 0x23, 0x81, 0xff, 0xff, 0xff, 0xff };
	uint64_t e = 0;

	(void)state;
	assert_int_equal(tsc_gp_gate_decode(g, true, &e), 0);
	assert_int_equal(e, 0xffffffff81234567ull);
	assert_int_equal(tsc_gp_gate_decode(g, false, &e), 0);
	assert_int_equal(e, 0x81234567u);
	g[5] = 0x8f; /* trap gate */
	assert_int_equal(tsc_gp_gate_decode(g, true, &e), 0);
	g[5] = 0x85; /* task gate */
	assert_int_equal(tsc_gp_gate_decode(g, false, &e), -ENOTSUP);
	g[5] = 0x0e; /* not present */
	assert_int_equal(tsc_gp_gate_decode(g, true, &e), -ENOENT);
}

static void test_segment(void **state)
{
	struct kvm_segment s;

	(void)state;
	assert_int_equal(tsc_gp_segment(0x00affa000000ffffull, 0x23, &s), 0); /* user code64 */
	assert_int_equal(s.dpl, 3);
	assert_int_equal(s.l, 1);
	assert_int_equal(s.type, 0xb);
	assert_int_equal(s.selector, 0x23);
	assert_int_equal(tsc_gp_segment(0x00cff2000000ffffull, 0x1b, &s), 0); /* user data */
	assert_int_equal(s.db, 1);
	assert_int_equal(s.limit, 0xffffffffu);
	assert_int_equal(s.type, 0x3);
	assert_int_equal(tsc_gp_segment(0x0040f9123400ffffull, 0x1b, &s), 0);
	assert_int_equal(s.base, 0x123400); /* byte granular, with a base */
	assert_int_equal(s.limit, 0xffff);
	assert_int_equal(tsc_gp_segment(0x00008b0000000067ull, 0x28, &s), -EINVAL); /* TSS */
	assert_int_equal(tsc_gp_segment(0x00cf7a000000ffffull, 0x23, &s), -EINVAL); /* not present */
}

static void test_verdict(void **state)
{
	struct tsc_gp_frame f = { .err = 0, .rip = SITE, .cs = 0x23, .rflags = 0x202 };

	(void)state;
	assert_int_equal(tsc_gp_frame_verdict(&f, 0), TSC_GP_OURS);
	assert_int_equal(tsc_gp_frame_verdict(&f, 1u << 2), TSC_GP_TSD);
	f.err = 0x28;
	assert_int_equal(tsc_gp_frame_verdict(&f, 0), TSC_GP_ERRCODE);
	f.err = 0, f.cs = 0x08;
	assert_int_equal(tsc_gp_frame_verdict(&f, 0), TSC_GP_NOT_RING3);
	f.rflags |= 1u << 17;
	assert_int_equal(tsc_gp_frame_verdict(&f, 0), TSC_GP_V86);
}

static void test_insn_len(void **state)
{
	static const uint8_t push_imm[] = { 0x6a, 0x0d }, endbr[] = { 0xf3, 0x0f, 0x1e, 0xfa },
			     push_rax[] = { 0x50 }, jmp[] = { 0xe9, 1, 2, 3, 4 },
			     hlt[] = { 0xf4 }, iret[] = { 0x48, 0xcf };

	(void)state;
	assert_int_equal(tsc_gp_insn_len(push_imm, sizeof(push_imm), true), 2);
	assert_int_equal(tsc_gp_insn_len(endbr, sizeof(endbr), true), 4);
	assert_int_equal(tsc_gp_insn_len(push_rax, sizeof(push_rax), false), 1);
	assert_int_equal(tsc_gp_insn_len(jmp, sizeof(jmp), true), 0);
	assert_int_equal(tsc_gp_insn_len(hlt, sizeof(hlt), true), 0);
	assert_int_equal(tsc_gp_insn_len(iret, sizeof(iret), true), 0);
}

static void test_trap_life(void **state)
{
	struct fake *f = *state;
	struct tsc_gp_frame fr;
	uint64_t gpa = 0;
	uint8_t view[4];
	struct kvm_sregs sr;

	tsc_gp_arm(&f->s, &f->m, &f->sr);
	assert_true(f->s.gp.armed && f->s.gp.usable);
	assert_int_equal(f->m.base[HANDLER], TSC_GP_HLT);
	assert_int_equal(f->s.gp.len, 2);
	memcpy(view, f->m.base + HANDLER, sizeof(view));
	tsc_unpatch_view(&f->s, HANDLER, view, sizeof(view));
	assert_int_equal(view[0], 0x6a); /* reads see the handler as the guest wrote it */

	/* A site's fault from ring 3: ours, with the segments IRET loads. */
	set_frame(f, SITE, 0);
	assert_true(tsc_gp_is_trap(&f->s, &f->m, &f->sr, HANDLER + 1));
	assert_false(tsc_gp_is_trap(&f->s, &f->m, &f->sr, HANDLER + 2));
	assert_int_equal(tsc_gp_judge(&f->s, &f->m, &f->sr, STACK, &fr, &gpa), TSC_GP_OURS);
	assert_int_equal(gpa, SITE);
	sr = f->sr;
	assert_int_equal(tsc_gp_iret_segments(&f->m, &sr, &fr), 0);
	assert_int_equal(sr.cs.dpl, 3);
	assert_int_equal(sr.ss.selector, 0x23);
	f->sr.cr4 = 1u << 2; /* CR4.TSD: the RDTSC would fault natively too */
	assert_int_equal(tsc_gp_judge(&f->s, &f->m, &f->sr, STACK, &fr, &gpa), TSC_GP_TSD);
	f->sr.cr4 = 0;

	/* The guest's own #GP: on to the handler, a HLT after its first
	 * instruction, which puts the trap back. */
	set_frame(f, NOT_SITE, 0);
	assert_int_equal(tsc_gp_judge(&f->s, &f->m, &f->sr, STACK, &fr, &gpa), TSC_GP_NO_SITE);
	tsc_gp_pass(&f->s, &f->m, &f->sr);
	assert_int_equal(f->m.base[HANDLER], 0x6a);
	assert_int_equal(f->m.base[HANDLER + 2], TSC_GP_HLT);
	assert_false(tsc_gp_is_step(&f->s, &f->m, &f->sr, HANDLER + 1));
	assert_true(tsc_gp_is_step(&f->s, &f->m, &f->sr, HANDLER + 3));
	assert_int_equal(f->m.base[HANDLER + 2], 0x60);
	tsc_gp_arm(&f->s, &f->m, &f->sr);
	assert_int_equal(f->m.base[HANDLER], TSC_GP_HLT);

	/* The guest points its IDT elsewhere: the trap follows. */
	set_gate(f, HANDLER2, 0x8f);
	tsc_gp_arm(&f->s, &f->m, &f->sr);
	assert_int_equal(f->m.base[HANDLER], 0x6a);
	assert_int_equal(f->m.base[HANDLER2], TSC_GP_HLT);
	assert_int_equal(f->s.gp.entry, HANDLER2);

	/* A task gate cannot carry it: out, and why. */
	set_gate(f, HANDLER, 0x85);
	tsc_gp_arm(&f->s, &f->m, &f->sr);
	assert_false(f->s.gp.armed || f->s.gp.usable);
	assert_int_equal(f->m.base[HANDLER2], 0xfc);
	assert_non_null(strstr(f->s.gp.why, "task"));

	/* Then the sites ring 3 may run (all of them, without paging) go
	 * back to RDTSC rather than fault, for good. */
	struct paging_mode pm = { .cr0 = X86_CR0_PE };
	assert_non_null(tsc_find(&f->s, SITE));
	assert_int_equal(tsc_leave_user_sites(&f->s, &f->m, &pm), 1);
	assert_int_equal(f->m.base[SITE], 0x0f);
	assert_int_equal(f->m.base[SITE + 1], 0x31);
	assert_null(tsc_find(&f->s, SITE));
	assert_int_equal(tsc_leave_user_sites(&f->s, &f->m, &pm), 0);
}

/* A 32-bit guest whose ring-0 code and stack segments have bases: the
 * trap and its frame are found at CS:RIP and SS:ESP, not at RIP and ESP. */
#define CS_BASE 0x1000u
#define SS_BASE 0x100u

static void test_trap_segment_bases(void **state)
{
	struct fake *f = *state;
	struct tsc_gp_frame fr;
	uint64_t gpa = 0, gdt1 = 0x00cf9a000000ffffull | (uint64_t)CS_BASE << 16;

	memcpy(f->m.base + GDT + 8, &gdt1, sizeof(gdt1)); /* selector 0x08: base CS_BASE */
	set_gate(f, HANDLER - CS_BASE, 0x8e);
	f->sr.cs = (struct kvm_segment){ .base = CS_BASE, .selector = 0x08, .db = 1 };
	f->sr.ss = (struct kvm_segment){ .base = SS_BASE, .selector = 0x10, .db = 1 };
	tsc_gp_arm(&f->s, &f->m, &f->sr);
	assert_true(f->s.gp.armed);
	assert_int_equal(f->m.base[HANDLER], TSC_GP_HLT);
	assert_int_equal(f->s.gp.entry, HANDLER);
	assert_int_equal(f->s.gp.entry_rip, HANDLER - CS_BASE);

	/* EIP past the HLT is an offset in CS: HANDLER - CS_BASE + 1. */
	set_frame(f, SITE, 0);
	assert_true(tsc_gp_is_trap(&f->s, &f->m, &f->sr, HANDLER - CS_BASE + 1));
	assert_false(tsc_gp_is_trap(&f->s, &f->m, &f->sr, HANDLER + 1));
	assert_int_equal(tsc_gp_judge(&f->s, &f->m, &f->sr, STACK - SS_BASE, &fr, &gpa),
			 TSC_GP_OURS);
	assert_int_equal(gpa, SITE);
	assert_int_not_equal(tsc_gp_judge(&f->s, &f->m, &f->sr, STACK, &fr, &gpa), TSC_GP_OURS);

	/* The guest's own #GP: the HLT after the first instruction, by CS too. */
	set_frame(f, NOT_SITE, 0);
	tsc_gp_pass(&f->s, &f->m, &f->sr);
	assert_int_equal(f->m.base[HANDLER + 2], TSC_GP_HLT);
	assert_false(tsc_gp_is_step(&f->s, &f->m, &f->sr, HANDLER + 3));
	assert_true(tsc_gp_is_step(&f->s, &f->m, &f->sr, HANDLER - CS_BASE + 3));
	assert_int_equal(f->m.base[HANDLER + 2], 0x60);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_decode),
		cmocka_unit_test(test_gate_decode),
		cmocka_unit_test(test_segment),
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_insn_len),
		cmocka_unit_test_setup_teardown(test_trap_life, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trap_segment_bases, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
