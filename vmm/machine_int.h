/* Shared between machine.c (the run loop), machine_init.c and
 * machine_lm.c (landmarks and debug registers). */
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

/* The earliest timer deadline of the devices (VCLOCK_NEVER: none). */
vclock_ns machine_next_deadline(const struct machine *m);

/* Makes the place where M stands the next sync point, a landmark: the
 * hooks see VMM_EXIT_LANDMARK, then interrupts are delivered as at any
 * sync point. */
void machine_landmark(struct machine *m);

/* machine_lm.c.  Before the run loop (recording: binds the kick timer). */
int machine_lm_start(struct machine *m);
/* Before each KVM_RUN: arms the next kick. */
void machine_lm_before_run(struct machine *m);
/* At a kick: true when it made a landmark there. */
bool machine_lm_kick(struct machine *m);
/* At a debug exit at PC: true when it was the landmark machinery's own
 * (a landmark found, or a hit stepped over), not the debugger's. */
bool machine_lm_debug(struct machine *m, uint64_t pc);
/* Replay, before entering the guest: true when the landmark sought is
 * where the stretch starts (and the machine made it the sync point). */
bool machine_lm_at_start(struct machine *m);
/* Hands the debugger's and the landmark's debug registers to KVM, when
 * they changed.  0 or -errno. */
int machine_debug_apply(struct machine *m);
/* Completes the instruction at RIP (its first LEN bytes CODE) that KVM
 * could not emulate, if vmm/complete.h knows it: true when done (or when
 * applying it failed and stopped the machine). */
bool machine_complete(struct machine *m, const uint8_t *code, size_t len);

#endif
