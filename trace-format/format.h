/* Internal to trace-format/: the fixed-size framing around the protobuf
 * messages (preamble, frame header, footer) and the protobuf codec of the
 * C structs of trace.h.  The layout is drawn in trace.h. */
#ifndef RRVM_TRACE_FORMAT_FORMAT_H
#define RRVM_TRACE_FORMAT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace-format/trace.h"

#define TRACE_PREAMBLE_LEN 24
#define TRACE_FRAME_HDR_LEN 48
#define TRACE_FOOTER_LEN 32
#define TRACE_MAGIC_LEN 8

extern const uint8_t trace_magic[TRACE_MAGIC_LEN];
extern const uint8_t trace_footer_magic[TRACE_MAGIC_LEN];

#define TRACE_FOURCC(a, b, c, d) \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

enum trace_frame_kind {
	TRACE_FRAME_CHUNK = TRACE_FOURCC('C', 'H', 'N', 'K'),
	TRACE_FRAME_END = TRACE_FOURCC('E', 'N', 'D', '_'),
	TRACE_FRAME_INDEX = TRACE_FOURCC('I', 'N', 'D', 'X'),
};

enum trace_codec { TRACE_CODEC_NONE = 0, TRACE_CODEC_ZSTD = 1 };

/* Largest stored payload a reader accepts: a chunk that zstd could not
 * shrink, plus zstd's worst-case frame overhead. */
#define TRACE_STORED_MAX (TRACE_CHUNK_RAW_MAX + (TRACE_CHUNK_RAW_MAX >> 7) + 4096)

struct trace_frame {
	uint32_t kind, stored_len, raw_len, count;
	sync_seq first_sync, last_sync;
	uint64_t payload_xxh64;
	uint16_t codec;
};

struct trace_footer {
	uint64_t index_offset;
	uint32_t chunk_count;
};

void trace_preamble_encode(uint8_t out[TRACE_PREAMBLE_LEN], uint32_t header_len,
			   const uint8_t *header);
void trace_frame_encode(const struct trace_frame *f, uint8_t out[TRACE_FRAME_HDR_LEN]);
/* 0, or a static reason string when the header is not a valid frame. */
const char *trace_frame_decode(const uint8_t in[TRACE_FRAME_HDR_LEN], struct trace_frame *f);
void trace_footer_encode(const struct trace_footer *f, uint8_t out[TRACE_FOOTER_LEN]);
const char *trace_footer_decode(const uint8_t in[TRACE_FOOTER_LEN], struct trace_footer *f);

static inline void trace_put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t trace_get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Checksum comparison.  A fuzzing build (and only it) accepts any checksum
 * so that the fuzzer reaches the decoders behind them instead of stopping
 * at a hash it cannot forge; OSS-Fuzz's conventional macro. */
static inline bool trace_sum_ok(uint64_t stored, uint64_t computed)
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	(void)stored;
	(void)computed;
	return true;
#else
	return stored == computed;
#endif
}

/* vsnprintf into DST: messages are cut to one line of TRACE_ERR_MAX. */
void trace_errf(char *dst, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Base-128 varint as protobuf writes it.  put returns bytes written (<= 10);
 * get returns bytes consumed, or 0 when truncated or longer than 10. */
size_t trace_varint_put(uint8_t *p, uint64_t v);
size_t trace_varint_get(const uint8_t *p, size_t avail, uint64_t *v);

/* ------------------------------------------------------------------ codec */

/* Bump allocator handed to protobuf-c for events: one reset per event, so
 * decoding allocates nothing per event and a hostile message cannot make
 * it allocate more than the arena. */
struct trace_arena {
	uint8_t *buf;
	size_t cap, used;
};

/* Per-chunk delta base (trace.proto Event, TscRead, Clock). */
struct trace_delta {
	sync_seq sync;
	uint64_t rip;
	vtsc tsc;
	vclock_ns clock;
	uint64_t regs[TRACE_NREGS]; /* of the previous RegCheckpoint */
};

/* NULL when EV satisfies the "must" rules of trace.proto, else why not. */
const char *trace_event_check(const struct trace_event *ev);
/* Encodes EV (already checked) as varint length + Event into OUT, which has
 * room for TRACE_EVENT_MAX + 10 bytes; advances D.  Returns bytes written. */
size_t trace_event_encode(struct trace_delta *d, const struct trace_event *ev, uint8_t *out);
/* Same through protobuf-c's generic packer: the reference the tests hold
 * trace_event_encode() to. */
size_t trace_event_encode_ref(struct trace_delta *d, const struct trace_event *ev, uint8_t *out);
/* Decodes one Event message of LEN bytes.  Returns 0 and fills EV (bytes
 * pointing into ARENA), or a static reason.  Unknown kinds give kind
 * TRACE_EV_UNKNOWN. */
const char *trace_event_decode(struct trace_delta *d, const uint8_t *buf, size_t len,
			       struct trace_arena *arena, struct trace_event *ev);

/* Header: packed into malloc'd *OUT.  -EINVAL with a reason in ERR. */
int trace_header_pack(const struct trace_header *h, uint8_t **out, size_t *len,
		      struct trace_error *err);
/* Decoded header, owning every string and array it points to. */
struct trace_header_store;
struct trace_header_store *trace_header_unpack(const uint8_t *buf, size_t len,
					       const char **why);
const struct trace_header *trace_header_get(const struct trace_header_store *s);
void trace_header_free(struct trace_header_store *s);

int trace_end_pack(const struct trace_end *e, uint8_t **out, size_t *len);
/* Fills E; strings copied into MSGBUF. */
const char *trace_end_unpack(const uint8_t *buf, size_t len, struct trace_end *e,
			     char *msgbuf, size_t msgcap);

int trace_index_pack(const struct trace_chunk_info *chunks, uint32_t n,
		     const uint64_t counts[TRACE_EV__MAX], uint64_t end_offset,
		     uint8_t **out, size_t *len);
/* Malloc'd chunk table in *CHUNKS.  MAX_CHUNKS bounds the table before any
 * allocation beyond protobuf-c's own (itself bounded by LEN). */
const char *trace_index_unpack(const uint8_t *buf, size_t len, uint32_t max_chunks,
			       struct trace_chunk_info **chunks, uint32_t *n,
			       uint64_t counts[TRACE_EV__MAX], bool *have_counts,
			       uint64_t *end_offset);

#endif
