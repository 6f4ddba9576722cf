/* GDB Remote Serial Protocol framing: a pure, byte-fed decoder and an
 * encoder.  No I/O, no allocation, no globals: the caller owns one
 * struct gdb_pkt_parser per connection and feeds it whatever bytes arrived.
 *
 * Wire format (GDB manual, "Remote Protocol" → "Overview"):
 *
 *   $ payload # c c       c c = two hex digits, sum of the payload bytes
 *                         as sent (after escaping and RLE) modulo 256
 *   }X                    escape: the byte is X ^ 0x20 ('$' '#' '}' '*')
 *   X*N                   run-length: X repeated N - 29 more times
 *   +  -                  acknowledgement / request to retransmit
 *   0x03                  interrupt, only outside a packet
 *
 * RLE is expanded on the escaped bytes, before unescaping, because that is
 * the level at which gdb (and gdbserver) apply it: "}]*!" is an escaped '}'
 * followed by three raw ']', never four '}'.
 *
 * Cost: O(1) per byte.  The parser is about 16 KiB (its packet buffer).
 * Thread contract: none; one parser is used by one thread at a time. */
#ifndef RRVM_GDBSTUB_PACKET_H
#define RRVM_GDBSTUB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest payload we accept and the size we advertise as PacketSize.
 * gdb never sends a packet longer than PacketSize; 16 KiB holds a full 'G'
 * of our register file (about 1.2 KiB of hex) and 8 KiB 'X'/'M' writes. */
#define GDB_PKT_MAX 0x4000

enum gdb_pkt_event_kind {
	GDB_PKT_EV_REQUEST,   /* a complete packet: data/len are the payload */
	GDB_PKT_EV_BAD,       /* checksum mismatch or bad digits: send '-' */
	GDB_PKT_EV_OVERSIZE,  /* valid checksum but longer than GDB_PKT_MAX:
			       * the payload was dropped */
	GDB_PKT_EV_INTERRUPT, /* 0x03 between packets */
	GDB_PKT_EV_ACK,       /* '+' */
	GDB_PKT_EV_NACK,      /* '-' */
	GDB_PKT_EV_RESYNC,    /* a '$' inside a packet: the partial packet
			       * was dropped and a new one started */
};

struct gdb_pkt_event {
	enum gdb_pkt_event_kind kind;
	/* For REQUEST: the unescaped, RLE-expanded payload, NUL-terminated
	 * for convenience (binary payloads may contain NULs: use len).
	 * Points into the parser; valid until the next gdb_pkt_feed(). */
	const uint8_t *data;
	size_t len;
};

enum gdb_pkt_state {
	GDB_PKT_IDLE,   /* between packets */
	GDB_PKT_DATA,   /* after '$' */
	GDB_PKT_RLE,    /* after '*': next byte is the count */
	GDB_PKT_CSUM1,  /* after '#' */
	GDB_PKT_CSUM2,
};

struct gdb_pkt_parser {
	enum gdb_pkt_state state;
	bool no_ack;      /* QStartNoAckMode in effect: checksums not checked */
	bool overflow;    /* this packet outgrew buf; it will be dropped */
	bool malformed;   /* RLE without a byte to repeat, bad count, ... */
	uint8_t last;     /* last raw byte stored, what '*' repeats */
	uint8_t csum;     /* running sum of the bytes seen after '$' */
	uint8_t csum_hi;  /* first received checksum digit */
	size_t len;       /* raw (escaped, RLE-expanded) bytes in buf */
	uint8_t buf[GDB_PKT_MAX + 1];
};

void gdb_pkt_init(struct gdb_pkt_parser *p);
/* Feed up to LEN bytes.  Consumes bytes until one event completes or the
 * input ends; returns the number of bytes consumed and sets *HAVE_EVENT.
 * Call again with the rest of the input until it is all consumed. */
size_t gdb_pkt_feed(struct gdb_pkt_parser *p, const uint8_t *buf, size_t len,
		    struct gdb_pkt_event *ev, bool *have_event);

/* Frame PAYLOAD as "$...#cc" into OUT, escaping '$', '#', '}' and '*' so
 * that binary replies (qXfer, m of arbitrary bytes) survive.  Text replies
 * never contain those characters, so escaping everything is harmless.
 * Returns the framed length, or -ENOSPC (OUT needs at most 2 * len + 4). */
long gdb_pkt_encode(uint8_t *out, size_t out_size, const void *payload,
		    size_t len);

/* Hex helpers shared by the dispatcher. */
int gdb_hex_digit(int c);               /* value, or -1 */
/* Writes 2 * LEN lower-case hex digits (no NUL). */
void gdb_hex_encode(char *out, const void *in, size_t len);
/* Decodes exactly 2 * LEN digits; returns 0 or -EINVAL. */
int gdb_hex_decode(void *out, const char *in, size_t len);
/* Parses a hex number at *S up to a non-hex character; advances *S.
 * Returns 0, or -EINVAL when there are no digits or more than 16. */
int gdb_hex_u64(const char **s, uint64_t *out);

#endif
