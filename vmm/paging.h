/* Guest virtual memory without KVM: a pure walk of the guest's own page
 * tables in guest RAM (Intel SDM vol. 3, chapter 4).  KVM_TRANSLATE costs an
 * ioctl that reloads the vCPU and sets Accessed bits in the guest's tables;
 * this walker costs a few memory reads and writes nothing to the tables, so
 * the debugger and the time-travel engine can use it during replay without
 * perturbing guest state.
 *
 * Every table read is bounds-checked against RAM (gmem_ptr); a walk visits at
 * most five levels.  Reserved bits, protection keys and the PAT bit are
 * ignored: an entry is followed when its P bit is set, whatever else it holds
 * (hardware would raise #PF with RSVD instead).  PAE PDPTEs are read from
 * memory at CR3, not from the PDPTE registers the CPU loaded with CR3.
 * Pure functions of (RAM, mode, address): no locks, callable from any thread
 * that may read guest RAM. */
#ifndef RRVM_VMM_PAGING_H
#define RRVM_VMM_PAGING_H

#include <stddef.h>
#include <stdint.h>

struct guest_mem;
struct kvm_segment;
struct kvm_sregs;

/* The registers that select the paging mode, as KVM_GET_SREGS reports them. */
struct paging_mode {
	uint64_t cr0, cr3, cr4, efer;
};

/* Access rights of a translation, combined over every level as the CPU
 * does: W and U only when every level grants them, NX when any level sets
 * XD (and EFER.NXE is on).  Ring-0 writes ignore W when CR0.WP is clear;
 * the caller decides which rights matter. */
#define PAGING_W 1u
#define PAGING_U 2u
#define PAGING_NX 4u

struct paging_xlat {
	uint64_t gpa;
	uint64_t page_size; /* 4 KiB, 2 MiB, 4 MiB or 1 GiB; 4 KiB when paging is off */
	unsigned perm;      /* PAGING_* */
};

void paging_mode_from_sregs(struct paging_mode *pm, const struct kvm_sregs *s);

/* The linear address of offset OFF in SEG, the code or stack segment of S
 * (&s->cs, &s->ss: RIP, RSP): in 64-bit mode their base is ignored and
 * addresses are 64 bits wide; in every other mode (protected, compatibility,
 * real) the base is added and the sum wraps at 4 GiB (SDM vol. 3, 3.4.4,
 * 3.4.4.1).  Code that takes RIP for a linear address is wrong wherever a
 * 32-bit guest gives CS a base. */
uint64_t paging_seg_lin(const struct kvm_sregs *s, const struct kvm_segment *seg, uint64_t off);

/* Translates linear address LIN to a guest-physical address.  Modes: no
 * paging (CR0.PG clear: identity), 32-bit (4 MiB pages with CR4.PSE, PSE-36
 * high bits), PAE (2 MiB pages), 4-level (EFER.LMA; 2 MiB and 1 GiB pages)
 * and 5-level (CR4.LA57).  Outside long mode linear addresses are 32 bits
 * wide, so a larger LIN fails.  The resulting GPA need not be RAM (it may be
 * MMIO).  Returns 0, or -EFAULT for a not-present entry, a non-canonical or
 * too-wide address, or a table outside RAM. */
int paging_translate(const struct guest_mem *m, const struct paging_mode *pm, uint64_t lin,
		     struct paging_xlat *x);

/* Copy LEN bytes between BUF and linear address LIN, translating each page.
 * Return how many bytes were copied before the first unmapped page or the
 * first byte outside RAM, so that a debugger reports an error rather than
 * zeros.  paging_write ignores the W bit and read-only memslots (a debugger
 * plants breakpoints in code) and, like paging_read, sets no A/D bits. */
size_t paging_read(const struct guest_mem *m, const struct paging_mode *pm, uint64_t lin,
		   void *buf, size_t len);
size_t paging_write(const struct guest_mem *m, const struct paging_mode *pm, uint64_t lin,
		    const void *buf, size_t len);

#endif
