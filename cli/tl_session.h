/* Opening a trace under the time-travel engine, shared by `rrvm gdb` and
 * `rrvm console`: the reader, the recorded machine booted and checked as
 * `rrvm replay` does, and the engine on top at position 0:0. */
#ifndef RRVM_CLI_TL_SESSION_H
#define RRVM_CLI_TL_SESSION_H

#include <stdio.h>

#include "cli/replay_session.h"
#include "replay/timeline.h"

struct rr_session;
struct trace_reader;

struct tl_session {
	struct trace_reader *rd;
	struct rr_session *s;
	struct timeline *t;
	FILE *serial;   /* the guest's serial output while replaying */
};

/* Opens O->trace with the guest's serial output going to SERIAL_PATH
 * (NULL: discarded).  Returns 0 with *OUT set, or a cli_status after one
 * line on stderr (and *OUT NULL). */
int cli_tl_open(struct tl_session **out, const struct replay_opts *o, const char *serial_path);
void cli_tl_close(struct tl_session *ts);

#endif
