/* The guest's CPU identity: a fixed CPUID table, the same on every host, so a
 * trace replays on any machine whose KVM offers these features.  The table is
 * stored in the trace header; replay refuses a different one. */
#ifndef RRVM_VMM_CPUID_H
#define RRVM_VMM_CPUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kvm;

#define CPUID_MAX_ENTRIES 48

struct cpuid_entry {
	uint32_t function, index;
	uint32_t eax, ebx, ecx, edx;
};

struct cpuid_table {
	unsigned n;
	struct cpuid_entry e[CPUID_MAX_ENTRIES];
};

/* Fills T with rrvm's fixed table, with leaf 1's APIC bit when APIC (the
 * machine has a local APIC; never x2APIC nor TSC-deadline).  Feature bits
 * the host KVM cannot offer are cleared (and logged), so the result is the
 * fixed table on any modern host.  Returns 0 or -errno. */
int cpuid_build(struct cpuid_table *t, const struct kvm *k, bool apic);

/* KVM_SET_CPUID2 on VCPU_FD. */
int cpuid_apply(const struct cpuid_table *t, int vcpu_fd);

/* KVM_GET_CPUID2: the table the guest really sees.  Some backends rewrite
 * what was set (kvm_pvm puts host features into leaves 0x1, 0x7 and 0xd), so
 * rrvm compares, reports, and stores the effective table in traces. */
int cpuid_read(struct cpuid_table *t, int vcpu_fd);

/* Writes the leaves in which A and B differ ("0x1 0x7 0xd") into BUF and
 * returns how many differ. */
unsigned cpuid_diff(const struct cpuid_table *a, const struct cpuid_table *b, char *buf,
		    size_t len);

/* The entry for FUNCTION/INDEX or NULL. */
const struct cpuid_entry *cpuid_find(const struct cpuid_table *t, uint32_t function,
				     uint32_t index);

#endif
