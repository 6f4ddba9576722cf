/*
 * RDTSC in both rings through one ordinary helper (tscring3_both.c), called
 * from ring 0 and from a ring-3 task: in tscring3 the kernel's own pages are
 * all user-accessible, the way small kernels map themselves; in tscring3u
 * the helper lives in a user region the kernel calls too (like a vDSO), and
 * the kernel's code is its own.  Under `rrvm record` its RDTSC is patched;
 * in ring 3 it must still read the TSC, never fault (issue 13).
 *
 * The ring-3 task also executes one privileged instruction (HLT), a #GP of
 * the guest's own that the kernel handles without any I/O (it counts it
 * and steps over it), and reads the TSC right after: the #GP must still
 * reach the kernel, and the next RDTSC must still work.
 *
 * Output (from ring 0, after the task is done): the TSC deltas of a busy
 * loop of N and of 8N iterations in each ring (the least of three tries),
 * then PASS lines: every read later than the one before it, across both
 * rings; 8N iterations take longer than N (at least twice as long) and at
 * least N/2 cycles; the kernel saw exactly one #GP from ring 3.
 */
#include "tscring3.h"

static uint8_t kstack[16384] __attribute__((aligned(16)));
static volatile unsigned ring3_gp;
extern char __user_start[], __user_end[];

static void report_deltas(const char *ring, const uint64_t d[2], uint64_t n)
{
	printf("tscring3: %s: %lu iterations %lu cycles, %lu iterations %lu cycles\n", ring, n,
	       d[0], 8 * n, d[1]);
}

__attribute__((noreturn)) static void finish(void)
{
	bool mono = nreads >= 4 * TRIES + 2;

	for (unsigned i = 1; i < nreads; i++)
		mono &= reads[i] > reads[i - 1];
	report_deltas("ring 0", delta[0], RING0_N);
	report_deltas("ring 3", delta[1], RING3_N);
	report(mono, "%u TSC reads from both rings, each later than the one before", nreads);
	for (int r = 0; r < 2; r++) {
		uint64_t n = r ? RING3_N : RING0_N;
		report(delta[r][0] >= n / 2 && delta[r][1] >= 2 * delta[r][0],
		       "ring %d: a busy loop 8x as long takes at least twice the cycles", r ? 3 : 0);
	}
	report(ring3_gp == (task_gp ? 1u : 0u), "the kernel saw the ring-3 task's %u #GP",
	       task_gp ? 1u : 0u);
	runtime_finish();
}

/* #GP from ring 3 (the task's HLT): counted and stepped over.  No I/O. */
static void on_gp(struct regs *r)
{
	if ((r->cs & 3) != 3 || *(const uint8_t *)r->rip != 0xf4)
		isr_unexpected(r);
	ring3_gp++;
	r->rip++;
}

/* The task's way home; this host may deliver int 0x80 from ring 3 as #UD
 * (HOST.md), which lands here too. */
static void on_exit_call(struct regs *r)
{
	const uint8_t *ip = (const uint8_t *)r->rip;

	if ((r->cs & 3) != 3 || !((ip[-2] == 0xcd && ip[-1] == 0x80) || (ip[0] == 0xcd && ip[1] == 0x80)))
		isr_unexpected(r);
	finish();
}

__attribute__((weak)) void tscring3_setup(void)
{
}

void kmain(uint32_t mb_magic, uint32_t mb_info);
void kmain(uint32_t mb_magic, uint32_t mb_info)
{
	serial_init();
	idt_init();
	/* What ring 3 runs, open to it: the shared code's region when it has
	 * one (tscring3u), else the whole kernel, code and data (tscring3). */
	if ((uintptr_t)__user_end > (uintptr_t)__user_start)
		paging_set_user((uint64_t)__user_start, (uint64_t)__user_end);
	else
		paging_set_user(0, 0x200000);
	tss_init((uint64_t)(kstack + sizeof(kstack)));
	idt_set_dpl(VEC_SYSCALL, 3);
	idt_set_handler(VEC_SYSCALL, on_exit_call);
	idt_set_handler(VEC_UD, on_exit_call);
	idt_set_handler(VEC_GP, on_gp);
	tscring3_setup();
	printf("tscring3: RDTSC through one function from ring 0 and ring 3\n");
	measure(0, RING0_N);
	/* Interrupts off: nothing here needs them. */
	enter_user(kstack + sizeof(kstack), task, ustack + sizeof(ustack), 0x2);
}
