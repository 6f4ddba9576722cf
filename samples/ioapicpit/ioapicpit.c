/*
 * ioapicpit: the PIT through the IOAPIC, found the way an OS without ACPI finds
 * it: the MP table says where the IOAPIC is and which of its pins ISA IRQ0 (the
 * PIT) drives (pin 2 on a PC).  The 8259 is masked; the pin's redirection entry
 * sends vector 0x28 to this CPU's APIC ID, edge-triggered; every tick ends with a
 * local APIC EOI.  Then the pin is masked (no ticks), unmasked (ticks again), and
 * finally the 8259 takes over again through LINT0 in ExtINT mode ("virtual wire").
 *
 * Ring-0 cost: ~50 instructions per tick; waits spin on the PIT counter (three
 * port accesses a read).
 */
#include "runtime.h"

#define VEC_PIT      0x28
#define VEC_SPURIOUS 0x2f
#define TICKS        100
#define PIT_RATE     1000
#define REDIR_MASKED (1u << 16)
#define REDIR_REMOTE_IRR (1u << 14)

static volatile uint32_t ticks, pic_ticks;

static void pit_irq(struct regs *r)
{
	ticks++;
	lapic_eoi();
}

static void pic_irq0(struct regs *r)
{
	pic_ticks++;
	pic_eoi(0);
}

static void spurious_irq(struct regs *r)
{
}

/* Spins until the PIT's channel 0 has reloaded N times; false when it
 * never did. */
static bool wait_pit_periods(unsigned n)
{
	uint16_t last = pit_read_counter();

	for (unsigned i = 0; i < 1000000 && n; i++) {
		uint16_t c = pit_read_counter();

		if (c > last)
			n--;
		last = c;
	}
	return n == 0;
}

void kmain(uint32_t mb_magic, uint32_t mb_info);
void kmain(uint32_t mb_magic, uint32_t mb_info)
{
	struct mp_info mp;
	unsigned pin, entries;
	uint32_t t0, lo;

	serial_init();
	idt_init();
	pic_init();
	pic_mask(2);
	printf("ioapicpit: the PIT at %u Hz on the IOAPIC pin the MP table names, %u ticks\n",
	       PIT_RATE, TICKS);
	report(apic_present(), "CPUID: local APIC present");
	if (!mp_find(&mp)) {
		report(false, "MP table found");
		return;
	}
	report(mp.cpus == 1 && mp.lapic == LAPIC_BASE, "MP table: one CPU, local APIC at 0x%x",
	       LAPIC_BASE);
	report(mp.ioapic == IOAPIC_BASE, "MP table: IOAPIC at 0x%x", IOAPIC_BASE);
	report(mp.irq0_pin == 2, "MP table: ISA IRQ0 on IOAPIC pin 2");
	pin = mp.irq0_pin >= 0 ? (unsigned)mp.irq0_pin : 2;
	apic_map();
	entries = ((ioapic_read(0x01) >> 16) & 0xff) + 1;
	report(entries == 24, "IOAPIC: 24 redirection entries");
	report(((ioapic_read(0x00) >> 24) & 0xf) == mp.ioapic_id, "IOAPIC: its ID is the MP table's");

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
	while (ticks < TICKS)
		cpu_idle();
	report(ticks >= TICKS, "counted %u PIT ticks through the IOAPIC", TICKS);
	lo = ioapic_read(0x10 + 2 * pin);
	report((lo & 0xff) == VEC_PIT && !(lo & REDIR_REMOTE_IRR), "edge entry: no remote IRR");

	ioapic_write(0x10 + 2 * pin, REDIR_MASKED | VEC_PIT);
	t0 = ticks;
	report(wait_pit_periods(3) && ticks == t0, "a masked pin delivers nothing");
	ioapic_write(0x10 + 2 * pin, VEC_PIT);
	while (ticks < t0 + 10)
		cpu_idle();
	report(ticks >= t0 + 10, "unmasked, the ticks come back");

	/* Back to the 8259 through the local APIC's LINT0 (virtual wire). */
	ioapic_write(0x10 + 2 * pin, REDIR_MASKED | VEC_PIT);
	lapic_write(LAPIC_LVT_LINT0, 0x700); /* ExtINT, unmasked */
	pic_unmask(0);
	while (pic_ticks < 10)
		cpu_idle();
	report(pic_ticks >= 10, "the 8259 through LINT0 as ExtINT");
	irq_disable();
	pic_mask(0);
}
