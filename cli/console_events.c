/* `events [N]` and `goto #I`: the trace's own events, numbered in file order
 * from 0 as `rrvm dump` lists them, read through a second reader so that the
 * engine's own position in the trace is never disturbed. */
#include "cli/console.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/tl_session.h"
#include "trace-format/trace.h"

static int con_events_open(struct console *c)
{
	struct trace_error err;

	if (c->ev)
		return 0;
	if (trace_reader_open(&c->ev, c->trace_path, &err) < 0) {
		fprintf(stderr, "rrvm: %s\n", err.msg);
		c->ev = NULL;
		return -1;
	}
	return 0;
}

void con_events_close(struct console *c)
{
	if (c->ev)
		trace_reader_close(c->ev);
	c->ev = NULL;
}

/* Seeks to the start of chunk I (or an earlier one, where sync points run
 * across chunk boundaries) and returns the number of the event there. */
static uint64_t con_seek_chunk(struct trace_reader *r, uint32_t i)
{
	struct trace_chunk_info ci, prev;
	uint64_t base = 0;

	while (i > 0 && trace_reader_chunk(r, i, &ci) == 0 &&
	       trace_reader_chunk(r, i - 1, &prev) == 0 && prev.last_sync >= ci.first_sync)
		i--;
	for (uint32_t k = 0; k < i && trace_reader_chunk(r, k, &ci) == 0; k++)
		base += ci.events;
	if (trace_reader_chunk(r, i, &ci) == 0)
		trace_reader_seek(r, ci.first_sync);
	else
		trace_reader_seek(r, 0);
	return base;
}

/* The first chunk whose last sync point is at or after S (nchunks if none). */
static uint32_t con_chunk_of_sync(struct trace_reader *r, sync_seq s)
{
	uint32_t lo = 0, hi = trace_reader_info(r)->nchunks;
	struct trace_chunk_info ci;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (trace_reader_chunk(r, mid, &ci) == 0 && ci.last_sync < s)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void con_event_line(uint64_t idx, const struct trace_event *ev)
{
	char line[TRACE_EVENT_TEXT_MAX];

	trace_event_format(ev, line, sizeof(line));
	printf("  #%-8" PRIu64 " %s\n", idx, line);
}

/* Events up to the current sync point were consumed: half of N of them are
 * shown before the marker, the rest after it. */
int con_events_print(struct console *c, unsigned n)
{
	struct trace_event ring[CON_EVENTS_MAX];
	uint64_t ring_idx[CON_EVENTS_MAX];
	unsigned before = n / 2, after = n - before, nring = 0, shown = 0;
	sync_seq here = tl_here(c->t).sync;
	uint32_t ch;
	uint64_t idx;
	char pos[48];
	int rd;

	if (con_events_open(c) < 0)
		return -1;
	/* One chunk back, so that there are events before the position. */
	ch = con_chunk_of_sync(c->ev, here);
	idx = con_seek_chunk(c->ev, ch ? ch - 1 : 0);
	while ((rd = trace_reader_next(c->ev, &ring[nring % CON_EVENTS_MAX])) == 1) {
		struct trace_event *ev = &ring[nring % CON_EVENTS_MAX];

		if (ev->sync > here)
			break;
		ring_idx[nring % CON_EVENTS_MAX] = idx++;
		nring++;
	}
	for (unsigned k = nring > before ? nring - before : 0; k < nring; k++)
		con_event_line(ring_idx[k % CON_EVENTS_MAX], &ring[k % CON_EVENTS_MAX]);
	con_pos_str(c, pos, sizeof(pos));
	printf("  --- position %s ---\n", pos);
	if (rd == 1) {
		struct trace_event first = ring[nring % CON_EVENTS_MAX];

		con_event_line(idx++, &first);
		shown = 1;
	}
	while (rd == 1 && shown < after && (rd = trace_reader_next(c->ev, &ring[0])) == 1) {
		con_event_line(idx++, &ring[0]);
		shown++;
	}
	if (rd < 0) {
		fprintf(stderr, "rrvm: %s: %s\n", c->trace_path, trace_reader_error(c->ev));
		return -1;
	}
	return 0;
}

int con_event_sync(struct console *c, uint64_t idx, sync_seq *s)
{
	const struct trace_info *inf;
	struct trace_chunk_info ci;
	struct trace_event ev;
	uint64_t base = 0, at;
	uint32_t ch = 0;
	int rd;

	if (con_events_open(c) < 0)
		return -1;
	inf = trace_reader_info(c->ev);
	for (; ch < inf->nchunks && trace_reader_chunk(c->ev, ch, &ci) == 0; ch++) {
		if (idx < base + ci.events)
			break;
		base += ci.events;
	}
	if (ch == inf->nchunks) {
		fprintf(stderr, "rrvm: %s has no event #%" PRIu64 " (it has %" PRIu64 ")\n",
			c->trace_path, idx, base);
		return -1;
	}
	at = con_seek_chunk(c->ev, ch);
	while ((rd = trace_reader_next(c->ev, &ev)) == 1 && at < idx)
		at++;
	if (rd != 1) {
		fprintf(stderr, "rrvm: %s: event #%" PRIu64 ": %s\n", c->trace_path, idx,
			rd < 0 ? trace_reader_error(c->ev) : "not found");
		return -1;
	}
	*s = ev.sync;
	return 0;
}
