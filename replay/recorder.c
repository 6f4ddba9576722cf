#define LOG_MODULE "replay"
#include "replay/recorder.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "replay/session_int.h"
#include "util/hostclock.h"
#include "util/log.h"
#include "vmm/exit.h"
#include "vmm/inputs.h"
#include "vmm/x86.h"

#define REC_MAX_KV 32

/* The machine's inputs and hooks point here while it records. */
struct recorder {
	struct rr_session *s;
	struct trace_writer *w;
	struct vmm_inputs live; /* the session machine's own (host) inputs */
	struct vmm_hooks hooks;
	unsigned reg_every;
	sync_seq clock_sync;    /* last clock event logged, to log each once */
	vclock_ns clock_val;
	bool clock_logged;
	int err;                /* first trace write error, sticky */
	host_ns start;
	int (*stop_signal)(void);
	uint64_t sync_rip;      /* RIP and register hash at the last sync exit */
	uint64_t sync_reg_hash;
	bool chaos_on;
	struct chaos chaos;
	vclock_ns stop_after;
	bool timed_out;         /* stop_after was reached */
};

static void rec_append(struct recorder *r, struct trace_event *ev)
{
	int e;

	if (r->err)
		return;
	e = trace_writer_append(r->w, ev);
	if (e < 0) {
		r->err = e;
		machine_stop(&r->s->m, MACHINE_STOP_HOOK, "cannot write the trace: %s",
			     trace_writer_error(r->w));
	}
}

static struct trace_event rec_event(struct recorder *r, enum trace_event_kind kind, sync_seq s)
{
	return (struct trace_event){ .kind = kind, .sync = s, .rip = rr_rip(r->s) };
}

/* ---- input sources: live, with what the guest used logged ---- */

/* The live virtual time, shifted by the chaos clock phase. */
static bool rec_live_clock(struct recorder *r, sync_seq s, vclock_ns *t)
{
	bool ok = r->live.clock(r->live.ctx, s, t);

	*t += r->chaos.set.clock_phase_ns;
	return ok;
}

static bool rec_clock(void *ctx, sync_seq s, vclock_ns *t)
{
	return rec_live_clock(ctx, s, t);
}

static void rec_clock_used(void *ctx, sync_seq s, vclock_ns t)
{
	struct recorder *r = ctx;
	struct trace_event ev;

	if (r->clock_logged && r->clock_sync == s && r->clock_val == t)
		return;
	r->clock_logged = true;
	r->clock_sync = s;
	r->clock_val = t;
	ev = rec_event(r, TRACE_EV_CLOCK, s);
	ev.u.clock.value = t;
	rec_append(r, &ev);
}

static unsigned rec_serial(void *ctx, sync_seq s, uint8_t *buf, unsigned room)
{
	struct recorder *r = ctx;
	unsigned n;
	struct trace_event ev;

	if (r->chaos_on)
		room = chaos_serial_room(&r->chaos, s, room);
	n = room ? r->live.serial(r->live.ctx, s, buf, room) : 0;
	if (n && r->chaos_on)
		chaos_serial_taken(&r->chaos, s);
	if (n) {
		ev = rec_event(r, TRACE_EV_SERIAL_INPUT, s);
		ev.u.serial_input.bytes = (struct trace_bytes){ buf, n };
		rec_append(r, &ev);
	}
	return n;
}

static int rec_idle(void *ctx, sync_seq s, vclock_ns due)
{
	struct recorder *r = ctx;

	/* A guest that idles still gets its last inputs onto disk. */
	if (!r->err && trace_writer_poll(r->w) < 0)
		r->err = -EIO;
	if (due != VCLOCK_NEVER)
		due = due > r->chaos.set.clock_phase_ns ? due - r->chaos.set.clock_phase_ns : 0;
	return r->live.idle(r->live.ctx, s, due);
}

static bool rec_irq_now(void *ctx, sync_seq s, bool must)
{
	struct recorder *r = ctx;
	vclock_ns now = 0;

	rec_live_clock(r, s, &now);
	return chaos_irq_now(&r->chaos, now, must);
}

/* The live clock, shifted by the chaos phase, back to host time: where
 * the machine plans its landmark kicks. */
static host_ns rec_host_time(void *ctx, vclock_ns t)
{
	struct recorder *r = ctx;
	host_ns h0 = r->live.host_time ? r->live.host_time(r->live.ctx, 0) : r->s->m.host_in.origin;

	return h0 + t - r->chaos.set.clock_phase_ns;
}

static host_ns rec_kick_delay(void *ctx, vclock_ns due, host_ns bound)
{
	struct recorder *r = ctx;

	(void)due;
	return chaos_kick_delay(&r->chaos, bound);
}

/* ---- exit hooks ---- */

/* A patched site trapped (rr_tsc_trap): the virtual TSC, logged. */
static void rec_tsc_trap(struct recorder *r, const struct vmm_exit *x, int kind)
{
	vclock_ns now;
	struct trace_event ev = rec_event(r, TRACE_EV_TSC_READ, x->sync);
	int e;

	rec_live_clock(r, x->sync, &now);
	ev.u.tsc_read.value = rr_vtsc(r->s, now);
	ev.u.tsc_read.source = kind == TSC_INSN_RDTSCP ? TRACE_TSC_RDTSCP : TRACE_TSC_RDTSC;
	ev.u.tsc_read.aux = 0;
	rec_append(r, &ev);
	if ((e = rr_tsc_trap_finish(r->s, kind, ev.u.tsc_read.value, 0)) < 0)
		machine_stop(&r->s->m, MACHINE_STOP_KVM_ERROR,
			     "cannot complete RDTSC in ring 3: %s", strerror(-e));
}

static void rec_rdmsr(struct recorder *r, struct vmm_exit *x)
{
	struct trace_event ev = rec_event(r, TRACE_EV_TSC_READ, x->sync);
	vclock_ns now;

	if (x->addr != X86_MSR_TSC)
		return;
	rec_live_clock(r, x->sync, &now);
	x->data = rr_vtsc(r->s, now);
	x->claimed = true;
	ev.u.tsc_read.value = x->data;
	ev.u.tsc_read.source = TRACE_TSC_RDMSR;
	rec_append(r, &ev);
}

static void rec_code_write(struct recorder *r, const struct vmm_exit *x)
{
	struct trace_event ev = rec_event(r, TRACE_EV_CODE_WRITE, x->sync);
	uint8_t data[8];

	memcpy(data, &x->data, sizeof(data));
	ev.u.code_write.gpa = x->addr;
	ev.u.code_write.bytes = (struct trace_bytes){ data, x->size };
	rec_append(r, &ev);
	rr_code_written(r->s, x);
}

/* The landmark goes first among its sync point's events: replay seeks it
 * as soon as it is the next event. */
static void rec_landmark(struct recorder *r, const struct vmm_exit *x)
{
	struct trace_event ev = rec_event(r, TRACE_EV_LANDMARK, x->sync);
	struct landmark lm;
	int e = landmark_take(&r->s->m, &lm);

	if (e < 0) {
		machine_stop(&r->s->m, MACHINE_STOP_HOOK, "cannot take a landmark: %s",
			     strerror(-e));
		r->err = r->err ? r->err : e;
		return;
	}
	ev.rip = lm.rip;
	memcpy(ev.u.landmark.regs, lm.regs, sizeof(ev.u.landmark.regs));
	ev.u.landmark.state_hash = lm.state_hash;
	ev.u.landmark.page_hash = lm.page_hash;
	rec_append(r, &ev);
}

static int rec_on_exit(void *ctx, struct vmm_exit *x)
{
	struct recorder *r = ctx;
	struct trace_event ev;
	int kind;
	vclock_ns now;

	if (x->is_sync) { /* where a cut recording's trace ends (rec_run) */
		r->sync_rip = rr_rip(r->s);
		r->sync_reg_hash = rr_reg_hash(r->s);
	}
	if (x->is_sync && r->stop_after && !r->timed_out && rec_live_clock(r, x->sync, &now) &&
	    now - r->chaos.set.clock_phase_ns >= r->stop_after) {
		r->timed_out = true; /* ends cleanly here, like a Ctrl-C */
		machine_request_stop(&r->s->m);
	}
	/* Only the guest's own port writes change what the PIC has pending,
	 * and each is an exit: here is where a held interrupt can vanish. */
	if (r->chaos_on && x->is_sync && !machine_irq_pending(&r->s->m))
		chaos_irq_gone(&r->chaos);
	if (x->kind == VMM_EXIT_LANDMARK)
		rec_landmark(r, x);
	if (x->is_sync && x->sync % r->reg_every == 0) {
		ev = rec_event(r, TRACE_EV_REG_CHECKPOINT, x->sync);
		ev.u.reg_checkpoint.reg_hash = r->sync_reg_hash;
		ev.u.reg_checkpoint.vclock = r->s->m.now;
		ev.u.reg_checkpoint.has_regs = true;
		rr_regs_get(r->s, ev.u.reg_checkpoint.regs);
		rec_append(r, &ev);
	}
	if ((kind = rr_tsc_trap(r->s, x)))
		rec_tsc_trap(r, x, kind);
	switch (x->kind) {
	case VMM_EXIT_IO_IN:
		ev = rec_event(r, TRACE_EV_PORT_READ, x->sync);
		ev.u.port_read.port = (uint16_t)x->addr;
		ev.u.port_read.size = (uint8_t)x->size;
		ev.u.port_read.value = (uint32_t)x->data;
		rec_append(r, &ev);
		break;
	case VMM_EXIT_MMIO_READ:
		ev = rec_event(r, TRACE_EV_MMIO_READ, x->sync);
		ev.u.mmio_read.gpa = x->addr;
		ev.u.mmio_read.size = (uint8_t)x->size;
		ev.u.mmio_read.value = x->size < 8 ? x->data & ((1ull << (8 * x->size)) - 1)
						   : x->data;
		rec_append(r, &ev);
		break;
	case VMM_EXIT_MMIO_WRITE:
		if (x->claimed)
			rec_code_write(r, x);
		break;
	case VMM_EXIT_RDMSR:
		rec_rdmsr(r, x);
		break;
	default:
		break;
	}
	return r->err ? -1 : 0;
}

static int rec_on_inject(void *ctx, sync_seq s, uint8_t vector)
{
	struct recorder *r = ctx;
	struct trace_event ev = rec_event(r, TRACE_EV_IRQ_INJECT, s);

	ev.u.irq_inject.vector = vector;
	ev.u.irq_inject.lateness = r->s->m.inject_lateness;
	ev.u.irq_inject.at_landmark = r->s->m.inject_at_landmark;
	rec_append(r, &ev);
	return r->err ? -1 : 0;
}

/* ---- header and end ---- */

/* Splits "k=v k=v" into KV (pointing into BUF, which it edits). */
static uint32_t rec_split_kv(char *buf, struct trace_kv *kv, uint32_t max)
{
	uint32_t n = 0;

	for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok && n < max;
	     tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq)
			continue;
		*eq = '\0';
		kv[n++] = (struct trace_kv){ tok, eq + 1 };
	}
	return n;
}

static int rec_start(struct recorder *r, struct rr_session *s, const char *path,
		     const struct rec_options *o, char *msg, size_t msglen)
{
	struct trace_cpuid_entry cpuid[CPUID_MAX_ENTRIES];
	struct trace_file_hash files[2 + MACHINE_MAX_MODULES] = {
		{ s->m.cfg.kernel_path, s->kernel_xxh64, s->m.kernel_len, TRACE_FILE_KERNEL, NULL },
	};
	uint32_t nfiles = 1;
	struct trace_kv kv[REC_MAX_KV];
	char summary[512];
	struct timespec now;
	struct trace_error err;
	struct trace_header h;
	struct vmm_inputs in;
	int e;

	memset(r, 0, sizeof(*r));
	r->s = s;
	s->warn_tsc = true;
	if (s->m.initrd)
		files[nfiles++] = (struct trace_file_hash){ s->m.cfg.initrd_path, s->initrd_xxh64,
							    s->m.initrd_len, TRACE_FILE_INITRD,
							    NULL };
	for (unsigned i = 0; i < s->m.nmods; i++)
		files[nfiles++] = (struct trace_file_hash){ s->m.mods[i].path, s->mod_xxh64[i],
							    s->m.mods[i].len, TRACE_FILE_MODULE,
							    s->m.mods[i].cmdline };
	r->chaos_on = o->chaos;
	r->stop_after = o->stop_after;
	if (o->chaos)
		chaos_init(&r->chaos, o->chaos_seed,
			   s->m.cfg.irq_bound ? s->m.cfg.irq_bound : MACHINE_IRQ_BOUND);
	r->reg_every = o->reg_check_every ? o->reg_check_every : RR_REG_CHECK_DEFAULT;
	for (unsigned i = 0; i < s->m.cpuid.n; i++) {
		const struct cpuid_entry *c = &s->m.cpuid.e[i];
		cpuid[i] = (struct trace_cpuid_entry){ c->function, c->index, c->eax, c->ebx,
						       c->ecx, c->edx, 0 };
	}
	/* irq_window as text too: a 1.0 replayer reads it only there. */
	snprintf(summary, sizeof(summary), "%s irq_window=%d",
		 o->host_summary ? o->host_summary : "", s->m.cfg.irq_window);
	clock_gettime(CLOCK_REALTIME, &now);
	h = (struct trace_header){
		.rrvm_version = o->rrvm_version,
		.guest_mem_bytes = s->m.mem.size,
		.files = files,
		.nfiles = nfiles,
		.initial_memory_xxh64 = s->initial_mem_xxh64,
		.cmdline = s->m.cmdline,
		.cpuid = cpuid,
		.ncpuid = s->m.cpuid.n,
		.host_probe = kv,
		.nhost_probe = rec_split_kv(summary, kv, REC_MAX_KV),
		.start_unix_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec,
		.irq_policy = "exact",
		.irq_controller = machine_irq_controller(&s->m),
		.rtc_epoch_sec = s->m.cfg.rtc_epoch,
		.tsc_khz = s->tsc_khz,
		/* How interrupts were delivered: replay must do the same. */
		.irq_window = s->m.cfg.irq_window,
		.cpuid_rewritten = s->m.cpuid_rewritten,
		.fw_cfg = s->m.cfg.fw_cfg,
		.host_cpu_hash = s->m.cfg.host_cpu_hash,
		.chaos = r->chaos.set,
	};
	e = trace_writer_open(&r->w, path, &h, &o->writer, &err);
	if (e < 0) {
		snprintf(msg, msglen, "%s", err.msg);
		return e;
	}
	r->live = s->m.in;
	in = (struct vmm_inputs){ r, rec_clock, rec_clock_used, rec_serial, rec_idle,
				  o->chaos ? rec_irq_now : NULL, rec_host_time,
				  o->chaos ? rec_kick_delay : NULL };
	s->m.in = in;
	r->hooks = (struct vmm_hooks){ r, rec_on_exit, rec_on_inject };
	r->start = host_now();
	r->stop_signal = o->stop_signal;
	r->sync_rip = rr_rip(s);
	r->sync_reg_hash = rr_reg_hash(s);
	return 0;
}

int rec_open(struct recorder **out, struct rr_session *s, const char *path,
	     const struct rec_options *o, char *msg, size_t msglen)
{
	struct recorder *r = malloc(sizeof(*r));
	int e;

	*out = NULL;
	if (!r) {
		snprintf(msg, msglen, "out of memory for the recorder");
		return -ENOMEM;
	}
	e = rec_start(r, s, path, o, msg, msglen);
	if (e < 0) {
		free(r);
		return e;
	}
	*out = r;
	return 0;
}

void rec_close(struct recorder *r)
{
	if (!r)
		return;
	if (r->w)
		trace_writer_close(r->w, NULL);
	free(r);
}

bool rec_timed_out(const struct recorder *r)
{
	return r->timed_out;
}

static enum trace_end_reason rec_end_reason(enum machine_stop why)
{
	switch (why) {
	case MACHINE_STOP_DEBUG_EXIT: return TRACE_END_DEBUG_EXIT;
	case MACHINE_STOP_TRIPLE_FAULT: return TRACE_END_TRIPLE_FAULT;
	case MACHINE_STOP_HALTED: return TRACE_END_HALT;
	case MACHINE_STOP_SIGNAL: return TRACE_END_SIGNAL;
	case MACHINE_STOP_RESET: return TRACE_END_RESET;
	default: return TRACE_END_ERROR;
	}
}

/* Where in its last sync point the guest stopped (trace.proto EndPlace). */
static enum trace_end_place rec_end_place(const struct machine *m,
					  const struct machine_result *res)
{
	if (res->in_hlt)
		return TRACE_PLACE_IN_HLT;
	if (m->at_sync)
		return TRACE_PLACE_AT_SYNC;
	switch (res->why) {
	case MACHINE_STOP_SIGNAL: /* a stop from outside the guest: the stretch is cut */
	case MACHINE_STOP_HOOK:
	case MACHINE_STOP_KVM_ERROR:
		return TRACE_PLACE_CUT;
	default: /* the guest got there itself (a triple fault, an instruction KVM
		  * cannot run): replay runs on into it */
		return TRACE_PLACE_IN_STRETCH;
	}
}

const struct machine_result *rec_run(struct recorder *r, int *write_err, char *msg,
				     size_t msglen)
{
	struct machine *m = &r->s->m;
	const struct machine_result *res;
	struct trace_end end;
	vclock_ns now = 0;
	char detail[sizeof(res->detail) + 64];
	int e;

	res = machine_run(m, &r->hooks);
	m->in.clock(m->in.ctx, m->sync, &now);
	end = (struct trace_end){
		.reason = rec_end_reason(res->why),
		.status = res->why == MACHINE_STOP_DEBUG_EXIT ? res->status
			  : res->why == MACHINE_STOP_SIGNAL && r->stop_signal ? r->stop_signal()
										: 0,
		.final_rip = rr_rip(r->s),
		.final_state_hash = rr_state_hash(r->s),
		.total_sync = m->sync,
		.duration = now,
		.host_duration = host_now() - r->start,
		.message = res->detail,
		.place = rec_end_place(m, res),
	};
	if (end.place == TRACE_PLACE_CUT) {
		/* The stretch after the last sync point is not in the trace:
		 * the end is that sync point, as its exit left the registers. */
		end.final_rip = r->sync_rip;
		end.final_state_hash = r->sync_reg_hash;
		snprintf(detail, sizeof(detail), "%s; the trace ends at sync point %llu, the "
			 "stretch after it left out", res->detail, (unsigned long long)m->sync);
		end.message = detail;
	}
	e = trace_writer_close(r->w, r->err ? NULL : &end);
	r->w = NULL;
	*write_err = r->err ? r->err : e;
	if (*write_err)
		snprintf(msg, msglen, "the trace could not be written completely (%s)",
			 strerror(-*write_err));
	return res;
}
