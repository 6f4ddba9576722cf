/* The host's monotonic clock.  Only the VMM's run loop and benchmarks read
 * it; devices never do (they get the virtual clock). */
#ifndef RRVM_UTIL_HOSTCLOCK_H
#define RRVM_UTIL_HOSTCLOCK_H

#include <time.h>

#include "util/types.h"

static inline host_ns host_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (host_ns)ts.tv_sec * 1000000000u + (host_ns)ts.tv_nsec;
}

#endif
