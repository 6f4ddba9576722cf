/* Transports: TCP accept / refuse a second debugger / reconnect / kill,
 * Ctrl-C during a resume, gdb_server_stop, and stdio over a socketpair. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "gdbstub/server.h"
#include "tests/gdbstub/fake_target.h"

static struct fake_target t;
static struct gdb_target_ops ops;
static struct gdb_server *srv;
static pthread_t runner;
static int run_rc;

static void *run_main(void *arg)
{
	run_rc = gdb_server_run(srv);
	return NULL;
}

static void start(const struct gdb_server_config *cfg)
{
	fake_target_init(&t);
	fake_target_ops(&t, &ops);
	assert_int_equal(gdb_server_open(&srv, cfg, &ops), 0);
	run_rc = 12345;
	assert_int_equal(pthread_create(&runner, NULL, run_main, NULL), 0);
}

static void finish(void)
{
	pthread_join(runner, NULL);
	gdb_server_close(srv);
	srv = NULL;
}

static int tcp_connect(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_port = htons((uint16_t)gdb_server_port(srv));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void send_str(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* Read exactly strlen(WANT) bytes (5 s timeout) and compare. */
static void expect(int fd, const char *want)
{
	char buf[256];
	size_t n = strlen(want), got = 0;

	assert_true(n < sizeof(buf));
	while (got < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		assert_int_equal(poll(&p, 1, 5000), 1);
		r = read(fd, buf + got, n - got);
		assert_true(r > 0);
		got += (size_t)r;
	}
	buf[got] = 0;
	assert_string_equal(buf, want);
}

/* The peer closed: read returns 0 within 5 s. */
static void expect_eof(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(read(fd, &c, 1), 0);
}

/* Connects once the server has seen the previous debugger go: until then a
 * new connection is refused (closed at once), which is the contract.  Sends
 * qC and expects WANT; retries for up to 5 s. */
static int tcp_connect_next(const char *want)
{
	for (int tries = 0; tries < 250; tries++) {
		int fd = tcp_connect();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char buf[64];
		ssize_t r;

		send_str(fd, "$qC#b4");
		assert_int_equal(poll(&p, 1, 5000), 1);
		r = recv(fd, buf, strlen(want), MSG_WAITALL);
		if (r == (ssize_t)strlen(want)) {
			buf[r] = 0;
			assert_string_equal(buf, want);
			return fd;
		}
		close(fd); /* refused: the old session is still being torn down */
		usleep(20 * 1000);
	}
	fail_msg("the server never took a new connection");
	return -1;
}

static void test_tcp_sessions(void **state)
{
	const struct gdb_server_config cfg = { .transport = GDB_TRANSPORT_TCP };
	int a, b, c;

	start(&cfg);
	assert_true(gdb_server_port(srv) > 0);
	a = tcp_connect();
	send_str(a, "$qC#b4");
	expect(a, "+$QC1#c5");
	b = tcp_connect();              /* a second debugger: refused */
	expect_eof(b);
	close(b);
	send_str(a, "$Hg2#e1$qC#b4");   /* the first is unaffected */
	expect(a, "+$OK#9a+$QC2#c6");
	close(a);                       /* drop without detaching */
	c = tcp_connect_next("+$QC1#c5"); /* ready again, with fresh state */
	send_str(c, "$D#44");
	expect(c, "+$OK#9a");
	expect_eof(c);                  /* detach closes the connection */
	close(c);
	c = tcp_connect_next("+$QC1#c5");
	send_str(c, "$k#6b");
	expect(c, "+");
	expect_eof(c);
	close(c);
	finish();
	assert_int_equal(run_rc, 0);    /* 'k' ends gdb_server_run */
}

/* Waits (at most 10 s) until the fake has been resumed N times: the server
 * thread is inside the resume then. */
static void wait_resumed(unsigned n)
{
	for (int i = 0; i < 10000 && atomic_load(&t.resumes) < n; i++)
		usleep(1000);
	assert_int_equal(atomic_load(&t.resumes), n);
}

static void test_ctrl_c_during_resume(void **state)
{
	const struct gdb_server_config cfg = { .transport = GDB_TRANSPORT_TCP };
	int a;

	start(&cfg);
	t.spin = true;
	a = tcp_connect();
	send_str(a, "$c#63");
	expect(a, "+");
	wait_resumed(1);                /* the fake is spinning now */
	/* a packet that arrives during a resume is kept and answered after
	 * the stop reply; the 0x03 behind it interrupts at once */
	send_str(a, "$qC#b4\x03");
	expect(a, "$T02thread:1;#d4+$QC1#c5");
	assert_true(atomic_load(&t.interrupts) >= 1);
	t.spin = false;
	send_str(a, "$vCont;s:1#23");
	expect(a, "+$T05thread:1;#d7");
	send_str(a, "$k#6b");
	expect(a, "+");
	close(a);
	finish();
	assert_int_equal(run_rc, 0);
}

static void test_stop_during_resume(void **state)
{
	const struct gdb_server_config cfg = { .transport = GDB_TRANSPORT_TCP };
	int a;

	start(&cfg);
	t.spin = true;
	a = tcp_connect();
	send_str(a, "$c#63");
	expect(a, "+");
	wait_resumed(1);
	gdb_server_stop(srv);           /* as from a SIGINT handler */
	finish();
	assert_int_equal(run_rc, 0);
	assert_true(atomic_load(&t.interrupts) >= 1);
	close(a);
}

static void test_stop_while_idle(void **state)
{
	const struct gdb_server_config cfg = { .transport = GDB_TRANSPORT_TCP };

	start(&cfg);
	usleep(20 * 1000);
	gdb_server_stop(srv);
	finish();
	assert_int_equal(run_rc, 0);
}

static void test_stdio(void **state)
{
	int sv[2];
	struct gdb_server_config cfg = { .transport = GDB_TRANSPORT_STDIO };

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cfg.in_fd = cfg.out_fd = sv[1];
	start(&cfg);
	assert_int_equal(gdb_server_port(srv), -EINVAL);
	send_str(sv[0], "$m1000,2#8c");
	expect(sv[0], "+$9090#d2");
	send_str(sv[0], "$D#44");
	expect(sv[0], "+$OK#9a");
	finish();                       /* stdio: one session, then return */
	assert_int_equal(run_rc, 0);
	/* end of input also ends it */
	start(&cfg);
	close(sv[0]);
	finish();
	assert_int_equal(run_rc, 0);
	close(sv[1]);
}

static void test_bind_addresses(void **state)
{
	struct gdb_server_config cfg = { .transport = GDB_TRANSPORT_TCP };

	fake_target_ops(&t, &ops);
	cfg.bind_addr = "not-an-address";
	assert_int_equal(gdb_server_open(&srv, &cfg, &ops), -EINVAL);
	cfg.bind_addr = "0.0.0.0";      /* allowed, with a warning */
	assert_int_equal(gdb_server_open(&srv, &cfg, &ops), 0);
	gdb_server_close(srv);
	cfg.bind_addr = "::1";
	if (gdb_server_open(&srv, &cfg, &ops) == 0)  /* no IPv6: fine */
		gdb_server_close(srv);
	srv = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_sessions),
		cmocka_unit_test(test_ctrl_c_during_resume),
		cmocka_unit_test(test_stop_during_resume),
		cmocka_unit_test(test_stop_while_idle),
		cmocka_unit_test(test_stdio),
		cmocka_unit_test(test_bind_addresses),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
