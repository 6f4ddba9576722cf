/* The machine's nondeterministic inputs besides device reads: time and serial
 * input.  One mode-agnostic interface (STYLE.md 4): the live host source
 * (vmm/inputs.c) serves `run`; the recorder wraps it and logs what the
 * guest consumed; the replayer serves the same calls from the trace, so the
 * machine never knows which mode it is in.
 *
 * Time is frozen per sync point: the machine asks once per sync point (more
 * while the guest idles in HLT) and uses that value for every device and
 * timer decision at that sync point. */
#ifndef RRVM_VMM_INPUTS_H
#define RRVM_VMM_INPUTS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/types.h"

struct vmm_inputs {
	void *ctx;
	/* The virtual time at sync point S.  False when there is none: in
	 * replay, nothing at S depended on time while recording. */
	bool (*clock)(void *ctx, sync_seq s, vclock_ns *t);
	/* The machine acted on time T at S (a device read the clock or a
	 * timer fired): what a recorder must log. */
	void (*clock_used)(void *ctx, sync_seq s, vclock_ns t);
	/* Up to ROOM bytes of COM1 input arriving at S; returns the count. */
	unsigned (*serial)(void *ctx, sync_seq s, uint8_t *buf, unsigned room);
	/* The guest idles in HLT at S until virtual time DUE (VCLOCK_NEVER: no
	 * timer armed).  Blocks until DUE or until input may be ready, at most
	 * 100 ms, or returns at once where time needs no waiting (replay).
	 * Returns < 0 when nothing can ever wake the guest, > 0 when the
	 * inputs end in this HLT (replay of a recording stopped while the
	 * guest idled here): the machine stops in it. */
	int (*idle)(void *ctx, sync_seq s, vclock_ns due);
	/* May be NULL (always true).  An interrupt is pending at S and the
	 * guest could take it here: true to inject it now, false to let it
	 * wait for a later sync point.  MUST: the guest halted (it lands now
	 * or the guest never wakes).  Where an interrupt lands is an input
	 * like any other: chaos recording chooses, replay follows the trace. */
	bool (*irq_now)(void *ctx, sync_seq s, bool must);
	/* Landmarks (recording): the vCPU, running exit-free, is kicked for
	 * a timer interrupt once it has waited a while past its deadline.
	 * HOST_TIME maps a virtual time of the clock above to host time
	 * (NULL: the live source's); KICK_DELAY is how long after the
	 * deadline DUE the kick comes, at most BOUND (NULL: BOUND): chaos
	 * recording chooses, so that the interrupt lands at another
	 * instruction.  Asked once per deadline, and once per refusal of
	 * irq_now (DUE 0): a held interrupt is kicked for again that long
	 * after, if no exit came. */
	host_ns (*host_time)(void *ctx, vclock_ns t);
	host_ns (*kick_delay)(void *ctx, vclock_ns due, host_ns bound);
};

/* The live host source: the host's monotonic clock from START, and
 * non-blocking reads of FD (-1: no input). */
struct host_inputs {
	host_ns origin;
	int fd;
	bool eof;
	bool ready;        /* idle() saw input ready */
	host_ns next_poll; /* host time of the next poll of FD */
};

void host_inputs_init(struct host_inputs *h, int fd);
/* The vmm_inputs view of H. */
struct vmm_inputs host_inputs_ops(struct host_inputs *h);

#endif
