/* The KVM system handle and one VM: /dev/kvm, KVM_CREATE_VM, capabilities,
 * memslots.  One struct kvm per guest machine; not thread-safe. */
#ifndef RRVM_VMM_KVM_H
#define RRVM_VMM_KVM_H

#include <stdbool.h>
#include <stdint.h>

struct kvm {
	int sys_fd;     /* /dev/kvm */
	int vm_fd;      /* KVM_CREATE_VM */
	int run_size;   /* KVM_GET_VCPU_MMAP_SIZE */
	unsigned nslots; /* memslots in use */
};

/* Opens PATH (NULL = /dev/kvm) and creates a VM.  Returns 0 or -errno; on
 * error *WHY names the failing step for the user. */
int kvm_open(struct kvm *k, const char *path, const char **why);
void kvm_close(struct kvm *k);

/* KVM_CHECK_EXTENSION on the VM fd (falls back to the system fd). */
int kvm_cap(const struct kvm *k, long cap);

/* Registers HOST memory [host, host+size) at guest physical GPA.  Flags are
 * KVM_MEM_*.  Returns the slot number or -errno. */
int kvm_add_slot(struct kvm *k, uint64_t gpa, uint64_t size, void *host, uint32_t flags);

/* Creates, replaces or (SIZE 0) deletes memslot SLOT. */
int kvm_set_slot(struct kvm *k, unsigned slot, uint64_t gpa, uint64_t size, void *host,
		 uint32_t flags);

/* The backend module ("kvm_intel", "kvm_amd", "kvm_pvm" or "unknown"). */
const char *kvm_backend(void);

#endif
