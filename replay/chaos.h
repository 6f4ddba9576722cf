/* Chaos recording (DESIGN.md, "Chaos"): the recorder's choices among what
 * real hardware allows, drawn from a seeded PRNG so that a recording can be
 * repeated, and written to the trace header.  Replay needs none of this:
 * the trace says where everything landed.
 *
 * - An interrupt the guest could take now may be held back to one of the
 *   next CHAOS sync points where it could be taken (never earlier than due,
 *   never where IF=0: the machine asks only where it could inject), within
 *   irq_late_sync such sync points and irq_late_ns of virtual time, and
 *   never past a HLT (hardware would wake the CPU).
 * - The virtual clock starts at a random phase below one second, which
 *   shifts the PIT's input clock and the RTC's divider chain.
 * - Serial input arrives one byte at a time with random gaps.
 * - In exit-free code (landmarks, vmm/landmark.h) the vCPU is kicked for a
 *   timer interrupt at a random time between its deadline and the
 *   machine's bound past it (kick_late_ns), where real hardware would have
 *   taken it at once: the interrupt lands at another instruction of the
 *   loop each time.  These delays come from a stream of their own, so the
 *   same seed gives the same delay to the k-th deadline whatever host
 *   timing did to the other choices.
 *
 * Every choice is made here, in one place, so that new places to choose
 * from (landmarks) extend chaos_irq_now and nothing else. */
#ifndef RRVM_REPLAY_CHAOS_H
#define RRVM_REPLAY_CHAOS_H

#include <stdbool.h>
#include <stdint.h>

#include "trace-format/trace.h"
#include "util/rng.h"
#include "util/types.h"

#define CHAOS_IRQ_LATE_SYNC 8          /* sync points an interrupt may wait */
#define CHAOS_IRQ_LATE_NS 2000000ull   /* 2 ms: below the OS tick periods that
					* count lost ticks (4 ms at 250 Hz) */
#define CHAOS_SERIAL_GAP_SYNC 64

struct chaos {
	struct trace_chaos set;  /* what goes into the trace header */
	struct rng rng;
	struct rng kick_rng;     /* kick delays only (see above) */
	bool holding;            /* an interrupt is being held back */
	unsigned hold_left;      /* eligible sync points it still waits */
	vclock_ns hold_since;    /* when it first could have been taken */
	sync_seq serial_next;    /* no serial input before this sync point */
	uint64_t held, injected; /* counts, for the recorder's log */
};

/* Default settings for SEED, with the clock phase drawn from it; landmark
 * kicks come up to KICK_LATE_NS past a deadline (the machine's bound). */
void chaos_init(struct chaos *c, uint64_t seed, host_ns kick_late_ns);

/* At a sync point where an interrupt is pending and could be injected,
 * virtual time NOW: true to inject it here, false to hold it back.  MUST:
 * the guest halted, so the interrupt lands now. */
bool chaos_irq_now(struct chaos *c, vclock_ns now, bool must);

/* How long past its deadline an exit-free guest is kicked for a timer
 * interrupt: uniform in [0, min(BOUND, kick_late_ns)]. */
host_ns chaos_kick_delay(struct chaos *c, host_ns bound);

/* The interrupt being held back is no longer pending (the guest masked
 * it, or a level-triggered line dropped): the next one is chosen afresh. */
void chaos_irq_gone(struct chaos *c);

/* How many serial bytes (of ROOM) the guest may receive at sync point S:
 * 0 or 1.  chaos_serial_taken after a byte was taken at S. */
unsigned chaos_serial_room(const struct chaos *c, sync_seq s, unsigned room);
void chaos_serial_taken(struct chaos *c, sync_seq s);

/* A seed for a recording nobody gave one: from the host's entropy. */
uint64_t chaos_fresh_seed(void);

#endif
