#include "tests/trace/gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct trace_file_hash gen_files[] = {
	{ "samples/hello.elf", 0x0123456789abcdefull, 12345, TRACE_FILE_KERNEL, NULL },
	{ "initrd.img", UINT64_MAX, 0, TRACE_FILE_INITRD, NULL },
	{ "env.txt", 1, 22, TRACE_FILE_MODULE, "env.txt NR_CPUS=1" },
	{ "env2.txt", 2, 1, TRACE_FILE_MODULE, NULL },
};
static const struct trace_cpuid_entry gen_cpuid[] = {
	{ 0, 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69, 0 },
	{ 1, 0, 0x306c3, 0x100800, 0x7ffafbbf & ~(1u << 30), 0xbfebfbff, 0 },
	{ 7, 0, 0, 0x27ab, 0, 0x9c000400, 1 },
	{ 0x80000001, 0, 0, 0, 0x21, 0x2c100800, 0 },
};
static const struct trace_kv gen_probe[] = {
	{ "tsc_trap", "out_imm8" },
	{ "singlestep_ring3", "yes" },
	{ "empty", "" },
};
static const struct trace_header gen_hdr = {
	.rrvm_version = "0.1.0-test",
	.guest_mem_bytes = 64ull << 20,
	.files = gen_files,
	.nfiles = 4,
	.initial_memory_xxh64 = 0xfeedfacecafebeefull,
	.cmdline = "console=ttyS0 quiet",
	.cpuid = gen_cpuid,
	.ncpuid = 4,
	.host_probe = gen_probe,
	.nhost_probe = 3,
	.start_unix_ns = 1700000000123456789ull,
	.irq_policy = "exact-sync",
	.irq_controller = "apic",
	.rtc_epoch_sec = -12345,
	.tsc_khz = 2400000,
	.chaos = { true, 0xfedcba9876543210ull, 8, 2000000, 999999999, 64, 200000 },
};

const struct trace_header *gen_header(void)
{
	return &gen_hdr;
}

const struct trace_end *gen_end(uint64_t nevents)
{
	static struct trace_end e;

	e = (struct trace_end){ .reason = TRACE_END_DEBUG_EXIT, .status = 0x21,
				.final_rip = 0x100123, .final_state_hash = 0x1122334455667788ull,
				.total_sync = nevents * 2 + 5, .duration = 1234567890,
				.host_duration = 2345678901, .message = "guest wrote 0x10 to 0xf4",
				.place = TRACE_PLACE_IN_HLT };
	return &e;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

void gen_event(uint64_t i, struct trace_event *ev, uint8_t *buf)
{
	uint64_t h = mix(i + 1);
	static const uint8_t sizes[] = { 1, 2, 4 };

	memset(ev, 0, sizeof(*ev));
	ev->sync = i + i / 3;    /* some sync points carry two events */
	ev->rip = i % 17 == 5 ? UINT64_MAX - (h & 0xff) : 0xffffffff81000000ull + (h & 0xffff);
	if (i % 29 == 0)
		ev->rip = 0;
	switch (i % 9) {
	case 0:
		ev->kind = TRACE_EV_PORT_READ;
		ev->u.port_read.port = (uint16_t)(i % 5 == 0 ? 0xffff : 0x3f8 + (h & 7));
		ev->u.port_read.size = sizes[h % 3];
		ev->u.port_read.value = (uint32_t)(h >> 8) &
					(uint32_t)((1ull << (8 * ev->u.port_read.size)) - 1);
		break;
	case 1:
		ev->kind = TRACE_EV_MMIO_READ;
		ev->u.mmio_read.gpa = 0xfee00000ull + (h & 0xff0);
		ev->u.mmio_read.size = 8;
		ev->u.mmio_read.value = h;
		break;
	case 2:
		ev->kind = TRACE_EV_IRQ_INJECT;
		ev->u.irq_inject.vector = (uint8_t)(i % 3 == 0 ? 0 : (i % 3 == 1 ? 255 : 0x20));
		ev->u.irq_inject.lateness = i % 4 == 0 ? 0 : i % 4 == 1 ? UINT64_MAX : h % 5000000;
		ev->u.irq_inject.at_landmark = i % 5 == 1;
		break;
	case 3:
		ev->kind = TRACE_EV_TSC_READ;
		/* Mostly increasing, sometimes backwards (guest WRMSR). */
		ev->u.tsc_read.value = i % 11 == 3 ? h : 1000000000ull + i * 3000;
		ev->u.tsc_read.source = (enum trace_tsc_source)(1 + h % 3);
		ev->u.tsc_read.aux = ev->u.tsc_read.source == TRACE_TSC_RDTSCP ? (uint32_t)i : 0;
		break;
	case 4:
		ev->kind = TRACE_EV_MSR_READ;
		ev->u.msr_read.index = i % 2 ? 0xc0000080u : 0x1b;
		ev->u.msr_read.value = h;
		break;
	case 5: {
		uint32_t n = 1 + (uint32_t)(h % 7);
		if (i % 40 == 5)
			n = TRACE_DATA_MAX;
		for (uint32_t k = 0; k < n; k++)
			buf[k] = (uint8_t)(h >> (k % 8) ^ k);
		ev->kind = TRACE_EV_SERIAL_INPUT;
		ev->u.serial_input.bytes = (struct trace_bytes){ buf, n };
		break;
	}
	case 6: {
		uint32_t n = 1 + (uint32_t)(h % 16);
		for (uint32_t k = 0; k < n; k++)
			buf[k] = (uint8_t)(0x90 + k);
		ev->kind = TRACE_EV_CODE_WRITE;
		ev->u.code_write.gpa = 0x100000 + (h & 0xfff);
		ev->u.code_write.bytes = (struct trace_bytes){ buf, n };
		break;
	}
	case 7:
		ev->kind = TRACE_EV_REG_CHECKPOINT;
		ev->u.reg_checkpoint.reg_hash = h;
		ev->u.reg_checkpoint.vclock = i * 1000;
		/* Every third without registers (a 1.0 trace's); the others
		 * change some registers and keep the rest, with extremes. */
		ev->u.reg_checkpoint.has_regs = (i / 9) % 3 != 0;
		for (unsigned r = 0; r < TRACE_NREGS && ev->u.reg_checkpoint.has_regs; r++)
			ev->u.reg_checkpoint.regs[r] = (h >> r) & 1 ? (r % 2 ? UINT64_MAX : 0)
								  : r * 0x1000 + (i & ~7ull);
		break;
	default:
		if (i % 18 == 17) {
			ev->kind = TRACE_EV_LANDMARK;
			for (unsigned k = 0; k < TRACE_LANDMARK_NREGS; k++)
				ev->u.landmark.regs[k] = k % 3 == 0 ? 0 : h * (k + 1);
			ev->u.landmark.state_hash = i % 4 ? h : 0;
			ev->u.landmark.page_hash = ~h;
			break;
		}
		ev->kind = TRACE_EV_CLOCK;
		ev->u.clock.value = i % 5 == 0 ? UINT64_MAX - h % 1000 : i * 997;
		break;
	}
}

static int bytes_cmp(const struct trace_bytes *a, const struct trace_bytes *b)
{
	return a->len != b->len || memcmp(a->data, b->data, a->len);
}

int gen_event_cmp(const struct trace_event *a, const struct trace_event *b)
{
	if (a->kind != b->kind || a->sync != b->sync || a->rip != b->rip)
		return 1;
	switch (a->kind) {
	case TRACE_EV_PORT_READ:
		return a->u.port_read.port != b->u.port_read.port ||
		       a->u.port_read.size != b->u.port_read.size ||
		       a->u.port_read.value != b->u.port_read.value;
	case TRACE_EV_MMIO_READ:
		return a->u.mmio_read.gpa != b->u.mmio_read.gpa ||
		       a->u.mmio_read.size != b->u.mmio_read.size ||
		       a->u.mmio_read.value != b->u.mmio_read.value;
	case TRACE_EV_IRQ_INJECT:
		return a->u.irq_inject.vector != b->u.irq_inject.vector ||
		       a->u.irq_inject.lateness != b->u.irq_inject.lateness ||
		       a->u.irq_inject.at_landmark != b->u.irq_inject.at_landmark;
	case TRACE_EV_LANDMARK:
		return memcmp(a->u.landmark.regs, b->u.landmark.regs, sizeof(a->u.landmark.regs)) ||
		       a->u.landmark.state_hash != b->u.landmark.state_hash ||
		       a->u.landmark.page_hash != b->u.landmark.page_hash;
	case TRACE_EV_TSC_READ:
		return a->u.tsc_read.value != b->u.tsc_read.value ||
		       a->u.tsc_read.source != b->u.tsc_read.source ||
		       a->u.tsc_read.aux != b->u.tsc_read.aux;
	case TRACE_EV_MSR_READ:
		return a->u.msr_read.index != b->u.msr_read.index ||
		       a->u.msr_read.value != b->u.msr_read.value;
	case TRACE_EV_SERIAL_INPUT:
		return bytes_cmp(&a->u.serial_input.bytes, &b->u.serial_input.bytes);
	case TRACE_EV_CODE_WRITE:
		return a->u.code_write.gpa != b->u.code_write.gpa ||
		       bytes_cmp(&a->u.code_write.bytes, &b->u.code_write.bytes);
	case TRACE_EV_REG_CHECKPOINT:
		return a->u.reg_checkpoint.reg_hash != b->u.reg_checkpoint.reg_hash ||
		       a->u.reg_checkpoint.vclock != b->u.reg_checkpoint.vclock ||
		       a->u.reg_checkpoint.has_regs != b->u.reg_checkpoint.has_regs ||
		       (a->u.reg_checkpoint.has_regs &&
			memcmp(a->u.reg_checkpoint.regs, b->u.reg_checkpoint.regs,
			       sizeof(a->u.reg_checkpoint.regs)));
	case TRACE_EV_CLOCK:
		return a->u.clock.value != b->u.clock.value;
	default:
		return 1;
	}
}

int gen_trace(const char *path, uint64_t n, uint32_t chunk_bytes, int with_end)
{
	struct trace_writer_opts o = { .chunk_bytes = chunk_bytes };
	struct trace_writer *w;
	struct trace_event ev;
	static uint8_t buf[TRACE_DATA_MAX];
	int ret = trace_writer_open(&w, path, gen_header(), &o, NULL);

	if (ret)
		return ret;
	for (uint64_t i = 0; i < n && !ret; i++) {
		gen_event(i, &ev, buf);
		ret = trace_writer_append(w, &ev);
	}
	if (ret) {
		trace_writer_abandon(w);
		return ret;
	}
	if (!with_end) {
		ret = trace_writer_flush(w);
		trace_writer_abandon(w);
		return ret;
	}
	return trace_writer_close(w, gen_end(n));
}

uint8_t *gen_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}
