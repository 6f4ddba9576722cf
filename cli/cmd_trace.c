/* `rrvm info TRACE` and `rrvm dump TRACE`: read-only views of a trace. */
#include "cli/cmd_trace.h"


#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "trace-format/trace.h"

static const char info_usage[] =
	"usage: rrvm info [--help] TRACE\n"
	"Summarizes a trace: header, duration, events by kind, chunks, size and\n"
	"compression, and whether it is complete or up to which sync point a\n"
	"truncated one can be replayed.  Every chunk's checksum is verified.\n"
	"Exit status: 0 complete, 20 truncated, corrupt or unreadable, 2 usage.\n";

static const char dump_usage[] =
	"usage: rrvm dump [--help] [--from N] [--to N] [--json] TRACE\n"
	"Prints the events of a trace, one per line, in file order.\n"
	"  --from N   start at the first event at or after sync point N\n"
	"  --to N     stop after the last event at or before sync point N\n"
	"  --json     one JSON object per line (numbers exact, 64-bit unsigned;\n"
	"             data as hex strings); the end record is {\"kind\":\"end\",...}\n"
	"Exit status: 0 complete, 20 truncated, corrupt or unreadable, 2 usage.\n";

/* One line for a bad option or argument WHAT (NULL: a missing TRACE).
 * cli_bad_option lives in main.c, which the unit test does not link. */
static int trace_bad_usage(const char *cmd, const char *what)
{
	if (what)
		fprintf(stderr, "rrvm: %s: bad option or value: '%s' (see rrvm %s --help)\n", cmd,
			what, cmd);
	else
		fprintf(stderr, "rrvm: %s: expected one TRACE (see rrvm %s --help)\n", cmd, cmd);
	return CLI_ERR_USAGE;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	if (!*s || *s == '-')
		return -1;
	*out = strtoull(s, &end, 0);
	return errno || *end ? -1 : 0;
}

/* Prints S with everything outside printable ASCII escaped: header strings
 * come from the file and must not drive the terminal. */
static void put_safe(FILE *f, const char *s, int json)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (json && (c == '"' || c == '\\'))
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, json ? "\\u%04x" : "\\x%02x", c);
		else
			fputc(c, f);
	}
}

static void human_bytes(char *buf, size_t cap, uint64_t n)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

static int open_trace(const char *path, struct trace_reader **r, FILE *errf)
{
	struct trace_error err;

	if (trace_reader_open(r, path, &err)) {
		fprintf(errf, "rrvm: %s\n", err.msg);
		return CLI_ERR_TRACE;
	}
	return CLI_OK;
}

static void info_header(FILE *f, const char *path, const struct trace_header *h)
{
	char when[64] = "unknown", mem[32];
	time_t t = (time_t)(h->start_unix_ns / 1000000000u);
	struct tm tm;

	if (h->start_unix_ns && gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	human_bytes(mem, sizeof(mem), h->guest_mem_bytes);
	fprintf(f, "trace:        %s\n", path);
	fprintf(f, "format:       %u.%u, recorded by rrvm ", h->format_major, h->format_minor);
	put_safe(f, h->rrvm_version, 0);
	fprintf(f, "\nrecorded:     %s\n", when);
	fprintf(f, "guest memory: %s (%" PRIu64 " bytes), initial image xxh64 %016" PRIx64 "\n",
	       mem, h->guest_mem_bytes, h->initial_memory_xxh64);
	for (uint32_t i = 0; i < h->nfiles; i++) {
		bool mod = h->files[i].role == TRACE_FILE_MODULE;

		fprintf(f, mod ? "module:       " : "file:         ");
		put_safe(f, h->files[i].path, 0);
		fprintf(f, " (%" PRIu64 " bytes, xxh64 %016" PRIx64 ")", h->files[i].size_bytes,
		       h->files[i].xxh64);
		if (mod) {
			fprintf(f, ", command line \"");
			put_safe(f, h->files[i].cmdline, 0);
			fputc('"', f);
		}
		fputc('\n', f);
	}
	fprintf(f, "cmdline:      \"");
	put_safe(f, h->cmdline, 0);
	fprintf(f, "\"\ncpuid:        %u entries\nirq policy:   ", h->ncpuid);
	put_safe(f, h->irq_policy, 0);
	fprintf(f, "\ninterrupts:   ");
	put_safe(f, *h->irq_controller ? h->irq_controller : "pic", 0);
	fprintf(f, !strcmp(h->irq_controller, "apic")
			   ? " (local APIC at 0xfee00000, IOAPIC at 0xfec00000, 8259 pair behind them)"
			   : " (8259 pair, no local APIC)");
	fprintf(f, "\nguest clocks: RTC from %" PRId64 " s since 1970, TSC at %u kHz", h->rtc_epoch_sec,
	       h->tsc_khz);
	fprintf(f, "\nmachine:      ISA PC%s; interrupts at guest exits%s; CPUID %s", h->fw_cfg ?
		", fw_cfg" : "", h->irq_window ? " and interrupt windows" : "",
		*h->cpuid_rewritten ? "leaves rewritten by KVM: " : "as rrvm's table");
	put_safe(f, h->cpuid_rewritten, 0);
	if (h->host_cpu_hash)
		fprintf(f, "; ring-3 CPUID from the host CPU (pinned, CPUID hash %#" PRIx64 ")",
			h->host_cpu_hash);
	if (h->chaos.on)
		fprintf(f, "\nchaos:        seed %#" PRIx64 ", interrupts held back up to %u sync points"
			" or %" PRIu64 " us, clock phase %" PRIu64 " ns, serial gaps up to %u sync points",
			h->chaos.seed, h->chaos.irq_late_sync, h->chaos.irq_late_ns / 1000,
			h->chaos.clock_phase_ns, h->chaos.serial_gap_sync);
	if (h->chaos.on && h->chaos.kick_late_ns)
		fprintf(f, ", exit-free code kicked 0-%" PRIu64 " us past a deadline",
			h->chaos.kick_late_ns / 1000);
	if (!h->chaos.on)
		fprintf(f, "\nchaos:        off");
	fprintf(f, "\nhost probe:  ");
	for (uint32_t i = 0; i < h->nhost_probe; i++) {
		fputc(' ', f);
		put_safe(f, h->host_probe[i].key, 0);
		fputc('=', f);
		put_safe(f, h->host_probe[i].value, 0);
	}
	fputc('\n', f);
}

/* Latest guest virtual time known from the last chunk's clocks and
 * checkpoints. */
static int last_vclock(struct trace_reader *r, const struct trace_info *inf, vclock_ns *out)
{
	struct trace_chunk_info c;
	struct trace_event ev;
	int found = 0;

	if (!inf->nchunks || trace_reader_chunk(r, inf->nchunks - 1, &c))
		return 0;
	trace_reader_seek(r, c.first_sync);
	while (trace_reader_next(r, &ev) == 1) {
		if (ev.kind == TRACE_EV_REG_CHECKPOINT) {
			*out = ev.u.reg_checkpoint.vclock;
			found = 1;
		} else if (ev.kind == TRACE_EV_CLOCK) {
			*out = ev.u.clock.value;
			found = 1;
		}
	}
	trace_reader_seek(r, 0);
	return found;
}

static void info_body(FILE *f, struct trace_reader *r, const struct trace_info *inf,
		      const struct trace_end *e, int counted, const uint64_t *counts)
{
	char fsz[32];
	vclock_ns vc;

	if (e) {
		fprintf(f, "end:          %s status %d %s %" PRIu64 ", rip 0x%" PRIx64 ", %s xxh64 %016"
			PRIx64, trace_end_reason_name(e->reason), e->status,
			trace_end_place_name(e->place), e->total_sync, e->final_rip,
			e->place == TRACE_PLACE_CUT ? "its registers" : "final state",
			e->final_state_hash);
		if (e->message && *e->message) {
			fprintf(f, " (");
			put_safe(f, e->message, 0);
			fputc(')', f);
		}
		fprintf(f, "\nduration:     %.3f s virtual, %.3f s host, %" PRIu64 " sync points\n",
		       (double)e->duration / 1e9, (double)e->host_duration / 1e9, e->total_sync);
	} else if (last_vclock(r, inf, &vc)) {
		fprintf(f, "duration:     at least %.3f s virtual (last checkpoint), %" PRIu64
		       " sync points\n", (double)vc / 1e9, inf->nchunks ? inf->last_sync : 0);
	} else {
		fprintf(f, "duration:     unknown (no end record, no checkpoint in the last chunk)\n");
	}
	fprintf(f, "events:       %" PRIu64, inf->events);
	if (counted) {
		const char *sep = " (";
		for (int k = 0; k < TRACE_EV__MAX; k++) {
			if (!counts[k])
				continue;
			fprintf(f, "%s%s %" PRIu64, sep, trace_event_kind_name((enum trace_event_kind)k),
			       counts[k]);
			sep = ", ";
		}
		if (strcmp(sep, " ("))
			fputc(')', f);
	}
	fprintf(f, "\nchunks:       %u%s\n", inf->nchunks,
	       inf->has_index ? "" : " (index rebuilt by scanning)");
	human_bytes(fsz, sizeof(fsz), inf->file_bytes);
	fprintf(f, "size:         %s (%" PRIu64 " bytes); events %" PRIu64 " bytes raw, %" PRIu64
	       " compressed",
	       fsz, inf->file_bytes, inf->raw_bytes, inf->stored_bytes);
	if (inf->stored_bytes)
		fprintf(f, ", ratio %.2f", (double)inf->raw_bytes / (double)inf->stored_bytes);
	if (inf->events)
		fprintf(f, ", %.2f bytes/event", (double)inf->stored_bytes / (double)inf->events);
	fputc('\n', f);
}

static int lateness_cmp(const void *a, const void *b)
{
	vclock_ns x = *(const vclock_ns *)a, y = *(const vclock_ns *)b;

	return x < y ? -1 : x > y;
}

/* Interrupt lateness over every injection (one pass over the events):
 * how long after its line rose each interrupt reached the guest, in
 * virtual time, and how many landed at landmarks. */
static void info_lateness(FILE *f, struct trace_reader *r)
{
	vclock_ns *v = NULL;
	size_t n = 0, cap = 0, at_lm = 0;
	struct trace_event ev;

	trace_reader_seek(r, 0);
	while (trace_reader_next(r, &ev) == 1) {
		if (ev.kind != TRACE_EV_IRQ_INJECT)
			continue;
		if (n == cap) {
			vclock_ns *nv = realloc(v, (cap ? 2 * cap : 1024) * sizeof(*v));
			if (!nv)
				break;
			v = nv;
			cap = cap ? 2 * cap : 1024;
		}
		v[n++] = ev.u.irq_inject.lateness;
		at_lm += ev.u.irq_inject.at_landmark;
	}
	trace_reader_seek(r, 0);
	if (!n) {
		fprintf(f, "interrupts:   none injected\n");
		free(v);
		return;
	}
	qsort(v, n, sizeof(*v), lateness_cmp);
	fprintf(f, "interrupts:   %zu injected, %zu at landmarks; lateness (virtual) median %.3f ms, "
		"p99 %.3f ms, max %.3f ms\n", n, at_lm, (double)v[n / 2] / 1e6,
		(double)v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / 1e6, (double)v[n - 1] / 1e6);
	free(v);
}

static int info_status(FILE *f, const struct trace_reader *r, const struct trace_info *inf)
{
	int complete = inf->has_end && !inf->truncated && !inf->corrupt;
	uint32_t good;
	sync_seq last;
	bool some = trace_reader_replayable(r, &last, &good);

	if (complete) {
		fprintf(f, "status:       complete\n");
		if (inf->damage[0])
			fprintf(f, "note:         %s\n", inf->damage);
	} else {
		fprintf(f, "status:       %s: %s\n", inf->corrupt ? "corrupt" : "truncated",
		       inf->damage[0] ? inf->damage : "no end record");
	}
	if (complete)
		fprintf(f, "replayable:   whole trace, sync points %" PRIu64 "..%" PRIu64 "\n",
		       inf->first_sync, inf->last_sync);
	else if (!some)
		fprintf(f, "replayable:   nothing (%s)\n", good ? "only sync point 0 in the whole chunks"
							     : "no whole chunk");
	else
		fprintf(f, "replayable:   up to sync point %" PRIu64 " (chunks 0..%u)\n", last,
			good - 1);
	return complete ? CLI_OK : CLI_ERR_TRACE;
}

int cli_info_print(FILE *out, FILE *err, const char *path)
{
	struct trace_reader *r;
	uint64_t counts[TRACE_EV__MAX];
	int counted, ret = open_trace(path, &r, err);

	if (ret)
		return ret;
	/* Verify first so that the status below tells the whole truth. */
	(void)trace_reader_verify(r);
	counted = trace_reader_count_kinds(r, counts) == 0;
	info_header(out, path, trace_reader_header(r));
	info_body(out, r, trace_reader_info(r), trace_reader_end(r), counted, counts);
	info_lateness(out, r);
	ret = info_status(out, r, trace_reader_info(r));
	trace_reader_close(r);
	return ret;
}

int cli_info_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(info_usage, stdout);
			return CLI_OK;
		}
		return trace_bad_usage("info", argv[optind - 1]);
	}
	if (argc - optind != 1)
		return trace_bad_usage("info", NULL);
	ret = cli_info_print(stdout, stderr, argv[optind]);
	if (fflush(stdout) || ferror(stdout))
		return CLI_ERR_IO;
	return ret;
}

static void put_hex(const struct trace_bytes *b)
{
	for (uint32_t i = 0; i < b->len; i++)
		printf("%02x", b->data[i]);
}

static void dump_text(const struct trace_event *ev)
{
	char line[TRACE_EVENT_TEXT_MAX];

	trace_event_format(ev, line, sizeof(line));
	puts(line);
}

static void dump_json(const struct trace_event *ev)
{
	printf("{\"sync\":%" PRIu64 ",\"rip\":%" PRIu64 ",\"kind\":\"%s\"", ev->sync, ev->rip,
	       trace_event_kind_name(ev->kind));
	switch (ev->kind) {
	case TRACE_EV_PORT_READ:
		printf(",\"port\":%u,\"size\":%u,\"value\":%u}\n", ev->u.port_read.port,
		       ev->u.port_read.size, ev->u.port_read.value);
		break;
	case TRACE_EV_MMIO_READ:
		printf(",\"gpa\":%" PRIu64 ",\"size\":%u,\"value\":%" PRIu64 "}\n",
		       ev->u.mmio_read.gpa, ev->u.mmio_read.size, ev->u.mmio_read.value);
		break;
	case TRACE_EV_IRQ_INJECT:
		printf(",\"vector\":%u,\"lateness_ns\":%" PRIu64 ",\"at_landmark\":%s}\n",
		       ev->u.irq_inject.vector, ev->u.irq_inject.lateness,
		       ev->u.irq_inject.at_landmark ? "true" : "false");
		break;
	case TRACE_EV_LANDMARK:
		printf(",\"regs\":[");
		for (unsigned i = 0; i < TRACE_LANDMARK_NREGS; i++)
			printf("%s%" PRIu64, i ? "," : "", ev->u.landmark.regs[i]);
		printf("],\"state_hash\":%" PRIu64 ",\"page_hash\":%" PRIu64 "}\n",
		       ev->u.landmark.state_hash, ev->u.landmark.page_hash);
		break;
	case TRACE_EV_TSC_READ:
		printf(",\"value\":%" PRIu64 ",\"source\":\"%s\",\"aux\":%u}\n",
		       ev->u.tsc_read.value, trace_tsc_source_name(ev->u.tsc_read.source),
		       ev->u.tsc_read.aux);
		break;
	case TRACE_EV_MSR_READ:
		printf(",\"msr\":%u,\"value\":%" PRIu64 "}\n", ev->u.msr_read.index,
		       ev->u.msr_read.value);
		break;
	case TRACE_EV_SERIAL_INPUT:
		printf(",\"data\":\"");
		put_hex(&ev->u.serial_input.bytes);
		printf("\"}\n");
		break;
	case TRACE_EV_CODE_WRITE:
		printf(",\"gpa\":%" PRIu64 ",\"data\":\"", ev->u.code_write.gpa);
		put_hex(&ev->u.code_write.bytes);
		printf("\"}\n");
		break;
	case TRACE_EV_CLOCK:
		printf(",\"vclock_ns\":%" PRIu64 "}\n", ev->u.clock.value);
		break;
	default:
		printf(",\"hash\":%" PRIu64 ",\"vclock_ns\":%" PRIu64 "}\n",
		       ev->u.reg_checkpoint.reg_hash, ev->u.reg_checkpoint.vclock);
		break;
	}
}

static void dump_end(const struct trace_end *e, int json)
{
	/* trace.proto EndPlace, as a word for scripts. */
	static const char *const place[] = { "at_sync", "in_hlt", "cut", "in_stretch" };
	const char *where = (unsigned)e->place < 4 ? place[e->place] : "?";

	if (!json) {
		printf("end %s status=%d rip=0x%" PRIx64 " state_hash=%016" PRIx64
		       " sync_points=%" PRIu64 " place=%s vclock_ns=%" PRIu64 " message=\"",
		       trace_end_reason_name(e->reason), e->status, e->final_rip,
		       e->final_state_hash, e->total_sync, where, e->duration);
		put_safe(stdout, e->message, 0);
		printf("\"\n");
		return;
	}
	printf("{\"kind\":\"end\",\"reason\":\"%s\",\"status\":%d,\"rip\":%" PRIu64
	       ",\"state_hash\":%" PRIu64 ",\"sync_points\":%" PRIu64 ",\"place\":\"%s\""
	       ",\"vclock_ns\":%" PRIu64 ",\"host_ns\":%" PRIu64 ",\"events\":%" PRIu64
	       ",\"message\":\"",
	       trace_end_reason_name(e->reason), e->status, e->final_rip, e->final_state_hash,
	       e->total_sync, where, e->duration, e->host_duration, e->total_events);
	put_safe(stdout, e->message, 1);
	printf("\"}\n");
}

struct dump_opts {
	uint64_t from, to;
	int has_to, json;
};

static int dump_parse(int argc, char **argv, struct dump_opts *o)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(dump_usage, stdout);
			return -1;
		case 'f':
			if (parse_u64(optarg, &o->from))
				goto bad;
			break;
		case 't':
			if (parse_u64(optarg, &o->to))
				goto bad;
			o->has_to = 1;
			break;
		case 'j':
			o->json = 1;
			break;
		default:
			goto bad;
		}
	}
	if (argc - optind == 1 && (!o->has_to || o->to >= o->from))
		return 0;
	return trace_bad_usage("dump", argc - optind == 1 ? "--to below --from" : NULL);
bad:
	return trace_bad_usage("dump", argv[optind - 1]);
}

int cli_dump_main(int argc, char **argv)
{
	struct dump_opts o = { 0 };
	struct trace_reader *r;
	struct trace_event ev;
	const struct trace_info *inf;
	int ret = dump_parse(argc, argv, &o), rd;

	if (ret)
		return ret < 0 ? CLI_OK : ret;
	ret = open_trace(argv[optind], &r, stderr);
	if (ret)
		return ret;
	trace_reader_seek(r, o.from);
	while ((rd = trace_reader_next(r, &ev)) == 1) {
		if (o.has_to && ev.sync > o.to)
			break;
		if (o.json)
			dump_json(&ev);
		else
			dump_text(&ev);
	}
	inf = trace_reader_info(r);
	if (rd < 0) {
		fprintf(stderr, "rrvm: %s: %s\n", argv[optind], trace_reader_error(r));
		ret = CLI_ERR_TRACE;
	} else if (inf->truncated || inf->corrupt) {
		fprintf(stderr, "rrvm: %s: %s after sync point %" PRIu64 ": %s\n", argv[optind],
			inf->corrupt ? "corrupt" : "truncated", inf->last_sync,
			inf->damage[0] ? inf->damage : "no end record");
		ret = CLI_ERR_TRACE;
	} else if (trace_reader_end(r) && rd == 0) {
		dump_end(trace_reader_end(r), o.json);
	}
	trace_reader_close(r);
	if (fflush(stdout) || ferror(stdout))
		return CLI_ERR_IO;
	return ret;
}
