/*
 * ioapicspin: the PIT through the IOAPIC, counted in ring-0 loops without
 * exits.  As an OS without ACPI sets up a PC: the MP table names the IOAPIC
 * and the pin ISA IRQ0 drives (pin 2), the 8259 is masked and the local
 * APIC's LINT0 too (no ExtINT "virtual wire"), the pin's redirection entry
 * sends vector 0x28 edge-triggered to this CPU, and every tick ends with a
 * local APIC EOI.  The waits and loops run without an exit (no port I/O, no
 * APIC access, no RDTSC inside), so each tick must land inside them (rrvm:
 * a landmark):
 *
 * 1. sleep(): `for (end = ticks + n; ticks < end;) pause;`.
 * 2. an exit-free compute loop timed by the TSC at both ends, its ticks
 *    compared with those that fell due (TSC calibrated in HLT).
 * 3. the pin masked in the IOAPIC: no tick through an exit-free loop of
 *    several periods; unmasked: a sleep() ends again.
 *
 * Ring-0 cost (emulated at ~1.3 M instructions/s on the development host):
 * ~0.2 s in all.
 */
#include "runtime.h"
#include "spin.h"

#define VEC_PIT      0x28
#define VEC_SPURIOUS 0x2f
#define PIT_RATE     1000
#define REDIR_MASKED (1u << 16)
#define CALIB_TICKS  20
#define SLEEP_TICKS  50
#define COMPUTE_TICKS 50
#define HOLD_TICKS   5
#define CAL_ITERS    4000

static volatile uint64_t ticks, pic_ticks;

static void pit_irq(struct regs *r)
{
	ticks++;
	lapic_eoi();
}

static void pic_irq0(struct regs *r)
{
	pic_ticks++; /* must never happen: the 8259 is masked and LINT0 too */
	pic_eoi(0);
}

static void spurious_irq(struct regs *r)
{
}


static void test_mask(unsigned pin, uint64_t ipt)
{
	uint64_t t0;

	ioapic_write(0x10 + 2 * pin, REDIR_MASKED | VEC_PIT);
	t0 = ticks;
	spin_compute(HOLD_TICKS * ipt);
	report(ticks == t0, "masked pin: no tick in %u periods of exit-free code", HOLD_TICKS);
	ioapic_write(0x10 + 2 * pin, VEC_PIT);
	t0 = ticks;
	spin_sleep(&ticks, 10);
	report(ticks >= t0 + 10, "unmasked: a sleep of 10 ticks ends");
}

void kmain(uint32_t mb_magic, uint32_t mb_info);
void kmain(uint32_t mb_magic, uint32_t mb_info)
{
	struct mp_info mp;
	uint64_t k0, tsc_per_tick, ipt;
	unsigned pin;

	serial_init();
	idt_init();
	pic_init();
	pic_mask(2);
	printf("ioapicspin: the PIT at %u Hz on IOAPIC pin 2, ExtINT off, ring-0 loops without "
	       "exits\n", PIT_RATE);
	if (!apic_present() || !mp_find(&mp) || mp.irq0_pin < 0) {
		report(false, "CPUID: local APIC, and an MP table with ISA IRQ0");
		return;
	}
	report(mp.irq0_pin == 2 && mp.ioapic == IOAPIC_BASE,
	       "MP table: ISA IRQ0 on pin 2 of the IOAPIC at 0x%x", IOAPIC_BASE);
	pin = (unsigned)mp.irq0_pin;
	apic_map();
	idt_set_handler(VEC_PIT, pit_irq);
	idt_set_handler(IRQ_BASE + 0, pic_irq0);
	idt_set_handler(VEC_SPURIOUS, spurious_irq);
	lapic_write(LAPIC_SVR, LAPIC_SW_ENABLE | VEC_SPURIOUS);
	lapic_write(LAPIC_LVT_LINT0, LAPIC_MASKED);
	lapic_write(LAPIC_TPR, 0);
	/* Fixed, physical destination, active high, edge: an ISA interrupt. */
	ioapic_write(0x11 + 2 * pin, lapic_read(LAPIC_ID) & 0xff000000u);
	ioapic_write(0x10 + 2 * pin, VEC_PIT);
	pit_init_periodic(PIT_RATE, PIT_MODE_RATE);
	irq_enable();

	k0 = ticks;
	spin_sleep(&ticks, SLEEP_TICKS);
	report(ticks - k0 >= SLEEP_TICKS, "busy-wait sleep of %u ticks ended", SLEEP_TICKS);
	tsc_per_tick = spin_tsc_per_tick(&ticks, CALIB_TICKS);
	ipt = spin_iters_per_tick(tsc_per_tick, CAL_ITERS);
	spin_check_compute("ioapicspin", &ticks, tsc_per_tick, COMPUTE_TICKS);
	test_mask(pin, ipt);
	irq_disable();
	ioapic_write(0x10 + 2 * pin, REDIR_MASKED | VEC_PIT);
	printf("ioapicspin: %lu ticks in all\n", ticks);
	report(pic_ticks == 0, "nothing came through the 8259");
}
