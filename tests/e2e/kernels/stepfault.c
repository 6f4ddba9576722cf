/*
 * A fault inside a debugger's single step.  The kernel divides by zero at
 * fault_here in ring 0; its #DE handler keeps the RFLAGS the CPU pushed
 * (fault_flags) and skips the DIV, then prints them.  Natively TF is clear
 * there.  A debugger that single-steps the DIV has KVM set TF for the step,
 * and the CPU pushes it with the frame: rrvm must take it out again, or
 * the guest's memory (and what this kernel prints) differ from the
 * recording's.
 */
#include "runtime.h"

volatile uint64_t fault_flags;
void fault_done(void);

static void on_de(struct regs *r)
{
	fault_flags = r->rflags;
	r->rip += 2; /* div %ecx */
}

__attribute__((noinline)) void fault_done(void)
{
	__asm__ volatile("" : : : "memory");
}

void kmain(uint32_t mb_magic, uint32_t mb_info);
void kmain(uint32_t mb_magic, uint32_t mb_info)
{
	uint32_t a = 1, d = 0;

	(void)mb_magic, (void)mb_info;
	serial_init();
	idt_init();
	idt_set_handler(0, on_de);
	__asm__ volatile(".globl fault_here\nfault_here:\n\tdiv %2"
			 : "+a"(a), "+d"(d) : "c"(0) : "memory");
	fault_done();
	printf("stepfault: the #DE frame's RFLAGS 0x%llx, TF %s\n",
	       (unsigned long long)fault_flags, fault_flags & 0x100 ? "set" : "clear");
	report(!(fault_flags & 0x100), "no TF in the fault frame");
	runtime_finish();
}
