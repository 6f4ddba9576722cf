/* The command table against the TEST-ONLY fake target: exact replies. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gdbstub/dispatch.h"
#include "tests/gdbstub/fake_target.h"

static struct fake_target t;
static struct gdb_target_ops ops;
static struct gdb_session s;
static char out[65536]; /* everything the session wrote */
static size_t out_len;

static int io_write(void *ctx, const void *buf, size_t len)
{
	assert_true(out_len + len < sizeof(out));
	memcpy(out + out_len, buf, len);
	out_len += len;
	out[out_len] = 0;
	return 0;
}

static int setup(void **state)
{
	const struct gdb_session_io io = { .write = io_write };

	fake_target_init(&t);
	fake_target_ops(&t, &ops);
	gdb_session_init(&s, &ops, &io);
	out_len = 0;
	out[0] = 0;
	return 0;
}

/* Dispatch one payload and return the reply payload. */
static const char *req(const char *payload)
{
	assert_true(gdb_dispatch(&s, payload, strlen(payload)));
	return s.reply;
}

static void test_supported(void **state)
{
	assert_string_equal(req("qSupported:multiprocess+;swbreak+;xmlRegisters=i386"),
		"PacketSize=4000;qXfer:features:read+;ReverseStep+;"
		"ReverseContinue+;swbreak+;hwbreak+;vContSupported+;"
		"QStartNoAckMode+");
}

static void test_unknown_is_empty(void **state)
{
	assert_string_equal(req("vMustReplyEmpty"), "");
	assert_string_equal(req("qOffsets"), "");
	assert_string_equal(req("qTStatus"), "");
	assert_string_equal(req("qCRC:0,4"), ""); /* not "qC" */
	assert_string_equal(req("gg"), "");       /* "g" is exact */
	assert_string_equal(req(""), "");
}

static void test_registers(void **state)
{
	const char *g = req("g");

	assert_int_equal(strlen(g), 2 * gdb_regs_total_size());
	assert_memory_equal(g, "0001000000000000", 16);         /* rax */
	/* st7 is "unavailable" in the fake: 10 bytes of xx */
	assert_memory_equal(g + 2 * (16 * 8 + 8 + 4 + 6 * 4 + 7 * 10),
			    "xxxxxxxxxxxxxxxxxxxx", 20);
	assert_string_equal(req("p10"), "0010000000000000");    /* rip */
	assert_string_equal(req("p11"), "02000000");            /* eflags */
	assert_string_equal(req("p3d"), "0040000000000000");    /* cr3 */
	assert_string_equal(req("p40"), "0005000000000000");    /* efer */
	assert_string_equal(req("p41"), "E22");
	assert_string_equal(req("pzz"), "E22");
	assert_string_equal(req("Hg2"), "OK");
	assert_string_equal(req("p0"), "0002000000000000");     /* cpu 1 rax */
}

static void test_register_writes(void **state)
{
	char g[2048];

	assert_string_equal(req("P0=1122334455667788"), "E30"); /* replaying */
	strcpy(g, "G");
	strcat(g, req("g"));
	for (char *p = g; *p; p++)
		if (*p == 'x')
			*p = '0';
	assert_string_equal(req(g), "E30");
	t.allow_writes = true;
	assert_string_equal(req("P0=1122334455667788"), "OK");
	assert_int_equal(fake_reg(&t, 0, GDB_REG_RAX), 0x8877665544332211ULL);
	assert_string_equal(req("P0=11"), "E22");             /* short */
	assert_string_equal(req("P99=11"), "E22");
	memcpy(g + 1, "ff00000000000000", 16);
	assert_string_equal(req(g), "OK");
	assert_int_equal(fake_reg(&t, 0, GDB_REG_RAX), 0xff);
	assert_string_equal(req("G00"), "E22");
}

static void test_memory(void **state)
{
	assert_string_equal(req("m1000,4"), "90909090");
	assert_string_equal(req("m20000,4"), "E14");    /* unmapped: error */
	assert_string_equal(req("mfffe,4"), "feff");    /* short read */
	assert_string_equal(req("m1000"), "E22");
	assert_string_equal(req("m1000,0"), "OK");      /* nothing read, no error */
	assert_string_equal(req("M1000,2:abcd"), "E30");
	assert_string_equal(req("X1000,0:"), "OK");     /* gdb's X probe */
	t.allow_writes = true;
	assert_string_equal(req("M1000,2:abcd"), "OK");
	assert_int_equal(t.mem[0x1000], 0xab);
	assert_int_equal(t.mem[0x1001], 0xcd);
	assert_string_equal(req("M1000,2:abc"), "E22");
	assert_string_equal(req("M20000,1:00"), "E14");
	/* X carries raw bytes, NULs included */
	assert_true(gdb_dispatch(&s, "X1002,3:\0#}", 11));
	assert_string_equal(s.reply, "OK");
	assert_memory_equal(&t.mem[0x1002], "\0#}", 3);
	assert_true(gdb_dispatch(&s, "X1002,3:ab", 10));
	assert_string_equal(s.reply, "E22");
	/* a huge length is clamped, not overflowed */
	assert_int_equal(strlen(req("m0,100000")), GDB_PKT_MAX);
}

static void test_breakpoints(void **state)
{
	assert_string_equal(req("Z0,1005,1"), "OK");
	assert_true(t.bps[0].used);
	assert_int_equal(t.bps[0].type, GDB_BP_SW);
	assert_int_equal(t.bps[0].addr, 0x1005);
	assert_string_equal(req("Z0,1005,1"), "OK"); /* re-insert */
	assert_false(t.bps[1].used);
	assert_string_equal(req("Z2,3003,1"), "OK");
	assert_int_equal(t.bps[1].type, GDB_BP_WRITE);
	assert_string_equal(req("Z1,1006,1;X1,0"), "OK"); /* cond ignored */
	assert_string_equal(req("z1,1006,1"), "OK");
	assert_false(t.bps[2].used);
	assert_string_equal(req("Z5,1000,1"), "E22");
	assert_string_equal(req("Z0,zz,1"), "E22");
	assert_string_equal(req("Z0"), "E22");
	assert_string_equal(req("Z"), "E22");
	/* position 3 writes 0x3003, before rip reaches 0x1005 */
	assert_string_equal(req("c"), "T05thread:1;watch:3003;");
	assert_int_equal(t.pos, 4);
	assert_string_equal(req("z2,3003,1"), "OK");
	assert_string_equal(req("c"), "T05thread:1;swbreak:;");
	assert_int_equal(t.pos, 5);
	assert_string_equal(req("z0,1005,1"), "OK");
	assert_string_equal(req("c"), "T05thread:1;replaylog:end;");
}

static void test_execution(void **state)
{
	assert_string_equal(req("?"), "T05thread:1;");
	assert_string_equal(req("s"), "T05thread:1;");
	assert_int_equal(t.pos, 1);
	assert_int_equal(t.last_req.action, GDB_RESUME_STEP);
	assert_false(t.last_req.reverse);
	assert_string_equal(req("bs"), "T05thread:1;");
	assert_true(t.last_req.reverse);
	assert_int_equal(t.pos, 0);
	assert_string_equal(req("bs"), "T05thread:1;replaylog:begin;");
	assert_string_equal(req("c"), "T05thread:1;replaylog:end;");
	assert_int_equal(t.pos, FAKE_END);
	assert_string_equal(req("bc"), "T05thread:1;replaylog:begin;");
	assert_string_equal(req("c1000"), "E22"); /* cannot resume elsewhere */
	assert_string_equal(req("s1000"), "E22");
	assert_string_equal(req("?"), "T05thread:1;replaylog:begin;");
	t.no_reverse = true;
	assert_string_equal(req("bc"), ""); /* unsupported: empty */
}

static void test_vcont(void **state)
{
	assert_string_equal(req("vCont?"), "vCont;c;C;s;S;t");
	assert_string_equal(req("vCont;s:2;c"), "T05thread:2;");
	assert_int_equal(t.last_req.action, GDB_RESUME_STEP);
	assert_int_equal(t.last_req.cpu, 1);
	assert_string_equal(req("vCont;S05:1"), "T05thread:1;");
	assert_int_equal(t.last_req.cpu, 0);
	assert_string_equal(req("vCont;c"), "T05thread:1;replaylog:end;");
	assert_int_equal(t.last_req.action, GDB_RESUME_CONTINUE);
	assert_string_equal(req("vCont;C02:-1"), "T05thread:1;replaylog:end;");
	t.resumes = 0;
	assert_string_equal(req("vCont;t"), "OK");
	assert_int_equal(t.resumes, 0);
	assert_string_equal(req("vCont;x"), "E22");
	assert_string_equal(req("vCont;s:9"), "E22");
	assert_string_equal(req("vCont;s:"), "E22");
	assert_string_equal(req("vCont;cz"), "E22");
	assert_string_equal(req("vCont"), "");
	assert_string_equal(req("vCont;"), "E22");   /* no action */
	assert_string_equal(req("vCont;c;"), "E22"); /* an empty last action */
}

static void test_threads(void **state)
{
	assert_string_equal(req("qC"), "QC1");
	assert_string_equal(req("qfThreadInfo"), "m1,2");
	assert_string_equal(req("qsThreadInfo"), "l");
	assert_string_equal(req("Hg2"), "OK");
	assert_string_equal(req("qC"), "QC2");
	assert_string_equal(req("Hg0"), "OK");
	assert_string_equal(req("qC"), "QC2");
	assert_string_equal(req("Hc-1"), "OK");
	assert_string_equal(req("Hc2"), "OK");
	assert_string_equal(req("s"), "T05thread:2;");
	assert_int_equal(t.last_req.cpu, 1);
	assert_string_equal(req("Hg3"), "E22");
	assert_string_equal(req("Hx1"), "E22");
	assert_string_equal(req("H"), "E22");
	assert_string_equal(req("T1"), "OK");
	assert_string_equal(req("T2"), "OK");
	assert_string_equal(req("T3"), "E22");
	assert_string_equal(req("T0"), "E22");
	assert_string_equal(req("qAttached"), "1");
	assert_string_equal(req("qAttached:1"), "1");
}

static void test_monitor(void **state)
{
	char hex[64] = { 0 };

	gdb_hex_encode(hex, "position 0 of 64\n", 17);
	assert_string_equal(req("qRcmd,7768656e"), hex); /* "when" */
	assert_string_equal(req("qRcmd,7175696574"), "OK"); /* no output */
	assert_string_equal(req("qRcmd,6661696c"), "E05"); /* -EIO */
	assert_string_equal(req("qRcmd,7"), "E22");
	assert_string_equal(req("qRcmd,zz"), "E22");
	ops.monitor = NULL;
	assert_string_equal(req("qRcmd,7768656e"), "");
}

static void test_xfer(void **state)
{
	char xml[GDB_TARGET_XML_MAX], got[GDB_TARGET_XML_MAX], q[64];
	long n = gdb_regs_target_xml(xml, sizeof(xml));
	size_t off = 0;

	for (;;) {
		const char *r;

		snprintf(q, sizeof(q), "qXfer:features:read:target.xml:%zx,100", off);
		r = req(q);
		assert_true(r[0] == 'm' || r[0] == 'l');
		memcpy(got + off, r + 1, s.reply_len - 1);
		off += s.reply_len - 1;
		if (r[0] == 'l')
			break;
		assert_int_equal(s.reply_len - 1, 0x100);
	}
	assert_int_equal(off, (size_t)n);
	assert_memory_equal(got, xml, off);
	snprintf(q, sizeof(q), "qXfer:features:read:target.xml:%lx,10", n + 5);
	assert_string_equal(req(q), "l");
	assert_string_equal(req("qXfer:features:read:i386.xml:0,10"), "E02");
	assert_string_equal(req("qXfer:features:read:target.xml:0"), "E22");
}

static void test_stop_replies(void **state)
{
	static const struct {
		struct gdb_stop st;
		const char *want;
	} cases[] = {
		{ { GDB_STOP_SIGNAL, 1, GDB_SIGINT, 0, 0 }, "T02thread:2;" },
		{ { GDB_STOP_HWBREAK, 0, 0, 0, 0 }, "T05thread:1;hwbreak:;" },
		{ { GDB_STOP_RWATCH, 0, 0, 0xffff8000, 0 }, "T05thread:1;rwatch:ffff8000;" },
		{ { GDB_STOP_AWATCH, 1, 0, 0x10, 0 }, "T05thread:2;awatch:10;" },
		{ { GDB_STOP_REPLAY_END, 0, 0, 0, 0 }, "T05thread:1;replaylog:end;" },
		{ { GDB_STOP_EXITED, 0, 0, 0, 3 }, "W03" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s.reply_len = 0;
		gdb_reply_stop(&s, &cases[i].st);
		assert_string_equal(s.reply, cases[i].want);
	}
}

static void test_detach_kill(void **state)
{
	assert_string_equal(req("D"), "OK");
	assert_int_equal(s.state, GDB_SESSION_DETACHED);
	setup(NULL);
	assert_false(gdb_dispatch(&s, "k", 1)); /* no reply */
	assert_int_equal(s.state, GDB_SESSION_KILLED);
	setup(NULL);
	assert_string_equal(req("vKill;1"), "OK");
	assert_int_equal(s.state, GDB_SESSION_KILLED);
}

/* ---- through the framing: acks, retransmission, no-ack mode ---- */

static int feed(const char *bytes)
{
	out_len = 0;
	out[0] = 0;
	return gdb_session_feed(&s, bytes, strlen(bytes));
}

static void test_session_acks(void **state)
{
	assert_int_equal(feed("$qC#b4"), 0);
	assert_string_equal(out, "+$QC1#c5");
	assert_int_equal(feed("-"), 0);               /* retransmit */
	assert_string_equal(out, "$QC1#c5");
	assert_int_equal(feed("$qC#b5"), 0);          /* bad checksum */
	assert_string_equal(out, "-");
	assert_int_equal(feed("+\x03garbage"), 0);    /* nothing to say */
	assert_string_equal(out, "");
	assert_int_equal(feed("$QStartNoAckMode#b0"), 0);
	assert_string_equal(out, "+$OK#9a");
	assert_true(s.no_ack);
	assert_int_equal(feed("+$qC#b4"), 0);
	assert_string_equal(out, "$QC1#c5");          /* no '+' any more */
	assert_int_equal(feed("$qC#00"), 0);          /* checksum ignored */
	assert_string_equal(out, "$QC1#c5");
	assert_int_equal(feed("-"), 0);               /* no retransmit */
	assert_string_equal(out, "");
	assert_int_equal(feed("$k#6b"), 1);
	assert_string_equal(out, "");
	assert_int_equal(s.state, GDB_SESSION_KILLED);
}

static void test_session_oversize(void **state)
{
	char *big = malloc(GDB_PKT_MAX + 16);
	uint8_t sum = 0;

	big[0] = '$';
	for (int i = 1; i <= GDB_PKT_MAX + 1; i++) {
		big[i] = 'q';
		sum += 'q';
	}
	snprintf(big + GDB_PKT_MAX + 2, 4, "#%02x", sum);
	assert_int_equal(feed(big), 0);
	free(big);
	assert_string_equal(out, "+$E90#ae");  /* EMSGSIZE */
}

static int io_fail(void *ctx, const void *buf, size_t len)
{
	return -EPIPE;
}

static void test_session_write_error(void **state)
{
	const struct gdb_session_io io = { .write = io_fail };

	gdb_session_init(&s, &ops, &io);
	assert_int_equal(gdb_session_feed(&s, "$qC#b4", 6), -EPIPE);
	assert_int_equal(s.state, GDB_SESSION_IO_ERROR);
	assert_int_equal(gdb_session_feed(&s, "$qC#b4", 6), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_supported, setup),
		cmocka_unit_test_setup(test_unknown_is_empty, setup),
		cmocka_unit_test_setup(test_registers, setup),
		cmocka_unit_test_setup(test_register_writes, setup),
		cmocka_unit_test_setup(test_memory, setup),
		cmocka_unit_test_setup(test_breakpoints, setup),
		cmocka_unit_test_setup(test_execution, setup),
		cmocka_unit_test_setup(test_vcont, setup),
		cmocka_unit_test_setup(test_threads, setup),
		cmocka_unit_test_setup(test_monitor, setup),
		cmocka_unit_test_setup(test_xfer, setup),
		cmocka_unit_test_setup(test_stop_replies, setup),
		cmocka_unit_test_setup(test_detach_kill, setup),
		cmocka_unit_test_setup(test_session_acks, setup),
		cmocka_unit_test_setup(test_session_oversize, setup),
		cmocka_unit_test_setup(test_session_write_error, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
