/* rrvm record --until-*: recording again and again until a failure shows
 * (the options, and the loop over cli_record_once). */
#ifndef RRVM_CLI_RECORD_UNTIL_H
#define RRVM_CLI_RECORD_UNTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/cmd_record.h"
#include "cli/machine_opts.h"
#include "replay/recorder.h"

#define CLI_UNTIL_TRIES 100

enum {
	CLI_OPT_UNTIL_OUTPUT = 0x180,
	CLI_OPT_UNTIL_STATUS,
	CLI_OPT_UNTIL_TIMEOUT,
	CLI_OPT_TRIES,
	CLI_OPT_NO_CHAOS,
};

#define CLI_UNTIL_LONGOPTS                                                   \
	{ "until-output", required_argument, NULL, CLI_OPT_UNTIL_OUTPUT },   \
	{ "until-status", required_argument, NULL, CLI_OPT_UNTIL_STATUS },   \
	{ "until-timeout", required_argument, NULL, CLI_OPT_UNTIL_TIMEOUT }, \
	{ "tries", required_argument, NULL, CLI_OPT_TRIES },                 \
	{ "no-chaos", no_argument, NULL, CLI_OPT_NO_CHAOS }

/* What --until-* asked for. */
struct cli_until {
	bool active;             /* any --until-* given */
	const char *output_re;   /* NULL: none */
	int status;              /* -1: none */
	bool has_status;
	vclock_ns timeout;       /* 0: none */
	unsigned tries;
	bool no_chaos;
};

/* Parses one --until-* or --tries option: 1 if it was one, 0 if not, -1 on
 * a bad value (one line printed). */
int cli_until_opt(struct cli_until *u, int opt, const char *arg);

/* Records again and again until U holds: 0 when caught (OUT is that try),
 * CLI_ERR_NOT_CAUGHT when no try was, or the status of a try that failed
 * for a reason of rrvm's or the host's own. */
int cli_record_until(struct cli_machine_opts *o, struct rec_options *ro, const char *out,
		     const struct cli_until *u);

#endif
