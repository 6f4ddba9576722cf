/* libFuzzer target: the trace reader on arbitrary bytes.  Drives every
 * reader entry point; any crash, hang, leak or sanitizer report is a bug.
 * Inputs it ever crashed on are kept in regressions/ and replayed by ctest. */
#include <stddef.h>
#include <stdint.h>

#include "trace-format/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace_reader *r;
	struct trace_error err;
	struct trace_event ev;
	uint64_t counts[TRACE_EV__MAX];
	const struct trace_info *inf;
	volatile uint64_t sink = 0;

	if (trace_reader_open_mem(&r, data, size, &err))
		return 0;
	inf = trace_reader_info(r);
	(void)trace_reader_header(r);
	(void)trace_reader_end(r);
	(void)trace_reader_verify(r);
	(void)trace_reader_count_kinds(r, counts);
	trace_reader_seek(r, 0);
	while (trace_reader_next(r, &ev) == 1) {
		sink += ev.sync;
		if (ev.kind == TRACE_EV_SERIAL_INPUT)
			sink += ev.u.serial_input.bytes.data[ev.u.serial_input.bytes.len - 1];
		if (ev.kind == TRACE_EV_CODE_WRITE)
			sink += ev.u.code_write.bytes.data[ev.u.code_write.bytes.len - 1];
	}
	/* Seek into the middle, then past the end. */
	trace_reader_seek(r, inf->first_sync + (inf->last_sync - inf->first_sync) / 2);
	while (trace_reader_next(r, &ev) == 1)
		sink += ev.rip;
	trace_reader_seek(r, UINT64_MAX);
	(void)trace_reader_next(r, &ev);
	trace_reader_close(r);
	(void)sink;
	return 0;
}
