/* Trace reader, opening half: preamble, header, footer and index, or a
 * frame-by-frame scan that rebuilds the index when the tail is missing. */
#define LOG_MODULE "trace"
#include "trace-format/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY /* XXH64_state_t on the stack */
#include <xxhash.h>

#include "trace-format/reader_int.h"
#include "util/log.h"

/* Arena for one event: the message, one sub-message, one data copy, and
 * protobuf-c's bookkeeping for unknown fields, with room to spare. */
#define TRACE_ARENA_BYTES (8 * TRACE_EVENT_MAX)

static void note(struct trace_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct trace_reader *r, const char *fmt, ...)
{
	va_list ap;

	if (r->info.damage[0])
		return; /* keep the first problem: later ones follow from it */
	va_start(ap, fmt);
	vsnprintf(r->info.damage, sizeof(r->info.damage), fmt, ap);
	va_end(ap);
	log_debug("%s", r->info.damage);
}

int trace_buf_reserve(uint8_t **buf, size_t *cap, size_t n)
{
	uint8_t *p;

	if (n <= *cap)
		return 0;
	p = realloc(*buf, n);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

int trace_src_read(struct trace_reader *r, uint64_t off, void *buf, size_t len)
{
	uint8_t *p = buf;

	if (off > r->size || len > r->size - off)
		return -EIO;
	if (r->mem) {
		memcpy(buf, r->mem + off, len);
		return 0;
	}
	while (len) {
		ssize_t n = pread(r->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

const char *trace_payload_check(struct trace_reader *r, const struct trace_frame *f,
				uint64_t off)
{
	uint64_t at = off + TRACE_FRAME_HDR_LEN;

	if (at > r->size || f->stored_len > r->size - at)
		return "frame extends past the end of the file";
	if (trace_buf_reserve(&r->stored, &r->stored_cap, f->stored_len + 1u))
		return "out of memory";
	if (trace_src_read(r, at, r->stored, f->stored_len))
		return "read error";
	if (!trace_sum_ok(f->payload_xxh64, XXH64(r->stored, f->stored_len, 0)))
		return "payload checksum mismatch";
	return NULL;
}

const char *trace_payload_load(struct trace_reader *r, const struct trace_frame *f,
			       uint64_t off, const uint8_t **out, size_t *outlen)
{
	const char *why = trace_payload_check(r, f, off);
	size_t n;

	if (why)
		return why;
	if (f->codec == TRACE_CODEC_NONE) {
		*out = r->stored;
		*outlen = f->stored_len;
		return NULL;
	}
	if (trace_buf_reserve(&r->raw, &r->raw_cap, f->raw_len + 1u))
		return "out of memory";
	n = ZSTD_decompressDCtx(r->zd, r->raw, f->raw_len, r->stored, f->stored_len);
	if (ZSTD_isError(n) || n != f->raw_len)
		return "payload does not decompress to its stated size";
	*out = r->raw;
	*outlen = n;
	return NULL;
}

static const char *read_end(struct trace_reader *r, const struct trace_frame *f, uint64_t off)
{
	const uint8_t *p;
	size_t n;
	const char *why = trace_payload_load(r, f, off, &p, &n);

	if (!why)
		why = trace_end_unpack(p, n, &r->end, r->end_msg, sizeof(r->end_msg));
	if (!why && r->end.total_events != r->info.events)
		why = "end record event count disagrees with the chunks";
	if (!why && r->nchunks && r->end.total_sync < r->chunks[r->nchunks - 1].last_sync)
		why = "end record sync count is before the last event";
	r->info.has_end = !why;
	return why;
}

static int add_chunk(struct trace_reader *r, const struct trace_chunk_info *c)
{
	if (r->nchunks == r->chunks_cap) {
		uint32_t cap = r->chunks_cap ? r->chunks_cap * 2 : 64;
		struct trace_chunk_info *p = realloc(r->chunks, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		r->chunks = p;
		r->chunks_cap = cap;
	}
	r->chunks[r->nchunks++] = *c;
	r->info.events += c->events;
	r->info.raw_bytes += c->raw_bytes;
	r->info.stored_bytes += c->stored_bytes;
	return 0;
}

/* Walks the frames from the header on.  Stops cleanly at the first frame
 * that is incomplete (truncated) or damaged (corrupt). */
static void scan(struct trace_reader *r)
{
	uint64_t off = r->data_start;
	uint8_t hb[TRACE_FRAME_HDR_LEN];
	struct trace_frame f;
	const char *why;

	for (;;) {
		uint32_t no = r->nchunks;

		r->info.stop_offset = off;
		if (off == r->size)
			break;
		if (r->size - off < TRACE_FRAME_HDR_LEN) {
			note(r, "chunk %u at byte offset %llu: incomplete frame header (file ends at %llu)",
			     no, (unsigned long long)off, (unsigned long long)r->size);
			break;
		}
		if (trace_src_read(r, off, hb, sizeof(hb))) {
			r->info.corrupt = true;
			note(r, "chunk %u at byte offset %llu: read error", no, (unsigned long long)off);
			break;
		}
		why = trace_frame_decode(hb, &f);
		if (!why && f.stored_len > r->size - off - TRACE_FRAME_HDR_LEN) {
			note(r, "chunk %u at byte offset %llu: incomplete (%u payload bytes, file ends at %llu)",
			     no, (unsigned long long)off, f.stored_len, (unsigned long long)r->size);
			break;
		}
		if (!why && f.kind == TRACE_FRAME_CHUNK) {
			if (r->info.has_end)
				why = "chunk after the end record";
			else if (no && f.first_sync < r->chunks[no - 1].last_sync)
				why = "chunk sync range overlaps the previous chunk";
		}
		/* Checksums only: decompressing every chunk would make opening
		 * a long truncated trace cost as much as reading it. */
		if (!why && f.kind == TRACE_FRAME_CHUNK)
			why = trace_payload_check(r, &f, off);
		else if (!why && f.kind == TRACE_FRAME_END)
			why = r->info.has_end ? "second end record" : read_end(r, &f, off);
		if (why) {
			r->info.corrupt = true;
			note(r, "%s %u at byte offset %llu: %s",
			     f.kind == TRACE_FRAME_END ? "end record after chunk" : "chunk",
			     no, (unsigned long long)off, why);
			break;
		}
		if (f.kind == TRACE_FRAME_CHUNK) {
			struct trace_chunk_info c = { off, f.first_sync, f.last_sync, f.count,
						      f.stored_len, f.raw_len };
			if (add_chunk(r, &c)) {
				r->info.corrupt = true;
				note(r, "out of memory");
				break;
			}
		}
		off += TRACE_FRAME_HDR_LEN + (uint64_t)f.stored_len;
		if (f.kind == TRACE_FRAME_INDEX) {
			/* Only the footer follows, and it failed to check out
			 * (or we would not be scanning). */
			r->info.stop_offset = off;
			note(r, "footer at byte offset %llu: %s", (unsigned long long)off,
			     r->size - off == TRACE_FOOTER_LEN ? "damaged" : "missing or incomplete");
			break;
		}
	}
	/* A partial frame after the end record is a partial index: every
	 * event and the end are there, so the trace is not truncated. */
	if (!r->info.has_end)
		r->info.truncated = true;
}

/* Checks the index against itself and the file layout: chunks follow each
 * other from the header to the end record (or the index) with no gap. */
static const char *index_check(struct trace_reader *r, uint64_t end_off, uint64_t index_off)
{
	uint64_t at = r->data_start;

	for (uint32_t i = 0; i < r->nchunks; i++) {
		const struct trace_chunk_info *c = &r->chunks[i];
		if (c->offset != at)
			return "chunk offsets are not contiguous";
		if (c->first_sync > c->last_sync || !c->events ||
		    c->raw_bytes > TRACE_CHUNK_RAW_MAX || c->stored_bytes > TRACE_STORED_MAX)
			return "chunk entry out of bounds";
		if (i && c->first_sync < r->chunks[i - 1].last_sync)
			return "chunk sync ranges overlap";
		at += TRACE_FRAME_HDR_LEN + (uint64_t)c->stored_bytes;
		if (at > index_off)
			return "chunk extends into the index";
	}
	if (end_off && end_off != at)
		return "end record offset does not follow the last chunk";
	if (!end_off && at != index_off)
		return "index does not follow the last chunk";
	return NULL;
}

static const char *try_index(struct trace_reader *r, bool *absent)
{
	uint8_t fb[TRACE_FOOTER_LEN], hb[TRACE_FRAME_HDR_LEN];
	struct trace_footer foot;
	struct trace_frame f;
	uint64_t end_off = 0, max_chunks, limit;
	const uint8_t *p;
	size_t n;
	const char *why;

	*absent = true;
	if (r->size < r->data_start + TRACE_FRAME_HDR_LEN + TRACE_FOOTER_LEN)
		return "no footer";
	if (trace_src_read(r, r->size - TRACE_FOOTER_LEN, fb, sizeof(fb)))
		return "read error";
	why = trace_footer_decode(fb, &foot);
	if (why)
		return why;
	*absent = false;
	if (foot.index_offset < r->data_start ||
	    foot.index_offset > r->size - TRACE_FOOTER_LEN - TRACE_FRAME_HDR_LEN)
		return "index offset out of bounds";
	if (trace_src_read(r, foot.index_offset, hb, sizeof(hb)))
		return "read error";
	why = trace_frame_decode(hb, &f);
	if (why)
		return why;
	if (f.kind != TRACE_FRAME_INDEX ||
	    foot.index_offset + TRACE_FRAME_HDR_LEN + f.stored_len != r->size - TRACE_FOOTER_LEN)
		return "index frame does not end at the footer";
	/* Each chunk takes at least a frame header and one payload byte, and
	 * encodes in at most 64 index bytes: both bound the index before
	 * protobuf-c allocates anything for it. */
	max_chunks = (foot.index_offset - r->data_start) / (TRACE_FRAME_HDR_LEN + 1);
	limit = max_chunks * 64 + 1024;
	if (foot.chunk_count > max_chunks || f.raw_len > limit)
		return "index larger than the file allows";
	why = trace_payload_load(r, &f, foot.index_offset, &p, &n);
	if (why)
		return why;
	why = trace_index_unpack(p, n, (uint32_t)max_chunks, &r->chunks, &r->nchunks,
				 r->counts, &r->have_counts, &end_off);
	if (why)
		return why;
	r->chunks_cap = r->nchunks;
	if (r->nchunks != foot.chunk_count)
		return "footer and index disagree on the chunk count";
	why = index_check(r, end_off, foot.index_offset);
	if (why)
		return why;
	for (uint32_t i = 0; i < r->nchunks; i++) {
		r->info.events += r->chunks[i].events;
		r->info.raw_bytes += r->chunks[i].raw_bytes;
		r->info.stored_bytes += r->chunks[i].stored_bytes;
	}
	if (r->have_counts) {
		uint64_t sum = 0;
		for (int k = 0; k < TRACE_EV__MAX; k++)
			sum += r->counts[k];
		if (sum != r->info.events)
			return "index kind counts disagree with the chunks";
	}
	if (end_off) {
		if (trace_src_read(r, end_off, hb, sizeof(hb)))
			return "read error";
		why = trace_frame_decode(hb, &f);
		if (!why && (f.kind != TRACE_FRAME_END ||
			     end_off + TRACE_FRAME_HDR_LEN + f.stored_len != foot.index_offset))
			why = "end record frame misplaced";
		if (!why)
			why = read_end(r, &f, end_off);
		if (why)
			return why;
	}
	r->info.stop_offset = r->size;
	r->info.truncated = !r->info.has_end;
	return NULL;
}

static void reset_tables(struct trace_reader *r)
{
	free(r->chunks);
	r->chunks = NULL;
	r->nchunks = r->chunks_cap = 0;
	r->have_counts = false;
	memset(r->counts, 0, sizeof(r->counts));
	r->info.events = r->info.raw_bytes = r->info.stored_bytes = 0;
	r->info.has_end = r->info.truncated = false;
}

static int open_err(struct trace_error *err, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int open_err(struct trace_error *err, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return ret;
}

static int read_preamble(struct trace_reader *r, struct trace_error *err)
{
	uint8_t pre[TRACE_PREAMBLE_LEN], *hdr;
	unsigned major, minor;
	uint32_t hlen;
	XXH64_state_t st;
	const char *why;

	if (r->size < TRACE_PREAMBLE_LEN) {
		if (r->size >= TRACE_MAGIC_LEN && !trace_src_read(r, 0, pre, TRACE_MAGIC_LEN) &&
		    !memcmp(pre, trace_magic, TRACE_MAGIC_LEN))
			return open_err(err, -EBADMSG, "truncated inside the preamble (%llu bytes)",
					(unsigned long long)r->size);
		return open_err(err, -EBADMSG, "not an rrvm trace (%llu bytes, no magic)",
				(unsigned long long)r->size);
	}
	if (trace_src_read(r, 0, pre, sizeof(pre)))
		return open_err(err, -EIO, "read error in the preamble");
	if (memcmp(pre, trace_magic, TRACE_MAGIC_LEN))
		return open_err(err, -EBADMSG, "not an rrvm trace (bad magic at byte offset 0)");
	major = (unsigned)trace_get_le(pre + 8, 2);
	minor = (unsigned)trace_get_le(pre + 10, 2);
	if (major > TRACE_FORMAT_MAJOR)
		return open_err(err, -EPROTONOSUPPORT,
				"trace format %u.%u is newer than this rrvm reads (%u.x): upgrade rrvm",
				major, minor, TRACE_FORMAT_MAJOR);
	if (major < TRACE_FORMAT_MAJOR_OLDEST)
		return open_err(err, -EPROTONOSUPPORT, "trace format %u.%u is not supported (%u.x)",
				major, minor, TRACE_FORMAT_MAJOR);
	hlen = (uint32_t)trace_get_le(pre + 12, 4);
	if (hlen > TRACE_HEADER_MAX)
		return open_err(err, -EBADMSG, "header length %u at byte offset 12 exceeds %u",
				hlen, TRACE_HEADER_MAX);
	if (r->size - TRACE_PREAMBLE_LEN < hlen)
		return open_err(err, -EBADMSG,
				"truncated inside the header (needs %u bytes at byte offset %u, file has %llu)",
				hlen, TRACE_PREAMBLE_LEN, (unsigned long long)r->size);
	hdr = malloc(hlen + 1u);
	if (!hdr)
		return open_err(err, -ENOMEM, "out of memory");
	if (trace_src_read(r, TRACE_PREAMBLE_LEN, hdr, hlen)) {
		free(hdr);
		return open_err(err, -EIO, "read error in the header");
	}
	XXH64_reset(&st, 0);
	XXH64_update(&st, pre, 16);
	XXH64_update(&st, hdr, hlen);
	if (!trace_sum_ok(trace_get_le(pre + 16, 8), XXH64_digest(&st))) {
		free(hdr);
		return open_err(err, -EBADMSG, "header checksum mismatch (bytes 0..%u)",
				TRACE_PREAMBLE_LEN + hlen - 1);
	}
	r->hs = trace_header_unpack(hdr, hlen, &why);
	free(hdr);
	if (!r->hs)
		return open_err(err, -EBADMSG, "header at byte offset %u: %s", TRACE_PREAMBLE_LEN, why);
	if (trace_header_get(r->hs)->format_major != major ||
	    trace_header_get(r->hs)->format_minor != minor)
		return open_err(err, -EBADMSG, "header version disagrees with the preamble");
	r->data_start = TRACE_PREAMBLE_LEN + (uint64_t)hlen;
	r->info.header_bytes = r->data_start;
	return 0;
}

static int open_common(struct trace_reader *r, struct trace_error *err)
{
	bool absent;
	const char *why;
	int ret;

	r->zd = ZSTD_createDCtx();
	r->arena.cap = TRACE_ARENA_BYTES;
	r->arena.buf = malloc(r->arena.cap);
	if (!r->zd || !r->arena.buf)
		return open_err(err, -ENOMEM, "out of memory");
	r->info.file_bytes = r->size;
	r->info.first_bad_chunk = UINT32_MAX;
	ret = read_preamble(r, err);
	if (ret)
		return ret;
	why = try_index(r, &absent);
	if (why) {
		if (!absent)
			note(r, "index or footer damaged (%s), index rebuilt by scan", why);
		reset_tables(r);
		scan(r);
	} else {
		r->info.has_index = true;
	}
	r->info.nchunks = r->nchunks;
	if (r->nchunks) {
		r->info.first_sync = r->chunks[0].first_sync;
		r->info.last_sync = r->chunks[r->nchunks - 1].last_sync;
	}
	r->cur = TRACE_NO_CHUNK;
	return 0;
}

static int finish_open(struct trace_reader **out, struct trace_reader *r, int ret,
		       const char *what, struct trace_error *err)
{
	if (ret) {
		char msg[TRACE_ERR_MAX];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		trace_errf(err->msg, sizeof(err->msg), "%s: %s", what, msg);
		trace_reader_close(r);
		return ret;
	}
	*out = r;
	return 0;
}

int trace_reader_open(struct trace_reader **out, const char *path, struct trace_error *err)
{
	struct trace_error local;
	struct trace_reader *r;
	struct stat sb;
	int ret = 0;

	if (!err)
		err = &local;
	err->msg[0] = '\0';
	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return open_err(err, -ENOMEM, "%s: out of memory", path);
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0 || fstat(r->fd, &sb) < 0) {
		ret = open_err(err, -errno, "%s", strerror(errno));
	} else if (!S_ISREG(sb.st_mode)) {
		ret = open_err(err, -EINVAL, "not a regular file");
	} else {
		r->size = (uint64_t)sb.st_size;
		ret = open_common(r, err);
	}
	return finish_open(out, r, ret, path, err);
}

int trace_reader_open_mem(struct trace_reader **out, const void *buf, size_t len,
			  struct trace_error *err)
{
	struct trace_error local;
	struct trace_reader *r;

	if (!err)
		err = &local;
	err->msg[0] = '\0';
	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return open_err(err, -ENOMEM, "out of memory");
	r->fd = -1;
	r->mem = buf ? buf : (const void *)"";
	r->size = buf ? len : 0;
	return finish_open(out, r, open_common(r, err), "trace", err);
}

void trace_reader_close(struct trace_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	trace_header_free(r->hs);
	free(r->chunks);
	free(r->raw);
	free(r->stored);
	free(r->arena.buf);
	ZSTD_freeDCtx(r->zd);
	free(r);
}

const struct trace_header *trace_reader_header(const struct trace_reader *r)
{
	return trace_header_get(r->hs);
}

const struct trace_info *trace_reader_info(const struct trace_reader *r)
{
	return &r->info;
}

const struct trace_end *trace_reader_end(const struct trace_reader *r)
{
	return r->info.has_end ? &r->end : NULL;
}

int trace_reader_chunk(const struct trace_reader *r, uint32_t i, struct trace_chunk_info *out)
{
	if (i >= r->nchunks)
		return -ERANGE;
	*out = r->chunks[i];
	return 0;
}

bool trace_reader_replayable(const struct trace_reader *r, sync_seq *last, uint32_t *good)
{
	uint32_t n = r->info.first_bad_chunk < r->nchunks ? r->info.first_bad_chunk : r->nchunks;

	*good = n;
	*last = 0;
	if (!n || !r->chunks[n - 1].last_sync)
		return false;
	*last = r->chunks[n - 1].last_sync - 1;
	return true;
}

const char *trace_reader_error(const struct trace_reader *r)
{
	return r->err;
}
