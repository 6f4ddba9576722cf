/* `rrvm info` and `rrvm dump` (cli/cmd_trace.c) on real, truncated and
 * missing traces, with stdout captured. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli/cli.h"
#include "tests/trace/gen.h"
#include "trace-format/trace.h"

static char tmpdir[] = "/tmp/rrvm-cli-trace-XXXXXX";
static char out[1 << 20];

static const char *tpath(const char *name)
{
	static char buf[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmpdir, name);
	return buf[k];
}

/* Runs MAIN with the given arguments; its stdout lands in OUT. */
static int run(int (*fn)(int, char **), int argc, ...)
{
	char *argv[16];
	va_list ap;
	int saved = dup(1), ret;
	FILE *f = fopen(tpath("stdout"), "w+");
	size_t n;

	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	argv[argc] = NULL;
	va_end(ap);
	fflush(stdout);
	dup2(fileno(f), 1);
	ret = fn(argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	fclose(f);
	return ret;
}

static int count_lines(const char *s, const char *prefix)
{
	int n = 0;

	for (const char *p = s; *p; p = strchr(p, '\n') + 1) {
		if (!strncmp(p, prefix, strlen(prefix)))
			n++;
		if (!strchr(p, '\n'))
			break;
	}
	return n;
}

static void test_info_complete(void **state)
{
	(void)state;
	assert_int_equal(gen_trace(tpath("c.trace"), 900, 1024, 1), 0);
	assert_int_equal(run(cli_info_main, 2, "info", tpath("c.trace")), CLI_OK);
	assert_non_null(strstr(out, "status:       complete\n"));
	assert_non_null(strstr(out, "events:       900 (port_read 100,"));
	assert_non_null(strstr(out, "end:          debug_exit status 33"));
	assert_non_null(strstr(out, "bytes/event"));
	assert_null(strstr(out, "rebuilt"));
}

static void test_info_truncated(void **state)
{
	struct trace_reader *r;
	sync_seq last;
	uint64_t hdr;
	char want[96];

	(void)state;
	assert_int_equal(gen_trace(tpath("t.trace"), 800, 1024, 1), 0);
	/* Cut into the middle of the last few chunks. */
	assert_int_equal(truncate(tpath("t.trace"), 6000), 0);
	assert_int_equal(trace_reader_open(&r, tpath("t.trace"), NULL), 0);
	/* The last sync point of the last whole chunk may go on in the cut
	 * one: replay (cmd_replay.c) and info stop before it, saying so alike. */
	last = trace_reader_info(r)->last_sync - 1;
	assert_true(trace_reader_info(r)->truncated);
	hdr = trace_reader_info(r)->header_bytes;
	trace_reader_close(r);
	assert_int_equal(run(cli_info_main, 2, "info", tpath("t.trace")), CLI_ERR_TRACE);
	assert_non_null(strstr(out, "status:       truncated"));
	snprintf(want, sizeof(want), "replayable:   up to sync point %llu", (unsigned long long)last);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "index rebuilt"));
	/* Cut inside the first chunk: nothing replays. */
	assert_int_equal(truncate(tpath("t.trace"), (off_t)hdr + 60), 0);
	assert_int_equal(run(cli_info_main, 2, "info", tpath("t.trace")), CLI_ERR_TRACE);
	assert_non_null(strstr(out, "replayable:   nothing (no whole chunk)"));
}

static void test_info_errors(void **state)
{
	(void)state;
	assert_int_equal(run(cli_info_main, 2, "info", tpath("missing.trace")), CLI_ERR_TRACE);
	assert_int_equal(run(cli_info_main, 2, "info", "--bogus"), CLI_ERR_USAGE);
	assert_int_equal(run(cli_info_main, 1, "info"), CLI_ERR_USAGE);
	assert_int_equal(run(cli_info_main, 2, "info", "--help"), CLI_OK);
	assert_non_null(strstr(out, "usage: rrvm info"));
	assert_int_equal(run(cli_dump_main, 2, "dump", "--help"), CLI_OK);
	assert_non_null(strstr(out, "usage: rrvm dump"));
	assert_int_equal(run(cli_dump_main, 4, "dump", "--from", "x1", tpath("c.trace")),
			 CLI_ERR_USAGE);
	assert_int_equal(run(cli_dump_main, 6, "dump", "--from", "9", "--to", "3",
			     tpath("c.trace")), CLI_ERR_USAGE);
}

static void test_dump(void **state)
{
	(void)state;
	assert_int_equal(gen_trace(tpath("d.trace"), 400, 512, 1), 0);
	assert_int_equal(run(cli_dump_main, 2, "dump", tpath("d.trace")), CLI_OK);
	assert_int_equal(count_lines(out, ""), 401);
	assert_int_equal(count_lines(out, "end debug_exit"), 1);
	assert_non_null(strstr(out, " place=in_hlt ")); /* gen_end's */
	/* Events 8..15 have sync points 10..20 (sync = i + i/3). */
	assert_int_equal(run(cli_dump_main, 7, "dump", "--json", "--from", "10", "--to", "20",
			     tpath("d.trace")), CLI_OK);
	assert_int_equal(count_lines(out, "{\"sync\":"), 8);
	assert_non_null(strstr(out, "{\"sync\":10,"));
	assert_non_null(strstr(out, "{\"sync\":20,"));
	assert_null(strstr(out, "\"kind\":\"end\""));
	assert_int_equal(run(cli_dump_main, 3, "dump", "--json", tpath("d.trace")), CLI_OK);
	assert_int_equal(count_lines(out, "{\"kind\":\"end\""), 1);
	assert_int_equal(truncate(tpath("d.trace"), 3000), 0);
	assert_int_equal(run(cli_dump_main, 2, "dump", tpath("d.trace")), CLI_ERR_TRACE);
	assert_true(count_lines(out, "") > 0);
	assert_int_equal(count_lines(out, "end "), 0);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_info_complete),
		cmocka_unit_test(test_info_truncated),
		cmocka_unit_test(test_info_errors),
		cmocka_unit_test(test_dump),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
