#include "gdbstub/packet.h"

#include <errno.h>
#include <string.h>

/* RLE count byte N means N - 29 further copies (GDB manual, "Overview"):
 * ' ' (32) is the smallest count gdb emits (3 copies), '~' (126) the
 * largest (97).  Counts below 30 would mean zero or negative repeats. */
#define GDB_RLE_BIAS 29

void gdb_pkt_init(struct gdb_pkt_parser *p)
{
	memset(p, 0, offsetof(struct gdb_pkt_parser, buf));
	p->state = GDB_PKT_IDLE;
	p->buf[0] = 0;
}

int gdb_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void pkt_start(struct gdb_pkt_parser *p)
{
	p->state = GDB_PKT_DATA;
	p->overflow = false;
	p->malformed = false;
	p->csum = 0;
	p->len = 0;
}

/* Bounded append: a packet that outgrows the buffer keeps being parsed (so
 * that we stay in sync with the framing) but its bytes are discarded. */
static void pkt_store(struct gdb_pkt_parser *p, uint8_t c)
{
	p->last = c;
	if (p->len < GDB_PKT_MAX)
		p->buf[p->len++] = c;
	else
		p->overflow = true;
}

static void pkt_rle(struct gdb_pkt_parser *p, uint8_t count)
{
	int n = (int)count - GDB_RLE_BIAS;

	if (p->len == 0 && !p->overflow) {
		p->malformed = true; /* nothing to repeat */
		return;
	}
	if (n < 1) {
		p->malformed = true;
		return;
	}
	while (n-- > 0)
		pkt_store(p, p->last);
}

/* Undo '}' escapes in place; returns the new length or -1 when the packet
 * ends in a lone '}'. */
static long pkt_unescape(uint8_t *buf, size_t len)
{
	size_t in = 0, out = 0;

	while (in < len) {
		uint8_t c = buf[in++];

		if (c == '}') {
			if (in == len)
				return -1;
			c = buf[in++] ^ 0x20;
		}
		buf[out++] = c;
	}
	return (long)out;
}

/* The second checksum digit closes the packet: decide what it was. */
static void pkt_finish(struct gdb_pkt_parser *p, int lo, struct gdb_pkt_event *ev)
{
	int hi = gdb_hex_digit(p->csum_hi);
	long n;

	p->state = GDB_PKT_IDLE;
	ev->data = NULL;
	ev->len = 0;
	ev->kind = GDB_PKT_EV_BAD;
	if (hi < 0 || lo < 0 || p->malformed)
		return;
	/* In no-ack mode the checksum "may be ignored by the receiver"; some
	 * clients (lldb) then send #00, so we do ignore it. */
	if (!p->no_ack && (uint8_t)(hi << 4 | lo) != p->csum)
		return;
	if (p->overflow) {
		ev->kind = GDB_PKT_EV_OVERSIZE;
		return;
	}
	n = pkt_unescape(p->buf, p->len);
	if (n < 0)
		return;
	p->buf[n] = 0;
	ev->kind = GDB_PKT_EV_REQUEST;
	ev->data = p->buf;
	ev->len = (size_t)n;
}

static bool pkt_idle_byte(struct gdb_pkt_parser *p, uint8_t c,
			  struct gdb_pkt_event *ev)
{
	switch (c) {
	case '$':
		pkt_start(p);
		return false;
	case '+':
		ev->kind = GDB_PKT_EV_ACK;
		return true;
	case '-':
		ev->kind = GDB_PKT_EV_NACK;
		return true;
	case 0x03:
		ev->kind = GDB_PKT_EV_INTERRUPT;
		return true;
	default:
		return false; /* line noise between packets is ignored */
	}
}

/* One byte inside "$...#cc"; returns true when it completed an event. */
static bool pkt_frame_byte(struct gdb_pkt_parser *p, uint8_t c,
			   struct gdb_pkt_event *ev)
{
	switch (p->state) {
	case GDB_PKT_DATA:
	case GDB_PKT_RLE:
		if (c == '$') {
			/* gdb never sends a raw '$' inside a packet: the
			 * previous packet was cut off.  Start over. */
			pkt_start(p);
			ev->kind = GDB_PKT_EV_RESYNC;
			return true;
		}
		if (c == '#') {
			if (p->state == GDB_PKT_RLE)
				p->malformed = true;
			p->state = GDB_PKT_CSUM1;
			return false;
		}
		p->csum += c;
		if (p->state == GDB_PKT_RLE) {
			pkt_rle(p, c);
			p->state = GDB_PKT_DATA;
		} else if (c == '*') {
			p->state = GDB_PKT_RLE;
		} else {
			pkt_store(p, c);
		}
		return false;
	case GDB_PKT_CSUM1:
		p->csum_hi = c;
		p->state = GDB_PKT_CSUM2;
		return false;
	case GDB_PKT_CSUM2:
		pkt_finish(p, gdb_hex_digit(c), ev);
		return true;
	case GDB_PKT_IDLE:
		break;
	}
	return false;
}

size_t gdb_pkt_feed(struct gdb_pkt_parser *p, const uint8_t *buf, size_t len,
		    struct gdb_pkt_event *ev, bool *have_event)
{
	size_t i = 0;

	*have_event = false;
	while (i < len && !*have_event) {
		uint8_t c = buf[i++];

		ev->data = NULL;
		ev->len = 0;
		if (p->state == GDB_PKT_IDLE)
			*have_event = pkt_idle_byte(p, c, ev);
		else
			*have_event = pkt_frame_byte(p, c, ev);
	}
	return i;
}

long gdb_pkt_encode(uint8_t *out, size_t out_size, const void *payload,
		    size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *in = payload;
	uint8_t sum = 0;
	size_t o = 0;

	if (out_size < 4)
		return -ENOSPC;
	out[o++] = '$';
	for (size_t i = 0; i < len; i++) {
		uint8_t c = in[i];
		bool esc = c == '$' || c == '#' || c == '}' || c == '*';

		/* Room for this byte (maybe escaped) plus "#cc". */
		if (o + (esc ? 2 : 1) + 3 > out_size)
			return -ENOSPC;
		if (esc) {
			out[o++] = '}';
			sum += '}';
			c ^= 0x20;
		}
		out[o++] = c;
		sum += c;
	}
	out[o++] = '#';
	out[o++] = (uint8_t)hex[sum >> 4];
	out[o++] = (uint8_t)hex[sum & 15];
	return (long)o;
}

void gdb_hex_encode(char *out, const void *in, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *b = in;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
}

int gdb_hex_decode(void *out, const char *in, size_t len)
{
	uint8_t *b = out;

	for (size_t i = 0; i < len; i++) {
		int hi = gdb_hex_digit((unsigned char)in[2 * i]);
		int lo = hi < 0 ? -1 : gdb_hex_digit((unsigned char)in[2 * i + 1]);

		if (lo < 0)
			return -EINVAL;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int gdb_hex_u64(const char **s, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;
	int n = 0, d;

	while ((d = gdb_hex_digit((unsigned char)*p)) >= 0) {
		if (++n > 16)
			return -EINVAL;
		v = v << 4 | (uint64_t)d;
		p++;
	}
	if (n == 0)
		return -EINVAL;
	*s = p;
	*out = v;
	return 0;
}
