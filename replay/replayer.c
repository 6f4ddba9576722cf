#define LOG_MODULE "replay"
#include "replay/replayer.h"
#include "replay/replayer_int.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "replay/session_int.h"
#include "util/log.h"
#include "vmm/x86.h"

/* ---- the event stream ---- */

static void rpl_fetch(struct replayer *p)
{
	struct trace_bytes *b = NULL;

	p->next_state = trace_reader_next(p->rd, &p->next);
	if (p->next_state != 1)
		return;
	if (p->next.kind == TRACE_EV_SERIAL_INPUT)
		b = &p->next.u.serial_input.bytes;
	else if (p->next.kind == TRACE_EV_CODE_WRITE)
		b = &p->next.u.code_write.bytes;
	if (b) { /* the reader's buffer moves on at the next call */
		memcpy(p->next_data, b->data, b->len);
		b->data = p->next_data;
	}
}

/* The machine seeks the next event's landmark, if it is one. */
static void rpl_seek_next(struct replayer *p)
{
	struct landmark lm;

	if (p->next_state != 1 || p->next.kind != TRACE_EV_LANDMARK) {
		machine_seek_landmark(&p->s->m, NULL);
		return;
	}
	lm.sync = p->next.sync;
	lm.rip = p->next.rip;
	memcpy(lm.regs, p->next.u.landmark.regs, sizeof(lm.regs));
	lm.state_hash = p->next.u.landmark.state_hash;
	lm.page_hash = p->next.u.landmark.page_hash;
	machine_seek_landmark(&p->s->m, &lm);
}

static void rpl_diverge(struct replayer *p, sync_seq s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void rpl_diverge(struct replayer *p, sync_seq s, const char *fmt, ...)
{
	va_list ap;

	if (p->div.hit)
		return;
	p->div.hit = true;
	p->div.sync = s;
	p->div.rip = rr_rip(p->s);
	va_start(ap, fmt);
	vsnprintf(p->div.what, sizeof(p->div.what), fmt, ap);
	va_end(ap);
	machine_stop(&p->s->m, MACHINE_STOP_HOOK, "divergence at sync point %llu",
		     (unsigned long long)s);
}

/* The next event if it is KIND at sync point S, else NULL. */
static const struct trace_event *rpl_peek(struct replayer *p, enum trace_event_kind kind,
					  sync_seq s)
{
	if (p->next_state != 1 || p->next.kind != kind || p->next.sync != s)
		return NULL;
	return &p->next;
}

static void rpl_consume(struct replayer *p)
{
	bool landmark = p->next.kind == TRACE_EV_LANDMARK;

	p->recent[p->nrecent++ % RPL_RECENT] = p->next;
	p->consumed++;
	rpl_fetch(p);
	if (landmark || p->next.kind == TRACE_EV_LANDMARK)
		rpl_seek_next(p);
}

/* The next event must be KIND at S, from the guest at the same RIP. */
static const struct trace_event *rpl_expect(struct replayer *p, enum trace_event_kind kind,
					    sync_seq s)
{
	const struct trace_event *ev = rpl_peek(p, kind, s);
	char got[TRACE_EVENT_TEXT_MAX];

	if (!ev) {
		if (p->next_state < 0)
			rpl_diverge(p, s, "the trace is unreadable here: %s",
				    trace_reader_error(p->rd));
		else if (p->next_state == 0)
			rpl_diverge(p, s, "the guest made a %s at sync point %llu, after the "
				    "last event of the trace", trace_event_kind_name(kind),
				    (unsigned long long)s);
		else {
			trace_event_format(&p->next, got, sizeof(got));
			rpl_diverge(p, s, "the guest made a %s, but the trace expects: %s",
				    trace_event_kind_name(kind), got);
		}
		return NULL;
	}
	if (ev->rip != rr_rip(p->s)) {
		rpl_diverge(p, s, "%s at rip %#" PRIx64 ", the trace has it at rip %#" PRIx64,
			    trace_event_kind_name(kind), rr_rip(p->s), ev->rip);
		return NULL;
	}
	return ev;
}

/* ---- input sources, served from the trace ---- */

static bool rpl_clock(void *ctx, sync_seq s, vclock_ns *t)
{
	struct replayer *p = ctx;
	const struct trace_event *ev = rpl_peek(p, TRACE_EV_CLOCK, s);

	if (!ev) {
		if (p->next_state < 0)
			rpl_diverge(p, s, "the trace is unreadable here: %s",
				    trace_reader_error(p->rd));
		return false;
	}
	*t = ev->u.clock.value;
	rpl_consume(p);
	return true;
}

static void rpl_clock_used(void *ctx, sync_seq s, vclock_ns t)
{
}

static unsigned rpl_serial(void *ctx, sync_seq s, uint8_t *buf, unsigned room)
{
	struct replayer *p = ctx;
	const struct trace_event *ev = rpl_peek(p, TRACE_EV_SERIAL_INPUT, s);
	unsigned n;

	if (!ev)
		return 0;
	n = ev->u.serial_input.bytes.len;
	if (n > room) {
		rpl_diverge(p, s, "serial input of %u bytes, but the UART has room for %u", n, room);
		return 0;
	}
	memcpy(buf, ev->u.serial_input.bytes.data, n);
	rpl_consume(p);
	return n;
}

/* Idle time is skipped: the wake-up is the next event at this sync point.
 * Waiting twice with nothing consumed in between means nothing will come. */
static int rpl_idle(void *ctx, sync_seq s, vclock_ns due)
{
	struct replayer *p = ctx;

	/* The recording stopped in this HLT: here the inputs end. */
	if (p->end_place == TRACE_PLACE_IN_HLT && s == p->end_sync && !p->truncated &&
	    !(p->next_state == 1 && p->next.sync == s))
		return 1;
	if (p->idle_sync == s && p->consumed_at_idle == p->consumed) {
		if (!p->truncated)
			rpl_diverge(p, s, "the guest idles, but the trace has nothing to wake it");
		return -1;
	}
	p->idle_sync = s;
	p->consumed_at_idle = p->consumed;
	return 0;
}

/* A chaos recording held interrupts back: inject where the trace did. */
static bool rpl_irq_now(void *ctx, sync_seq s, bool must)
{
	return rpl_peek(ctx, TRACE_EV_IRQ_INJECT, s) != NULL;
}

/* ---- exit hooks: check, then substitute ---- */

static void rpl_read(struct replayer *p, struct vmm_exit *x, enum trace_event_kind kind)
{
	const struct trace_event *ev = rpl_expect(p, kind, x->sync);
	uint64_t addr, value;
	unsigned size;

	if (!ev)
		return;
	if (kind == TRACE_EV_PORT_READ)
		addr = ev->u.port_read.port, size = ev->u.port_read.size,
		value = ev->u.port_read.value;
	else
		addr = ev->u.mmio_read.gpa, size = ev->u.mmio_read.size,
		value = ev->u.mmio_read.value;
	if (addr != x->addr || size != x->size) {
		rpl_diverge(p, x->sync, "read of %u bytes at %#" PRIx64 ", the trace has %u at %#" PRIx64,
			    x->size, x->addr, size, addr);
		return;
	}
	if (size < 8)
		x->data &= (1ull << (8 * size)) - 1;
	if (x->data != value) {
		rpl_diverge(p, x->sync, "the device at %#" PRIx64 " answered %#" PRIx64
			    ", the trace has %#" PRIx64, addr, x->data, value);
		return;
	}
	x->data = value;
	rpl_consume(p);
}

static void rpl_tsc(struct replayer *p, struct vmm_exit *x, int kind, enum trace_tsc_source src)
{
	const struct trace_event *ev = rpl_expect(p, TRACE_EV_TSC_READ, x->sync);

	if (!ev)
		return;
	if (ev->u.tsc_read.source != src) {
		rpl_diverge(p, x->sync, "TSC read by %s, the trace has %s",
			    trace_tsc_source_name(src), trace_tsc_source_name(ev->u.tsc_read.source));
		return;
	}
	if (src == TRACE_TSC_RDMSR) {
		x->data = ev->u.tsc_read.value;
		x->claimed = true;
	} else if (rr_tsc_trap_finish(p->s, kind, ev->u.tsc_read.value, ev->u.tsc_read.aux) < 0) {
		rpl_diverge(p, x->sync, "cannot complete RDTSC in ring 3 (a KVM call failed)");
		return;
	}
	rpl_consume(p);
}

static void rpl_code_write(struct replayer *p, struct vmm_exit *x)
{
	const struct trace_event *ev = rpl_expect(p, TRACE_EV_CODE_WRITE, x->sync);

	if (!ev)
		return;
	if (ev->u.code_write.gpa != x->addr || ev->u.code_write.bytes.len != x->size ||
	    memcmp(ev->u.code_write.bytes.data, &x->data, x->size)) {
		rpl_diverge(p, x->sync, "code write at %#" PRIx64 " differs from the trace's at %#" PRIx64,
			    x->addr, ev->u.code_write.gpa);
		return;
	}
	rpl_consume(p);
	rr_code_written(p->s, x);
}

static void rpl_checkpoint(struct replayer *p, const struct vmm_exit *x)
{
	const struct trace_event *ev = rpl_peek(p, TRACE_EV_REG_CHECKPOINT, x->sync);
	uint64_t h;

	if (!ev)
		return;
	h = rr_reg_hash(p->s);
	if (ev->rip != rr_rip(p->s) || ev->u.reg_checkpoint.reg_hash != h) {
		rpl_diverge(p, x->sync, "registers differ: rip %#" PRIx64 " hash %016" PRIx64
			    ", the trace has rip %#" PRIx64 " hash %016" PRIx64,
			    rr_rip(p->s), h, ev->rip, ev->u.reg_checkpoint.reg_hash);
		if ((p->div.has_regs = ev->u.reg_checkpoint.has_regs)) {
			memcpy(p->div.want, ev->u.reg_checkpoint.regs, sizeof(p->div.want));
			rr_regs_get(p->s, p->div.got);
		}
		return;
	}
	rpl_consume(p);
}

static const char *const rpl_reg_names[LANDMARK_NREGS] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp", "r8",
	"r9",  "r10", "r11", "r12", "r13", "r14", "r15", "rflags",
};

/* The guest reached sync point X without passing the landmark the trace
 * has there: report what was sought and the closest hit. */
static void rpl_landmark_missed(struct replayer *p, const struct vmm_exit *x, const char *how)
{
	const struct landmark_miss *ms = &p->s->m.lm.miss;
	const uint64_t *want = p->next.u.landmark.regs;
	char diff[LANDMARK_NREGS * 48] = ""; /* room for every register */
	size_t at = 0;

	for (unsigned i = 0; i < LANDMARK_NREGS && ms->hits; i++)
		if (ms->best_regs[i] != want[i])
			at += (size_t)snprintf(diff + at, sizeof(diff) - at, " %s=0x%" PRIx64 "/0x%" PRIx64,
					       rpl_reg_names[i], ms->best_regs[i], want[i]);
	rpl_diverge(p, x->sync, "the guest %s before reaching the landmark the trace has "
		    "at rip %#" PRIx64 " (rax 0x%" PRIx64 " rcx 0x%" PRIx64 " rsp 0x%" PRIx64 "): %"
		    PRIu64 " hits there, %s%s%s", how, p->next.rip, want[0],
		    want[2], want[6], ms->hits,
		    !ms->hits ? "none" : ms->state_matched ? "registers and CPU state matched, the "
		    "memory did not" : ms->regs_matched ?
		    "registers matched, the segment, control or x87/SSE state did not" :
		    "the closest differing in (got/want)",
		    ms->hits && !ms->regs_matched ? diff : "", "");
}

static void rpl_landmark(struct replayer *p, const struct vmm_exit *x)
{
	if (rpl_expect(p, TRACE_EV_LANDMARK, x->sync))
		rpl_consume(p);
}

static int rpl_exit(struct replayer *p, struct vmm_exit *x)
{
	char want[TRACE_EVENT_TEXT_MAX], how[48];
	int kind;

	if (x->kind == VMM_EXIT_KICK && machine_landmark_overdue(&p->s->m)) {
		x->sync = p->next.sync; /* where it should have been */
		rpl_landmark_missed(p, x, "ran for 20 s without an exit");
		return -1;
	}
	if (!x->is_sync)
		return 0;
	if (x->sync == p->end_sync) {
		p->sync_rip = rr_rip(p->s);
		p->sync_reg_hash = rr_reg_hash(p->s);
	}
	if (p->next_state == 1 && p->next.sync < x->sync) {
		trace_event_format(&p->next, want, sizeof(want));
		rpl_diverge(p, x->sync, "the guest went past an event it never asked for: %s", want);
		return -1;
	}
	if (x->kind == VMM_EXIT_LANDMARK) {
		rpl_landmark(p, x);
		if (p->div.hit)
			return -1;
	} else if (p->next_state == 1 && p->next.kind == TRACE_EV_LANDMARK &&
		   p->next.sync == x->sync) {
		snprintf(how, sizeof(how), "made a %s", vmm_exit_kind_name(x->kind));
		rpl_landmark_missed(p, x, how);
		return -1;
	}
	rpl_checkpoint(p, x);
	if ((kind = rr_tsc_trap(p->s, x)))
		rpl_tsc(p, x, kind, kind == TSC_INSN_RDTSCP ? TRACE_TSC_RDTSCP : TRACE_TSC_RDTSC);
	switch (x->kind) {
	case VMM_EXIT_IO_IN:
		rpl_read(p, x, TRACE_EV_PORT_READ);
		break;
	case VMM_EXIT_MMIO_READ:
		rpl_read(p, x, TRACE_EV_MMIO_READ);
		break;
	case VMM_EXIT_MMIO_WRITE:
		if (x->claimed)
			rpl_code_write(p, x);
		break;
	case VMM_EXIT_RDMSR:
		if (x->addr == X86_MSR_TSC)
			rpl_tsc(p, x, 0, TRACE_TSC_RDMSR);
		break;
	default:
		break;
	}
	return p->div.hit ? -1 : 0;
}

static int rpl_on_exit(void *ctx, struct vmm_exit *x)
{
	struct replayer *p = ctx;
	int r = rpl_exit(p, x);
	sync_seq at = p->s->m.sync;

	/* A look at a counter per exit; the bar redraws itself at most ten
	 * times a second anyway. */
	if (p->progress && at >= p->progress_shown + RPL_PROGRESS_EVERY) {
		p->progress_shown = at;
		p->progress(p->progress_ctx, at, p->end_sync);
	}
	return r;
}

static int rpl_on_inject(void *ctx, sync_seq s, uint8_t vector)
{
	struct replayer *p = ctx;
	const struct trace_event *ev = rpl_expect(p, TRACE_EV_IRQ_INJECT, s);

	if (!ev)
		return -1;
	if (ev->u.irq_inject.vector != vector) {
		rpl_diverge(p, s, "interrupt vector %u, the trace has %u", vector,
			    ev->u.irq_inject.vector);
		return -1;
	}
	rpl_consume(p);
	return 0;
}

/* ---- setup, run, verdict ---- */

/* The multiboot modules: the recorded ones, in their order, byte for byte. */
static int rpl_check_modules(const struct trace_header *h, const struct rr_session *s,
			     char *msg, size_t msglen)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < h->nfiles; i++) {
		const struct trace_file_hash *f = &h->files[i];
		const struct machine_module *mod = n < s->m.nmods ? &s->m.mods[n] : NULL;

		if (f->role != TRACE_FILE_MODULE)
			continue;
		if (!mod || f->xxh64 != s->mod_xxh64[n] || f->size_bytes != mod->len) {
			snprintf(msg, msglen, "%s is not module %u this trace recorded (%s, %" PRIu64
				 " bytes, xxh64 %016" PRIx64 ")", mod ? mod->path : "no file", n + 1,
				 f->path, f->size_bytes, f->xxh64);
			return -EINVAL;
		}
		n++;
	}
	if (n != s->m.nmods) {
		snprintf(msg, msglen, "%s: this trace recorded %u multiboot module%s, not %u",
			 s->m.mods[n].path, n, n == 1 ? "" : "s", s->m.nmods);
		return -EINVAL;
	}
	return 0;
}

int rpl_check_header(const struct trace_header *h, const struct rr_session *s, char *msg,
		     size_t msglen)
{
	const struct cpuid_table *c = &s->m.cpuid;
	const struct trace_file_hash *k = trace_header_file(h, TRACE_FILE_KERNEL);
	const struct trace_file_hash *rd = trace_header_file(h, TRACE_FILE_INITRD);

	if (!k || k->xxh64 != s->kernel_xxh64 || k->size_bytes != s->m.kernel_len) {
		snprintf(msg, msglen, "%s is not the kernel this trace recorded (%s, %" PRIu64
			 " bytes, xxh64 %016" PRIx64 ")", s->m.cfg.kernel_path, k ? k->path : "?",
			 k ? k->size_bytes : 0, k ? k->xxh64 : 0);
		return -EINVAL;
	}
	if (!rd != !s->m.initrd ||
	    (rd && (rd->xxh64 != s->initrd_xxh64 || rd->size_bytes != s->m.initrd_len))) {
		snprintf(msg, msglen, "%s is not the initrd this trace recorded (%s)",
			 s->m.initrd ? s->m.cfg.initrd_path : "no initrd",
			 rd ? rd->path : "it had none");
		return -EINVAL;
	}
	if (rpl_check_modules(h, s, msg, msglen) < 0)
		return -EINVAL;
	if (h->guest_mem_bytes != s->m.mem.size) {
		snprintf(msg, msglen, "the trace was recorded with %" PRIu64 " MiB of guest RAM, "
			 "not %" PRIu64, h->guest_mem_bytes >> 20, s->m.mem.size >> 20);
		return -EINVAL;
	}
	if (h->ncpuid != c->n) {
		snprintf(msg, msglen, "the CPUID table differs: the trace has %u entries, this host "
			 "gives the guest %u", h->ncpuid, c->n);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < h->ncpuid; i++) {
		const struct trace_cpuid_entry *t = &h->cpuid[i];
		const struct cpuid_entry *e = cpuid_find(c, t->function, t->index);

		if (!e || e->eax != t->eax || e->ebx != t->ebx || e->ecx != t->ecx || e->edx != t->edx) {
			snprintf(msg, msglen, "the CPUID table differs in leaf %#x.%u: this host "
				 "cannot give the guest the CPU it was recorded on", t->function, t->index);
			return -EINVAL;
		}
	}
	if (h->initial_memory_xxh64 != s->initial_mem_xxh64) {
		snprintf(msg, msglen, "the guest's initial memory differs from the recording's "
			 "(xxh64 %016" PRIx64 ", recorded %016" PRIx64 ")", s->initial_mem_xxh64,
			 h->initial_memory_xxh64);
		return -EINVAL;
	}
	return 0;
}

void rpl_start(struct replayer *p, struct rr_session *s, struct trace_reader *rd)
{
	const struct trace_end *end = trace_reader_end(rd);
	const struct trace_info *inf = trace_reader_info(rd);
	uint32_t good;

	memset(p, 0, sizeof(*p));
	p->s = s;
	p->rd = rd;
	p->idle_sync = UINT64_MAX;
	/* Marks the first damaged chunk; the seek clears the error it leaves. */
	if (trace_reader_verify(rd) < 0)
		trace_reader_seek(rd, 0);
	p->truncated = !end || inf->corrupt;
	p->end_place = end ? end->place : TRACE_PLACE_AT_SYNC;
	p->end_sync = end ? end->total_sync : 0;
	p->sync_rip = rr_rip(s); /* the boot state, for an end at sync point 0 */
	p->sync_reg_hash = rr_reg_hash(s);
	/* Without chaos an interrupt lands at the first sync point it can,
	 * and replay checks that it did; with chaos the trace says where. */
	s->m.in = (struct vmm_inputs){ p, rpl_clock, rpl_clock_used, rpl_serial, rpl_idle,
				       trace_reader_header(rd)->chaos.on ? rpl_irq_now : NULL, NULL, NULL };
	p->hooks = (struct vmm_hooks){ p, rpl_on_exit, rpl_on_inject };
	/* Where the recording was stopped (a signal, an error of rrvm's), replay
	 * stops too; where the guest ran into an instruction KVM cannot run,
	 * it runs on into it.  An incomplete trace replays up to the sync point
	 * before the last one of its whole chunks, whose events may go on in
	 * the next chunk (trace_reader_replayable). */
	if (p->truncated) {
		p->nothing = !trace_reader_replayable(rd, &p->end_sync, &good);
		s->m.stop_after_sync = p->end_sync;
	} else if ((end->reason == TRACE_END_SIGNAL || end->reason == TRACE_END_ERROR) &&
		   end->place != TRACE_PLACE_IN_STRETCH) {
		s->m.stop_after_sync = end->total_sync;
	}
	rpl_fetch(p);
	rpl_seek_next(p);
}

int rpl_open(struct replayer **out, struct rr_session *s, struct trace_reader *rd)
{
	struct replayer *p = malloc(sizeof(*p));

	*out = p;
	if (!p)
		return -ENOMEM;
	rpl_start(p, s, rd);
	return 0;
}

void rpl_close(struct replayer *p)
{
	free(p);
}

bool rpl_truncated(const struct replayer *p)
{
	return p->truncated;
}

bool rpl_replays_nothing(const struct replayer *p)
{
	return p->nothing;
}

sync_seq rpl_end_sync(const struct replayer *p)
{
	return p->end_sync;
}

const struct trace_reader *rpl_reader(const struct replayer *p)
{
	return p->rd;
}

bool rpl_diverged(const struct replayer *p)
{
	return p->div.hit;
}

void rpl_set_progress(struct replayer *p, rpl_progress_fn fn, void *ctx)
{
	p->progress = fn;
	p->progress_ctx = ctx;
}

const struct machine_result *rpl_run(struct replayer *p)
{
	return machine_run(&p->s->m, &p->hooks);
}

static enum trace_end_reason rpl_end_reason(enum machine_stop why)
{
	switch (why) {
	case MACHINE_STOP_DEBUG_EXIT: return TRACE_END_DEBUG_EXIT;
	case MACHINE_STOP_TRIPLE_FAULT: return TRACE_END_TRIPLE_FAULT;
	case MACHINE_STOP_HALTED: return TRACE_END_HALT;
	case MACHINE_STOP_EMULATION: return TRACE_END_ERROR; /* TRACE_PLACE_IN_STRETCH */
	case MACHINE_STOP_RESET: return TRACE_END_RESET;
	default: return 0;
	}
}

/* " SIGINT" for a SIGNAL end record's status ("" when 0: rrvm before 2.0). */
static const char *rpl_signal_name(int sig)
{
	return sig == SIGINT ? " SIGINT" : sig == SIGTERM ? " SIGTERM" : sig ? " (another signal)" : "";
}

/* The end of a trace cut in the stretch after its last sync point: every
 * event replayed, and the registers at that sync point's exit. */
static bool rpl_compare_cut(struct replayer *p, const struct trace_end *end,
			    const struct machine_result *res, char *msg, size_t msglen)
{
	struct machine *m = &p->s->m;

	if (res->why != MACHINE_STOP_SYNC_LIMIT || m->sync != end->total_sync ||
	    p->next_state != 0 || p->sync_rip != end->final_rip ||
	    p->sync_reg_hash != end->final_state_hash) {
		rpl_diverge(p, m->sync, "the end differs: %s at sync point %llu, rip %#" PRIx64
			    ", registers %016" PRIx64 "%s; the trace ends after sync point %llu, "
			    "rip %#" PRIx64 ", registers %016" PRIx64, res->detail,
			    (unsigned long long)m->sync, p->sync_rip, p->sync_reg_hash,
			    p->next_state ? ", events left" : "", (unsigned long long)end->total_sync,
			    end->final_rip, end->final_state_hash);
		return false;
	}
	snprintf(msg, msglen, "replay matched: %llu sync points, %s%s after sync point %llu (the "
		 "stretch after it is not in the trace); checked there: every event replayed, rip %#"
		 PRIx64 ", register hash %016" PRIx64 " (memory is not)",
		 (unsigned long long)m->sync, trace_end_reason_name(end->reason),
		 rpl_signal_name(end->status),
		 (unsigned long long)end->total_sync, p->sync_rip, p->sync_reg_hash);
	return true;
}

/* An incomplete trace: matched when replay got to where its whole chunks
 * end, or to the guest's own end before that. */
static bool rpl_compare_incomplete(struct replayer *p, const struct machine_result *res,
				   char *msg, size_t msglen)
{
	const struct trace_info *inf = trace_reader_info(p->rd);
	const char *what = inf->corrupt ? "corrupt" : "truncated";
	uint64_t rip = rr_rip(p->s);
	enum trace_end_reason why = rpl_end_reason(res->why);

	if (res->why == MACHINE_STOP_SYNC_LIMIT) {
		snprintf(msg, msglen, "replay matched the %s trace up to sync point %llu (rip %#"
			 PRIx64 ")", what, (unsigned long long)p->s->m.sync, rip);
		return true;
	}
	if (why && why != TRACE_END_ERROR) {
		snprintf(msg, msglen, "replay of the %s trace reached the guest's own end (%s) at "
			 "sync point %llu (rip %#" PRIx64 ")", what, trace_end_reason_name(why),
			 (unsigned long long)p->s->m.sync, rip);
		return true;
	}
	return false;
}

bool rpl_compare_end(struct replayer *p, const struct machine_result *res, char *msg,
		     size_t msglen)
{
	const struct trace_end *end = trace_reader_end(p->rd);
	struct machine *m = &p->s->m;
	uint64_t rip = rr_rip(p->s), hash = rr_state_hash(p->s);
	enum trace_end_reason why = rpl_end_reason(res->why);

	if (p->div.hit)
		return false;
	if (p->truncated)
		return rpl_compare_incomplete(p, res, msg, msglen);
	if (end->place == TRACE_PLACE_CUT)
		return rpl_compare_cut(p, end, res, msg, msglen);
	if (res->why == MACHINE_STOP_SYNC_LIMIT)
		why = end->reason; /* stopped where the recording was stopped */
	if (why != end->reason || m->sync != end->total_sync ||
	    res->in_hlt != (end->place == TRACE_PLACE_IN_HLT) ||
	    (why == TRACE_END_DEBUG_EXIT && res->status != end->status) || rip != end->final_rip ||
	    hash != end->final_state_hash) {
		rpl_diverge(p, m->sync, "the end differs: %s %s %llu, rip %#" PRIx64 ", state %016"
			    PRIx64 "; the trace ends with %s %s %llu, rip %#" PRIx64 ", state %016" PRIx64,
			    why ? trace_end_reason_name(why) : res->detail,
			    res->in_hlt ? "in HLT at sync point" : "at sync point",
			    (unsigned long long)m->sync, rip, hash, trace_end_reason_name(end->reason),
			    trace_end_place_name(end->place), (unsigned long long)end->total_sync,
			    end->final_rip, end->final_state_hash);
		return false;
	}
	snprintf(msg, msglen, "replay matched: %llu sync points, %s%s%s%s, final rip %#" PRIx64
		 ", state hash %016" PRIx64 "; %llu landmarks (%llu breakpoint hits)",
		 (unsigned long long)m->sync, trace_end_reason_name(end->reason),
		 end->reason == TRACE_END_SIGNAL ? rpl_signal_name(end->status) : "",
		 end->place == TRACE_PLACE_IN_HLT ? " in HLT" : "",
		 end->place == TRACE_PLACE_IN_STRETCH ? " after the last sync point" : "", rip, hash,
		 (unsigned long long)m->stats.landmarks, (unsigned long long)m->stats.landmark_hits);
	return true;
}

int rpl_seek(struct replayer *p, sync_seq s, uint64_t consumed)
{
	/* Every event of S was consumed before the machine state being
	 * restored was saved, so the next one is the first with sync > S. */
	int r = trace_reader_seek(p->rd, s + 1);

	if (r < 0)
		return r;
	p->nrecent = 0;
	p->consumed = consumed;
	p->consumed_at_idle = 0;
	p->idle_sync = UINT64_MAX;
	memset(&p->div, 0, sizeof(p->div));
	rpl_fetch(p);
	rpl_seek_next(p);
	return p->next_state < 0 ? p->next_state : 0;
}

void rpl_report(const struct replayer *p, FILE *f)
{
	char line[TRACE_EVENT_TEXT_MAX];
	unsigned n = p->nrecent < RPL_RECENT ? p->nrecent : RPL_RECENT;

	fprintf(f, "rrvm: replay diverged at sync point %llu (rip %#" PRIx64 "): %s\n",
		(unsigned long long)p->div.sync, p->div.rip, p->div.what);
	for (unsigned i = 0; p->div.has_regs && i < TRACE_NREGS; i++)
		if (p->div.want[i] != p->div.got[i])
			fprintf(f, "rrvm:   %-6s recorded %#018" PRIx64 ", replayed %#018" PRIx64 "\n",
				rr_reg_name(i), p->div.want[i], p->div.got[i]);
	if (n)
		fprintf(f, "rrvm: the last %u events replayed before it:\n", n);
	for (unsigned i = p->nrecent - n; i < p->nrecent; i++) {
		trace_event_format(&p->recent[i % RPL_RECENT], line, sizeof(line));
		fprintf(f, "rrvm:   %s\n", line);
	}
}
