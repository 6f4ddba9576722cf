/* Machine snapshots at the vmm layer: the complete vCPU state (everything
 * the KVM_GET_* ioctls return), the device table's blobs in device-table
 * order, the machine fields that must come back, and dirty-page tracking of
 * guest RAM for incremental memory copies.  Guest RAM contents themselves
 * are stored by the caller (replay/checkpoint.c shares pages by hash).
 *
 * Contract: capture and restore only while machine_run is not running, at
 * the top of its loop (before the first run, or after it returned).  Both
 * first complete whatever KVM still owes for the last exit (an IN's data,
 * an MMIO read, an RDMSR answer): KVM keeps that pending state where
 * KVM_GET_* cannot see it and applies it on the next KVM_RUN, which would
 * otherwise clobber a restored RAX/RIP.  Single-threaded, like the machine.
 *
 * Cost (64 MiB guest, kvm_pvm host): a capture is a dozen ioctls and ~6 KiB
 * of copies; collecting the dirty log is one ioctl per writable memslot. */
#ifndef RRVM_VMM_SNAPSHOT_H
#define RRVM_VMM_SNAPSHOT_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/types.h"
#include "vmm/exit.h"
#include "vmm/memory.h"

struct machine;

#define SNAP_PAGE 4096u
/* The XSAVE area's header (SDM vol. 1, 13.4.2): after the 512-byte legacy
 * region, 64 bytes holding XSTATE_BV and XCOMP_BV. */
#define SNAP_XSAVE_HDR 512u
#define SNAP_XSAVE_HDR_END 576u
#define SNAP_MAX_MSRS 256

/* What a machine offers for snapshots, probed once per machine. */
struct snap_ctx {
	struct machine *m;
	uint32_t msr_index[SNAP_MAX_MSRS]; /* readable and writable MSRs */
	unsigned nmsrs;
	size_t xsave_size; /* 0: no XSAVE, use KVM_GET_FPU */
	size_t dev_size;   /* all device blobs together */
	/* Dirty tracking of guest RAM: a user of the machine's tracker. */
	uint64_t npages;
	int dirty_user;
	uint64_t *dirty;    /* pages written since the last snap_mem_collect */
};

/* One machine's state at a sync point, without RAM. */
struct snap_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_xcrs xcrs;
	struct kvm_vcpu_events events;
	struct kvm_debugregs dregs;
	struct kvm_mp_state mp;
	struct kvm_msr_entry msrs[SNAP_MAX_MSRS];
	unsigned nmsrs;
	uint8_t *xsave;    /* xsave_size bytes, or NULL */
	uint8_t *dev;      /* dev_size bytes: device blobs in table order */
	/* Machine fields. */
	sync_seq sync;
	vclock_ns now;
	bool now_valid;
	uint8_t request_interrupt_window;
	bool irq_queued;         /* an injected interrupt waits for the next entry */
	uint8_t irq_vector;
	uint64_t exits[VMM_EXIT_KIND_COUNT]; /* stats: counters read the same after a jump */
	uint64_t injected;
	uint64_t unassigned_reads, unassigned_writes;
	uint64_t *lm_dirty; /* the landmark user's written pages (vmm/landmark.h) */
};

/* Probes M (MSR list, XSAVE size, device blobs) and turns on dirty logging
 * of guest RAM.  Every page counts as dirty until the first collect. */
int snap_ctx_init(struct snap_ctx *c, struct machine *m);
void snap_ctx_free(struct snap_ctx *c);

/* Completes the I/O KVM owes for the last exit without running guest code
 * (KVM_RUN with immediate_exit).  May write guest RAM (string IN), so call
 * it before snap_mem_collect.  Idempotent. */
int snap_flush(struct snap_ctx *c);

/* Allocates ST's buffers for C's machine; snap_state_free releases them. */
int snap_state_alloc(const struct snap_ctx *c, struct snap_state *st);
void snap_state_free(struct snap_state *st);

/* Flushes, then captures the vCPU, devices and machine fields into ST. */
int snap_capture(struct snap_ctx *c, struct snap_state *st);
/* Flushes, then puts ST back.  RAM is the caller's business. */
int snap_restore(struct snap_ctx *c, const struct snap_state *st);

/* True for MSRs whose value follows host time (the TSC): restored, but
 * left out when two captures of one guest position are compared. */
bool snap_msr_volatile(uint32_t index);

/* ORs the pages written since the last call into c->dirty (vmm/dirty.h):
 * KVM's dirty log of the writable memslots, plus every read-only range
 * (the VMM itself writes those when it applies guest code writes; they are
 * small). */
int snap_mem_collect(struct snap_ctx *c);

static inline bool snap_page_dirty(const struct snap_ctx *c, uint64_t page)
{
	return c->dirty[page / 64] >> (page % 64) & 1;
}

/* The VMM wrote LEN bytes of RAM at GPA itself, which no dirty log sees
 * (marked for every user of the tracker). */
void snap_mem_mark(struct snap_ctx *c, uint64_t gpa, uint64_t len);
void snap_mem_clear(struct snap_ctx *c);

#endif
