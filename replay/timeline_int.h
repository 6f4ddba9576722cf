/* What the time-travel engine's files share (timeline.c: positions, runs,
 * goto, memory, setup; tl_step.c: single steps; tl_continue.c:
 * breakpoints, watchpoints, continue; tl_query.c: the reads its users
 * get instead of this struct).  Only the files of replay/ include it: users of the
 * engine hold a struct timeline * and go through replay/timeline.h. */
#ifndef RRVM_REPLAY_TIMELINE_INT_H
#define RRVM_REPLAY_TIMELINE_INT_H

#include "replay/checkpoint.h"
#include "replay/replayer_int.h"
#include "replay/session_int.h"
#include "replay/timeline.h"

struct paging_xlat;

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


/* How a run of the machine ended. */
enum tl_run { TL_RUN_SYNC, TL_RUN_TRAP, TL_RUN_END, TL_RUN_INTERRUPTED };

/* No sync point limit: a live machine runs until it stops. */
#define TL_NO_LIMIT UINT64_MAX

/* Writes the reason into t->err and returns ERR. */
int tl_fail(struct timeline *t, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A checkpoint restore failed with ERR (-ENOENT: none before TARGET). */
int tl_fail_restore(struct timeline *t, int err, sync_seq target);

/* Runs until sync point LIMIT has been handled, a trap, the end of the
 * trace or an interruption: an enum tl_run, or < 0 on divergence or a KVM
 * error. */
int tl_run(struct timeline *t, sync_seq limit);
/* At rest after a sync point: the position is (sync, 0). */
int tl_settle(struct timeline *t);
/* A run stopped on request inside a stretch: back to its sync point;
 * returns -EINTR (or the error that prevented it). */
int tl_interrupted(struct timeline *t);
/* An operation that ended in -EINTR (R) stopped at a position: *STOP
 * says so (TL_STOP_INTERRUPTED), and 0 is returned; other R as they are. */
int tl_stop_interrupted(struct timeline *t, int r, struct tl_stop *stop);
/* tl_goto for any position (live or lazy included). */
int tl_goto_exact(struct timeline *t, struct tl_pos target);
/* LIN through the guest's page tables at the current position. */
int tl_xlat(struct timeline *t, uint64_t lin, struct paging_xlat *x);

/* One instruction (or interrupt delivery) from wherever the machine
 * stands; tl_step_fwd also moves t->pos (or the lazy chain). */
int tl_step_one(struct timeline *t);
int tl_step_fwd(struct timeline *t);

/* Places a lazy position by replaying to it (tl_continue.c). */
int tl_resolve(struct timeline *t);
/* tl_continue.c: a lazy position one single step back, if it was reached
 * by single steps after its last arrival; else -ENOTSUP. */
int tl_lazy_back(struct timeline *t);

#endif
