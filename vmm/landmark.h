/* Landmarks (DESIGN.md "Determinism model" 2): sync points at places the
 * guest did not exit, where the recorder kicked the vCPU, found again in
 * replay by an execution breakpoint at RIP plus a comparison of the state
 * the guest can change without an exit.
 *
 * What a landmark holds, and why that much:
 * - the general registers, RIP and RFLAGS (TF and RF masked: the
 *   debugger's single step and the breakpoint machinery change them),
 *   compared at every hit;
 * - STATE_HASH, over what a ring-0 loop can also change without an exit:
 *   the segment selectors and bases (SWAPGS, WRFSBASE, MOV to a segment
 *   register), CR0/CR2/CR3/CR4 and EFER (MOV to CR, a page fault's CR2),
 *   and the x87/SSE registers (the XSAVE legacy area: FPU control and
 *   status, ST0-7, MXCSR, XMM0-15).  Left out: AVX upper halves, the
 *   KERNEL_GS_BASE MSR and the debug registers (read by MSR ioctls that cost
 *   as much again; no kernel rrvm runs keeps a loop counter in them);
 * - PAGE_HASH, of all of guest RAM as the guest has it (a debugger's
 *   breakpoints taken out), which tells apart two hits whose registers
 *   repeat while memory changes.  It is kept current from the pages the
 *   machine's dirty tracker saw written (vmm/memhash.h), and depends on
 *   their contents alone: KVM's log over-counts writes, by an amount that
 *   depends on the host (traces before 2.2 hashed the logged pages, and a
 *   replay could miss such a landmark one boot of Linux in five).  Every
 *   write of the VMM to RAM must therefore reach the tracker (gmem_write,
 *   gmem_wrote), or a later hash of that page is stale.
 *
 * Cost: reading the registers is free (KVM_CAP_SYNC_REGS); the state hash
 * is two ioctls; the page hash one dirty-log collect and 4 KiB of hashing
 * per written page, once more when the landmark is passed.  Replay
 * computes the hashes only when registers match. */
#ifndef RRVM_VMM_LANDMARK_H
#define RRVM_VMM_LANDMARK_H

#include <stdbool.h>
#include <stdint.h>

#include "util/types.h"

struct machine;

/* RAX..R15 (16), then RFLAGS: the order of struct kvm_regs without RIP. */
#define LANDMARK_NREGS 17
#define LANDMARK_RFLAGS 16

struct landmark {
	sync_seq sync;   /* the sync point it is */
	uint64_t rip;
	uint64_t regs[LANDMARK_NREGS];
	uint64_t state_hash;
	uint64_t page_hash;
};

/* The closest hit a replay found while seeking a landmark. */
struct landmark_miss {
	uint64_t hits;        /* breakpoint hits at the landmark's RIP */
	unsigned best_diff;   /* registers differing at the closest hit (18: none) */
	uint64_t best_regs[LANDMARK_NREGS];
	bool regs_matched;    /* some hit matched the registers, not the rest */
	bool state_matched;   /* ... and the CPU state, not the written pages */
};

/* Takes a landmark of M where it stands (RIP and registers as of the last
 * exit), without clearing the written pages.  0 or -errno. */
int landmark_take(struct machine *m, struct landmark *lm);

/* Registers of M (RIP included) that differ from LM's: 0 on a match. */
unsigned landmark_reg_diff(struct machine *m, const struct landmark *lm);

/* The full comparison at a hit: registers, then state hash, then page
 * hash.  Notes the closest hit in MISS.  True on a match. */
bool landmark_match(struct machine *m, const struct landmark *lm, struct landmark_miss *miss);

/* After a landmark: the pages written count from here. */
void landmark_passed(struct machine *m);

/* Whether M can be stopped here for a landmark: the CPL is one where the
 * host has execution breakpoints (RINGS: bit N for ring N), no event is
 * pending or in an interrupt shadow, and the next instruction is neither
 * HLT (it exits soon by itself) nor a REP string instruction (a breakpoint
 * there may not fire again between iterations).  *CPL gets the ring. */
bool landmark_possible(struct machine *m, unsigned rings, unsigned *cpl);

#endif
