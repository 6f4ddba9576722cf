/* libFuzzer target: arbitrary bytes from a "debugger" into the packet
 * parser and the command table, over the TEST-ONLY fake target.  The
 * first byte picks options (writes allowed, no-ack mode, feed chunk size)
 * so that both the refusal and the write paths, and split input, are
 * reached. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gdbstub/dispatch.h"
#include "tests/gdbstub/fake_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fake_target t;
static struct gdb_target_ops ops;
static struct gdb_session s;
static size_t written;

static int sink(void *ctx, const void *buf, size_t len)
{
	/* Every reply must be a well-framed packet or an ack. */
	const uint8_t *b = buf;

	if (len == 0 || (b[0] != '$' && b[0] != '+' && b[0] != '-'))
		__builtin_trap();
	written += len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct gdb_session_io io = { .write = sink };
	size_t step;

	if (size == 0)
		return 0;
	fake_target_init(&t);
	t.allow_writes = data[0] & 1;
	fake_target_ops(&t, &ops);
	gdb_session_init(&s, &ops, &io);
	if (data[0] & 2) {
		s.no_ack = true;
		s.parser.no_ack = true;
	}
	step = (data[0] >> 2) ? (size_t)(data[0] >> 2) : size;
	data++;
	size--;
	while (size && gdb_session_feed(&s, data, size < step ? size : step) == 0) {
		size_t n = size < step ? size : step;

		data += n;
		size -= n;
	}
	return 0;
}
