/* Trace reader, reading half: loading chunks, decoding events, seeking. */
#define LOG_MODULE "trace"
#include "trace-format/trace.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "trace-format/reader_int.h"
#include "util/log.h"

static int cur_err(struct trace_reader *r, uint32_t chunk, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int cur_err(struct trace_reader *r, uint32_t chunk, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(r->err, sizeof(r->err), "chunk %u at byte offset %llu: %s", chunk,
		 (unsigned long long)r->chunks[chunk].offset, why);
	r->err_code = -EBADMSG;
	r->info.corrupt = true;
	if (chunk < r->info.first_bad_chunk)
		r->info.first_bad_chunk = chunk;
	if (!r->info.damage[0])
		snprintf(r->info.damage, sizeof(r->info.damage), "%s", r->err);
	log_debug("%s", r->err);
	return r->err_code;
}

/* Reads frame I, checks it against the chunk table, decompresses it. */
static int load_chunk(struct trace_reader *r, uint32_t i)
{
	const struct trace_chunk_info *c = &r->chunks[i];
	uint8_t hb[TRACE_FRAME_HDR_LEN];
	struct trace_frame f;
	const uint8_t *p;
	size_t n;
	const char *why;

	r->cur = TRACE_NO_CHUNK;
	r->left = 0;
	if (trace_src_read(r, c->offset, hb, sizeof(hb)))
		return cur_err(r, i, "frame header past the end of the file");
	why = trace_frame_decode(hb, &f);
	if (why)
		return cur_err(r, i, "%s", why);
	if (f.kind != TRACE_FRAME_CHUNK || f.stored_len != c->stored_bytes ||
	    f.raw_len != c->raw_bytes || f.count != c->events ||
	    f.first_sync != c->first_sync || f.last_sync != c->last_sync)
		return cur_err(r, i, "frame disagrees with the index");
	why = trace_payload_load(r, &f, c->offset, &p, &n);
	if (why)
		return cur_err(r, i, "%s", why);
	if (p != r->raw) {
		/* Uncompressed chunk: events are decoded from RAW. */
		if (trace_buf_reserve(&r->raw, &r->raw_cap, n + 1u))
			return cur_err(r, i, "out of memory");
		memcpy(r->raw, p, n);
	}
	r->raw_len = n;
	r->pos = 0;
	r->cur = i;
	r->left = c->events;
	r->ev_no = 0;
	r->delta = (struct trace_delta){ .sync = c->first_sync };
	return 0;
}

/* Decodes the next event of the loaded chunk. */
static int decode_one(struct trace_reader *r, struct trace_event *ev)
{
	const struct trace_chunk_info *c = &r->chunks[r->cur];
	uint64_t len;
	size_t hl = trace_varint_get(r->raw + r->pos, r->raw_len - r->pos, &len);
	const char *why;

	if (!hl || len > TRACE_EVENT_MAX || len > r->raw_len - r->pos - hl)
		return cur_err(r, r->cur, "event %u: length out of bounds", r->ev_no);
	why = trace_event_decode(&r->delta, r->raw + r->pos + hl, (size_t)len, &r->arena, ev);
	if (why)
		return cur_err(r, r->cur, "event %u: %s", r->ev_no, why);
	if (ev->sync > c->last_sync)
		return cur_err(r, r->cur, "event %u: sync point past the chunk's last", r->ev_no);
	if (!r->ev_no && ev->sync != c->first_sync)
		return cur_err(r, r->cur, "event 0: sync point is not the chunk's first");
	r->pos += hl + (size_t)len;
	r->ev_no++;
	if (--r->left == 0) {
		if (r->pos != r->raw_len)
			return cur_err(r, r->cur, "bytes after the last event");
		if (ev->sync != c->last_sync)
			return cur_err(r, r->cur, "last event is not at the chunk's last sync point");
	}
	return 0;
}

int trace_reader_next(struct trace_reader *r, struct trace_event *ev)
{
	for (;;) {
		int ret;

		if (r->err_code)
			return r->err_code;
		if (!r->left) {
			if (r->next_chunk >= r->nchunks)
				return 0;
			ret = load_chunk(r, r->next_chunk++);
			if (ret)
				return ret;
		}
		ret = decode_one(r, ev);
		if (ret)
			return ret;
		if (ev->kind == TRACE_EV_UNKNOWN || ev->sync < r->skip_below)
			continue;
		return 1;
	}
}

int trace_reader_seek(struct trace_reader *r, sync_seq s)
{
	uint32_t lo = 0, hi = r->nchunks;

	/* First chunk whose last sync point is >= S. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (r->chunks[mid].last_sync < s)
			lo = mid + 1;
		else
			hi = mid;
	}
	r->err_code = 0;
	r->err[0] = '\0';
	r->cur = TRACE_NO_CHUNK;
	r->left = 0;
	r->next_chunk = lo;
	r->skip_below = s;
	return 0;
}

int trace_reader_verify(struct trace_reader *r)
{
	uint8_t hb[TRACE_FRAME_HDR_LEN];
	struct trace_frame f;
	const char *why;
	int ret = 0;

	for (uint32_t i = 0; i < r->nchunks && !ret; i++) {
		const struct trace_chunk_info *c = &r->chunks[i];

		if (trace_src_read(r, c->offset, hb, sizeof(hb)))
			ret = cur_err(r, i, "frame header past the end of the file");
		else if ((why = trace_frame_decode(hb, &f)))
			ret = cur_err(r, i, "%s", why);
		else if (f.stored_len != c->stored_bytes || f.raw_len != c->raw_bytes ||
			 f.kind != TRACE_FRAME_CHUNK)
			ret = cur_err(r, i, "frame disagrees with the index");
		else if ((why = trace_payload_check(r, &f, c->offset)))
			ret = cur_err(r, i, "%s", why);
	}
	/* Only the payload buffer was reused: a loaded chunk stays valid. */
	return ret;
}

int trace_reader_count_kinds(struct trace_reader *r, uint64_t counts[TRACE_EV__MAX])
{
	struct trace_event ev;
	int ret;

	if (r->have_counts) {
		memcpy(counts, r->counts, sizeof(r->counts));
		return 0;
	}
	memset(counts, 0, sizeof(uint64_t) * TRACE_EV__MAX);
	trace_reader_seek(r, 0);
	/* Unknown kinds are skipped by next(): count them from the chunk
	 * totals instead. */
	{
		uint64_t known = 0;
		while ((ret = trace_reader_next(r, &ev)) == 1) {
			counts[ev.kind]++;
			known++;
		}
		if (!ret)
			counts[TRACE_EV_UNKNOWN] = r->info.events - known;
	}
	if (ret == 0) {
		memcpy(r->counts, counts, sizeof(r->counts));
		r->have_counts = true;
	}
	{
		/* Rewind, but keep the message for the caller. */
		char msg[TRACE_ERR_MAX];
		memcpy(msg, r->err, sizeof(msg));
		trace_reader_seek(r, 0);
		memcpy(r->err, msg, sizeof(msg));
	}
	return ret;
}
