/* The replayer's state, for the files of replay/ (the time-travel engine
 * embeds one and drives it through its hooks; checkpoints reposition it)
 * and its white-box tests.  Everyone else holds a struct replayer * from
 * rpl_open and goes through replay/replayer.h. */
#ifndef RRVM_REPLAY_REPLAYER_INT_H
#define RRVM_REPLAY_REPLAYER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "replay/replayer.h"
#include "replay/session.h"
#include "trace-format/trace.h"
#include "vmm/exit.h"

#define RPL_RECENT 6

struct rpl_divergence {
	bool hit;
	sync_seq sync;
	uint64_t rip;
	char what[1200]; /* a landmark miss lists every register: ~1 KiB */
	bool has_regs;                   /* registers differ, and the trace has them: */
	uint64_t want[TRACE_NREGS], got[TRACE_NREGS]; /* the trace's, the replay's */
};

struct replayer {
	struct rr_session *s;
	struct trace_reader *rd;
	struct trace_event next;
	int next_state;          /* 1: NEXT holds an event, 0: end, < 0: read error */
	uint8_t next_data[TRACE_DATA_MAX]; /* NEXT's bytes, copied out of the reader */
	struct trace_event recent[RPL_RECENT]; /* the last events consumed */
	unsigned nrecent;
	uint64_t consumed;
	uint64_t consumed_at_idle;
	sync_seq idle_sync;
	struct vmm_hooks hooks;
	struct rpl_divergence div;
	bool truncated;          /* truncated or corrupt: replays up to END_SYNC */
	bool nothing;            /* ... and not even that: no whole chunk */
	sync_seq end_sync;       /* where replay ends (the recording's end, or the
				  * last sync point the whole chunks hold) */
	enum trace_end_place end_place; /* of the end record, if any */
	uint64_t sync_rip;       /* RIP and register hash at the exit of END_SYNC */
	uint64_t sync_reg_hash;  /* (for an end cut in the stretch after it) */
	rpl_progress_fn progress; /* may be NULL */
	void *progress_ctx;
	sync_seq progress_shown; /* the sync point last reported */
};

/* rpl_open in the caller's storage (nothing to free). */
void rpl_start(struct replayer *p, struct rr_session *s, struct trace_reader *rd);

/* After the machine was restored to the state it had once sync point S was
 * fully handled (CONSUMED events in): the next event is the first after S,
 * and the replayer's own bookkeeping starts afresh. */
int rpl_seek(struct replayer *p, sync_seq s, uint64_t consumed);

#endif
