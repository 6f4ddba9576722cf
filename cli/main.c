/* rrvm: record, replay and debug whole guest kernels.  The subcommand table
 * lives here; each subcommand parses its own options. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#ifndef RRVM_VERSION
#define RRVM_VERSION "0.0.0"
#endif

typedef int (*cli_main_fn)(int argc, char **argv);

static const struct cli_command {
	const char *name;
	cli_main_fn main;
	const char *summary;
} cli_commands[] = {
	{ "run", cli_run_main, "run a guest kernel (no recording)" },
	{ "record", cli_record_main, "run a guest kernel and record it into a trace" },
	{ "replay", cli_replay_main, "replay a trace exactly, checking every step" },
	{ "gdb", cli_gdb_main, "serve a replay to gdb, with reverse execution" },
	{ "info", cli_info_main, "summarize a trace file" },
	{ "dump", cli_dump_main, "print the events of a trace file" },
	{ "console", cli_console_main, "look around a recording: goto, step, break, watch" },
	{ "doctor", cli_doctor_main, "probe what this host's KVM can do" },
	{ "bisect", cli_bisect_main, "git bisect a flaky kernel failure, with recordings" },
};

#define CLI_NCOMMANDS (sizeof(cli_commands) / sizeof(cli_commands[0]))

void cli_bad_option(const char *cmd, char **argv)
{
	const char *arg = argv[optind - 1];

	if (optopt && arg[0] == '-' && arg[1] != '-')
		fprintf(stderr, "rrvm: %s: bad option or missing value for '-%c' (see rrvm %s --help)\n",
			cmd, optopt, cmd);
	else
		fprintf(stderr, "rrvm: %s: bad option or missing value: '%s' (see rrvm %s --help)\n",
			cmd, arg, cmd);
}

static void cli_usage(FILE *f)
{
	fprintf(f, "usage: rrvm COMMAND [options] [args]\n\ncommands:\n");
	for (size_t i = 0; i < CLI_NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", cli_commands[i].name, cli_commands[i].summary);
	fprintf(f, "\n'rrvm COMMAND --help' describes each command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "rrvm: missing COMMAND (see rrvm --help)\n");
		return CLI_ERR_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		cli_usage(stdout);
		return CLI_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("rrvm %s\n", RRVM_VERSION);
		return CLI_OK;
	}
	for (size_t i = 0; i < CLI_NCOMMANDS; i++)
		if (!strcmp(argv[1], cli_commands[i].name))
			return cli_commands[i].main(argc - 1, argv + 1);
	fprintf(stderr, "rrvm: unknown command '%s' (see rrvm --help)\n", argv[1]);
	return CLI_ERR_USAGE;
}
