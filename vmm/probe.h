/* The host capability probe behind `rrvm doctor`.  Each question is answered
 * by running a tiny guest on the real /dev/kvm, never by reading CPU flags
 * alone; the rest of rrvm chooses its strategies from the answers.  Costs a
 * few fresh VMs and ~0.1 s. */
#ifndef RRVM_VMM_PROBE_H
#define RRVM_VMM_PROBE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "vmm/probe_vm.h"

/* What a probe guest saw when it did something. */
enum probe_outcome {
	PROBE_UNKNOWN,    /* the probe could not run */
	PROBE_EXITS,      /* exited to userspace as the VMM wanted */
	PROBE_IGNORED,    /* had no effect: the guest ran on */
	PROBE_TO_GUEST,   /* became an exception inside the guest */
	PROBE_EMUL_FAIL,  /* KVM_EXIT_INTERNAL_ERROR (emulation failure) */
	PROBE_OTHER,      /* anything else (described in the detail string) */
};

struct probe_result {
	enum probe_outcome outcome;
	unsigned vector; /* exception vector for PROBE_TO_GUEST */
	char detail[64];
};

/* Instructions of vmm/complete.h probed (COMPLETE_KINDS). */
#define PROBE_NCOMPLETE 7

struct host_caps {
	char backend[16];
	int api_version;
	double exit_rtt_us[PROBE_NRINGS];    /* port I/O exit round trip */
	struct probe_result singlestep[PROBE_NRINGS];
	struct probe_result hw_bp[PROBE_NRINGS];
	struct probe_result data_bp[PROBE_NRINGS];
	struct probe_result int3[PROBE_NRINGS];
	struct probe_result out_ring3;       /* OUT with IOPL=0 in ring 3 */
	struct probe_result int80_ring3;     /* INT 0x80 through a DPL-3 gate */
	struct probe_result syscall_ring3;   /* SYSCALL to LSTAR */
	struct probe_result hlt_ring0;
	struct probe_result irq_window;      /* exit as soon as IF=1 after STI? */
	struct probe_result rdtsc;           /* does RDTSC exit? */
	struct probe_result ro_memslot;      /* write to a KVM_MEM_READONLY slot */
	struct probe_result dirty_log;       /* KVM_GET_DIRTY_LOG sees a write */
	struct probe_result step_ro_write;   /* single step over a write to a
					      * read-only memslot ends after it */
	/* Each instruction vmm/complete.h completes, run in ring 0:
	 * PROBE_EMUL_FAIL where rrvm must complete it, PROBE_IGNORED where
	 * KVM runs it itself.  Indexed by enum complete_kind. */
	struct probe_result complete[PROBE_NCOMPLETE];
	struct probe_result cpuid_ring3;    /* CPUID in ring 3 answered by the host CPU */
	char cpuid_rewritten[64];            /* leaves KVM rewrote, "" if none */
	bool manual_dirty_protect, dirty_ring, tsc_control, msr_filter, user_msr;
	bool pmu;
	unsigned pmu_version, pmu_counters;
};

/* Runs every probe.  Returns 0, or -errno when /dev/kvm cannot be used at
 * all (the caps are then unknown). */
int probe_host(struct host_caps *c, const char *kvm_path);

/* True when the probe shows the feature works as rrvm needs it. */
static inline bool probe_works(const struct probe_result *r)
{
	return r->outcome == PROBE_EXITS;
}

/* Whether KVM_EXIT_IRQ_WINDOW_OPEN comes exactly when the guest becomes
 * interruptible.  Where it comes late (kvm_pvm: at the next other exit),
 * its position depends on host timing, so the exact interrupt policy must
 * not use it.  Costs one probe VM (a few ms). */
bool probe_irq_window_precise(const char *kvm_path);

/* Whether the guest's ring-3 CPUID is answered by the host CPU the vCPU
 * thread runs on (kvm_pvm) instead of rrvm's table (vmm/hostcpu.h).  Costs
 * one probe VM. */
bool probe_cpuid_ring3_host(const char *kvm_path);

/* The rings (bit N: ring N) where execution breakpoints and single steps
 * both work, so that landmarks can be made and found there.  Costs four
 * probe VMs. */
unsigned probe_landmark_rings(const char *kvm_path);

/* "key=value" pairs (one line, space separated) for a trace header. */
int probe_summary(const struct host_caps *c, char *buf, size_t len);

#endif
