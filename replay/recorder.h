/* The recorder: runs a session's machine on live inputs and logs every
 * nondeterministic input the guest consumes into a trace (DESIGN.md,
 * "Determinism model").  It sits on the machine's two seams: the input
 * sources (time and serial input, wrapped so what was used is logged) and
 * the exit hooks (device reads, interrupt injections, TSC traps, code
 * writes, register checkpoints).  Single-threaded, like the machine. */
#ifndef RRVM_REPLAY_RECORDER_H
#define RRVM_REPLAY_RECORDER_H

#include <stdbool.h>
#include <stddef.h>

#include "replay/chaos.h"
#include "replay/session.h"
#include "trace-format/trace.h"

struct rec_options {
	const char *rrvm_version;
	unsigned reg_check_every;  /* register-hash checkpoint period, sync points */
	const char *host_summary;  /* "key=value key=value" (probe_summary) or NULL */
	bool chaos;                /* vary inputs within what hardware allows */
	uint64_t chaos_seed;       /* ... from this seed (replay/chaos.h) */
	vclock_ns stop_after;      /* end the recording at the first sync point this
				    * long after the guest started; 0: never */
	struct trace_writer_opts writer;
	/* The signal that stopped the recording (machine_request_stop), for
	 * the end record; NULL or 0: unknown. */
	int (*stop_signal)(void);
};

/* A recorder: opened on a session (rec_open), run once (rec_run), then
 * closed, after which the session's machine does not run again (its
 * inputs were the recorder's).  Its state is recorder.c's own. */
struct recorder;

/* Opens PATH and writes the header for S (which stays the caller's and
 * must outlive the recorder): *OUT is the recorder, or NULL.  0 or -errno
 * with MSG filled in. */
int rec_open(struct recorder **out, struct rr_session *s, const char *path,
	     const struct rec_options *o, char *msg, size_t msglen);
/* Frees R, closing the trace without an end record if rec_run did not
 * run; NULL is fine. */
void rec_close(struct recorder *r);

/* Runs the guest to its end (or until machine_request_stop()), recording.
 * Then writes the end record and closes the trace.  A stop request ends
 * the recording at once: in the stretch after a sync point, the trace ends
 * at that sync point (TRACE_PLACE_CUT).  Returns the machine's
 * result; *WRITE_ERR gets a trace write error (0 if none) with MSG. */
const struct machine_result *rec_run(struct recorder *r, int *write_err, char *msg,
				     size_t msglen);

/* The recording ended because rec_options.stop_after was reached. */
bool rec_timed_out(const struct recorder *r);

#endif
