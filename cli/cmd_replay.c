/* rrvm replay: run a guest from its trace alone and check every step. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/machine_opts.h"
#include "cli/progress.h"
#include "cli/replay_session.h"
#include "cli/signals.h"
#include "replay/replayer.h"
#include "replay/session.h"
#include "trace-format/trace.h"

static const char cli_replay_help[] =
	"usage: rrvm replay [options] TRACE\n"
	"\n"
	"Runs the recorded guest again from TRACE alone: no host time, no input.\n"
	"Serial output is reproduced byte for byte; idle time is skipped.  Every\n"
	"device answer, interrupt and register checkpoint is checked against the\n"
	"trace, and the first mismatch stops replay with a report.  Replay ends\n"
	"with one line saying whether it matched the recording's end.\n"
	"\n"
	"options:\n"
	"  -q, --quiet         do not print the guest's serial output, nor the\n"
	"                      progress bar (shown when stderr is a terminal and\n"
	"                      the serial output goes elsewhere)\n"
	"      --kernel PATH   the kernel file, if it moved since recording (it\n"
	"                      must be the same file)\n"
	"      --initrd PATH   the initrd, likewise; for a multiboot kernel the\n"
	"                      modules, PATH[,PATH...] in their recorded order\n"
	"      --kvm PATH      use PATH as the KVM device (default /dev/kvm)\n"
	"  -h, --help          show this help\n"
	"\n"
	"exit status: 0 matched (a truncated trace: up to its last whole chunk),\n"
	"24 diverged, 26 recorded with another kernel, RAM size or CPU, 20\n"
	"unreadable trace, a damaged chunk (replayed up to it) or nothing to\n"
	"replay, 4 kernel file missing.\n";

static int replay_parse(int argc, char **argv, struct replay_opts *o)
{
	static const struct option longopts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		CLI_TRACE_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		int r = cli_trace_opt(opt, optarg, o);

		if (r < 0)
			return CLI_ERR_USAGE;
		if (r)
			continue;
		if (opt == 'h') {
			fputs(cli_replay_help, stdout);
			return -1;
		}
		cli_bad_option("replay", argv);
		return CLI_ERR_USAGE;
	}
	return cli_trace_arg("replay", argc, argv, o);
}

/* rpl_run, with a progress bar when stderr is a terminal that the guest's
 * serial output does not write to (the two would garble each other). */
static const struct machine_result *replay_run_progress(struct replayer *p,
							 const struct replay_opts *o)
{
	struct cli_progress bar;
	const struct machine_result *res;

	cli_progress_init(&bar, o->quiet || isatty(STDOUT_FILENO));
	if (bar.enabled)
		rpl_set_progress(p, cli_progress_update, &bar);
	res = rpl_run(p);
	rpl_set_progress(p, NULL, NULL);
	cli_progress_done(&bar);
	return res;
}

static int replay_run(struct rr_session *s, struct trace_reader *rd, const struct replay_opts *o)
{
	struct replayer *p;
	const struct machine_result *res;
	char msg[400];
	int status;

	if (rpl_open(&p, s, rd) < 0)
		return CLI_ERR_INTERNAL;
	if (rpl_truncated(p) && !cli_replay_incomplete(o->trace, p)) {
		rpl_close(p);
		return CLI_ERR_TRACE;
	}
	cli_signals_catch(rr_session_machine(s));
	res = replay_run_progress(p, o);
	cli_signals_release();
	if (rpl_compare_end(p, res, msg, sizeof(msg))) {
		fprintf(stderr, "rrvm: %s\n", msg);
		/* A damaged trace replays as far as it can, and still is damaged. */
		status = trace_reader_info(rd)->corrupt ? CLI_ERR_TRACE : CLI_OK;
	} else if (rpl_diverged(p)) {
		rpl_report(p, stderr);
		status = CLI_ERR_DIVERGED;
	} else {
		status = cli_stop_status(res);
	}
	rpl_close(p);
	return status;
}

int cli_replay_main(int argc, char **argv)
{
	struct replay_opts o = { 0 };
	struct trace_reader *rd = NULL;
	struct trace_error err;
	struct rr_session *s = NULL;
	FILE *out = stdout;
	int status = replay_parse(argc, argv, &o);

	if (status)
		return status < 0 ? CLI_OK : status;
	if (trace_reader_open(&rd, o.trace, &err) < 0) {
		fprintf(stderr, "rrvm: %s\n", err.msg);
		return CLI_ERR_TRACE;
	}
	if (o.quiet && !(out = fopen("/dev/null", "we"))) {
		status = CLI_ERR_IO;
		goto done;
	}
	status = cli_replay_session(&s, &o, trace_reader_header(rd), out);
	if (status == 0) {
		status = replay_run(s, rd, &o);
		rr_session_close(s);
	}
done:
	if (out != stdout && out)
		fclose(out);
	trace_reader_close(rd);
	return status;
}
