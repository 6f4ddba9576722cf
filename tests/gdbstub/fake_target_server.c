/* TEST ONLY: the GDB stub serving the fake target (fake_target.h), so the
 * real gdb can be pointed at it:
 *
 *   gdb -ex 'target remote | fake_target_server --stdio'
 *   fake_target_server --port 1234 [--bind ADDR]
 *
 * It exists to prove that gdb accepts our target description, stop replies
 * and reverse packets; it is not a debugger for anything. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdbstub/server.h"
#include "tests/gdbstub/fake_target.h"

static struct gdb_server *g_server;

static void on_sigint(int sig)
{
	if (g_server)
		gdb_server_stop(g_server);
}

static int usage(void)
{
	fprintf(stderr, "usage: fake_target_server --stdio | --port N [--bind ADDR] [--spin]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static struct fake_target t;
	struct gdb_target_ops ops;
	struct gdb_server_config cfg = { .transport = GDB_TRANSPORT_TCP };
	bool spin = false;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--stdio") == 0)
			cfg.transport = GDB_TRANSPORT_STDIO;
		else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			cfg.port = (uint16_t)atoi(argv[++i]);
		else if (strcmp(argv[i], "--bind") == 0 && i + 1 < argc)
			cfg.bind_addr = argv[++i];
		else if (strcmp(argv[i], "--spin") == 0)
			spin = true;
		else
			return usage();
	}
	fake_target_init(&t);
	t.spin = spin;
	fake_target_ops(&t, &ops);
	signal(SIGPIPE, SIG_IGN);
	rc = gdb_server_open(&g_server, &cfg, &ops);
	if (rc < 0) {
		fprintf(stderr, "fake_target_server: %s\n", strerror(-rc));
		return 1;
	}
	if (cfg.transport == GDB_TRANSPORT_TCP)
		fprintf(stderr, "listening on port %d\n", gdb_server_port(g_server));
	signal(SIGINT, on_sigint);
	rc = gdb_server_run(g_server);
	gdb_server_close(g_server);
	return rc < 0 ? 1 : 0;
}
