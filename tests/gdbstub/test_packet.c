/* Packet layer: framing, checksums, escapes, RLE, acks, 0x03, limits. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gdbstub/packet.h"

#define MAX_EV 16

struct got {
	enum gdb_pkt_event_kind kind[MAX_EV];
	char data[MAX_EV][256];
	size_t len[MAX_EV];
	int n;
};

static struct gdb_pkt_parser parser;

static void collect(struct got *g, const struct gdb_pkt_event *ev)
{
	assert_true(g->n < MAX_EV);
	g->kind[g->n] = ev->kind;
	g->len[g->n] = ev->len;
	if (ev->kind == GDB_PKT_EV_REQUEST) {
		assert_int_equal(ev->data[ev->len], 0); /* NUL-terminated */
		if (ev->len < sizeof(g->data[0]))
			memcpy(g->data[g->n], ev->data, ev->len);
	}
	g->n++;
}

/* Feed BUF in chunks of STEP bytes (1 = byte by byte). */
static void feed(struct got *g, const void *buf, size_t len, size_t step)
{
	const uint8_t *p = buf;

	memset(g, 0, sizeof(*g));
	while (len) {
		size_t chunk = len < step ? len : step;

		while (chunk) {
			struct gdb_pkt_event ev;
			bool have;
			size_t n = gdb_pkt_feed(&parser, p, chunk, &ev, &have);

			assert_true(n > 0 && n <= chunk);
			p += n;
			len -= n;
			chunk -= n;
			if (have)
				collect(g, &ev);
		}
	}
}

static int setup(void **state)
{
	gdb_pkt_init(&parser);
	return 0;
}

static void test_simple_request(void **state)
{
	struct got g;

	feed(&g, "$g#67", 5, 64);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.kind[0], GDB_PKT_EV_REQUEST);
	assert_int_equal(g.len[0], 1);
	assert_string_equal(g.data[0], "g");
}

static void test_byte_by_byte_and_acks(void **state)
{
	static const char in[] = "+$qC#b4-\x03+";
	struct got g;

	feed(&g, in, sizeof(in) - 1, 1);
	assert_int_equal(g.n, 5);
	assert_int_equal(g.kind[0], GDB_PKT_EV_ACK);
	assert_int_equal(g.kind[1], GDB_PKT_EV_REQUEST);
	assert_string_equal(g.data[1], "qC");
	assert_int_equal(g.kind[2], GDB_PKT_EV_NACK);
	assert_int_equal(g.kind[3], GDB_PKT_EV_INTERRUPT);
	assert_int_equal(g.kind[4], GDB_PKT_EV_ACK);
}

static void test_bad_checksum(void **state)
{
	struct got g;

	feed(&g, "$g#68$g#6x$g#67", 15, 3);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.kind[0], GDB_PKT_EV_BAD);
	assert_int_equal(g.kind[1], GDB_PKT_EV_BAD); /* not a hex digit */
	assert_int_equal(g.kind[2], GDB_PKT_EV_REQUEST);
}

static void test_uppercase_checksum(void **state)
{
	struct got g;

	/* gdb sends lower case, but upper case digits are valid hex. */
	feed(&g, "$vCont?#49", 10, 64);
	assert_int_equal(g.kind[0], GDB_PKT_EV_REQUEST);
	feed(&g, "$qC#B4", 6, 64);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.kind[0], GDB_PKT_EV_REQUEST);
}

static void test_escapes(void **state)
{
	/* X0,4: with bytes '#', '$', '}', '*' escaped as }\x03 }\x04 }] }\n */
	uint8_t in[64], out[64];
	static const uint8_t payload[] = "X0,4:#$}*";
	long n = gdb_pkt_encode(in, sizeof(in), payload, sizeof(payload) - 1);
	struct got g;

	assert_true(n > 0);
	assert_memory_equal(in, "$X0,4:}\x03}\x04}]}\x0a#", 15);
	feed(&g, in, (size_t)n, 2);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.kind[0], GDB_PKT_EV_REQUEST);
	assert_int_equal(g.len[0], sizeof(payload) - 1);
	assert_memory_equal(g.data[0], payload, sizeof(payload) - 1);
	/* 0x03 inside a packet is data, not an interrupt */
	memcpy(out, "X0,1:\x03", 6);
	n = gdb_pkt_encode(in, sizeof(in), out, 6);
	feed(&g, in, (size_t)n, 1);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.kind[0], GDB_PKT_EV_REQUEST);
	assert_int_equal(g.data[0][5], 3);
}

static void test_lone_escape_is_bad(void **state)
{
	uint8_t in[16];
	long n = gdb_pkt_encode(in, sizeof(in), "ab", 2);
	struct got g;

	/* hand-build "$ab}#cc" with a correct checksum */
	in[3] = '}';
	in[4] = '#';
	in[5] = "0123456789abcdef"[(uint8_t)('a' + 'b' + '}') >> 4];
	in[6] = "0123456789abcdef"[(uint8_t)('a' + 'b' + '}') & 15];
	(void)n;
	feed(&g, in, 7, 64);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.kind[0], GDB_PKT_EV_BAD);
}

static void test_rle(void **state)
{
	struct got g;
	/* "0* " = '0' + 3 more; checksum over the raw "0* " bytes */
	char in[32];
	uint8_t sum = (uint8_t)('0' + '*' + ' ');

	snprintf(in, sizeof(in), "$0* #%02x", sum);
	feed(&g, in, strlen(in), 1);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.kind[0], GDB_PKT_EV_REQUEST);
	assert_string_equal(g.data[0], "0000");
	/* RLE applies to the escaped bytes: '!' (33) is 4 more copies of
	 * the raw ']', so "}]*!" is "}]]]]]" on the wire level, which
	 * unescapes to "}]]]]" (not five '}'). */
	sum = (uint8_t)('}' + ']' + '*' + '!');
	snprintf(in, sizeof(in), "$}]*!#%02x", sum);
	feed(&g, in, strlen(in), 64);
	assert_int_equal(g.kind[0], GDB_PKT_EV_REQUEST);
	assert_string_equal(g.data[0], "}]]]]");
	/* a count with nothing to repeat, or below 30, is malformed */
	sum = (uint8_t)('*' + ' ');
	snprintf(in, sizeof(in), "$* #%02x", sum);
	feed(&g, in, strlen(in), 64);
	assert_int_equal(g.kind[0], GDB_PKT_EV_BAD);
	sum = (uint8_t)('a' + '*' + 29);
	snprintf(in, sizeof(in), "$a*%c#%02x", 29, sum);
	feed(&g, in, strlen(in), 64);
	assert_int_equal(g.kind[0], GDB_PKT_EV_BAD);
}

static void test_garbage_and_resync(void **state)
{
	struct got g;
	static const char in[] = "junk\r\n$qC#b4xyz$m0$g#67";

	feed(&g, in, sizeof(in) - 1, 5);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.kind[0], GDB_PKT_EV_REQUEST);
	assert_string_equal(g.data[0], "qC");
	assert_int_equal(g.kind[1], GDB_PKT_EV_RESYNC); /* "$m0" cut off */
	assert_int_equal(g.kind[2], GDB_PKT_EV_REQUEST);
	assert_string_equal(g.data[2], "g");
}

static void test_truncated(void **state)
{
	struct got g;

	feed(&g, "$m1000,4#", 9, 64);
	assert_int_equal(g.n, 0);   /* waiting for the checksum */
	feed(&g, "8", 1, 64);
	assert_int_equal(g.n, 0);
	feed(&g, "e", 1, 64);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.kind[0], GDB_PKT_EV_REQUEST);
	assert_string_equal(g.data[0], "m1000,4");
}

static void test_oversize(void **state)
{
	size_t n = GDB_PKT_MAX + 100;
	uint8_t *in = malloc(n + 8);
	uint8_t sum = 0;
	struct got g;

	in[0] = '$';
	for (size_t i = 1; i <= n; i++) {
		in[i] = 'a';
		sum += 'a';
	}
	snprintf((char *)in + n + 1, 6, "#%02x$g", sum);
	feed(&g, in, n + 6, 4096);
	free(in);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.kind[0], GDB_PKT_EV_OVERSIZE);
	/* still in sync: the next packet parses */
	feed(&g, "#67", 3, 64);
	assert_int_equal(g.kind[0], GDB_PKT_EV_REQUEST);
	/* exactly GDB_PKT_MAX is fine; RLE cannot blow past the buffer */
	in = malloc(GDB_PKT_MAX + 8);
	in[0] = '$';
	memset(in + 1, 'b', GDB_PKT_MAX);
	sum = (uint8_t)('b' * GDB_PKT_MAX);
	snprintf((char *)in + GDB_PKT_MAX + 1, 4, "#%02x", sum);
	feed(&g, in, GDB_PKT_MAX + 4, 1000);
	assert_int_equal(g.kind[0], GDB_PKT_EV_REQUEST);
	assert_int_equal(g.len[0], GDB_PKT_MAX);
	free(in);
}

static void test_rle_oversize(void **state)
{
	/* 200 * 97 repeats > GDB_PKT_MAX */
	char *in = malloc(1024);
	size_t o = 0;
	uint8_t sum = 0;
	struct got g;

	in[o++] = '$';
	in[o++] = 'z';
	sum += 'z';
	for (int i = 0; i < 200; i++) {
		in[o++] = '*';
		in[o++] = '~';
		sum += '*' + '~';
	}
	o += (size_t)snprintf(in + o, 4, "#%02x", sum);
	feed(&g, in, o, 7);
	free(in);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.kind[0], GDB_PKT_EV_OVERSIZE);
}

static void test_no_ack_ignores_checksum(void **state)
{
	struct got g;

	parser.no_ack = true;
	feed(&g, "$g#00", 5, 64);
	assert_int_equal(g.kind[0], GDB_PKT_EV_REQUEST);
	feed(&g, "$g#zz", 5, 64); /* digits must still be hex */
	assert_int_equal(g.kind[0], GDB_PKT_EV_BAD);
}

static void test_encode(void **state)
{
	uint8_t out[16];

	assert_int_equal(gdb_pkt_encode(out, sizeof(out), "OK", 2), 6);
	assert_memory_equal(out, "$OK#9a", 6);
	assert_int_equal(gdb_pkt_encode(out, sizeof(out), "", 0), 4);
	assert_memory_equal(out, "$#00", 4);
	assert_int_equal(gdb_pkt_encode(out, 5, "OK", 2), -ENOSPC);
	assert_int_equal(gdb_pkt_encode(out, 7, "}}", 2), -ENOSPC);
	assert_int_equal(gdb_pkt_encode(out, 8, "}}", 2), 8);
}

static void test_hex(void **state)
{
	const char *s = "1f,";
	uint64_t v;
	uint8_t b[2];
	char h[5] = { 0 };

	assert_int_equal(gdb_hex_u64(&s, &v), 0);
	assert_int_equal(v, 0x1f);
	assert_string_equal(s, ",");
	assert_int_equal(gdb_hex_u64(&s, &v), -EINVAL);
	s = "11112222333344445";
	assert_int_equal(gdb_hex_u64(&s, &v), -EINVAL); /* 17 digits */
	assert_int_equal(gdb_hex_decode(b, "aB0f", 2), 0);
	assert_int_equal(b[0], 0xab);
	assert_int_equal(b[1], 0x0f);
	assert_int_equal(gdb_hex_decode(b, "a", 1), -EINVAL);
	gdb_hex_encode(h, b, 2);
	assert_string_equal(h, "ab0f");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_simple_request, setup),
		cmocka_unit_test_setup(test_byte_by_byte_and_acks, setup),
		cmocka_unit_test_setup(test_bad_checksum, setup),
		cmocka_unit_test_setup(test_uppercase_checksum, setup),
		cmocka_unit_test_setup(test_escapes, setup),
		cmocka_unit_test_setup(test_lone_escape_is_bad, setup),
		cmocka_unit_test_setup(test_rle, setup),
		cmocka_unit_test_setup(test_garbage_and_resync, setup),
		cmocka_unit_test_setup(test_truncated, setup),
		cmocka_unit_test_setup(test_oversize, setup),
		cmocka_unit_test_setup(test_rle_oversize, setup),
		cmocka_unit_test_setup(test_no_ack_ignores_checksum, setup),
		cmocka_unit_test_setup(test_encode, setup),
		cmocka_unit_test_setup(test_hex, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
