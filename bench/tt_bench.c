/* Time-travel benchmark: latency of step back and of reverse-continue on a
 * long recording, checkpoint memory against guest RAM, the cost of one
 * checkpoint, and the rate of a backward scan against the replay rate
 * (what bounds reverse-continue).  Prints figures measured in one run.
 *
 *   tt_bench KERNEL TRACE [SAMPLES]
 *
 * KERNEL must have a `dot` symbol hit now and then (tests/e2e/kernels/
 * spin.elf: once every 1024 rounds); bench/tt_bench.sh records it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay/checkpoint.h"
#include "replay/replayer.h"
#include "replay/session.h"
#include "replay/timeline.h"
#include "trace-format/trace.h"
#include "util/hostclock.h"
#include "vmm/elf.h"
#include "vmm/mapfile.h"

static int cmp_ns(const void *a, const void *b)
{
	host_ns x = *(const host_ns *)a, y = *(const host_ns *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, host_ns *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_ns);
	printf("%-40s median %7.2f ms, p95 %7.2f ms (%u samples)\n", what, v[n / 2] / 1e6,
	       v[n * 95 / 100] / 1e6, n);
}

/* Progress of a backward scan: stops it once it covered a quarter. */
static void stop_after_quarter(void *ctx, uint64_t done, uint64_t total)
{
	if (done >= total / 4)
		tl_interrupt(ctx);
}

static uint64_t symbol(const char *path, const char *name)
{
	struct elf_file f;
	const uint8_t *buf;
	const char *why;
	char msg[300];
	uint64_t v = 0;
	size_t len;

	if (mapfile_open(path, &buf, &len, msg, sizeof(msg)) < 0)
		return 0;
	if (elf_open(&f, buf, len, &why) == 0)
		elf_symbol(&f, name, &v);
	mapfile_close(buf, len);
	return v;
}

static int open_replay(struct rr_session **s, struct trace_reader **rd, const char *kernel,
		       const char *trace)
{
	struct trace_error err;
	const struct trace_header *h;
	struct machine_config cfg;
	enum machine_init_error kind;
	char msg[400];

	if (trace_reader_open(rd, trace, &err) < 0) {
		fprintf(stderr, "tt_bench: %s\n", err.msg);
		return -1;
	}
	h = trace_reader_header(*rd);
	cfg = (struct machine_config){ .kernel_path = kernel, .cmdline = h->cmdline,
				       .cmdline_verbatim = true, .ram_size = h->guest_mem_bytes,
				       .serial_out = fopen("/dev/null", "w"), .serial_in_fd = -1,
				       .rtc_epoch = h->rtc_epoch_sec };
	if (rr_session_open(s, &cfg, &kind, msg, sizeof(msg)) < 0 ||
	    rpl_check_header(h, *s, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "tt_bench: %s\n", msg);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct rr_session *s = NULL;
	struct timeline *t = tl_new();
	const struct ckpt_stats *ck;
	struct trace_reader *rd;
	unsigned n = argc > 3 ? (unsigned)atoi(argv[3]) : 40, seed = 1;
	host_ns *lat, t0;
	double replay_rate, scan_rate;
	struct tl_stop st;
	uint64_t dot, start;

	if (argc < 3) {
		fprintf(stderr, "usage: tt_bench KERNEL TRACE [SAMPLES]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0); /* results as they come: runs are long */
	lat = calloc(n, sizeof(*lat));
	dot = symbol(argv[1], "dot");
	start = symbol(argv[1], "_start");
	if (!t || !lat || !dot || !start || open_replay(&s, &rd, argv[1], argv[2]) < 0 || tl_open(t, s, rd) < 0)
		return 1;
	t0 = host_now();
	if (tl_goto(t, (struct tl_pos){ tl_end_sync(t), 0 }) < 0) {
		fprintf(stderr, "tt_bench: %s (stop reason %d)\n", tl_error(t), (int)st.why);
		return 1;
	}
	replay_rate = tl_end_sync(t) / ((host_now() - t0) / 1e9);
	printf("replay to the end with checkpoints: %.2f s, %llu sync points (%.0f per s)\n",
	       (host_now() - t0) / 1e9, (unsigned long long)tl_end_sync(t), replay_rate);
	ck = ckpt_store_stats(tl_checkpoints(t));
	printf("checkpoints: %u, %.1f MiB = %.2f x guest RAM (budget 2.00), one take %.2f ms\n",
	       ck->count, ck->bytes / 1048576.0, (double)ck->bytes / trace_reader_header(rd)->guest_mem_bytes,
	       ck->takes ? ck->take_ns / 1e6 / ck->takes : 0.0);
	for (unsigned i = 0; i < n; i++) {
		sync_seq at = 1 + (sync_seq)rand_r(&seed) % (tl_end_sync(t) - 1);

		if (tl_goto(t, (struct tl_pos){ at, 0 }) < 0)
			goto fail;
		t0 = host_now();
		if (tl_step(t, true, &st) < 0)
			goto fail;
		lat[i] = host_now() - t0;
	}
	report("step back", lat, n);
	tl_goto(t, (struct tl_pos){ tl_end_sync(t), 0 });
	tl_break_insert(t, dot);
	for (unsigned i = 0; i < n; i++) {
		t0 = host_now();
		if (tl_continue(t, true, &st) < 0 || st.why != TL_STOP_BREAKPOINT)
			goto fail;
		lat[i] = host_now() - t0;
	}
	report("reverse-continue to the previous dot", lat, n);
	/* What bounds reverse-continue: the rate of a backward scan with a
	 * breakpoint armed (at _start, which runs once at boot), over the last
	 * quarter of the trace. */
	tl_break_remove(t, dot);
	tl_break_insert(t, start);
	if (tl_goto(t, (struct tl_pos){ tl_end_sync(t), 0 }) < 0)
		goto fail;
	tl_set_progress(t, stop_after_quarter, t);
	t0 = host_now();
	if (tl_continue(t, true, &st) < 0 || st.why != TL_STOP_INTERRUPTED)
		goto fail;
	scan_rate = (tl_end_sync(t) - st.pos.sync) / ((host_now() - t0) / 1e9);
	printf("backward scan with a breakpoint armed: %.0f sync points per s = %.2f x replay\n",
	       scan_rate, scan_rate / replay_rate);
	return 0;
fail:
	fprintf(stderr, "tt_bench: %s (stop reason %d)\n", tl_error(t), (int)st.why);
	return 1;
}
