/* Kicking the vCPU out of KVM_RUN: a thread-directed signal (a POSIX timer
 * with SIGEV_THREAD_ID), whose handler also sets kvm_run.immediate_exit so
 * that a kick landing while the thread is outside KVM_RUN still ends the
 * next one at once (HOST.md: KVM_RUN returns EINTR promptly in every ring;
 * immediate_exit alone is read only when KVM_RUN starts).  KVM_RUN then
 * returns -EINTR, which the machine sees as VMM_EXIT_KICK.
 *
 * The one kick mechanism of the machine: timed kicks (landmarks) use
 * kick_at, immediate ones (stop requests) kick_now.  Costs one timer per
 * machine; arming it is one timer_settime, skipped when the time is the
 * one already armed. */
#ifndef RRVM_VMM_KICK_H
#define RRVM_VMM_KICK_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "util/types.h"

struct kvm_run;

struct vmm_kick {
	struct kvm_run *run;
	timer_t timer;
	pid_t tid;       /* the thread the timer signals; 0: no timer yet */
	pthread_t thread;
	host_ns armed;   /* absolute CLOCK_MONOTONIC time armed, 0: none */
};

/* Binds K to the calling thread (the one that runs the vCPU) and RUN;
 * cheap when already bound to it.  0 or -errno. */
int kick_bind(struct vmm_kick *k, struct kvm_run *run);
void kick_free(struct vmm_kick *k);

/* Kicks at host time WHEN (0: never), replacing the previous time. */
int kick_at(struct vmm_kick *k, host_ns when);

/* Async-signal-safe: kicks the bound thread now. */
void kick_now(struct vmm_kick *k);

#endif
