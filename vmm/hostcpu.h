/* The host CPU the vCPU thread runs on, where the guest can see it.
 *
 * kvm_pvm runs the guest's ring-3 CPUID on the host CPU itself, without an
 * exit (probe_cpuid_ring3_host): the guest's user space reads that CPU's
 * answers, APIC ID included, so which CPU the thread happened to be on is an
 * input rrvm cannot log.  A recording on such a host pins its thread to the
 * CPU it starts on and keeps a hash of that CPU's CPUID answers; replay pins
 * itself to a CPU that answers the same. */
#ifndef RRVM_VMM_HOSTCPU_H
#define RRVM_VMM_HOSTCPU_H

#include <stdint.h>

/* XXH64 of the CPUID answers of the CPU this thread runs on (every basic
 * and extended leaf with its first subleaves); never 0. */
uint64_t hostcpu_cpuid_hash(void);

/* Pins this thread to the CPU it runs on; *HASH = that CPU's hash.
 * 0 or -errno. */
int hostcpu_pin_here(uint64_t *hash);

/* Pins this thread to an allowed CPU whose hash is HASH; *CPU = its number.
 * -ENOENT when none is (the affinity is then unchanged), else 0 or -errno. */
int hostcpu_pin_matching(uint64_t hash, int *cpu);

#endif
