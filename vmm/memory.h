/* Guest RAM: one anonymous mapping at guest physical 0.  Bounds-checked
 * pointers into it; callers never compute host addresses themselves. */
#ifndef RRVM_VMM_MEMORY_H
#define RRVM_VMM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kvm;
struct dirty_tracker;

#define GMEM_MAX_RO 64

struct gmem_range {
	uint64_t gpa, len;
};

/* RAM is one memslot, or, once ranges are made read-only, a run of slots
 * alternating writable and KVM_MEM_READONLY over the same host mapping.  A
 * guest write to a read-only range exits as MMIO (KVM_MEM_READONLY). */
struct guest_mem {
	uint8_t *base;
	uint64_t size;
	struct kvm *kvm;
	unsigned first_slot, nslots;
	uint32_t rw_flags; /* KVM_MEM_* flags of the writable slots */
	struct gmem_range ro[GMEM_MAX_RO]; /* code: sorted, page-aligned, disjoint */
	unsigned nro;
	struct gmem_range watch[GMEM_MAX_RO]; /* a debugger's write watch pages */
	unsigned nwatch;
	unsigned layout_gen; /* bumped at every re-layout of the slots */
	struct dirty_tracker *dirty; /* set while dirty logging is on: told of
				      * re-layouts and of gmem_write */
};

/* Maps SIZE bytes (a multiple of 2 MiB) and registers them with K. */
int gmem_init(struct guest_mem *m, struct kvm *k, uint64_t size);
void gmem_free(struct guest_mem *m);

/* Makes the N ranges (rounded out to pages, merged where they touch)
 * read-only to the guest, with one re-layout of the memslots: slot changes
 * are costly, so callers batch them.  Returns 0, -ENOSPC when there are too
 * many disjoint ranges, or a KVM error. */
int gmem_protect(struct guest_mem *m, const struct gmem_range *r, unsigned n);

/* One memslot of RAM as laid out now. */
struct gmem_slot {
	unsigned slot;
	uint64_t gpa, len;
	bool ro;
};

#define GMEM_MAX_SLOTS (4 * GMEM_MAX_RO + 1)

/* The current slot layout (at most GMEM_MAX_SLOTS); returns the count. */
unsigned gmem_slots(const struct guest_mem *m, struct gmem_slot *out);

/* Turns dirty logging on or off for the writable slots; it stays on across
 * later gmem_protect() calls (whose new slots start with clean logs). */
int gmem_set_log_dirty(struct guest_mem *m, bool on);

/* RAM was rewritten behind KVM's back (a checkpoint restore, a string
 * completed in userspace): KVM's shadow page tables, where the host builds
 * them (kvm_pvm; EPT/NPT do not), may translate through guest page tables
 * as they were, since KVM notices guest page-table writes only when the
 * guest makes them.  Removing and re-adding the memory slots drops every
 * shadow page.  Costs a slot relayout (a dirty-log collection first). */
int gmem_rewritten(struct guest_mem *m);

/* True when GPA lies in a read-only code range of RAM. */
bool gmem_is_protected(const struct guest_mem *m, uint64_t gpa);

/* Write-protects the pages of the N ranges for a debugger's watchpoints
 * (replacing the previous set): a guest write there exits as MMIO, which the
 * machine applies and reports, not as a sync point.  0 or -errno. */
int gmem_set_watch(struct guest_mem *m, const struct gmem_range *r, unsigned n);
bool gmem_is_watched(const struct guest_mem *m, uint64_t gpa);

/* Host pointer to [gpa, gpa+len) or NULL when any byte is outside RAM. */
void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len);
/* The VMM wrote [gpa, gpa+len) through gmem_ptr: tells the dirty tracker,
 * as gmem_write does (no dirty log sees the VMM's writes). */
void gmem_wrote(const struct guest_mem *m, uint64_t gpa, uint64_t len);
int gmem_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len);

#endif
