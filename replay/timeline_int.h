/* What the time-travel engine's files share (timeline.c: positions, runs,
 * goto, memory, setup; tl_step.c: single steps; tl_continue.c:
 * breakpoints, watchpoints, continue).  Not for users of the engine. */
#ifndef RRVM_REPLAY_TIMELINE_INT_H
#define RRVM_REPLAY_TIMELINE_INT_H

#include "replay/timeline.h"

struct paging_xlat;

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

#endif
