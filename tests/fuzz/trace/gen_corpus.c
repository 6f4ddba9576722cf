/* Writes the seed corpus of the trace fuzzer: small valid traces of
 * several shapes, and (with a second argument) hand-forged hostile inputs
 * for regressions/: lengths and offsets at their limits with checksums
 * that check out.  Usage: trace_fuzz_corpus CORPUS_DIR [REGRESSIONS_DIR].
 * The output is checked in; rerun after a format change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "tests/trace/gen.h"
#include "trace-format/format.h"

static int put_file(const char *dir, const char *name, const uint8_t *a, size_t alen,
		    const uint8_t *b, size_t blen)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	fwrite(a, 1, alen, f);
	if (blen)
		fwrite(b, 1, blen, f);
	return fclose(f);
}

/* BASE is a valid trace of header only (no chunks, no end). */
static int forge(const char *dir, const uint8_t *base, size_t blen)
{
	uint8_t *buf = malloc(blen + 4096), fh[TRACE_FRAME_HDR_LEN], foot[TRACE_FOOTER_LEN];
	struct trace_frame f = { .kind = TRACE_FRAME_CHUNK, .count = 1, .first_sync = 1,
				 .last_sync = 1, .codec = TRACE_CODEC_ZSTD };
	struct trace_footer ft = { UINT64_MAX - 7, 1 };
	size_t zcap = ZSTD_compressBound(TRACE_CHUNK_RAW_MAX), zlen;
	uint8_t *zeros = calloc(1, TRACE_CHUNK_RAW_MAX), *z = malloc(zcap);
	int ret = 0;

	if (!buf || !zeros || !z)
		return -1;
	/* Header length of 4 GiB. */
	memcpy(buf, base, blen);
	trace_put_le(buf + 12, UINT32_MAX, 4);
	ret |= put_file(dir, "huge-header-len.trace", buf, blen, NULL, 0);
	/* A chunk frame claiming 4 GiB payloads, header checksum valid. */
	f.stored_len = f.raw_len = UINT32_MAX;
	trace_frame_encode(&f, fh);
	ret |= put_file(dir, "huge-frame-len.trace", base, blen, fh, sizeof(fh));
	/* A footer pointing past the end of the file. */
	trace_footer_encode(&ft, foot);
	ret |= put_file(dir, "footer-offset-past-eof.trace", base, blen, foot, sizeof(foot));
	/* 16 MiB of zeros in a few hundred bytes: the largest legal chunk,
	 * decoding to events of length 0. */
	zlen = ZSTD_compress(z, zcap, zeros, TRACE_CHUNK_RAW_MAX, 19);
	f.raw_len = TRACE_CHUNK_RAW_MAX;
	f.stored_len = (uint32_t)zlen;
	f.count = TRACE_CHUNK_RAW_MAX / 3;
	f.payload_xxh64 = XXH64(z, zlen, 0);
	trace_frame_encode(&f, fh);
	memcpy(buf, fh, sizeof(fh));
	memcpy(buf + sizeof(fh), z, zlen);
	ret |= put_file(dir, "zero-bomb-chunk.trace", base, blen, NULL, 0);
	{
		char path[512];
		FILE *o;
		snprintf(path, sizeof(path), "%s/zero-bomb-chunk.trace", dir);
		o = fopen(path, "ab");
		if (!o)
			return -1;
		fwrite(buf, 1, sizeof(fh) + zlen, o);
		ret |= fclose(o);
	}
	free(buf);
	free(zeros);
	free(z);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; unsigned n, chunk; int end; } seeds[] = {
		{ "complete-3-events", 3, 0, 1 },
		{ "complete-every-kind", 16, 0, 1 },
		{ "complete-many-chunks", 40, 96, 1 },
		{ "no-end-record", 24, 128, 0 },
		{ "empty", 0, 0, 1 },
	};
	char path[512];

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: %s CORPUS_DIR [REGRESSIONS_DIR]\n", argv[0]);
		return 2;
	}
	for (unsigned i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.trace", argv[1], seeds[i].name);
		if (gen_trace(path, seeds[i].n, seeds[i].chunk, seeds[i].end)) {
			fprintf(stderr, "%s: failed\n", path);
			return 1;
		}
	}
	/* A truncated one: the many-chunk trace cut inside its fifth chunk. */
	snprintf(path, sizeof(path), "%s/complete-many-chunks.trace", argv[1]);
	{
		char cut[512];
		FILE *in = fopen(path, "rb"), *out;
		char buf[700];
		size_t n;

		snprintf(cut, sizeof(cut), "%s/truncated.trace", argv[1]);
		out = fopen(cut, "wb");
		if (!in || !out)
			return 1;
		n = fread(buf, 1, sizeof(buf), in);
		fwrite(buf, 1, n, out);
		fclose(in);
		fclose(out);
	}
	if (argc == 3) {
		size_t len;
		uint8_t *base;
		snprintf(path, sizeof(path), "%s/.base.trace", argv[2]);
		if (gen_trace(path, 0, 0, 0))
			return 1;
		base = gen_slurp(path, &len);
		unlink(path);
		if (!base || forge(argv[2], base, len))
			return 1;
		free(base);
	}
	return 0;
}
