/* RDTSC and RDTSCP sites in guest code, and their patches.
 *
 * KVM offers userspace no RDTSC exit, so rrvm finds the instructions in the
 * kernel's executable segments with capstone (a linear sweep inside each
 * function symbol when the ELF has them, else over the whole segment) and
 * replaces each with a trapping instruction of the same length: OUT imm8, AL
 * to TSC_TRAP_PORT (plus a NOP for the 3-byte RDTSCP), which exits in ring 0
 * on every host.  The exit handler looks the site up by guest-physical
 * address, returns the virtual TSC in EDX:EAX (ECX = TSC_AUX for RDTSCP) and
 * resumes after the original instruction.  The original bytes are kept so
 * that debuggers never see a patch, and so that a guest write to code (see
 * tsc_rescan) can be rescanned against the code as the guest wrote it.
 *
 * Cost: scanning is linear in code size (capstone, ~100 MB/s); lookups are
 * a binary search. */
#ifndef RRVM_REPLAY_TSC_SITES_H
#define RRVM_REPLAY_TSC_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replay/tsc_gp.h"

struct guest_mem;

/* An otherwise unused PC port (nothing is decoded at 0xeb). */
#define TSC_TRAP_PORT 0xeb

enum tsc_insn { TSC_INSN_RDTSC = 1, TSC_INSN_RDTSCP = 2 };

struct tsc_site {
	uint64_t gpa;
	uint8_t kind;    /* enum tsc_insn */
	uint8_t len;     /* 2 or 3 */
	uint8_t orig[3]; /* the instruction's bytes */
	bool native;     /* left unpatched (tsc_leave_user_sites): not trapped */
};

/* A stretch of code decoded as a unit: a function, or a whole segment. */
struct tsc_region {
	uint64_t gpa, len;
	uint64_t lin; /* the linear address it was linked at (the ELF's vaddr) */
	bool mode64;
};

struct tsc_sites {
	struct tsc_site *site; /* sorted by gpa */
	size_t n, cap;
	struct tsc_region *region; /* sorted by gpa */
	size_t nregion, region_cap;
	unsigned undecodable; /* regions that decoded in neither mode */
	struct tsc_gp_trap gp;  /* the HLT at the guest's #GP handler (tsc_gp.h) */
};

void tsc_sites_init(struct tsc_sites *s);
void tsc_sites_free(struct tsc_sites *s);

/* Finds the sites in the kernel FILE (as loaded into M) and patches them.
 * Returns the number of sites or -errno. */
int tsc_scan_kernel(struct tsc_sites *s, struct guest_mem *m, const uint8_t *file, size_t len);

/* The guest wrote [gpa, gpa+len) (already applied to M): sites it overwrote
 * are dropped, the regions it touched are decoded again as the guest wrote
 * them, and new sites are patched.  Returns the number of sites added. */
int tsc_rescan(struct tsc_sites *s, struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Puts RDTSC back at every patched site that PM's page tables map
 * user-accessible (at its link address): for where ring 3 may run a site
 * and no trap can complete it there (tsc_gp.h).  Those sites stay native
 * (untrapped, and so not recorded) for good.  Returns how many. */
struct paging_mode;
unsigned tsc_leave_user_sites(struct tsc_sites *s, struct guest_mem *m,
			      const struct paging_mode *pm);

/* The patched site whose trap instruction starts at GPA, or NULL. */
const struct tsc_site *tsc_find(const struct tsc_sites *s, uint64_t gpa);

/* Copies guest memory [gpa, gpa+len) into BUF with every patch undone
 * (the #GP trap's HLT too): what a debugger must see. */
void tsc_unpatch_view(const struct tsc_sites *s, uint64_t gpa, uint8_t *buf, size_t len);

/* True when [gpa, gpa+len) overlaps a scanned code region. */
bool tsc_in_code(const struct tsc_sites *s, uint64_t gpa, uint64_t len);

#endif
