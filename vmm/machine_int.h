/* Shared between machine.c (the run loop) and machine_init.c. */
#ifndef RRVM_VMM_MACHINE_INT_H
#define RRVM_VMM_MACHINE_INT_H

#include "util/types.h"

/* The devices' clock callback: the virtual time at the current sync point,
 * reported to the input source as used. */
vclock_ns machine_clock_cb(void *opaque);

#endif
