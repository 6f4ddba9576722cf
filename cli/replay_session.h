/* Booting the machine a trace recorded, shared by `replay` and `gdb`. */
#ifndef RRVM_CLI_REPLAY_SESSION_H
#define RRVM_CLI_REPLAY_SESSION_H

#include <stdbool.h>
#include <stdio.h>

struct rr_session;
struct trace_header;

struct replay_opts {
	const char *trace, *kernel, *kvm;
	bool quiet;
};

/* Boots the recorded machine into S (serial output to OUT) and checks it is
 * the one the header describes.  0, or a cli_status after one line on
 * stderr. */
int cli_replay_session(struct rr_session *s, const struct replay_opts *o,
		       const struct trace_header *h, FILE *out);

#endif
