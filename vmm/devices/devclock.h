/* Exact conversions between the virtual clock (ns) and a device's input
 * clock, shared by the PIT (1193182 Hz) and the RTC (32768 Hz).
 *
 * A device clock of HZ ticks per second has ticked floor(t * HZ / 1e9) times
 * at virtual time t.  Counting from absolute time 0 (not from the last event)
 * keeps rounding from accumulating, so a counter read at time t never depends
 * on when it was read before.  The products are split at whole seconds so
 * nothing overflows for any vclock_ns.  Pure, header-only, no state. */
#ifndef RRVM_DEVICES_DEVCLOCK_H
#define RRVM_DEVICES_DEVCLOCK_H

#include <stdint.h>

#include "util/types.h"

#define DEVCLOCK_NS_PER_SEC 1000000000ull

/* Ticks of a HZ clock completed at virtual time T. */
static inline uint64_t devclock_ticks_at(vclock_ns t, uint64_t hz)
{
	return (t / DEVCLOCK_NS_PER_SEC) * hz +
	       ((t % DEVCLOCK_NS_PER_SEC) * hz) / DEVCLOCK_NS_PER_SEC;
}

/* Earliest virtual time at which tick number K of a HZ clock has happened,
 * i.e. the smallest t with devclock_ticks_at(t, hz) >= k.  VCLOCK_NEVER when
 * that time does not fit. */
static inline vclock_ns devclock_time_of_tick(uint64_t k, uint64_t hz)
{
	uint64_t q = k / hz, r = k % hz;

	if (q >= UINT64_MAX / DEVCLOCK_NS_PER_SEC)
		return VCLOCK_NEVER;
	/* r < hz, so r * 1e9 fits for any hz below 1.8e10. */
	return q * DEVCLOCK_NS_PER_SEC + (r * DEVCLOCK_NS_PER_SEC + hz - 1) / hz;
}

#endif
