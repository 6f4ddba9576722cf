/* The guest's CPU identity: a fixed CPUID table, the same on every host, so a
 * trace replays on any machine whose KVM offers these features.  The table is
 * stored in the trace header; replay refuses a different one. */
#ifndef RRVM_VMM_CPUID_H
#define RRVM_VMM_CPUID_H

#include <stdint.h>

struct kvm;

#define CPUID_MAX_ENTRIES 24

struct cpuid_entry {
	uint32_t function, index;
	uint32_t eax, ebx, ecx, edx;
};

struct cpuid_table {
	unsigned n;
	struct cpuid_entry e[CPUID_MAX_ENTRIES];
};

/* Fills T with rrvm's fixed table.  Feature bits the host KVM cannot offer
 * are cleared (and logged), so the result is the fixed table on any modern
 * host.  Returns 0 or -errno. */
int cpuid_build(struct cpuid_table *t, const struct kvm *k);

/* KVM_SET_CPUID2 on VCPU_FD. */
int cpuid_apply(const struct cpuid_table *t, int vcpu_fd);

/* The entry for FUNCTION/INDEX or NULL. */
const struct cpuid_entry *cpuid_find(const struct cpuid_table *t, uint32_t function,
				     uint32_t index);

#endif
