/* rrvm record: one recording of a kernel into a trace, watched. */
#ifndef RRVM_CLI_CMD_RECORD_H
#define RRVM_CLI_CMD_RECORD_H

#include <stdbool.h>

struct cli_machine_opts;
struct machine;
struct rec_options;

/* One recording, watched: the machine while it runs (so that a serial
 * sink can stop it), and how it ended. */
struct cli_record_watch {
	struct machine *volatile m;
	bool timed_out;
	int why;                 /* enum machine_stop */
	char detail[192];        /* how the guest stopped, one line */
};

/* Records O's kernel into OUT once; returns the exit status of `rrvm
 * record`.  W may be NULL. */
int cli_record_once(struct cli_machine_opts *o, const struct rec_options *ro, const char *out,
		    struct cli_record_watch *w);

#endif
