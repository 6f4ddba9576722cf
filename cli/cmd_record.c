/* rrvm record: run a guest like `rrvm run` and log every input it sees. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/machine_opts.h"
#include "cli/signals.h"
#include "replay/recorder.h"
#include "vmm/kvm.h"

static const char cli_record_help[] =
	"usage: rrvm record -o TRACE [options] [--initrd FILE] KERNEL [-- KERNEL COMMAND LINE...]\n"
	"\n"
	"Runs KERNEL like `rrvm run` and writes every nondeterministic input the\n"
	"guest sees (device reads, interrupt timing, time, TSC reads, serial input)\n"
	"to TRACE, for `rrvm replay`.  Ctrl-C or SIGTERM ends the recording at the\n"
	"next sync point with a complete trace (a second Ctrl-C stops at once); a\n"
	"recording killed outright still replays up to its last written chunk.\n"
	"\n"
	"options:\n"
	"  -o, --output TRACE    the trace file to write (required)\n"
	"      --policy NAME     interrupt delivery policy: exact (the default and\n"
	"                        only one: interrupts land at guest-caused exits)\n"
	"      --reg-check N     register-hash checkpoint every N sync points (16)\n"
	"      --chunk-kb N      write a trace chunk every N KiB of events (256)\n"
	"      --chunk-ms N      ... or when its oldest event is N ms old (1000):\n"
	"                        what a crash can lose at most\n" CLI_MACHINE_HELP
	"  -h, --help            show this help\n"
	"\n"
	"exit status: as for `rrvm run`; 22 if the trace could not be written.\n";

enum { OPT_POLICY = CLI_OPT_FIRST_FREE, OPT_REG_CHECK, OPT_CHUNK_KB, OPT_CHUNK_MS };

/* A positive number that fits in 32 bits, or 0. */
static uint32_t record_count(const char *arg)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	return *end || end == arg || v > UINT32_MAX / 1024 ? 0 : (uint32_t)v;
}

static int record_parse(int argc, char **argv, struct cli_machine_opts *o, const char **out,
			struct rec_options *ro)
{
	static const struct option longopts[] = {
		CLI_MACHINE_LONGOPTS,
		{ "output", required_argument, NULL, 'o' },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "reg-check", required_argument, NULL, OPT_REG_CHECK },
		{ "chunk-kb", required_argument, NULL, OPT_CHUNK_KB },
		{ "chunk-ms", required_argument, NULL, OPT_CHUNK_MS },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt, r;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+m:o:h", longopts, NULL)) != -1) {
		if ((r = cli_machine_opt(o, opt, optarg)) > 0)
			continue;
		if (r < 0)
			return CLI_ERR_USAGE;
		switch (opt) {
		case 'o':
			*out = optarg;
			break;
		case OPT_POLICY:
			if (strcmp(optarg, "exact")) {
				fprintf(stderr, "rrvm: record: unknown policy '%s' (only 'exact')\n",
					optarg);
				return CLI_ERR_USAGE;
			}
			break;
		case OPT_REG_CHECK:
		case OPT_CHUNK_KB:
		case OPT_CHUNK_MS: {
			uint32_t v = record_count(optarg);
			if (!v) {
				fprintf(stderr, "rrvm: record: bad number '%s' for --%s\n", optarg,
					opt == OPT_REG_CHECK  ? "reg-check"
					: opt == OPT_CHUNK_KB ? "chunk-kb"
							      : "chunk-ms");
				return CLI_ERR_USAGE;
			}
			if (opt == OPT_REG_CHECK)
				ro->reg_check_every = v;
			else if (opt == OPT_CHUNK_KB)
				ro->writer.chunk_bytes = v * 1024;
			else
				ro->writer.chunk_ms = v;
			break;
		}
		case 'h':
			fputs(cli_record_help, stdout);
			return -1;
		default:
			cli_bad_option("record", argv);
			return CLI_ERR_USAGE;
		}
	}
	if (!*out) {
		fprintf(stderr, "rrvm: record: missing -o TRACE (see rrvm record --help)\n");
		return CLI_ERR_USAGE;
	}
	return cli_machine_finish(o, "record", argc - optind, argv + optind);
}

int cli_record_main(int argc, char **argv)
{
	struct cli_machine_opts o;
	struct rec_options ro = { .rrvm_version = RRVM_VERSION };
	struct rr_session *s = NULL;
	struct recorder rec;
	const struct machine_result *res;
	enum machine_init_error kind;
	const char *out = NULL;
	char msg[320], summary[256];
	int status, werr;

	cli_machine_opts_init(&o);
	cli_signals_catch(NULL);
	status = record_parse(argc, argv, &o, &out, &ro);
	if (status)
		goto done;
	s = malloc(sizeof(*s));
	if (!s) {
		status = CLI_ERR_INTERNAL;
		goto done;
	}
	if (rr_session_init(s, &o.cfg, &kind, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "rrvm: %s\n", msg);
		status = cli_init_status(kind);
		free(s);
		s = NULL;
		goto done;
	}
	/* The host facts replay needs; `rrvm doctor` has the full table, whose
	 * probes would cost every recording ~40 ms. */
	snprintf(summary, sizeof(summary), "backend=%s", kvm_backend());
	ro.host_summary = summary;
	if (rec_start(&rec, s, out, &ro, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "rrvm: %s\n", msg);
		status = CLI_ERR_IO;
		goto free_session;
	}
	cli_signals_catch(&s->m);
	res = rec_run(&rec, &werr, msg, sizeof(msg));
	cli_signals_release();
	if (werr) {
		fprintf(stderr, "rrvm: %s: %s\n", out, msg);
		status = CLI_ERR_IO;
	} else {
		status = cli_stop_status(res);
	}
free_session:
	rr_session_free(s);
done:
	cli_signals_release();
	free(s);
	cli_machine_opts_free(&o);
	return status < 0 ? CLI_OK : status;
}
