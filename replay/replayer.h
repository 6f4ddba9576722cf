/* The replayer: runs a session's machine from a trace alone (no host time,
 * no stdin).  Devices still run, so serial output and device state
 * reproduce; what the guest receives comes from the trace, and every device
 * answer, interrupt and register checkpoint is checked against it.  The
 * first mismatch stops the machine with a divergence report.
 * Single-threaded, like the machine. */
#ifndef RRVM_REPLAY_REPLAYER_H
#define RRVM_REPLAY_REPLAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "replay/session.h"
#include "trace-format/trace.h"
#include "vmm/exit.h"

#define RPL_RECENT 6

struct rpl_divergence {
	bool hit;
	sync_seq sync;
	uint64_t rip;
	char what[320 + TRACE_EVENT_TEXT_MAX];
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
};

/* Checks that the trace's header matches the machine the session built:
 * kernel file, memory size, command line, CPUID table and initial memory.
 * Returns 0 or -EINVAL with one line naming the difference in MSG. */
int rpl_check_header(const struct trace_header *h, const struct rr_session *s, char *msg,
		     size_t msglen);

/* Takes over S's inputs and hooks, reading events from RD (owned by the
 * caller).  Verifies every chunk's checksum first: a damaged chunk in a
 * closed trace makes it replay, like a truncated one, up to the chunk
 * before. */
void rpl_start(struct replayer *p, struct rr_session *s, struct trace_reader *rd);

/* Runs to the end of the trace.  Returns the machine's result; the
 * divergence, if any, is in p->div. */
const struct machine_result *rpl_run(struct replayer *p);

/* Compares the machine's end with the trace's end record (or notes that the
 * trace is truncated).  Returns true on a match, with the summary line in
 * MSG either way. */
bool rpl_compare_end(struct replayer *p, const struct machine_result *res, char *msg,
		     size_t msglen);

/* After the machine was restored to the state it had once sync point S was
 * fully handled (CONSUMED events in): the next event is the first after S,
 * and the replayer's own bookkeeping starts afresh. */
int rpl_seek(struct replayer *p, sync_seq s, uint64_t consumed);

/* Prints the divergence report: one line, then the last events before it. */
void rpl_report(const struct replayer *p, FILE *f);

#endif
