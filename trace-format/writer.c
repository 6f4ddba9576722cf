/* Streaming trace writer: one chunk in memory, each chunk one write(). */
#define LOG_MODULE "trace"
#include "trace-format/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "trace-format/format.h"
#include "util/log.h"

#define TRACE_DEFAULT_CHUNK_BYTES (256u << 10)
#define TRACE_DEFAULT_CHUNK_MS 1000u
#define TRACE_DEFAULT_ZSTD_LEVEL 3
/* Appends between two looks at the clock: cheap enough at any event rate. */
#define TRACE_CLOCK_EVERY 64u

struct trace_writer {
	int fd;
	int failed; /* -errno once a write failed: the file is done for */
	struct trace_writer_opts opts;
	ZSTD_CCtx *zc;
	uint8_t *raw;   /* chunk_bytes + one event of slack */
	size_t raw_len;
	uint8_t *out;   /* frame header + compressed chunk */
	size_t out_cap;
	uint32_t chunk_events;
	sync_seq chunk_first;
	struct trace_delta delta;
	uint64_t chunk_birth_ns; /* host monotonic time of the chunk's first event */
	uint32_t since_clock;
	sync_seq last_sync;
	bool any_event;
	uint64_t offset; /* bytes in the file */
	struct trace_chunk_info *chunks;
	uint32_t nchunks, chunks_cap;
	uint64_t counts[TRACE_EV__MAX];
	struct trace_writer_stats st;
	char err[TRACE_ERR_MAX];
};

static void werr(struct trace_writer *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void werr(struct trace_writer *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	log_debug("%s", w->err);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Whole buffer or an error: a short write would leave a frame that a
 * reader takes for the truncated tail it is. */
static int write_all(struct trace_writer *w, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(w->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->failed = n < 0 ? -errno : -EIO;
			werr(w, "trace write at byte offset %llu: %s",
			     (unsigned long long)w->offset, strerror(-w->failed));
			return w->failed;
		}
		p += n;
		len -= (size_t)n;
		w->offset += (uint64_t)n;
	}
	w->st.file_bytes = w->offset;
	return 0;
}

/* Writes header + payload as one frame with one write() call.  PAYLOAD
 * NULL: it is already in place after the header room in w->out. */
static int write_frame(struct trace_writer *w, struct trace_frame *f,
		       const uint8_t *payload, size_t len)
{
	size_t need = TRACE_FRAME_HDR_LEN + len;

	if (need > w->out_cap) {
		uint8_t *p;

		if (!payload)
			return w->failed = -EINVAL;
		p = realloc(w->out, need);
		if (!p)
			return w->failed = -ENOMEM;
		w->out = p;
		w->out_cap = need;
	}
	if (payload)
		memcpy(w->out + TRACE_FRAME_HDR_LEN, payload, len);
	f->stored_len = (uint32_t)len;
	f->payload_xxh64 = XXH64(w->out + TRACE_FRAME_HDR_LEN, len, 0);
	trace_frame_encode(f, w->out);
	return write_all(w, w->out, need);
}

static int opts_check(struct trace_writer_opts *o, const struct trace_writer_opts *in)
{
	*o = in ? *in : (struct trace_writer_opts){ 0 };
	if (!o->chunk_bytes)
		o->chunk_bytes = TRACE_DEFAULT_CHUNK_BYTES;
	if (!o->chunk_ms)
		o->chunk_ms = TRACE_DEFAULT_CHUNK_MS;
	if (!o->zstd_level)
		o->zstd_level = TRACE_DEFAULT_ZSTD_LEVEL;
	if (o->chunk_bytes > TRACE_CHUNK_RAW_MAX - TRACE_EVENT_MAX - 16)
		return -EINVAL;
	return 0;
}

int trace_writer_open(struct trace_writer **out, const char *path,
		      const struct trace_header *h,
		      const struct trace_writer_opts *opts, struct trace_error *err)
{
	struct trace_error local = { { 0 } };
	struct trace_writer *w;
	uint8_t pre[TRACE_PREAMBLE_LEN], *hdr = NULL, *buf = NULL;
	size_t hlen = 0;
	int ret;

	if (!err)
		err = &local;
	err->msg[0] = '\0';
	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = -1;
	ret = opts_check(&w->opts, opts);
	if (ret) {
		snprintf(err->msg, sizeof(err->msg), "%s: chunk size too large", path);
		goto fail;
	}
	ret = trace_header_pack(h, &hdr, &hlen, err);
	if (ret)
		goto fail;
	ret = -ENOMEM;
	w->raw = malloc(w->opts.chunk_bytes + TRACE_EVENT_MAX + 16);
	w->out_cap = TRACE_FRAME_HDR_LEN + ZSTD_compressBound(w->opts.chunk_bytes + TRACE_EVENT_MAX + 16);
	w->out = malloc(w->out_cap);
	w->zc = ZSTD_createCCtx();
	buf = malloc(TRACE_PREAMBLE_LEN + hlen);
	if (!w->raw || !w->out || !w->zc || !buf)
		goto fail;
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		ret = -errno;
		snprintf(err->msg, sizeof(err->msg), "%s: %s", path, strerror(errno));
		goto fail;
	}
	trace_preamble_encode(pre, (uint32_t)hlen, hdr);
	memcpy(buf, pre, TRACE_PREAMBLE_LEN);
	memcpy(buf + TRACE_PREAMBLE_LEN, hdr, hlen);
	ret = write_all(w, buf, TRACE_PREAMBLE_LEN + hlen);
	if (ret) {
		trace_errf(err->msg, sizeof(err->msg), "%s: %s", path, w->err);
		goto fail;
	}
	free(hdr);
	free(buf);
	*out = w;
	return 0;
fail:
	if (ret == -ENOMEM && !err->msg[0])
		snprintf(err->msg, sizeof(err->msg), "%s: out of memory", path);
	free(hdr);
	free(buf);
	trace_writer_abandon(w);
	return ret;
}

int trace_writer_flush(struct trace_writer *w)
{
	struct trace_frame f = { 0 };
	struct trace_chunk_info ci;
	size_t clen;
	int ret;

	if (w->failed)
		return w->failed;
	if (!w->chunk_events)
		return 0;
	if (w->nchunks == w->chunks_cap) {
		uint32_t cap = w->chunks_cap ? w->chunks_cap * 2 : 64;
		struct trace_chunk_info *c = realloc(w->chunks, cap * sizeof(*c));
		if (!c) {
			/* Sticky like a write error: the chunk buffer is full
			 * and cannot take another event. */
			werr(w, "trace chunk %u: out of memory for the index", w->nchunks);
			return w->failed = -ENOMEM;
		}
		w->chunks = c;
		w->chunks_cap = cap;
	}
	clen = ZSTD_compressCCtx(w->zc, w->out + TRACE_FRAME_HDR_LEN,
				 w->out_cap - TRACE_FRAME_HDR_LEN, w->raw, w->raw_len,
				 w->opts.zstd_level);
	if (ZSTD_isError(clen)) {
		werr(w, "trace chunk %u: zstd: %s", w->nchunks, ZSTD_getErrorName(clen));
		return w->failed = -EIO;
	}
	f.kind = TRACE_FRAME_CHUNK;
	f.raw_len = (uint32_t)w->raw_len;
	f.count = w->chunk_events;
	f.first_sync = w->chunk_first;
	f.last_sync = w->delta.sync;
	f.codec = TRACE_CODEC_ZSTD;
	ci = (struct trace_chunk_info){ w->offset, f.first_sync, f.last_sync, f.count,
					(uint32_t)clen, f.raw_len };
	ret = write_frame(w, &f, NULL, clen);
	if (ret)
		return ret;
	w->chunks[w->nchunks++] = ci;
	w->st.chunks++;
	w->st.raw_bytes += w->raw_len;
	w->st.stored_bytes += clen;
	w->raw_len = 0;
	w->chunk_events = 0;
	return 0;
}

int trace_writer_poll(struct trace_writer *w)
{
	if (w->chunk_events &&
	    mono_ns() - w->chunk_birth_ns >= (uint64_t)w->opts.chunk_ms * 1000000u)
		return trace_writer_flush(w);
	return w->failed;
}

int trace_writer_append(struct trace_writer *w, const struct trace_event *ev)
{
	const char *why;

	if (w->failed)
		return w->failed;
	why = trace_event_check(ev);
	if (why) {
		werr(w, "trace event at sync point %llu: %s", (unsigned long long)ev->sync, why);
		return -EINVAL;
	}
	if (w->any_event && ev->sync < w->last_sync) {
		werr(w, "trace event at sync point %llu after sync point %llu",
		     (unsigned long long)ev->sync, (unsigned long long)w->last_sync);
		return -EINVAL;
	}
	if (!w->chunk_events) {
		w->chunk_first = ev->sync;
		w->delta = (struct trace_delta){ .sync = ev->sync };
		w->chunk_birth_ns = mono_ns();
		w->since_clock = 0;
	}
	w->raw_len += trace_event_encode(&w->delta, ev, w->raw + w->raw_len);
	w->chunk_events++;
	w->counts[ev->kind]++;
	w->st.events++;
	w->last_sync = ev->sync;
	w->any_event = true;
	if (w->raw_len >= w->opts.chunk_bytes)
		return trace_writer_flush(w);
	if (++w->since_clock >= TRACE_CLOCK_EVERY) {
		w->since_clock = 0;
		return trace_writer_poll(w);
	}
	return 0;
}

static int write_tail(struct trace_writer *w, const struct trace_end *end)
{
	struct trace_footer foot;
	struct trace_frame f = { 0 };
	uint8_t *buf = NULL, fb[TRACE_FOOTER_LEN];
	size_t len;
	uint64_t end_off = 0;
	int ret;

	if (end) {
		struct trace_end e = *end;
		e.total_events = w->st.events;
		if (w->any_event && e.total_sync < w->last_sync)
			e.total_sync = w->last_sync;
		ret = trace_end_pack(&e, &buf, &len);
		if (ret) {
			werr(w, "trace end record invalid");
			return ret;
		}
		end_off = w->offset;
		f.kind = TRACE_FRAME_END;
		f.raw_len = (uint32_t)len;
		ret = write_frame(w, &f, buf, len);
		free(buf);
		if (ret)
			return ret;
	}
	ret = trace_index_pack(w->chunks, w->nchunks, w->counts, end_off, &buf, &len);
	if (ret)
		return ret;
	foot = (struct trace_footer){ w->offset, w->nchunks };
	f = (struct trace_frame){ .kind = TRACE_FRAME_INDEX, .raw_len = (uint32_t)len };
	ret = write_frame(w, &f, buf, len);
	free(buf);
	if (ret)
		return ret;
	trace_footer_encode(&foot, fb);
	ret = write_all(w, fb, sizeof(fb));
	if (!ret && fsync(w->fd) < 0) {
		ret = -errno;
		werr(w, "trace fsync: %s", strerror(errno));
	}
	return ret;
}

int trace_writer_close(struct trace_writer *w, const struct trace_end *end)
{
	int ret = trace_writer_flush(w);

	if (!ret)
		ret = write_tail(w, end);
	if (close(w->fd) < 0 && !ret)
		ret = -errno;
	w->fd = -1;
	if (ret)
		log_err("%s", w->err[0] ? w->err : "trace close failed");
	trace_writer_abandon(w);
	return ret;
}

void trace_writer_abandon(struct trace_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	ZSTD_freeCCtx(w->zc);
	free(w->raw);
	free(w->out);
	free(w->chunks);
	free(w);
}

const char *trace_writer_error(const struct trace_writer *w)
{
	return w->err;
}

void trace_writer_stats(const struct trace_writer *w, struct trace_writer_stats *st)
{
	*st = w->st;
}
