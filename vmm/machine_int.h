/* Shared between machine.c (the run loop) and machine_init.c. */
#ifndef RRVM_VMM_MACHINE_INT_H
#define RRVM_VMM_MACHINE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/types.h"

struct machine;

/* The devices' clock callback: the virtual time at the current sync point,
 * reported to the input source as used. */
vclock_ns machine_clock_cb(void *opaque);

/* Completes the instruction at RIP (its first LEN bytes CODE) that KVM
 * could not emulate, if vmm/complete.h knows it: true when done (or when
 * applying it failed and stopped the machine). */
bool machine_complete(struct machine *m, const uint8_t *code, size_t len);

#endif
