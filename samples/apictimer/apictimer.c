/*
 * apictimer: the local APIC as a kernel that leaves the 8259 behind uses it.  The
 * APIC timer ticks periodically at ~1 kHz (divide by 16, count 62500: 1 ms on a
 * 1 GHz APIC bus, which is what rrvm and QEMU give), the main loop idles with
 * STI;HLT and counts the ticks, each handler ends with an EOI.  Then: a TPR that
 * holds the timer's vector back in IRR until it is lowered again, CR8 as the
 * TPR's upper half, a self-IPI (fixed and NMI), one-shot mode, and a disarmed
 * timer.
 *
 * Vectors stay in 0x20-0x2f (the runtime's stubs): one priority class, 2, so a
 * TPR of 0x20 blocks all of them.  Waits that must not depend on the timer spin on
 * port 0x80 (the POST port), one VM exit per access under rrvm.
 *
 * Ring-0 cost: ~50 instructions per tick; ~2000 port writes in the waits.
 */
#include "runtime.h"

#define VEC_TIMER    0x2e
#define VEC_ONESHOT  0x2d
#define VEC_SELF     0x2c
#define VEC_SPURIOUS 0x2f
#define TICKS        100
#define COUNT_1MS    62500u     /* at divide by 16 on a 1 GHz bus */
#define DIV_16       0x3
#define DIV_1        0xb
#define WAIT_SPINS   200000     /* bound on any wait: a failure, not a hang */

static volatile uint32_t ticks, oneshots, selfs, spurious, nmis;
static volatile bool in_service_seen;
static volatile uint32_t ppr_in_handler;

static void timer_irq(struct regs *r)
{
	if (ticks == 0) {
		in_service_seen = lapic_isr(VEC_TIMER);
		ppr_in_handler = lapic_read(LAPIC_PPR);
	}
	ticks++;
	lapic_eoi();
}

static void oneshot_irq(struct regs *r)
{
	oneshots++;
	lapic_eoi();
}

static void self_irq(struct regs *r)
{
	selfs++;
	lapic_eoi();
}

static void nmi_handler(struct regs *r)
{
	nmis++; /* an NMI takes no EOI */
}

static void spurious_irq(struct regs *r)
{
	spurious++; /* no EOI for the spurious vector */
}

static void io_wait(void)
{
	outb(0x80, 0);
}

/* Spins on port I/O until *V differs from OLD; false when it never did. */
static bool wait_change(volatile uint32_t *v, uint32_t old)
{
	for (unsigned i = 0; i < WAIT_SPINS; i++) {
		if (*v != old)
			return true;
		io_wait();
	}
	return false;
}

/* Spins on port I/O until the periodic count has wrapped N times (the
 * timer keeps counting whether or not its interrupt is let through); false
 * when it never did. */
static bool wait_periods(unsigned n)
{
	uint32_t last = lapic_read(LAPIC_TIMER_CUR);

	for (unsigned i = 0; i < 10 * WAIT_SPINS && n; i++) {
		uint32_t c = lapic_read(LAPIC_TIMER_CUR);

		if (c > last)
			n--;
		last = c;
		io_wait();
	}
	return n == 0;
}

/* Spins on port I/O until VEC is requested in IRR (QEMU runs its timer
 * callbacks in another thread, so the request may trail the count). */
static bool wait_irr(unsigned vec)
{
	for (unsigned i = 0; i < WAIT_SPINS; i++) {
		if (lapic_irr(vec))
			return true;
		io_wait();
	}
	return false;
}

static void set_cr8(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr8" : : "r"(v) : "memory");
}

static uint64_t get_cr8(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr8, %0" : "=r"(v));
	return v;
}

static void test_periodic(void)
{
	lapic_write(LAPIC_TIMER_DIV, DIV_16);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_PERIODIC | VEC_TIMER);
	lapic_write(LAPIC_TIMER_INIT, COUNT_1MS);
	irq_enable();
	while (ticks < TICKS)
		cpu_idle();
	report(ticks >= TICKS, "counted %u periodic timer ticks", TICKS);
	report(in_service_seen && (ppr_in_handler & 0xf0) == (VEC_TIMER & 0xf0),
	       "in the handler the vector is in service and PPR is its class");
}

static void test_tpr(void)
{
	uint32_t t0;

	lapic_write(LAPIC_TPR, VEC_TIMER & 0xf0);
	t0 = ticks;
	report(wait_periods(3) && ticks == t0, "TPR 0x%x holds the timer vector back",
	       VEC_TIMER & 0xf0);
	report(wait_irr(VEC_TIMER) && ticks == t0, "... where it waits in IRR");
	lapic_write(LAPIC_TPR, 0);
	report(wait_change(&ticks, t0), "TPR 0: the held-back tick arrives");

	set_cr8(3);
	report(lapic_read(LAPIC_TPR) == 0x30, "MOV to CR8 sets TPR[7:4]");
	lapic_write(LAPIC_TPR, 0x10);
	report(get_cr8() == 1, "CR8 reads TPR[7:4]");
	set_cr8(VEC_TIMER >> 4);
	t0 = ticks;
	report(wait_periods(2) && ticks == t0, "CR8 %u holds the timer vector back too",
	       VEC_TIMER >> 4);
	set_cr8(0);
	report(wait_change(&ticks, t0), "CR8 0: ticks again");
}

static void test_self_ipi(void)
{
	lapic_write(LAPIC_TPR, 0x20);
	lapic_write(LAPIC_ICR_HI, 0);
	lapic_write(LAPIC_ICR_LO, (1u << 18) | VEC_SELF); /* shorthand self, fixed, edge */
	for (unsigned i = 0; i < 16; i++)
		io_wait();
	report(selfs == 0 && lapic_irr(VEC_SELF), "a self-IPI below TPR waits in IRR");
	lapic_write(LAPIC_TPR, 0);
	report(wait_change(&selfs, 0) && selfs == 1, "and is delivered once TPR allows");
	/* Delivery mode NMI: vector 2, whatever TPR and IF say. */
	irq_disable();
	lapic_write(LAPIC_TPR, 0xf0);
	lapic_write(LAPIC_ICR_LO, (1u << 18) | (4u << 8));
	report(wait_change(&nmis, 0) && nmis == 1, "a self-IPI NMI arrives with IF=0 and TPR 0xf0");
	lapic_write(LAPIC_TPR, 0);
	irq_enable();
}

static void test_one_shot(void)
{
	lapic_write(LAPIC_TIMER_INIT, 0); /* stop the periodic timer */
	report(lapic_read(LAPIC_TIMER_CUR) == 0, "an initial count of 0 stops the timer");
	lapic_write(LAPIC_TIMER_DIV, DIV_1);
	lapic_write(LAPIC_LVT_TIMER, VEC_ONESHOT);
	for (unsigned shot = 1; shot <= 2; shot++) {
		lapic_write(LAPIC_TIMER_INIT, 2000000); /* 2 ms */
		while (oneshots < shot)
			cpu_idle();
	}
	for (unsigned i = 0; i < 2000; i++) /* longer than another 2 ms */
		io_wait();
	report(oneshots == 2, "one-shot: one interrupt per arming");
	report(lapic_read(LAPIC_TIMER_CUR) == 0, "one-shot: the count stays at 0");
	lapic_write(LAPIC_LVT_TIMER, LAPIC_MASKED);
}

void kmain(uint32_t mb_magic, uint32_t mb_info);
void kmain(uint32_t mb_magic, uint32_t mb_info)
{
	uint64_t base;
	uint32_t ver;

	serial_init();
	idt_init();
	pic_init();
	pic_mask(2); /* the 8259 stays silent: everything comes from the APIC */
	printf("apictimer: local APIC timer at 1 kHz for %u ticks, TPR, CR8, self-IPI, one-shot\n",
	       TICKS);
	report(apic_present(), "CPUID: local APIC present");
	base = rdmsr(MSR_APIC_BASE);
	report((base & ~0xfffull) == LAPIC_BASE && (base & 0x900) == 0x900,
	       "IA32_APIC_BASE: enabled, BSP, at 0x%x", LAPIC_BASE);
	apic_map();
	ver = lapic_read(LAPIC_VERSION);
	report((ver & 0xff) >= 0x10 && ((ver >> 16) & 0xff) >= 3,
	       "version register: an integrated APIC with at least 4 LVT entries");
	idt_set_handler(VEC_TIMER, timer_irq);
	idt_set_handler(VEC_ONESHOT, oneshot_irq);
	idt_set_handler(VEC_SELF, self_irq);
	idt_set_handler(VEC_SPURIOUS, spurious_irq);
	idt_set_handler(2, nmi_handler);
	lapic_write(LAPIC_SVR, LAPIC_SW_ENABLE | VEC_SPURIOUS);
	lapic_write(LAPIC_LVT_LINT0, LAPIC_MASKED);
	lapic_write(LAPIC_LVT_LINT1, LAPIC_MASKED);
	lapic_write(LAPIC_LVT_ERROR, LAPIC_MASKED);
	lapic_write(LAPIC_TPR, 0);

	test_periodic();
	test_tpr();
	test_self_ipi();
	test_one_shot();
	irq_disable();
	lapic_write(LAPIC_ESR, 0);
	report(lapic_read(LAPIC_ESR) == 0, "no APIC errors");
}
