/* The local APIC of the one vCPU, in xAPIC mode over MMIO (Intel SDM vol. 3,
 * chapter "Advanced Programmable Interrupt Controller"), as a pure state
 * machine.  No x2APIC, no TSC-deadline timer mode (CPUID says so).
 *
 * The APIC has no interrupt callback: like the PIC, the machine polls it at
 * sync points (lapic_pending(), lapic_lint0_extint(), lapic_nmi_pending())
 * and runs lapic_intack() when it injects.  Inputs arrive as calls:
 * lapic_accept() (IOAPIC messages, after lapic_match()), lapic_set_lint()
 * (LINT0/LINT1 pins), lapic_set_cr8() (MOV to CR8, which KVM keeps in
 * kvm_run).  The EOI of a level-triggered vector is broadcast through the
 * eoi callback (to the IOAPIC).  The timer runs on the virtual clock read
 * through the clock callback, never on host time; the machine calls
 * lapic_update() once the clock reaches lapic_next_deadline().  Every call
 * is O(1) (the 256-bit registers are 8 words); the struct is owned by the
 * machine. */
#ifndef RRVM_DEVICES_LAPIC_H
#define RRVM_DEVICES_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "util/types.h"
#include "vmm/device.h"

/* The architectural default base and the MSR that holds it. */
#define LAPIC_DEFAULT_BASE 0xfee00000u
#define LAPIC_MMIO_LEN 0x1000u
#define LAPIC_MSR_APIC_BASE 0x1b
#define LAPIC_BASE_BSP (1ull << 8)
#define LAPIC_BASE_X2APIC (1ull << 10)
#define LAPIC_BASE_ENABLE (1ull << 11)

/* The timer's input clock, the "bus clock" before the divider: 1 GHz, so a
 * count at divide-by-1 is a nanosecond of virtual time (QEMU's choice too).
 * Guests calibrate it against the PIT, as on hardware. */
#define LAPIC_TIMER_HZ 1000000000u

/* Local vector table entries, in register order (0x320-0x370). */
enum lapic_lvt {
	LAPIC_LVT_TIMER,
	LAPIC_LVT_THERMAL,
	LAPIC_LVT_PERF,
	LAPIC_LVT_LINT0,
	LAPIC_LVT_LINT1,
	LAPIC_LVT_ERROR,
	LAPIC_LVT_COUNT,
};

/* Delivery modes (LVT bits 10:8, ICR and IOAPIC redirection entries). */
enum lapic_dm {
	LAPIC_DM_FIXED = 0,
	LAPIC_DM_LOWEST = 1,
	LAPIC_DM_SMI = 2,
	LAPIC_DM_NMI = 4,
	LAPIC_DM_INIT = 5,
	LAPIC_DM_STARTUP = 6,
	LAPIC_DM_EXTINT = 7,
};

/* Saved as a flat blob (lapic_ops.state_size bytes). */
struct lapic_state {
	uint64_t apic_base;      /* IA32_APIC_BASE */
	uint32_t irr[8], isr[8], tmr[8]; /* 256-bit registers, vector v in word v/32 */
	uint32_t id;             /* bits 31:24 */
	uint32_t tpr, ldr, dfr, svr;
	uint32_t esr;            /* as last latched by a write */
	uint32_t esr_pending;    /* errors seen since */
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[LAPIC_LVT_COUNT];
	uint32_t dcr;            /* divide configuration, as written */
	uint32_t timer_initial;  /* initial count; 0 = stopped */
	/* The timer counts divided ticks n(t) = timer_n0 + (bus ticks since
	 * timer_t0) >> divide shift; it expires whenever n reaches a multiple
	 * of the initial count.  timer_fired expirations are accounted for. */
	vclock_ns timer_t0;
	uint64_t timer_n0;
	uint64_t timer_fired;
	bool timer_running;      /* counting (one-shot stops at its expiry) */
	bool nmi_pending;        /* an NMI waits for the machine */
	bool lint_level[2];      /* LINT0/LINT1 pin levels, for edges */
};

struct lapic {
	vmm_clock_fn clock;
	void *clock_opaque;
	/* EOI of a level-triggered VECTOR: the broadcast to the IOAPIC. */
	void (*eoi)(void *opaque, uint8_t vector);
	void *eoi_opaque;

	struct lapic_state st;
};

/* At LAPIC_DEFAULT_BASE, 4 KiB; dev is a struct lapic *. */
extern const struct vmm_device_ops lapic_ops;

/* Power-on state (SDM "Local APIC State After Power-Up or Reset"): enabled
 * in IA32_APIC_BASE, software-disabled (SVR 0xff), every LVT masked. */
void lapic_init(struct lapic *l, vmm_clock_fn clock, void *clock_opaque,
		void (*eoi)(void *opaque, uint8_t vector), void *eoi_opaque);

/* The state a PC BIOS hands to the OS, for kernels booted without one:
 * software-enabled, LINT0 ExtINT and LINT1 NMI ("virtual wire" mode, so the
 * 8259 keeps working until the OS programs the APIC). */
void lapic_bios_handoff(struct lapic *l);

/* IA32_APIC_BASE.  A write returns -EINVAL for reserved bits or the x2APIC
 * enable, -EOPNOTSUPP for another base address (no relocation); otherwise
 * applies it (clearing ENABLE resets the APIC, as the SDM allows). */
uint64_t lapic_get_base(const struct lapic *l);
int lapic_set_base(struct lapic *l, uint64_t value);
/* IA32_APIC_BASE.ENABLE: the APIC decodes its MMIO range and delivers. */
bool lapic_enabled(const struct lapic *l);

/* CR8 is TPR[7:4] (SDM "Task Priority in IA-32e Mode"): a MOV to CR8 sets
 * TPR to CR8 << 4, reading CR8 gives TPR >> 4. */
void lapic_set_cr8(struct lapic *l, uint8_t cr8);
uint8_t lapic_get_cr8(const struct lapic *l);
/* Processor priority from TPR and the highest vector in service. */
uint8_t lapic_ppr(const struct lapic *l);

/* Does an interrupt message for DEST (physical: an APIC ID or 0xff;
 * LOGICAL: a bitmap or cluster against LDR/DFR) reach this APIC? */
bool lapic_match(const struct lapic *l, uint8_t dest, bool logical);
/* A fixed interrupt VECTOR arrives (into IRR; TMR set if LEVEL).  Vectors
 * 0-15 are illegal: they set ESR "receive illegal vector" instead.  Ignored
 * while the APIC is disabled in any way. */
void lapic_accept(struct lapic *l, uint8_t vector, bool level);
/* An NMI arrives. */
void lapic_nmi(struct lapic *l);

/* Drive LINT0 or LINT1 (PIN 0 or 1) to LEVEL: a rising edge delivers the
 * LVT's fixed vector or NMI.  ExtINT on LINT0 is not an edge: see below. */
void lapic_set_lint(struct lapic *l, unsigned pin, bool level);
/* The 8259's INTR reaches the CPU through LINT0 as ExtINT: LINT0 unmasked
 * in ExtINT mode, or the APIC globally disabled (then LINT0 is INTR). */
bool lapic_lint0_extint(const struct lapic *l);

/* The vector to inject now (the highest in IRR whose priority class is
 * above PPR's), or -1. */
int lapic_pending(const struct lapic *l);
/* The interrupt acknowledge: moves the vector lapic_pending() named from
 * IRR to ISR and returns it; the spurious vector (SVR) when none is. */
uint8_t lapic_intack(struct lapic *l);
/* Takes a pending NMI. */
bool lapic_nmi_take(struct lapic *l);

/* Virtual time of the next timer expiry that would raise an interrupt, or
 * VCLOCK_NEVER (stopped, or the timer LVT masked). */
vclock_ns lapic_next_deadline(const struct lapic *l);
/* Accounts for the expiries due by now: one interrupt if any (missed
 * periods coalesce, like lost ticks). */
void lapic_update(struct lapic *l);

#endif
