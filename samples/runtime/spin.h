/*
 * Waiting and computing in ring 0 the way hobby kernels do it, with no exit:
 * a busy-wait sleep on a tick counter, an ALU loop, and the check of how many
 * ticks such a loop received against how many fell due by the TSC (busywait,
 * apicspin, ioapicspin).  TICKS is the counter the sample's timer handler
 * increments.
 */
#ifndef RRVM_SAMPLES_SPIN_H
#define RRVM_SAMPLES_SPIN_H

#include <stdint.h>

/* `for (end = ticks + n; ticks < end;) pause;` */
void spin_sleep(volatile uint64_t *ticks, uint64_t n);
/* ITERS rounds of xorshift64: a few ALU instructions each, nothing that exits. */
uint64_t spin_compute(uint64_t iters);
/* The TSC per tick, from windows of N ticks that land in HLT (where they
 * land exactly): the median of five. */
uint64_t spin_tsc_per_tick(volatile uint64_t *ticks, unsigned n);
/* spin_compute iterations per tick period: one timed run of ITERS (RDTSC only
 * at its ends). */
uint64_t spin_iters_per_tick(uint64_t tsc_per_tick, uint64_t iters);
/* Computes in chunks until N ticks' worth of TSC time passed (one chunk where
 * ring 0 is emulated, many under a fast emulator), prints "WHO: compute loop
 * received K ticks, D fell due" and reports whether K is at least a tenth of
 * D and not many more. */
void spin_check_compute(const char *who, volatile uint64_t *ticks, uint64_t tsc_per_tick,
			unsigned n);

#endif
