/* Events: the "must" rules, the hot-path encoder, the decoder, names. */
#include "trace-format/format.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace-format/trace.pb-c.h"

/* RegCheckpoint.regs_mask: the registers are in the event. */
#define REGS_STORED (1u << 31)

/* ------------------------------------------------------------------ names */

const char *trace_event_kind_name(enum trace_event_kind k)
{
	switch (k) {
	case TRACE_EV_PORT_READ: return "port_read";
	case TRACE_EV_MMIO_READ: return "mmio_read";
	case TRACE_EV_IRQ_INJECT: return "irq_inject";
	case TRACE_EV_TSC_READ: return "tsc_read";
	case TRACE_EV_MSR_READ: return "msr_read";
	case TRACE_EV_SERIAL_INPUT: return "serial_input";
	case TRACE_EV_CODE_WRITE: return "code_write";
	case TRACE_EV_REG_CHECKPOINT: return "reg_checkpoint";
	case TRACE_EV_CLOCK: return "clock";
	case TRACE_EV_LANDMARK: return "landmark";
	default: return "unknown";
	}
}

const char *trace_end_reason_name(enum trace_end_reason r)
{
	switch (r) {
	case TRACE_END_DEBUG_EXIT: return "debug_exit";
	case TRACE_END_TRIPLE_FAULT: return "triple_fault";
	case TRACE_END_HALT: return "halt";
	case TRACE_END_SIGNAL: return "signal";
	case TRACE_END_ERROR: return "error";
	case TRACE_END_RESET: return "reset";
	default: return "unknown";
	}
}

const char *trace_end_place_name(enum trace_end_place p)
{
	switch (p) {
	case TRACE_PLACE_IN_HLT: return "in HLT at sync point";
	case TRACE_PLACE_CUT:
	case TRACE_PLACE_IN_STRETCH: return "after sync point";
	default: return "at sync point";
	}
}

const char *trace_tsc_source_name(enum trace_tsc_source s)
{
	switch (s) {
	case TRACE_TSC_RDTSC: return "rdtsc";
	case TRACE_TSC_RDTSCP: return "rdtscp";
	case TRACE_TSC_RDMSR: return "rdmsr";
	default: return "unknown";
	}
}

/* ----------------------------------------------------------------- events */

static int size_ok(unsigned size, uint64_t value, unsigned maxsize)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return 0;
	if (size > maxsize)
		return 0;
	return size == 8 || value >> (8 * size) == 0;
}

static int bytes_ok(const struct trace_bytes *b)
{
	return b->len >= 1 && b->len <= TRACE_DATA_MAX && b->data;
}

const char *trace_event_check(const struct trace_event *ev)
{
	switch (ev->kind) {
	case TRACE_EV_PORT_READ:
		return size_ok(ev->u.port_read.size, ev->u.port_read.value, 4) ?
			       NULL : "port read size or value invalid";
	case TRACE_EV_MMIO_READ:
		return size_ok(ev->u.mmio_read.size, ev->u.mmio_read.value, 8) ?
			       NULL : "MMIO read size or value invalid";
	case TRACE_EV_IRQ_INJECT:
	case TRACE_EV_MSR_READ:
	case TRACE_EV_REG_CHECKPOINT:
	case TRACE_EV_CLOCK:
	case TRACE_EV_LANDMARK:
		return NULL;
	case TRACE_EV_TSC_READ:
		return ev->u.tsc_read.source >= TRACE_TSC_RDTSC &&
				       ev->u.tsc_read.source <= TRACE_TSC_RDMSR ?
			       NULL : "TSC read source invalid";
	case TRACE_EV_SERIAL_INPUT:
		return bytes_ok(&ev->u.serial_input.bytes) ? NULL : "serial input length invalid";
	case TRACE_EV_CODE_WRITE:
		return bytes_ok(&ev->u.code_write.bytes) ? NULL : "code write length invalid";
	default:
		return "unknown event kind";
	}
}

/* A RegCheckpoint's registers against the previous one of the chunk: the
 * mask of trace.proto, and the XORs of the changed ones into X (*N of
 * them).  Advances D. */
static uint32_t ev_regs_delta(struct trace_delta *d, const struct trace_event *ev, uint64_t *x,
			      size_t *n)
{
	uint32_t mask = 0;

	*n = 0;
	if (!ev->u.reg_checkpoint.has_regs)
		return 0;
	mask = REGS_STORED;
	for (unsigned i = 0; i < TRACE_NREGS; i++) {
		uint64_t v = ev->u.reg_checkpoint.regs[i];

		if (v != d->regs[i]) {
			mask |= 1u << i;
			x[(*n)++] = v ^ d->regs[i];
			d->regs[i] = v;
		}
	}
	return mask;
}

size_t trace_event_encode_ref(struct trace_delta *d, const struct trace_event *ev, uint8_t *out)
{
	Rrvmtrace__Event m;
	union {
		Rrvmtrace__PortRead port;
		Rrvmtrace__MmioRead mmio;
		Rrvmtrace__IrqInject irq;
		Rrvmtrace__TscRead tsc;
		Rrvmtrace__MsrRead msr;
		Rrvmtrace__SerialInput serial;
		Rrvmtrace__CodeWrite code;
		Rrvmtrace__RegCheckpoint ckpt;
		Rrvmtrace__Clock clock;
		Rrvmtrace__Landmark lm;
	} s;
	uint64_t regs_xor[TRACE_NREGS];
	uint8_t regs[TRACE_LANDMARK_NREGS * 8];
	size_t n, hl;

	rrvmtrace__event__init(&m);
	m.sync_delta = ev->sync - d->sync;
	m.rip_delta = (int64_t)(ev->rip - d->rip);
	d->sync = ev->sync;
	d->rip = ev->rip;
	m.kind_case = (Rrvmtrace__Event__KindCase)ev->kind;
	switch (ev->kind) {
	case TRACE_EV_PORT_READ:
		rrvmtrace__port_read__init(&s.port);
		s.port.port = ev->u.port_read.port;
		s.port.size = ev->u.port_read.size;
		s.port.value = ev->u.port_read.value;
		m.port_read = &s.port;
		break;
	case TRACE_EV_MMIO_READ:
		rrvmtrace__mmio_read__init(&s.mmio);
		s.mmio.gpa = ev->u.mmio_read.gpa;
		s.mmio.size = ev->u.mmio_read.size;
		s.mmio.value = ev->u.mmio_read.value;
		m.mmio_read = &s.mmio;
		break;
	case TRACE_EV_IRQ_INJECT:
		rrvmtrace__irq_inject__init(&s.irq);
		s.irq.vector = ev->u.irq_inject.vector;
		s.irq.lateness_ns = ev->u.irq_inject.lateness;
		s.irq.at_landmark = ev->u.irq_inject.at_landmark;
		m.irq_inject = &s.irq;
		break;
	case TRACE_EV_TSC_READ:
		rrvmtrace__tsc_read__init(&s.tsc);
		s.tsc.value_delta = (int64_t)(ev->u.tsc_read.value - d->tsc);
		d->tsc = ev->u.tsc_read.value;
		s.tsc.source = (Rrvmtrace__TscSource)ev->u.tsc_read.source;
		s.tsc.aux = ev->u.tsc_read.aux;
		m.tsc_read = &s.tsc;
		break;
	case TRACE_EV_MSR_READ:
		rrvmtrace__msr_read__init(&s.msr);
		s.msr.index = ev->u.msr_read.index;
		s.msr.value = ev->u.msr_read.value;
		m.msr_read = &s.msr;
		break;
	case TRACE_EV_SERIAL_INPUT:
		rrvmtrace__serial_input__init(&s.serial);
		s.serial.data.len = ev->u.serial_input.bytes.len;
		s.serial.data.data = (uint8_t *)(uintptr_t)ev->u.serial_input.bytes.data;
		m.serial_input = &s.serial;
		break;
	case TRACE_EV_CODE_WRITE:
		rrvmtrace__code_write__init(&s.code);
		s.code.gpa = ev->u.code_write.gpa;
		s.code.data.len = ev->u.code_write.bytes.len;
		s.code.data.data = (uint8_t *)(uintptr_t)ev->u.code_write.bytes.data;
		m.code_write = &s.code;
		break;
	case TRACE_EV_CLOCK:
		rrvmtrace__clock__init(&s.clock);
		s.clock.vclock_delta = (int64_t)(ev->u.clock.value - d->clock);
		d->clock = ev->u.clock.value;
		m.clock = &s.clock;
		break;
	case TRACE_EV_LANDMARK:
		rrvmtrace__landmark__init(&s.lm);
		for (unsigned i = 0; i < TRACE_LANDMARK_NREGS; i++)
			trace_put_le(regs + 8 * i, ev->u.landmark.regs[i], 8);
		s.lm.regs.len = sizeof(regs);
		s.lm.regs.data = regs;
		s.lm.state_hash = ev->u.landmark.state_hash;
		s.lm.page_hash = ev->u.landmark.page_hash;
		m.landmark = &s.lm;
		break;
	case TRACE_EV_REG_CHECKPOINT:
	default:
		rrvmtrace__reg_checkpoint__init(&s.ckpt);
		s.ckpt.reg_hash = ev->u.reg_checkpoint.reg_hash;
		s.ckpt.vclock_ns = ev->u.reg_checkpoint.vclock;
		s.ckpt.regs_mask = ev_regs_delta(d, ev, regs_xor, &s.ckpt.n_regs_xor);
		s.ckpt.regs_xor = regs_xor;
		m.reg_checkpoint = &s.ckpt;
		break;
	}
	n = rrvmtrace__event__get_packed_size(&m);
	hl = trace_varint_put(out, n);
	rrvmtrace__event__pack(&m, out + hl);
	return hl + n;
}

/* The hot path: the same bytes protobuf-c's pack writes for an Event
 * (fields in number order, proto3 zero scalars omitted, the oneof message
 * always present), without its descriptor walk, which cost two thirds of
 * the writer's time.  tests/trace checks byte equality with
 * trace_event_encode_ref() over every kind and edge value. */
enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2 };

static uint8_t *pb_tag(uint8_t *p, unsigned field, unsigned wt)
{
	return p + trace_varint_put(p, (uint64_t)field << 3 | wt);
}

static uint8_t *pb_varint(uint8_t *p, unsigned field, uint64_t v)
{
	if (!v)
		return p;
	p = pb_tag(p, field, WT_VARINT);
	return p + trace_varint_put(p, v);
}

static uint8_t *pb_zigzag(uint8_t *p, unsigned field, int64_t v)
{
	return pb_varint(p, field, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static uint8_t *pb_fixed64(uint8_t *p, unsigned field, uint64_t v)
{
	if (!v)
		return p;
	p = pb_tag(p, field, WT_I64);
	trace_put_le(p, v, 8);
	return p + 8;
}

static uint8_t *pb_bytes(uint8_t *p, unsigned field, const struct trace_bytes *b)
{
	p = pb_tag(p, field, WT_LEN);
	p += trace_varint_put(p, b->len);
	memcpy(p, b->data, b->len);
	return p + b->len;
}

/* Body of the kind's sub-message into P; returns its end. */
static uint8_t *enc_kind(struct trace_delta *d, const struct trace_event *ev, uint8_t *p)
{
	switch (ev->kind) {
	case TRACE_EV_PORT_READ:
		p = pb_varint(p, 1, ev->u.port_read.port);
		p = pb_varint(p, 2, ev->u.port_read.size);
		return pb_varint(p, 3, ev->u.port_read.value);
	case TRACE_EV_MMIO_READ:
		p = pb_varint(p, 1, ev->u.mmio_read.gpa);
		p = pb_varint(p, 2, ev->u.mmio_read.size);
		return pb_varint(p, 3, ev->u.mmio_read.value);
	case TRACE_EV_IRQ_INJECT:
		p = pb_varint(p, 1, ev->u.irq_inject.vector);
		p = pb_varint(p, 2, ev->u.irq_inject.lateness);
		return pb_varint(p, 3, ev->u.irq_inject.at_landmark);
	case TRACE_EV_LANDMARK: {
		uint8_t regs[TRACE_LANDMARK_NREGS * 8];
		struct trace_bytes b = { regs, sizeof(regs) };

		for (unsigned i = 0; i < TRACE_LANDMARK_NREGS; i++)
			trace_put_le(regs + 8 * i, ev->u.landmark.regs[i], 8);
		p = pb_bytes(p, 1, &b);
		p = pb_fixed64(p, 2, ev->u.landmark.state_hash);
		return pb_fixed64(p, 3, ev->u.landmark.page_hash);
	}
	case TRACE_EV_TSC_READ:
		p = pb_zigzag(p, 1, (int64_t)(ev->u.tsc_read.value - d->tsc));
		d->tsc = ev->u.tsc_read.value;
		p = pb_varint(p, 2, (uint64_t)ev->u.tsc_read.source);
		return pb_varint(p, 3, ev->u.tsc_read.aux);
	case TRACE_EV_MSR_READ:
		p = pb_varint(p, 1, ev->u.msr_read.index);
		return pb_varint(p, 2, ev->u.msr_read.value);
	case TRACE_EV_SERIAL_INPUT:
		return pb_bytes(p, 1, &ev->u.serial_input.bytes);
	case TRACE_EV_CODE_WRITE:
		p = pb_varint(p, 1, ev->u.code_write.gpa);
		return pb_bytes(p, 2, &ev->u.code_write.bytes);
	case TRACE_EV_CLOCK:
		p = pb_zigzag(p, 1, (int64_t)(ev->u.clock.value - d->clock));
		d->clock = ev->u.clock.value;
		return p;
	case TRACE_EV_REG_CHECKPOINT:
	default: {
		uint64_t x[TRACE_NREGS];
		uint8_t packed[TRACE_NREGS * 10], *q = packed;
		size_t n;
		uint32_t mask = ev_regs_delta(d, ev, x, &n);

		p = pb_fixed64(p, 1, ev->u.reg_checkpoint.reg_hash);
		p = pb_varint(p, 2, ev->u.reg_checkpoint.vclock);
		p = pb_varint(p, 3, mask);
		if (!n)
			return p;
		/* Packed, as proto3 packs a repeated scalar. */
		for (size_t i = 0; i < n; i++)
			q += trace_varint_put(q, x[i]);
		p = pb_tag(p, 4, WT_LEN);
		p += trace_varint_put(p, (uint64_t)(q - packed));
		memcpy(p, packed, (size_t)(q - packed));
		return p + (q - packed);
	}
	}
}

size_t trace_event_encode(struct trace_delta *d, const struct trace_event *ev, uint8_t *out)
{
	/* Event fields before the oneof take at most 2 * 11 bytes and its tag
	 * and length 1 + 3 (a sub-message is < 2^21 bytes). */
	uint8_t sub[TRACE_DATA_MAX + 64], head[32], *p = head, *s;
	size_t sublen, len, hl;

	p = pb_varint(p, 1, ev->sync - d->sync);
	p = pb_zigzag(p, 2, (int64_t)(ev->rip - d->rip));
	d->sync = ev->sync;
	d->rip = ev->rip;
	s = enc_kind(d, ev, sub);
	sublen = (size_t)(s - sub);
	p = pb_tag(p, (unsigned)ev->kind, WT_LEN);
	p += trace_varint_put(p, sublen);
	len = (size_t)(p - head) + sublen;
	hl = trace_varint_put(out, len);
	memcpy(out + hl, head, (size_t)(p - head));
	memcpy(out + hl + (size_t)(p - head), sub, sublen);
	return hl + len;
}

static void *arena_alloc(void *data, size_t n)
{
	struct trace_arena *a = data;
	size_t at = (a->used + 15) & ~(size_t)15;

	if (n > a->cap || at > a->cap - n)
		return NULL;
	a->used = at + n;
	return a->buf + at;
}

static void arena_free(void *data, void *p)
{
	(void)data;
	(void)p;
}

static const char *decode_kind(const Rrvmtrace__Event *m, struct trace_delta *d,
			       struct trace_event *ev)
{
	switch (m->kind_case) {
	case RRVMTRACE__EVENT__KIND_PORT_READ:
		if (m->port_read->port > 0xffff || m->port_read->size > 4)
			return "port read out of range";
		ev->u.port_read.port = (uint16_t)m->port_read->port;
		ev->u.port_read.size = (uint8_t)m->port_read->size;
		if (m->port_read->value > UINT32_MAX)
			return "port read value out of range";
		ev->u.port_read.value = (uint32_t)m->port_read->value;
		break;
	case RRVMTRACE__EVENT__KIND_MMIO_READ:
		if (m->mmio_read->size > 8)
			return "MMIO read size out of range";
		ev->u.mmio_read.gpa = m->mmio_read->gpa;
		ev->u.mmio_read.size = (uint8_t)m->mmio_read->size;
		ev->u.mmio_read.value = m->mmio_read->value;
		break;
	case RRVMTRACE__EVENT__KIND_IRQ_INJECT:
		if (m->irq_inject->vector > 255)
			return "interrupt vector out of range";
		ev->u.irq_inject.vector = (uint8_t)m->irq_inject->vector;
		ev->u.irq_inject.lateness = m->irq_inject->lateness_ns;
		ev->u.irq_inject.at_landmark = m->irq_inject->at_landmark;
		break;
	case RRVMTRACE__EVENT__KIND_LANDMARK:
		if (m->landmark->regs.len != TRACE_LANDMARK_NREGS * 8)
			return "landmark registers not 136 bytes";
		for (unsigned i = 0; i < TRACE_LANDMARK_NREGS; i++)
			ev->u.landmark.regs[i] = trace_get_le(m->landmark->regs.data + 8 * i, 8);
		ev->u.landmark.state_hash = m->landmark->state_hash;
		ev->u.landmark.page_hash = m->landmark->page_hash;
		break;
	case RRVMTRACE__EVENT__KIND_TSC_READ:
		d->tsc += (uint64_t)m->tsc_read->value_delta;
		ev->u.tsc_read.value = d->tsc;
		ev->u.tsc_read.source = (enum trace_tsc_source)m->tsc_read->source;
		ev->u.tsc_read.aux = m->tsc_read->aux;
		break;
	case RRVMTRACE__EVENT__KIND_MSR_READ:
		ev->u.msr_read.index = m->msr_read->index;
		ev->u.msr_read.value = m->msr_read->value;
		break;
	case RRVMTRACE__EVENT__KIND_SERIAL_INPUT:
		if (m->serial_input->data.len > TRACE_DATA_MAX)
			return "serial input too long";
		ev->u.serial_input.bytes.data = m->serial_input->data.data;
		ev->u.serial_input.bytes.len = (uint32_t)m->serial_input->data.len;
		break;
	case RRVMTRACE__EVENT__KIND_CODE_WRITE:
		if (m->code_write->data.len > TRACE_DATA_MAX)
			return "code write too long";
		ev->u.code_write.gpa = m->code_write->gpa;
		ev->u.code_write.bytes.data = m->code_write->data.data;
		ev->u.code_write.bytes.len = (uint32_t)m->code_write->data.len;
		break;
	case RRVMTRACE__EVENT__KIND_REG_CHECKPOINT: {
		const Rrvmtrace__RegCheckpoint *c = m->reg_checkpoint;
		uint32_t changed = c->regs_mask & ((1u << TRACE_NREGS) - 1);
		size_t k = 0;

		ev->u.reg_checkpoint.reg_hash = c->reg_hash;
		ev->u.reg_checkpoint.vclock = c->vclock_ns;
		ev->u.reg_checkpoint.has_regs = c->regs_mask & REGS_STORED;
		if ((c->regs_mask & ~(REGS_STORED | changed)) ||
		    (!ev->u.reg_checkpoint.has_regs && c->regs_mask) ||
		    c->n_regs_xor != (size_t)__builtin_popcount(changed))
			return "register checkpoint mask or register count invalid";
		for (unsigned i = 0; i < TRACE_NREGS; i++) {
			if (changed & (1u << i))
				d->regs[i] ^= c->regs_xor[k++];
			ev->u.reg_checkpoint.regs[i] = d->regs[i];
		}
		break;
	}
	case RRVMTRACE__EVENT__KIND_CLOCK:
		d->clock += (uint64_t)m->clock->vclock_delta;
		ev->u.clock.value = d->clock;
		break;
	default:
		/* A oneof member this reader does not know arrives as an
		 * unknown field; nothing at all means a broken event. */
		if (!m->base.n_unknown_fields)
			return "event without a kind";
		ev->kind = TRACE_EV_UNKNOWN;
		return NULL;
	}
	ev->kind = (enum trace_event_kind)m->kind_case;
	return trace_event_check(ev);
}

const char *trace_event_decode(struct trace_delta *d, const uint8_t *buf, size_t len,
			       struct trace_arena *arena, struct trace_event *ev)
{
	ProtobufCAllocator al = { arena_alloc, arena_free, arena };
	Rrvmtrace__Event *m;

	arena->used = 0;
	m = rrvmtrace__event__unpack(&al, len, buf);
	if (!m)
		return "event does not decode";
	if (m->sync_delta > UINT64_MAX - d->sync)
		return "event sync point overflows";
	d->sync += m->sync_delta;
	d->rip += (uint64_t)m->rip_delta;
	memset(ev, 0, sizeof(*ev));
	ev->sync = d->sync;
	ev->rip = d->rip;
	return decode_kind(m, d, ev);
}

/* Appends FMT to BUF at *AT, never past LEN. */
static void fmt_put(char *buf, size_t len, size_t *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fmt_put(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*at >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *at, len - *at, fmt, ap);
	va_end(ap);
	*at = n < 0 ? len : *at + (size_t)n;
}

static void fmt_hex(char *buf, size_t len, size_t *at, const struct trace_bytes *b)
{
	for (uint32_t i = 0; i < b->len && *at + 2 < len; i++)
		fmt_put(buf, len, at, "%02x", b->data[i]);
}

void trace_event_format(const struct trace_event *ev, char *buf, size_t len)
{
	size_t at = 0;

	if (!len)
		return;
	buf[0] = '\0';
	fmt_put(buf, len, &at, "%" PRIu64 " rip=0x%" PRIx64 " %s", ev->sync, ev->rip,
		trace_event_kind_name(ev->kind));
	switch (ev->kind) {
	case TRACE_EV_PORT_READ:
		fmt_put(buf, len, &at, " port=0x%x size=%u value=0x%x", ev->u.port_read.port,
			ev->u.port_read.size, ev->u.port_read.value);
		break;
	case TRACE_EV_MMIO_READ:
		fmt_put(buf, len, &at, " gpa=0x%" PRIx64 " size=%u value=0x%" PRIx64,
			ev->u.mmio_read.gpa, ev->u.mmio_read.size, ev->u.mmio_read.value);
		break;
	case TRACE_EV_IRQ_INJECT:
		fmt_put(buf, len, &at, " vector=0x%x lateness_ns=%" PRIu64 "%s",
			ev->u.irq_inject.vector, ev->u.irq_inject.lateness,
			ev->u.irq_inject.at_landmark ? " at_landmark" : "");
		break;
	case TRACE_EV_LANDMARK:
		fmt_put(buf, len, &at, " rax=0x%" PRIx64 " rcx=0x%" PRIx64 " rflags=0x%" PRIx64
			" state=%016" PRIx64 " pages=%016" PRIx64, ev->u.landmark.regs[0],
			ev->u.landmark.regs[2], ev->u.landmark.regs[16],
			ev->u.landmark.state_hash, ev->u.landmark.page_hash);
		break;
	case TRACE_EV_TSC_READ:
		fmt_put(buf, len, &at, " value=%" PRIu64 " source=%s aux=%u", ev->u.tsc_read.value,
			trace_tsc_source_name(ev->u.tsc_read.source), ev->u.tsc_read.aux);
		break;
	case TRACE_EV_MSR_READ:
		fmt_put(buf, len, &at, " msr=0x%x value=0x%" PRIx64, ev->u.msr_read.index,
			ev->u.msr_read.value);
		break;
	case TRACE_EV_SERIAL_INPUT:
		fmt_put(buf, len, &at, " data=");
		fmt_hex(buf, len, &at, &ev->u.serial_input.bytes);
		break;
	case TRACE_EV_CODE_WRITE:
		fmt_put(buf, len, &at, " gpa=0x%" PRIx64 " len=%u data=", ev->u.code_write.gpa,
			ev->u.code_write.bytes.len);
		fmt_hex(buf, len, &at, &ev->u.code_write.bytes);
		break;
	case TRACE_EV_CLOCK:
		fmt_put(buf, len, &at, " vclock_ns=%" PRIu64, ev->u.clock.value);
		break;
	case TRACE_EV_REG_CHECKPOINT:
		fmt_put(buf, len, &at, " hash=%016" PRIx64 " vclock_ns=%" PRIu64,
			ev->u.reg_checkpoint.reg_hash, ev->u.reg_checkpoint.vclock);
		break;
	default:
		break;
	}
}
