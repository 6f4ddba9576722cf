/* Trace write/read throughput and bytes per event (a benchmark, not a
 * test).  Usage: trace_bench [EVENTS] [DIR].  Two event mixes:
 *   boot  - what a guest kernel's boot and timer loop produce: mostly UART
 *           status and PIT reads from a few sites, TSC reads advancing a
 *           few thousand ticks, timer interrupts, a register checkpoint
 *           every 1000 sync points;
 *   noise - the same kinds with uniformly random values and RIPs, the
 *           worst case for delta encoding and zstd. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "trace-format/trace.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct mixer {
	int noise;
	sync_seq sync;
	vtsc tsc;
	uint8_t pit;
	uint8_t data[8];
};

static const uint64_t sites[8] = {
	0xffffffff81001230, 0xffffffff81001244, 0xffffffff810a0010, 0xffffffff810a0038,
	0xffffffff81200400, 0xffffffff81200468, 0xffffffff81310000, 0xffffffff81310100,
};

static void next_event(struct mixer *m, struct trace_event *ev)
{
	unsigned pick = (unsigned)(rng() % 1000);

	memset(ev, 0, sizeof(*ev));
	m->sync += 1;
	ev->sync = m->sync;
	ev->rip = m->noise ? rng() : sites[pick % 8];
	if (m->sync % 1000 == 0) {
		ev->kind = TRACE_EV_REG_CHECKPOINT;
		ev->u.reg_checkpoint.reg_hash = rng();
		ev->u.reg_checkpoint.vclock = m->tsc / 3;
	} else if (pick < 400) {
		ev->kind = TRACE_EV_PORT_READ;
		ev->u.port_read.port = 0x3fd;
		ev->u.port_read.size = 1;
		ev->u.port_read.value = m->noise ? (uint32_t)(rng() & 0xff) : (pick % 50 ? 0x60 : 0x61);
	} else if (pick < 550) {
		ev->kind = TRACE_EV_PORT_READ;
		ev->u.port_read.port = 0x40;
		ev->u.port_read.size = 1;
		m->pit = (uint8_t)(m->pit - 3);
		ev->u.port_read.value = m->noise ? (uint32_t)(rng() & 0xff) : m->pit;
	} else if (pick < 700) {
		ev->kind = TRACE_EV_TSC_READ;
		m->tsc += m->noise ? rng() >> 20 : 2000 + rng() % 4000;
		ev->u.tsc_read.value = m->tsc;
		ev->u.tsc_read.source = TRACE_TSC_RDTSC;
	} else if (pick < 800) {
		ev->kind = TRACE_EV_IRQ_INJECT;
		ev->u.irq_inject.vector = m->noise ? (uint8_t)rng() : (pick % 10 ? 0x20 : 0x24);
		m->sync -= 1; /* lands at the sync point of the exit it rides on */
		ev->sync = m->sync;
	} else if (pick < 880) {
		ev->kind = TRACE_EV_MMIO_READ;
		ev->u.mmio_read.gpa = m->noise ? rng() : 0xfed000f0;
		ev->u.mmio_read.size = 4;
		ev->u.mmio_read.value = m->noise ? (uint32_t)rng() : (uint32_t)(m->tsc / 200);
	} else if (pick < 980) {
		ev->kind = TRACE_EV_MSR_READ;
		ev->u.msr_read.index = m->noise ? (uint32_t)rng() : 0x1b;
		ev->u.msr_read.value = m->noise ? rng() : 0xfee00900;
	} else if (pick < 998) {
		ev->kind = TRACE_EV_SERIAL_INPUT;
		m->data[0] = (uint8_t)('a' + rng() % 26);
		ev->u.serial_input.bytes = (struct trace_bytes){ m->data, 1 };
	} else {
		uint64_t v = rng();
		memcpy(m->data, &v, 8);
		ev->kind = TRACE_EV_CODE_WRITE;
		ev->u.code_write.gpa = 0x100000 + (rng() & 0xffff);
		ev->u.code_write.bytes = (struct trace_bytes){ m->data, 4 };
	}
}

static int run(const char *mix, int noise, uint64_t n, const char *dir)
{
	static const struct trace_kv probe[] = { { "bench", "1" } };
	struct trace_header h = { .rrvm_version = "bench", .guest_mem_bytes = 64 << 20,
				  .host_probe = probe, .nhost_probe = 1 };
	struct trace_end end = { .reason = TRACE_END_DEBUG_EXIT };
	struct mixer m = { .noise = noise, .tsc = 1000000 };
	struct trace_writer *w;
	struct trace_reader *r;
	struct trace_event ev;
	struct trace_error err;
	const struct trace_info *inf;
	char path[512];
	double t0, tw, tr;
	uint64_t got = 0;

	snprintf(path, sizeof(path), "%s/trace_bench.%d.trace", dir, (int)getpid());
	if (trace_writer_open(&w, path, &h, NULL, &err)) {
		fprintf(stderr, "trace_bench: %s\n", err.msg);
		return 1;
	}
	t0 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		next_event(&m, &ev);
		if (trace_writer_append(w, &ev)) {
			fprintf(stderr, "trace_bench: %s\n", trace_writer_error(w));
			return 1;
		}
	}
	end.total_sync = m.sync;
	if (trace_writer_close(w, &end))
		return 1;
	tw = now_s() - t0;

	t0 = now_s();
	if (trace_reader_open(&r, path, &err)) {
		fprintf(stderr, "trace_bench: %s\n", err.msg);
		return 1;
	}
	while (trace_reader_next(r, &ev) == 1)
		got++;
	tr = now_s() - t0;
	inf = trace_reader_info(r);
	if (got != n) {
		fprintf(stderr, "trace_bench: read %llu of %llu events: %s\n",
			(unsigned long long)got, (unsigned long long)n, trace_reader_error(r));
		return 1;
	}
	printf("%-5s %10llu events  write %6.2f M events/s  read %6.2f M events/s  "
	       "%5.2f bytes/event in file (%5.2f encoded, zstd ratio %4.1f)  %u chunks\n",
	       mix, (unsigned long long)n, (double)n / tw / 1e6, (double)n / tr / 1e6,
	       (double)inf->file_bytes / (double)n, (double)inf->raw_bytes / (double)n,
	       (double)inf->raw_bytes / (double)inf->stored_bytes, inf->nchunks);
	trace_reader_close(r);
	unlink(path);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 5000000;
	const char *dir = argc > 2 ? argv[2] : "/tmp";

	if (!n) {
		fprintf(stderr, "usage: trace_bench [EVENTS] [DIR]\n");
		return 2;
	}
	return run("boot", 0, n, dir) || run("noise", 1, n, dir);
}
