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

#include "trace-format/trace.h"
#include "util/types.h"

struct machine_result;
struct rr_session;
struct trace_reader;

/* A replayer: opened on a session and a reader (rpl_open), run once
 * (rpl_run) or driven by the time-travel engine.  Its state
 * (replay/replayer_int.h) is replay's own. */
struct replayer;

/* Called about every RPL_PROGRESS_EVERY sync points of rpl_run: DONE of
 * TOTAL (where replay ends) sync points.  For progress bars; must not call
 * into the replayer. */
typedef void (*rpl_progress_fn)(void *ctx, uint64_t done, uint64_t total);
#define RPL_PROGRESS_EVERY 256

/* Checks that the trace's header matches the machine the session built:
 * kernel file, memory size, command line, CPUID table and initial memory.
 * Returns 0 or -EINVAL with one line naming the difference in MSG. */
int rpl_check_header(const struct trace_header *h, const struct rr_session *s, char *msg,
		     size_t msglen);

/* Takes over S's inputs and hooks, reading events from RD: *OUT is the
 * replayer (S and RD stay the caller's and must outlive it), or NULL.
 * Verifies every chunk's checksum first: a damaged chunk in a closed trace
 * makes it replay, like a truncated one, up to the chunk before.  0 or
 * -ENOMEM. */
int rpl_open(struct replayer **out, struct rr_session *s, struct trace_reader *rd);
/* Frees P (not its session or reader); NULL is fine. */
void rpl_close(struct replayer *p);

/* The trace is truncated or corrupt: it replays up to rpl_end_sync. */
bool rpl_truncated(const struct replayer *p);
/* ... and not even that: it holds no whole chunk of events. */
bool rpl_replays_nothing(const struct replayer *p);
/* Where replay ends: the recording's end, or the last sync point the
 * whole chunks of a truncated trace hold. */
sync_seq rpl_end_sync(const struct replayer *p);
/* The reader P replays. */
const struct trace_reader *rpl_reader(const struct replayer *p);
/* Replay diverged from the trace (rpl_report says where and how). */
bool rpl_diverged(const struct replayer *p);
/* Reports rpl_run's progress to FN (NULL: none). */
void rpl_set_progress(struct replayer *p, rpl_progress_fn fn, void *ctx);

/* Runs to the end of the trace.  Returns the machine's result; a
 * divergence stops it (rpl_diverged). */
const struct machine_result *rpl_run(struct replayer *p);

/* Compares the machine's end with the trace's end record (or notes that the
 * trace is truncated).  Returns true on a match, with the summary line in
 * MSG either way. */
bool rpl_compare_end(struct replayer *p, const struct machine_result *res, char *msg,
		     size_t msglen);

/* Prints the divergence report: one line, then the last events before it. */
void rpl_report(const struct replayer *p, FILE *f);

#endif
