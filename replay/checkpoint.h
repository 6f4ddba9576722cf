/* Checkpoints of a replay (DESIGN.md, "Positions and time travel"): full
 * machine snapshots taken at sync points, keyed by sync point.  Memory is
 * incremental through dirty logging, and pages are stored once per content
 * (XXH64, confirmed byte for byte) with reference counts, so pages that did
 * not change are shared by every checkpoint that holds them.
 *
 * Policy: take one every every_sync sync points and/or every every_ns of
 * replay time (ckpt_due); stay under a memory budget (default twice guest
 * RAM) by evicting the interior checkpoint whose neighbours are closest, so
 * that the ones kept stay spread over the whole trace.  The first and the
 * newest are never evicted.
 *
 * A checkpoint at sync point S is the machine at the top of machine_run's
 * loop after S was handled completely: restoring it also puts the replayer
 * on the first event after S.  Owned by the time-travel engine; single-
 * threaded, like the machine.
 *
 * Costs (measured on a 64 MiB guest, see the report in tests/replay): a take
 * hashes the pages written since the last take or restore and copies a
 * table of one pointer per guest page; a restore rewrites only the pages
 * that differ from what RAM holds. */
#ifndef RRVM_REPLAY_CHECKPOINT_H
#define RRVM_REPLAY_CHECKPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include "util/types.h"
#include "vmm/snapshot.h"

struct rr_session;
struct replayer;
struct ckpt;
struct ckpt_page;

struct ckpt_opts {
	sync_seq every_sync;   /* 0: not by sync points */
	host_ns every_ns;      /* 0: not by replay time */
	uint64_t budget_bytes; /* 0: twice guest RAM */
};

/* Defaults when no options are given: reach any position by replaying at
 * most ~50 ms (half the reverse-step target of DESIGN.md). */
#define CKPT_DEFAULT_EVERY_NS (50ull * 1000 * 1000)

struct ckpt_stats {
	unsigned count;          /* checkpoints held */
	uint64_t pages;          /* distinct pages stored */
	uint64_t page_refs;      /* page slots in all checkpoints that hold data */
	uint64_t bytes;          /* everything the store holds, counted against the budget */
	uint64_t peak_bytes;
	uint64_t takes, restores, evictions;
	uint64_t pages_hashed;   /* by takes (dirty pages) */
	uint64_t pages_written;  /* by restores */
	host_ns take_ns, restore_ns; /* totals */
};

struct ckpt_store {
	struct rr_session *s;
	struct replayer *p;      /* repositioned on restore; may be NULL */
	struct snap_ctx snap;
	struct ckpt_opts opts;
	struct ckpt *ck;         /* sorted by sync point */
	unsigned n, cap;
	struct ckpt_page **bucket; /* hash chains, by XXH64 of the contents */
	uint64_t nbucket;
	struct ckpt_page **cur;  /* what RAM held at the last take or restore */
	struct snap_state scratch;
	host_ns last_time;       /* of the last take or restore */
	bool unusable;           /* a restore failed part way */
	struct ckpt_stats st;
};

/* Prepares a store for S (and its replayer P, which may be NULL) and turns
 * on dirty logging.  O may be NULL for the defaults. */
int ckpt_store_init(struct ckpt_store *st, struct rr_session *s, struct replayer *p,
		    const struct ckpt_opts *o);
void ckpt_store_free(struct ckpt_store *st);

/* The interval policy: true when the machine's current sync point is at
 * least every_sync past the nearest checkpoint before it, or every_ns of
 * replay time passed since the last take or restore. */
bool ckpt_due(const struct ckpt_store *st);

/* Takes a checkpoint at S's current sync point (the machine stopped at the
 * top of machine_run's loop, e.g. MACHINE_STOP_SYNC_LIMIT, or not yet run),
 * then evicts down to the budget.  0 (also when one exists there already),
 * -EBUSY when the replayer has events of this sync point left, or -errno. */
int ckpt_take(struct ckpt_store *st, struct rr_session *s);

/* Restores the nearest checkpoint at or before TARGET: machine, RAM, and
 * the replayer's position.  *RESTORED gets its sync point.  -ENOENT when
 * there is none.  A restore that fails part way leaves the machine
 * unusable (ckpt_unusable): every later restore fails with -EIO. */
int ckpt_restore(struct ckpt_store *st, struct rr_session *s, sync_seq target,
		 sync_seq *restored);
static inline bool ckpt_unusable(const struct ckpt_store *st)
{
	return st->unusable;
}


/* Hash of the complete state at this position: vCPU (all KVM_GET_*, less
 * the TSC), devices, machine fields, RAM, TSC sites and the replayer's
 * position.  Two ways of reaching one position must give one hash. */
int ckpt_state_hash(struct ckpt_store *st, uint64_t *hash);

/* Sync point of the nearest checkpoint at or before TARGET in *AT, or
 * -ENOENT. */
int ckpt_nearest(const struct ckpt_store *st, sync_seq target, sync_seq *at);

/* The checkpoints held, the I-th one's sync point (0 <= I < ckpt_count,
 * in order), the memory budget in bytes, and what the store did so far. */
unsigned ckpt_count(const struct ckpt_store *st);
sync_seq ckpt_sync_at(const struct ckpt_store *st, unsigned i);
uint64_t ckpt_budget(const struct ckpt_store *st);
const struct ckpt_stats *ckpt_store_stats(const struct ckpt_store *st);

#endif
