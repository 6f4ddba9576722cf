/* Internal to trace-format/: the reader's state, shared by reader.c (open,
 * index, scan) and cursor.c (chunk decoding, next, seek, verify). */
#ifndef RRVM_TRACE_FORMAT_READER_INT_H
#define RRVM_TRACE_FORMAT_READER_INT_H

#include <zstd.h>

#include "trace-format/format.h"

#define TRACE_NO_CHUNK UINT32_MAX

struct trace_reader {
	int fd;             /* -1 for a memory source */
	const uint8_t *mem;
	uint64_t size;      /* bytes in the source, fixed at open */
	uint64_t data_start;
	struct trace_header_store *hs;
	struct trace_info info;
	struct trace_chunk_info *chunks;
	uint32_t nchunks, chunks_cap;
	uint64_t counts[TRACE_EV__MAX];
	bool have_counts;
	struct trace_end end;
	char end_msg[TRACE_STRING_MAX + 1];

	/* Cursor. */
	uint32_t cur;        /* loaded chunk, TRACE_NO_CHUNK if none */
	uint32_t next_chunk; /* chunk to load when CUR runs out */
	uint32_t left;       /* events not yet decoded in CUR */
	uint32_t ev_no;      /* events decoded in CUR */
	size_t pos;          /* decode position in RAW */
	sync_seq skip_below; /* seek target: events before it are skipped */
	struct trace_delta delta;
	uint8_t *raw, *stored;
	size_t raw_cap, stored_cap, raw_len;
	ZSTD_DCtx *zd;
	struct trace_arena arena;
	int err_code;        /* sticky until a seek */
	char err[TRACE_ERR_MAX];
};

/* Reads LEN bytes at OFF; -EIO with no partial result when short. */
int trace_src_read(struct trace_reader *r, uint64_t off, void *buf, size_t len);
/* Reads the payload of frame F at OFF into r->stored and checks its
 * checksum.  Returns NULL or a static reason. */
const char *trace_payload_check(struct trace_reader *r, const struct trace_frame *f,
				uint64_t off);
/* Reads and checks the payload of frame F at OFF into r->stored and, when
 * F is compressed, decompresses it into r->raw.  *OUT, *OUTLEN: the plain
 * payload.  Returns NULL or a static reason. */
const char *trace_payload_load(struct trace_reader *r, const struct trace_frame *f,
			       uint64_t off, const uint8_t **out, size_t *outlen);
/* Grows *BUF to hold N bytes (N already bounded by the caller). */
int trace_buf_reserve(uint8_t **buf, size_t *cap, size_t n);

#endif
