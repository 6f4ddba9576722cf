/* rrvm gdb: serve a replay to gdb, with reverse execution. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/gdb_target.h"
#include "cli/tl_session.h"
#include "gdbstub/server.h"

static const char cli_gdb_help[] =
	"usage: rrvm gdb [options] TRACE\n"
	"\n"
	"Replays TRACE under a GDB remote stub with reverse execution:\n"
	"  gdb KERNEL.elf64 -ex 'target remote :1234'      (default, TCP)\n"
	"  gdb KERNEL.elf64 -ex 'target remote | rrvm gdb --stdio TRACE'\n"
	"then break, continue, stepi, watch, reverse-stepi, reverse-continue,\n"
	"and monitor when | checkpoint | goto SYNC[:N] | info trace | leave-replay | help.\n"
	"Register and memory writes and read/access watchpoints are refused\n"
	"(the reason is printed here); see docs/debugging.md.\n"
	"\n"
	"options:\n"
	"      --port N        TCP port on 127.0.0.1 (default 1234)\n"
	"      --listen ADDR   bind ADDR instead of 127.0.0.1 (warns: no auth)\n"
	"      --stdio         talk to gdb over stdin/stdout\n"
	"      --kernel PATH   the kernel file, if it moved since recording\n"
	"      --kvm PATH      use PATH as the KVM device (default /dev/kvm)\n"
	CLI_TIMELINE_HELP
	"  -h, --help          show this help\n";

static struct gdb_server *cli_gdb_srv;

static void cli_gdb_sigint(int sig)
{
	(void)sig;
	if (cli_gdb_srv)
		gdb_server_stop(cli_gdb_srv);
}

static int cli_gdb_parse(int argc, char **argv, struct replay_opts *o,
			 struct gdb_server_config *cfg)
{
	enum { OPT_PORT = 0x100, OPT_LISTEN, OPT_STDIO };
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, OPT_PORT },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "stdio", no_argument, NULL, OPT_STDIO },
		CLI_TIMELINE_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char *end;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_PORT:
			cfg->port = (uint16_t)strtoul(optarg, &end, 10);
			if (*end || !cfg->port) {
				fprintf(stderr, "rrvm: gdb: bad port '%s'\n", optarg);
				return CLI_ERR_USAGE;
			}
			break;
		case OPT_LISTEN: cfg->bind_addr = optarg; break;
		case OPT_STDIO: cfg->transport = GDB_TRANSPORT_STDIO; break;
		case 'h':
			fputs(cli_gdb_help, stdout);
			return -1;
		default:
			switch (cli_trace_opt(opt, optarg, o)) {
			case 1: break;
			case 0: cli_bad_option("gdb", argv); /* fall through */
			default: return CLI_ERR_USAGE;
			}
			break;
		}
	}
	return cli_trace_arg("gdb", argc, argv, o);
}

static int cli_gdb_serve(struct timeline *t, const char *trace_path,
			 const struct gdb_server_config *cfg)
{
	static struct gdb_target g;
	struct sigaction sa = { .sa_handler = cli_gdb_sigint };
	int r;

	gdb_target_init(&g, t, trace_path);
	if ((r = gdb_server_open(&cli_gdb_srv, cfg, &g.ops)) < 0) {
		fprintf(stderr, "rrvm: cannot start the GDB server: %s\n", strerror(-r));
		return CLI_ERR_IO;
	}
	if (cfg->transport == GDB_TRANSPORT_TCP)
		fprintf(stderr, "rrvm: waiting for gdb on port %d\n", gdb_server_port(cli_gdb_srv));
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a debugger that goes away is not fatal */
	r = gdb_server_run(cli_gdb_srv);
	gdb_server_close(cli_gdb_srv);
	cli_gdb_srv = NULL;
	return r < 0 ? CLI_ERR_IO : CLI_OK;
}

int cli_gdb_main(int argc, char **argv)
{
	struct replay_opts o = { 0 };
	struct gdb_server_config cfg = { .transport = GDB_TRANSPORT_TCP, .port = 1234 };
	struct tl_session *ts;
	int status = cli_gdb_parse(argc, argv, &o, &cfg);

	if (status)
		return status < 0 ? CLI_OK : status;
	/* The guest's serial output is discarded: it would corrupt --stdio. */
	status = cli_tl_open(&ts, &o, NULL);
	if (status == 0)
		status = cli_gdb_serve(ts->t, o.trace, &cfg);
	cli_tl_close(ts);
	return status;
}
