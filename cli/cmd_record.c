/* rrvm record: run a guest like `rrvm run` and log every input it sees. */
#include "cli/cmd_record.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/machine_opts.h"
#include "cli/record_until.h"
#include "cli/signals.h"
#include "replay/recorder.h"
#include "replay/session.h"
#include "vmm/kvm.h"
#include "vmm/machine.h"

static const char cli_record_help[] =
	"usage: rrvm record -o TRACE [options] [--initrd FILE] KERNEL [-- KERNEL COMMAND LINE...]\n"
	"\n"
	"Runs KERNEL like `rrvm run` and writes every nondeterministic input the\n"
	"guest sees (device reads, interrupt timing, time, TSC reads, serial input)\n"
	"to TRACE, for `rrvm replay`.  Ctrl-C or SIGTERM ends the recording at once\n"
	"with a complete trace (ending at the last sync point when the guest was\n"
	"between two); a recording killed outright still replays up to its last\n"
	"written chunk.\n"
	"\n"
	"options:\n"
	"  -o, --output TRACE    the trace file to write (required)\n"
	"      --policy NAME     interrupt delivery policy: exact (the default and\n"
	"                        only one: interrupts land at guest-caused exits)\n"
	"      --reg-check N     register-hash checkpoint every N sync points (16)\n"
	"      --chunk-kb N      write a trace chunk every N KiB of events (256)\n"
	"      --chunk-ms N      ... or when its oldest event is N ms old (1000):\n"
	"                        what a crash can lose at most\n"
	"      --chaos           vary interrupt landing, clock phase and serial input\n"
	"                        gaps at random within what hardware allows\n"
	"      --seed N          the chaos seed (default: a fresh one; implies --chaos)\n"
	CLI_MACHINE_HELP
	"\n"
	"record until a failure shows (any of these makes the try count as caught):\n"
	"      --until-output RE the guest's serial output has a line matching the\n"
	"                        extended regular expression RE (the recording ends\n"
	"                        at the next sync point)\n"
	"      --until-status N  the try ends with exit status N (as `rrvm record`\n"
	"                        would exit: (value << 1) | 1 for isa-debug-exit, 10 for\n"
	"                        a triple fault)\n"
	"      --until-timeout S the guest runs S seconds of virtual time without\n"
	"                        finishing (a hang: the recording ends there cleanly)\n"
	"      --tries N         record at most N times (default 100)\n"
	"      --no-chaos        try again without chaos (on by default with --until-*)\n"
	"  -h, --help            show this help\n"
	"\n"
	"exit status: as for `rrvm run`; 22 if the trace could not be written.\n"
	"With --until-*: 0 when a try was caught (TRACE is that try), 30 when none\n"
	"was in N tries; each try's seed and outcome are in TRACE.tries.\n";

enum {
	OPT_POLICY = CLI_OPT_FIRST_FREE,
	OPT_REG_CHECK,
	OPT_CHUNK_KB,
	OPT_CHUNK_MS,
	OPT_CHAOS,
	OPT_SEED,
};

/* A positive number that fits in 32 bits, or 0. */
static uint32_t record_count(const char *arg)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	return *end || end == arg || v > UINT32_MAX / 1024 ? 0 : (uint32_t)v;
}

static int record_parse(int argc, char **argv, struct cli_machine_opts *o, const char **out,
			struct rec_options *ro, struct cli_until *u)
{
	static const struct option longopts[] = {
		CLI_MACHINE_LONGOPTS,
		{ "output", required_argument, NULL, 'o' },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "reg-check", required_argument, NULL, OPT_REG_CHECK },
		{ "chunk-kb", required_argument, NULL, OPT_CHUNK_KB },
		{ "chunk-ms", required_argument, NULL, OPT_CHUNK_MS },
		{ "chaos", no_argument, NULL, OPT_CHAOS },
		{ "seed", required_argument, NULL, OPT_SEED },
		CLI_UNTIL_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool seeded = false;
	int opt, r;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+m:o:h", longopts, NULL)) != -1) {
		if ((r = cli_machine_opt(o, opt, optarg)) > 0)
			continue;
		if (r < 0)
			return CLI_ERR_USAGE;
		if ((r = cli_until_opt(u, opt, optarg)) > 0)
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
		case OPT_CHAOS:
			ro->chaos = true;
			break;
		case OPT_SEED: {
			char *end;
			errno = 0;
			ro->chaos_seed = strtoull(optarg, &end, 0);
			if (errno || *end || end == optarg || *optarg == '-') {
				fprintf(stderr, "rrvm: record: bad seed '%s' (a number below 2^64)\n",
					optarg);
				return CLI_ERR_USAGE;
			}
			ro->chaos = seeded = true;
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
	if (u->active && !u->no_chaos)
		ro->chaos = true; /* chaos is the point of trying again */
	if (u->no_chaos && seeded) {
		fprintf(stderr, "rrvm: record: --seed and --no-chaos contradict each other\n");
		return CLI_ERR_USAGE;
	}
	if (ro->chaos && !seeded)
		ro->chaos_seed = chaos_fresh_seed();
	if (!*out) {
		fprintf(stderr, "rrvm: record: missing -o TRACE (see rrvm record --help)\n");
		return CLI_ERR_USAGE;
	}
	return cli_machine_finish(o, "record", argc - optind, argv + optind);
}

int cli_record_once(struct cli_machine_opts *o, const struct rec_options *ro, const char *out,
		    struct cli_record_watch *w)
{
	struct rr_session *s;
	struct recorder *rec;
	struct machine *m;
	const struct machine_result *res;
	const struct machine_stats *st;
	enum machine_init_error kind;
	char msg[320], summary[256];
	int status, werr;

	if (rr_session_open(&s, &o->cfg, &kind, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "rrvm: %s\n", msg);
		return cli_init_status(kind);
	}
	m = rr_session_machine(s);
	/* The host facts replay needs; `rrvm doctor` has the full table, whose
	 * probes would cost every recording ~40 ms. */
	snprintf(summary, sizeof(summary), "backend=%s landmark_rings=%#x", kvm_backend(),
		 o->cfg.landmark_rings);
	struct rec_options opts = *ro;
	opts.host_summary = summary;
	if (rec_open(&rec, s, out, &opts, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "rrvm: %s\n", msg);
		status = CLI_ERR_IO;
		goto free_session;
	}
	if (w)
		w->m = m;
	cli_signals_catch(m);
	res = rec_run(rec, &werr, msg, sizeof(msg));
	if (w)
		cli_signals_catch(NULL); /* a Ctrl-C between tries ends the loop */
	else
		cli_signals_release();
	if (w) {
		w->m = NULL;
		w->timed_out = rec_timed_out(rec);
		w->why = res->why;
	}
	st = machine_get_stats(m);
	if (st->late_kicks && !w)
		fprintf(stderr, "rrvm: interrupts were delivered late (at the next exit, %llu "
			"times): the guest ran code in ring %s without exits, where this host (%s) "
			"has no execution breakpoints for landmarks (rrvm doctor)\n",
			(unsigned long long)st->late_kicks,
			st->late_cpl_mask & 8 ? "3" : "1 or 2", kvm_backend());
	if (werr) {
		fprintf(stderr, "rrvm: %s: %s\n", out, msg);
		status = CLI_ERR_IO;
	} else if (w) {
		/* One try of many: how it ended goes to the tries log. */
		snprintf(w->detail, sizeof(w->detail), "%s", res->detail);
		status = cli_stop_code(res);
	} else {
		status = cli_stop_status(res);
	}
	rec_close(rec);
free_session:
	rr_session_close(s);
	return status;
}

int cli_record_main(int argc, char **argv)
{
	struct cli_machine_opts o;
	struct rec_options ro = { .rrvm_version = RRVM_VERSION, .stop_signal = cli_signals_first };
	struct cli_until until = { .tries = CLI_UNTIL_TRIES };
	const char *out = NULL;
	int status;

	cli_machine_opts_init(&o);
	cli_signals_catch(NULL);
	status = record_parse(argc, argv, &o, &out, &ro, &until);
	if (status)
		goto done;
	if (until.active)
		status = cli_record_until(&o, &ro, out, &until);
	else
		status = cli_record_once(&o, &ro, out, NULL);
done:
	cli_signals_release();
	cli_machine_opts_free(&o);
	return status < 0 ? CLI_OK : status;
}
