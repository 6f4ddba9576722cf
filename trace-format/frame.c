/* Fixed-size framing: preamble, frame headers, footer, varints. */
#include "trace-format/format.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY /* XXH64_state_t on the stack */
#include <xxhash.h>

const uint8_t trace_magic[TRACE_MAGIC_LEN] = { 0x89, 'R', 'R', 'V', 'M', 'T', 'R', '\n' };
const uint8_t trace_footer_magic[TRACE_MAGIC_LEN] = { 'R', 'R', 'V', 'M', 'E', 'N', 'D', '\n' };

void trace_preamble_encode(uint8_t out[TRACE_PREAMBLE_LEN], uint32_t header_len,
			   const uint8_t *header)
{
	XXH64_state_t st;

	memcpy(out, trace_magic, TRACE_MAGIC_LEN);
	trace_put_le(out + 8, TRACE_FORMAT_MAJOR, 2);
	trace_put_le(out + 10, TRACE_FORMAT_MINOR, 2);
	trace_put_le(out + 12, header_len, 4);
	XXH64_reset(&st, 0);
	XXH64_update(&st, out, 16);
	XXH64_update(&st, header, header_len);
	trace_put_le(out + 16, XXH64_digest(&st), 8);
}

void trace_frame_encode(const struct trace_frame *f, uint8_t out[TRACE_FRAME_HDR_LEN])
{
	trace_put_le(out + 0, f->kind, 4);
	trace_put_le(out + 4, f->stored_len, 4);
	trace_put_le(out + 8, f->raw_len, 4);
	trace_put_le(out + 12, f->count, 4);
	trace_put_le(out + 16, f->first_sync, 8);
	trace_put_le(out + 24, f->last_sync, 8);
	trace_put_le(out + 32, f->payload_xxh64, 8);
	trace_put_le(out + 40, f->codec, 2);
	trace_put_le(out + 42, 0, 2);
	trace_put_le(out + 44, XXH32(out, 44, 0), 4);
}

const char *trace_frame_decode(const uint8_t in[TRACE_FRAME_HDR_LEN], struct trace_frame *f)
{
	f->kind = (uint32_t)trace_get_le(in + 0, 4);
	if (f->kind != TRACE_FRAME_CHUNK && f->kind != TRACE_FRAME_END &&
	    f->kind != TRACE_FRAME_INDEX)
		return "not a frame (bad frame magic)";
	if (!trace_sum_ok(trace_get_le(in + 44, 4), XXH32(in, 44, 0)))
		return "frame header checksum mismatch";
	f->stored_len = (uint32_t)trace_get_le(in + 4, 4);
	f->raw_len = (uint32_t)trace_get_le(in + 8, 4);
	f->count = (uint32_t)trace_get_le(in + 12, 4);
	f->first_sync = trace_get_le(in + 16, 8);
	f->last_sync = trace_get_le(in + 24, 8);
	f->payload_xxh64 = trace_get_le(in + 32, 8);
	f->codec = (uint16_t)trace_get_le(in + 40, 2);
	if (trace_get_le(in + 42, 2) != 0)
		return "frame reserved field not zero";
	if (f->codec != TRACE_CODEC_NONE && f->codec != TRACE_CODEC_ZSTD)
		return "unknown frame codec";
	if (f->raw_len > TRACE_CHUNK_RAW_MAX || f->stored_len > TRACE_STORED_MAX)
		return "frame length out of bounds";
	if (f->codec == TRACE_CODEC_NONE && f->stored_len != f->raw_len)
		return "frame lengths disagree";
	if (f->kind == TRACE_FRAME_CHUNK) {
		/* Every event takes at least 3 bytes: length, tag, empty oneof. */
		if (f->count == 0 || f->count > f->raw_len / 3)
			return "chunk event count out of bounds";
		if (f->first_sync > f->last_sync)
			return "chunk sync range reversed";
	} else if (f->count != 0 || f->first_sync != 0 || f->last_sync != 0) {
		return "non-chunk frame with chunk fields";
	}
	return NULL;
}

void trace_footer_encode(const struct trace_footer *f, uint8_t out[TRACE_FOOTER_LEN])
{
	trace_put_le(out + 0, f->index_offset, 8);
	trace_put_le(out + 8, f->chunk_count, 4);
	trace_put_le(out + 12, 0, 4);
	trace_put_le(out + 16, 0, 4);
	trace_put_le(out + 20, XXH32(out, 20, 0), 4);
	memcpy(out + 24, trace_footer_magic, TRACE_MAGIC_LEN);
}

const char *trace_footer_decode(const uint8_t in[TRACE_FOOTER_LEN], struct trace_footer *f)
{
	if (memcmp(in + 24, trace_footer_magic, TRACE_MAGIC_LEN))
		return "no footer";
	if (!trace_sum_ok(trace_get_le(in + 20, 4), XXH32(in, 20, 0)))
		return "footer checksum mismatch";
	if (trace_get_le(in + 12, 4) || trace_get_le(in + 16, 4))
		return "footer reserved field not zero";
	f->index_offset = trace_get_le(in, 8);
	f->chunk_count = (uint32_t)trace_get_le(in + 8, 4);
	return NULL;
}

size_t trace_varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

size_t trace_varint_get(const uint8_t *p, size_t avail, uint64_t *v)
{
	uint64_t r = 0;

	for (size_t i = 0; i < avail && i < 10; i++) {
		r |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = r;
			return i + 1;
		}
	}
	return 0;
}

void trace_errf(char *dst, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, cap, fmt, ap);
	va_end(ap);
}
