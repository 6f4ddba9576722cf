/* Shared by the local APIC's register file (lapic.c) and its timer
 * (lapic_timer.c); not for other users. */
#ifndef RRVM_DEVICES_LAPIC_INT_H
#define RRVM_DEVICES_LAPIC_INT_H

#include "vmm/devices/lapic.h"

#define LAPIC_LVT_MASKED (1u << 16)
#define LAPIC_TIMER_PERIODIC (1u << 17)

/* The virtual time (0 without a clock). */
vclock_ns lapic_now(const struct lapic *l);
/* Accounts for the expiries due by now if the timer runs; returns the time
 * it read (0 when it read none). */
vclock_ns lapic_timer_catch_up(struct lapic *l);
/* The current count register at NOW. */
uint32_t lapic_timer_current(const struct lapic *l, vclock_ns now);
/* A write of the initial count (0 stops the timer). */
void lapic_timer_start(struct lapic *l, uint32_t initial, vclock_ns now);
/* The divider is about to change: restart the count at NOW. */
void lapic_timer_rebase(struct lapic *l, vclock_ns now);

#endif
