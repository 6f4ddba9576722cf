/* The progress bar (cli/progress.c): drawn on a terminal, nothing at all on
 * a pipe or with --quiet, erased when the operation ends. */
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli/progress.h"
#include "replay/timeline.h"

/* The engine's setter, as cli_progress_attach calls it: what it was given. */
static tl_progress_fn t_fn;
static void *t_ctx;

void tl_set_progress(struct timeline *t, tl_progress_fn fn, void *ctx)
{
	(void)t;
	t_fn = fn;
	t_ctx = ctx;
}

/* Runs a whole operation's progress calls with stderr on FD; returns what
 * reached READ_FD (non-blocking). */
static size_t t_operation(int fd, int read_fd, bool quiet, char *buf, size_t len)
{
	struct cli_progress p;
	int saved = dup(STDERR_FILENO);
	ssize_t n;
	size_t got = 0;

	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	cli_progress_attach(&p, NULL, quiet);
	assert_ptr_equal(t_fn, cli_progress_update);
	assert_ptr_equal(t_ctx, &p);
	t_fn(t_ctx, 0, 1000);
	t_fn(t_ctx, 500, 1000); /* within the redraw period: skipped */
	cli_progress_done(&p);
	p.last_ns = 0;
	t_fn(t_ctx, 2000, 1000); /* past the total: clamped */
	cli_progress_done(&p);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	while (got < len - 1 && (n = read(read_fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	return got;
}

static void test_terminal(void **state)
{
	int master, slave;
	char buf[4096];

	(void)state;
	assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
	fcntl(master, F_SETFL, O_NONBLOCK);
	assert_true(t_operation(slave, master, false, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "[........................................]   0% 0/1000"));
	assert_non_null(strstr(buf, "[########################################] 100% 1000/1000"));
	assert_null(strstr(buf, " 50%"));
	assert_non_null(strstr(buf, "\r\033[K")); /* erased at the end */
	assert_int_equal(t_operation(slave, master, true, buf, sizeof(buf)), 0);
	close(master);
	close(slave);
}

static void test_pipe(void **state)
{
	int fds[2];
	char buf[4096];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	assert_int_equal(t_operation(fds[1], fds[0], false, buf, sizeof(buf)), 0);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_terminal),
		cmocka_unit_test(test_pipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
