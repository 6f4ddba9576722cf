/* Intel 82093AA I/O APIC: 24 interrupt pins, each routed by a 64-bit
 * redirection table entry to a local APIC, as a pure state machine.
 *
 * Wiring on rrvm's PC (the MP table, vmm/mptable.c, says the same): pin 0
 * is the 8259's INTR in ExtINT mode, pin 2 the PIT (ISA IRQ0), pins 1 and
 * 3-15 the ISA IRQs of the same number.  Pin levels arrive through
 * ioapic_set_irq(); a message leaves through the deliver callback, which the
 * machine hands to the local APIC.  The EOI broadcast of a level-triggered
 * vector comes back through ioapic_eoi().  Every call is O(24). */
#ifndef RRVM_DEVICES_IOAPIC_H
#define RRVM_DEVICES_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/device.h"

#define IOAPIC_DEFAULT_BASE 0xfec00000u
#define IOAPIC_MMIO_LEN 0x20u
#define IOAPIC_PINS 24

/* Saved as a flat blob (ioapic_ops.state_size bytes). */
struct ioapic_state {
	uint64_t redir[IOAPIC_PINS]; /* remote IRR (bit 14) lives here too */
	uint32_t pins;               /* input levels, bit n = pin n */
	uint32_t id;                 /* bits 27:24 */
	uint8_t sel;                 /* IOREGSEL */
};

/* One interrupt message to the local APICs. */
struct ioapic_msg {
	uint8_t vector;
	uint8_t mode;    /* enum lapic_dm */
	uint8_t dest;    /* physical APIC ID, or logical destination */
	bool logical;
	bool level;      /* level-triggered: the APIC sets TMR and broadcasts its EOI */
};

struct ioapic {
	void (*deliver)(void *opaque, const struct ioapic_msg *msg);
	void *deliver_opaque;

	struct ioapic_state st;
};

/* At IOAPIC_DEFAULT_BASE (IOREGSEL at +0, IOWIN at +0x10); dev is a
 * struct ioapic *. */
extern const struct vmm_device_ops ioapic_ops;

/* Power-on state: every entry masked, all pins low. */
void ioapic_init(struct ioapic *io, void (*deliver)(void *opaque, const struct ioapic_msg *msg),
		 void *deliver_opaque);

/* Drive PIN to LEVEL (the wire, before the entry's polarity). */
void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level);

/* The local APIC's EOI of a level-triggered VECTOR: clears remote IRR of
 * the entries with that vector, and delivers again if the pin is still
 * asserted. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);

/* PIN is unmasked in ExtINT mode: whatever drives it (the 8259's INTR on
 * pin 0) reaches the CPU as an external interrupt. */
bool ioapic_extint(const struct ioapic *io, unsigned pin);

/* The ISA IRQ LINE's pin on a PC: IRQ0 (the PIT) is on pin 2, the others
 * on their own number. */
unsigned ioapic_isa_pin(unsigned line);

#endif
