/* Test tool: copies a trace, changing one logged input, to prove that
 * replay catches the first wrong step.
 *
 *   trace_edit IN OUT N      flips bit 0 of the value of the N-th port read
 *                            (0-based) and prints its sync point
 *   trace_edit IN OUT cpuid  changes the header's CPUID leaf 1 signature
 *   trace_edit IN OUT tsc:N  adds 1 to the value of the N-th TSC read and
 *                            prints its sync point (no device cross-checks a
 *                            TSC value: a register checkpoint must catch it)
 *   trace_edit IN OUT landmark
 *                            clears RFLAGS bit 1 (always set on x86) in the
 *                            third landmark, so that no place matches it,
 *                            and prints its sync point
 *
 * Exit 0, or 1 with a message. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace-format/trace.h"

int main(int argc, char **argv)
{
	struct trace_reader *r;
	struct trace_writer *w;
	struct trace_error err;
	struct trace_event ev;
	struct trace_header h;
	struct trace_cpuid_entry cpuid[64];
	uint64_t n, seen = 0;
	int rc, edited = 0;
	enum trace_event_kind kind = TRACE_EV_PORT_READ;

	if (argc != 4) {
		fprintf(stderr, "usage: trace_edit IN OUT N\n");
		return 1;
	}
	int landmark = !strcmp(argv[3], "landmark"), landmarks = 0;
	if (!strncmp(argv[3], "tsc:", 4)) {
		kind = TRACE_EV_TSC_READ;
		n = strtoull(argv[3] + 4, NULL, 10);
	} else {
		n = landmark ? UINT64_MAX : strtoull(argv[3], NULL, 10);
	}
	if (trace_reader_open(&r, argv[1], &err) < 0) {
		fprintf(stderr, "trace_edit: %s\n", err.msg);
		return 1;
	}
	h = *trace_reader_header(r);
	if (!strcmp(argv[3], "cpuid")) {
		for (uint32_t i = 0; i < h.ncpuid && i < 64; i++) {
			cpuid[i] = h.cpuid[i];
			if (cpuid[i].function == 1)
				cpuid[i].eax ^= 0x10; /* another CPU model */
		}
		h.cpuid = cpuid;
		edited = 1;
		n = UINT64_MAX;
	}
	if (trace_writer_open(&w, argv[2], &h, NULL, &err) < 0) {
		fprintf(stderr, "trace_edit: %s\n", err.msg);
		return 1;
	}
	while ((rc = trace_reader_next(r, &ev)) == 1) {
		if (landmark && ev.kind == TRACE_EV_LANDMARK && ++landmarks == 3) {
			ev.u.landmark.regs[TRACE_LANDMARK_NREGS - 1] &= ~2ull;
			printf("%" PRIu64 "\n", ev.sync);
			edited = 1;
		}
		if (ev.kind == kind && seen++ == n) {
			if (kind == TRACE_EV_TSC_READ)
				ev.u.tsc_read.value++;
			else
				ev.u.port_read.value ^= 1;
			printf("%" PRIu64 "\n", ev.sync);
			edited = 1;
		}
		if (trace_writer_append(w, &ev) < 0) {
			fprintf(stderr, "trace_edit: %s\n", trace_writer_error(w));
			return 1;
		}
	}
	if (rc < 0 || trace_writer_close(w, trace_reader_end(r)) < 0 || !edited) {
		fprintf(stderr, "trace_edit: %s\n", rc < 0 ? trace_reader_error(r) : "no such event");
		return 1;
	}
	trace_reader_close(r);
	return 0;
}
