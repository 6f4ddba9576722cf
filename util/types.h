/* One type per kind of time (STYLE.md 5).  Never a bare uint64_t "time". */
#ifndef RRVM_UTIL_TYPES_H
#define RRVM_UTIL_TYPES_H

#include <stdint.h>

/* Guest virtual clock, nanoseconds since the guest started.  PIT, RTC and the
 * virtual TSC derive from it.  Follows host time while running or recording;
 * in replay it comes from the trace. */
typedef uint64_t vclock_ns;
#define VCLOCK_NEVER UINT64_MAX

/* Host monotonic clock, nanoseconds (CLOCK_MONOTONIC). */
typedef uint64_t host_ns;

/* Sync point number: the count of guest-caused exits since the start. */
typedef uint64_t sync_seq;

/* Guest instructions retired after a sync point. */
typedef uint64_t insn_count;

/* Virtual time-stamp counter value as the guest reads it. */
typedef uint64_t vtsc;

#endif
