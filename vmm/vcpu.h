/* One KVM vCPU: its fd, the shared kvm_run page, and the initial CPU state
 * for each boot protocol.  Owned by the machine; single-threaded (kicks
 * from other threads and signal handlers: vmm/kick.h). */
#ifndef RRVM_VMM_VCPU_H
#define RRVM_VMM_VCPU_H

#include <stdbool.h>
#include <stdint.h>

struct kvm;
struct kvm_run;
struct kvm_regs;
struct kvm_sregs;
struct kvm_fpu;
struct guest_mem;
struct cpuid_table;

struct vcpu {
	int fd;
	struct kvm_run *run;
	int run_size;
};

int vcpu_init(struct vcpu *v, struct kvm *k, const struct cpuid_table *cpuid);
void vcpu_free(struct vcpu *v);

/* KVM_RUN once.  Returns 0, -EINTR when kicked by a signal, or -errno. */
int vcpu_run(struct vcpu *v);

int vcpu_get_regs(const struct vcpu *v, struct kvm_regs *r);
int vcpu_set_regs(const struct vcpu *v, const struct kvm_regs *r);
int vcpu_get_sregs(const struct vcpu *v, struct kvm_sregs *s);
int vcpu_set_sregs(const struct vcpu *v, const struct kvm_sregs *s);
/* The x87 and SSE state.  From KVM_GET_XSAVE where it works: KVM_GET_FPU
 * reads KVM's buffer as it is, stale for components in their initial
 * state (MXCSR reads 0 there on kvm_pvm), where the XSAVE view writes
 * their initial values out. */
int vcpu_get_fpu(const struct vcpu *v, struct kvm_fpu *f);
/* Guest linear -> physical through the guest's page tables (KVM_TRANSLATE). */
int vcpu_translate(const struct vcpu *v, uint64_t linear, uint64_t *phys);
int vcpu_set_msr(const struct vcpu *v, uint32_t index, uint64_t value);
/* The guest TSC rate in kHz (KVM_GET_TSC_KHZ); 1000000 if KVM cannot say. */
uint32_t vcpu_tsc_khz(const struct vcpu *v);

/* Boot layout in guest physical memory (below 64 KiB, which no multiboot
 * kernel loads into):  */
#define BOOT_GDT 0x0500
#define BOOT_PML4 0x1000     /* PML4, PDPT, 4 PDs: 4 GiB of 2 MiB pages */
#define BOOT_INFO 0x8000     /* multiboot info, memory map, command line */
#define BOOT_INFO_SIZE 0x1000
#define BOOT_STACK_TOP 0x10000
#define BOOT_AREA_END 0x10000

/* GDT selectors rrvm installs (the guest replaces them with its own). */
#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_UCODE32 0x18 /* STAR layout: user CS32, user SS, user CS64 */
#define SEL_UDATA 0x20
#define SEL_UCODE64 0x28
#define SEL_TSS 0x30     /* 16-byte system descriptor */
#define SEL_CODE32 0x40

/* Multiboot entry: 32-bit protected mode, flat segments, paging off. */
int vcpu_boot_protected(struct vcpu *v, struct guest_mem *m, uint32_t entry, uint32_t eax,
			uint32_t ebx);

/* 64-bit entry: long mode with identity page tables over the first 4 GiB.
 * USER makes every page user-accessible (for probes that run ring 3). */
int vcpu_boot_long(struct vcpu *v, struct guest_mem *m, uint64_t entry, bool user);

#endif
