/* The time-travel engine (DESIGN.md, "Positions and time travel"): a replay
 * that can be moved to any position, forward and backward, by instruction
 * or to the next or previous breakpoint.  The GDB stub and the console use
 * it; it knows nothing of either.
 *
 * A position is (sync point S, N instructions retired after S was handled),
 * written "S:N".  Free runs go from sync point to sync point at full speed;
 * inside a stretch the engine counts by single-stepping, which works where
 * the host probe says it does (every ring on VT-x and AMD-V; ring 0 only on
 * kvm_pvm) and is refused with a clear error elsewhere.  Going backwards
 * restores the nearest checkpoint before the target and replays forward.
 * Reverse is a direction flag on the same operations.
 *
 * Costs: a step is one KVM_RUN (~13 us in emulated ring 0); a step back is
 * a restore (~1 ms) plus a replay from the checkpoint (at most ~50 ms by the
 * default checkpoint policy) plus the steps inside the stretch.
 * Single-threaded, like the machine; tl_interrupt() may be called from any
 * thread or a signal handler. */
#ifndef RRVM_REPLAY_TIMELINE_H
#define RRVM_REPLAY_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replay/checkpoint.h"
#include "replay/replayer.h"

struct kvm_regs;

struct tl_pos {
	sync_seq sync;
	insn_count n;
};

/* N of a stop a free run has not placed yet (see tl_where). */
#define TL_N_UNKNOWN UINT64_MAX

/* "S:N"; parse accepts "S" as "S:0".  Parse returns 0 or -EINVAL. */
void tl_pos_format(struct tl_pos p, char *buf, size_t len);
int tl_pos_parse(const char *s, struct tl_pos *p);
int tl_pos_cmp(struct tl_pos a, struct tl_pos b);

enum tl_stop_reason {
	TL_STOP_STEP,       /* a step finished */
	TL_STOP_BREAKPOINT, /* at a breakpoint's address */
	TL_STOP_WATCH,      /* at an instruction that wrote a watched range: right
			     * after it going forward, right before it (memory
			     * as it was) going backward */
	TL_STOP_START,      /* reverse ran into the start of the trace */
	TL_STOP_END,        /* forward ran into the end of the trace */
	TL_STOP_INTERRUPTED,
};

struct tl_stop {
	enum tl_stop_reason why;
	struct tl_pos pos;          /* n may be TL_N_UNKNOWN: tl_where places it */
	uint64_t addr;          /* the breakpoint, or the watched address written */
	uint64_t old_val, new_val; /* TL_STOP_WATCH: the bytes before and after */
	unsigned size;
};

/* The first four breakpoints are hardware ones (DR0-DR3); the rest are
 * trap instructions patched into guest memory while a continue runs, of the
 * kind the host probe says exits (int3 where it does, else HLT in ring 0).
 * Patches are removed whenever the engine stops, so neither memory reads
 * nor checkpoints ever see them; the guest could only by reading its own
 * code during a continue. */
#define TL_HW_BREAKPOINTS 3 /* DR0-DR2: DR3 seeks landmarks (vmm/machine_lm.c) */
#define TL_MAX_BREAKPOINTS 64
#define TL_MAX_WATCH 16

enum tl_trap {
	TL_TRAP_NONE, /* no trap instruction exits here: hardware ones only */
	TL_TRAP_INT3, /* int3, KVM_GUESTDBG_USE_SW_BP */
	TL_TRAP_HLT,  /* HLT in ring 0 (machine_set_hlt_traps) */
};

enum tl_watch_kind {
	TL_WATCH_WRITE,  /* any host: read-only memslots */
	TL_WATCH_READ,   /* only where DR7 data breakpoints fire (rrvm doctor) */
	TL_WATCH_ACCESS, /* read or write: likewise */
};

/* A watchpoint: guest linear range, and where it lay in RAM when set. */
struct tl_watch {
	uint64_t lin, gpa, len;
	enum tl_watch_kind kind;
};

/* A breakpoint stop a free run reached, kept as the run knows it rather
 * than as (S, N), which only single steps from S would tell: from (S, FROM)
 * each arrival in turn, then EXTRA single steps after it. */
#define TL_LAZY_MAX 8

struct tl_arrival {
	uint64_t addr, k; /* the K-th arrival at ADDR ... */
	bool skip;        /* ... not counting the place this one starts from */
	insn_count extra; /* then this many single steps */
};

struct tl_lazy {
	unsigned n;       /* 0: the position is exact */
	insn_count from;
	struct tl_arrival a[TL_LAZY_MAX];
};

/* Called during long operations (a replay far forward, a scan backward)
 * about every 256 sync points: DONE of TOTAL sync points of this
 * operation.  For progress bars; must not call into the engine. */
typedef void (*tl_progress_fn)(void *ctx, uint64_t done, uint64_t total);

struct timeline {
	struct rr_session *s;
	struct replayer p;
	struct ckpt_store ck;
	struct vmm_hooks hooks;
	struct tl_pos pos;
	struct tl_lazy lazy;      /* how pos was reached when pos.n is unknown */
	sync_seq end_sync;        /* the trace's last sync point */
	bool can_step_ring3;      /* from the host probe */
	bool can_break_ring3;     /* DR0-DR3 execution breakpoints fire in ring 3 */
	bool warned_user_bp;      /* said once that a user-page breakpoint fires
				   * only when ring 0 runs the code */
	uint64_t bp[TL_MAX_BREAKPOINTS];
	unsigned nbp;
	enum tl_trap trap;        /* for breakpoints past the fourth */
	bool can_watch_data;      /* read/access watchpoints: DR7 data bps fire */
	uint64_t patch_gpa[TL_MAX_BREAKPOINTS]; /* patched now: where, and the */
	uint8_t patch_orig[TL_MAX_BREAKPOINTS]; /* byte the trap replaced */
	unsigned npatch;
	struct tl_watch watch[TL_MAX_WATCH];
	unsigned nwatch;
	/* Set by the exit hook during a run. */
	uint64_t trap_pc;
	bool stop_on_watch;       /* a watched write stops the run (scans) */
	bool stepping;            /* a single step runs */
	bool step_wrote;          /* ... and stopped inside a write to a watched page */
	uint64_t watch_hits;      /* watched writes seen, ever */
	uint64_t watch_addr, watch_old, watch_new; /* the last one */
	bool bp_armed;            /* tl_arm put breakpoints into the machine */
	sync_seq ckpt_split;      /* a run ends early at this sync point for a
				   * checkpoint (tl_run), 0: none */
	unsigned watch_size;
	tl_progress_fn progress;  /* may be NULL */
	void *progress_ctx;
	bool live;                /* replay was left (tl_go_live): no trace */
	struct tl_pos live_at;    /* ... at this position */
	struct vmm_inputs replay_in; /* the replayer's inputs, for coming back */
	char err[256];            /* why the last call failed */
};

/* Replays RD on S (which the caller booted and checked, as `rrvm replay`
 * does) under the engine's control, at position 0:0.  0 or -errno. */
int tl_open(struct timeline *t, struct rr_session *s, struct trace_reader *rd);
/* The same with checkpoint policy CK (NULL: the default, by replay time;
 * tests want every_sync, which places them the same in every run). */
int tl_open_opts(struct timeline *t, struct rr_session *s, struct trace_reader *rd,
		 const struct ckpt_opts *ck);
void tl_close(struct timeline *t);

/* Moves to TARGET.  -ERANGE past the end of the trace, -ENOTSUP when it lies
 * in a stretch the host cannot single-step (t->err says why). */
int tl_goto(struct timeline *t, struct tl_pos target);

/* One instruction forward or back. */
int tl_step(struct timeline *t, bool reverse, struct tl_stop *stop);

/* To the next (or previous) breakpoint hit, or the end (start). */
int tl_continue(struct timeline *t, bool reverse, struct tl_stop *stop);

/* Execution breakpoints at linear ADDR.  Past the fourth, -ENOSPC when the
 * host has no trap instruction that exits, -EPERM for ring-3 code when the
 * trap is HLT (which ring 3 may not execute). */
int tl_break_insert(struct timeline *t, uint64_t addr);
int tl_break_remove(struct timeline *t, uint64_t addr);

/* Write watchpoints of any size and number, through read-only memslots on
 * the watched pages (the write is applied from the MMIO exit and checked
 * against the range).  LIN is translated through the guest's page tables
 * at the current position.  Read and access watchpoints would need DR7
 * data breakpoints: -EOPNOTSUPP, with t->err naming the host where the
 * probe says they never fire (kvm_pvm), and saying they are not
 * implemented yet elsewhere.  Inserting one that is set already succeeds,
 * as for breakpoints. */
int tl_watch_insert(struct timeline *t, uint64_t lin, uint64_t len, enum tl_watch_kind kind);
int tl_watch_remove(struct timeline *t, uint64_t lin, uint64_t len, enum tl_watch_kind kind);

/* The current position, exact.  A stop at a breakpoint during a free run
 * is known only as "the K-th arrival at A after sync point S" until an
 * operation needs (S, N): this is that operation (it may replay part of a
 * stretch: single steps, ~13 us each here).  0 or -errno. */
int tl_where(struct timeline *t, struct tl_pos *pos);

/* Guest memory at the current position as the guest's own code is written
 * (RDTSC patches undone), by linear address through the guest's page
 * tables (32-bit, PAE and 4-level paging) or by physical address.  Return
 * the bytes copied before the first unmapped or non-RAM one, or -EFAULT
 * when that is the first. */
long tl_read_virt(struct timeline *t, uint64_t lin, void *buf, size_t len);
long tl_read_phys(struct timeline *t, uint64_t gpa, void *buf, size_t len);

/* State writes.  Refused with -EROFS while replaying (the recording would
 * no longer describe the machine; t->err says how to leave replay).  After
 * tl_go_live they change the machine as asked. */
int tl_write_regs(struct timeline *t, const struct kvm_regs *regs);
long tl_write_virt(struct timeline *t, uint64_t lin, const void *buf, size_t len);

/* Leaves replay at the current position: from here the machine runs live
 * (host time, no serial input, no trace), state writes are allowed, and
 * nothing is deterministic any more.  Going back to a position before it
 * (goto, a reverse step or continue) restores a checkpoint and re-enters
 * replay.  0 or -errno. */
int tl_go_live(struct timeline *t);

/* Stops a running tl_continue promptly (async-signal-safe).  An interrupt
 * that comes while nothing runs stops the next run at once, unless
 * tl_interrupt_clear forgets it first (a console between commands). */
void tl_interrupt(struct timeline *t);
void tl_interrupt_clear(struct timeline *t);

#endif
