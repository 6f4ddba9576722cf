/*
 * apicspin: the local APIC timer in ring-0 loops without exits, the way a
 * kernel with an APIC tick waits and computes.  The timer is periodic at
 * ~1 kHz (divide by 16, count 62500: 1 ms on the 1 GHz bus rrvm and QEMU
 * give); the handler counts and writes EOI.  Every wait and every loop below
 * runs without an exit (no port I/O, no APIC access, no RDTSC inside), so
 * each tick must land inside it (rrvm: a landmark):
 *
 * 1. sleep(): `for (end = ticks + n; ticks < end;) pause;`.
 * 2. an exit-free compute loop, timed by the TSC at both ends; the ticks it
 *    received are compared with those that fell due (the TSC is calibrated
 *    against the APIC timer while idling in HLT, where ticks land exactly).
 * 3. TPR 0x20 (the timer's priority class) written through the APIC page:
 *    an exit-free loop of several periods gets no tick, the tick waits in
 *    IRR, and TPR 0 lets it in.
 * 4. the same with MOV to CR8, which itself needs no exit: CR8 2 holds the
 *    tick back through an exit-free loop, CR8 0 inside ring-0 code without
 *    exits lets the ticks in again, and a sleep() ends.
 *
 * Ring-0 cost (emulated at ~1.3 M instructions/s on the development host):
 * ~20 k instructions per 10 ms of waiting; ~0.3 s in all.
 */
#include "runtime.h"
#include "spin.h"

#define VEC_TIMER    0x2e
#define VEC_SPURIOUS 0x2f
#define COUNT_1MS    62500u /* at divide by 16 on a 1 GHz bus */
#define DIV_16       0x3
#define CALIB_TICKS  20
#define SLEEP_TICKS  50
#define COMPUTE_TICKS 50
#define HOLD_TICKS   5       /* periods a raised TPR holds the tick back */
#define CAL_ITERS    4000

static volatile uint64_t ticks;

static void timer_irq(struct regs *r)
{
	ticks++;
	lapic_eoi();
}

static void spurious_irq(struct regs *r)
{
}

static void set_cr8(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr8" : : "r"(v) : "memory");
}


static void test_tpr(uint64_t ipt, uint64_t tsc_tick)
{
	uint64_t t0;

	lapic_write(LAPIC_TPR, VEC_TIMER & 0xf0);
	t0 = ticks;
	spin_compute(HOLD_TICKS * ipt);
	report(ticks == t0, "TPR 0x%x: no tick in %u periods of exit-free code",
	       VEC_TIMER & 0xf0, HOLD_TICKS);
	/* A fast emulator may finish the loop early: then wait (the TSC,
	 * no interrupt) until a period has surely passed. */
	for (uint64_t w = rdtsc(); !lapic_irr(VEC_TIMER) && rdtsc() - w < 20 * tsc_tick;)
		cpu_relax();
	report(lapic_irr(VEC_TIMER), "... the tick waits in IRR");
	lapic_write(LAPIC_TPR, 0);
	spin_sleep(&ticks, 1);
	report(ticks > t0, "TPR 0: the held-back tick arrives");
	t0 = ticks;
	spin_sleep(&ticks, 10);
	report(ticks >= t0 + 10, "sleep of 10 ticks after TPR 0");

	set_cr8(VEC_TIMER >> 4);
	t0 = ticks;
	spin_compute(HOLD_TICKS * ipt);
	report(ticks == t0, "CR8 %u: no tick in %u periods of exit-free code", VEC_TIMER >> 4,
	       HOLD_TICKS);
	set_cr8(0);
	spin_sleep(&ticks, 10);
	report(ticks >= t0 + 10, "CR8 0 without an exit: a sleep of 10 ticks ends");
}

void kmain(uint32_t mb_magic, uint32_t mb_info);
void kmain(uint32_t mb_magic, uint32_t mb_info)
{
	uint64_t k0, tsc_per_tick, ipt;

	serial_init();
	idt_init();
	pic_init();
	pic_mask(2); /* the 8259 stays silent: the tick is the local APIC's */
	printf("apicspin: local APIC timer at 1 kHz, ring-0 loops without exits, TPR and CR8\n");
	if (!apic_present()) {
		report(false, "CPUID: local APIC present");
		return;
	}
	apic_map();
	idt_set_handler(VEC_TIMER, timer_irq);
	idt_set_handler(VEC_SPURIOUS, spurious_irq);
	lapic_write(LAPIC_SVR, LAPIC_SW_ENABLE | VEC_SPURIOUS);
	lapic_write(LAPIC_LVT_LINT0, LAPIC_MASKED);
	lapic_write(LAPIC_LVT_LINT1, LAPIC_MASKED);
	lapic_write(LAPIC_LVT_ERROR, LAPIC_MASKED);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_TIMER_DIV, DIV_16);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_PERIODIC | VEC_TIMER);
	lapic_write(LAPIC_TIMER_INIT, COUNT_1MS);
	irq_enable();

	k0 = ticks;
	spin_sleep(&ticks, SLEEP_TICKS);
	report(ticks - k0 >= SLEEP_TICKS, "busy-wait sleep of %u ticks ended", SLEEP_TICKS);
	tsc_per_tick = spin_tsc_per_tick(&ticks, CALIB_TICKS);
	ipt = spin_iters_per_tick(tsc_per_tick, CAL_ITERS);
	spin_check_compute("apicspin", &ticks, tsc_per_tick, COMPUTE_TICKS);
	test_tpr(ipt, tsc_per_tick);
	irq_disable();
	lapic_write(LAPIC_TIMER_INIT, 0);
	printf("apicspin: %lu ticks in all\n", ticks);
	lapic_write(LAPIC_ESR, 0);
	report(lapic_read(LAPIC_ESR) == 0, "no APIC errors");
}
