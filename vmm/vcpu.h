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

/* rrvm's boot area: 64 KiB of guest-physical memory at a base the loader
 * picks (boot_image.area: 0 unless the kernel or its modules lie there,
 * vmm/loader.h), with its structures at fixed offsets from that base.
 * Kernels never see more of it than the pointers they are given. */
#define BOOT_GDT_OFF 0x0500  /* rrvm's GDT (the guest replaces it) */
#define BOOT_TSS_OFF 0x0700  /* a 104-byte TSS after it */
#define BOOT_PML4_OFF 0x1000 /* PML4, PDPT, 4 PDs: 4 GiB of 2 MiB pages (64-bit entry) */
#define BOOT_INFO_OFF 0x8000 /* multiboot info, memory map, command line; Linux's zero page */
#define BOOT_INFO_SIZE 0x1000
#define BOOT_MODS_OFF 0x9000 /* multiboot module list and the modules' command lines
			     * (Linux: its command line, LINUX_CMDLINE_GPA) */
#define BOOT_AREA_SIZE 0x10000 /* the stack of a 64-bit entry ends here */

/* The area at its usual base, 0 (always so for Linux, vmm/linux_boot.h). */
#define BOOT_GDT BOOT_GDT_OFF
#define BOOT_PML4 BOOT_PML4_OFF
#define BOOT_INFO BOOT_INFO_OFF
#define BOOT_STACK_TOP BOOT_AREA_SIZE
#define BOOT_AREA_END BOOT_AREA_SIZE

/* GDT selectors rrvm installs (the guest replaces them with its own). */
#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_UCODE32 0x18 /* STAR layout: user CS32, user SS, user CS64 */
#define SEL_UDATA 0x20
#define SEL_UCODE64 0x28
#define SEL_TSS 0x30     /* 16-byte system descriptor */
#define SEL_CODE32 0x40

/* Multiboot entry: 32-bit protected mode, flat segments, paging off; the
 * GDT in the boot area at AREA. */
int vcpu_boot_protected(struct vcpu *v, struct guest_mem *m, uint32_t area, uint32_t entry,
			uint32_t eax, uint32_t ebx);

/* 64-bit entry: long mode with identity page tables over the first 4 GiB.
 * USER makes every page user-accessible (for probes that run ring 3).
 * AREA: the boot area's base (above). */
int vcpu_boot_long(struct vcpu *v, struct guest_mem *m, uint32_t area, uint64_t entry,
		   bool user);

#endif
