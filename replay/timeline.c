#define LOG_MODULE "replay"
#include "replay/timeline.h"

#include "replay/timeline_int.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hostclock.h"
#include "util/log.h"
#include "vmm/paging.h"
#include "vmm/probe.h"
#include "vmm/x86.h"

/* Free runs to a sync point stop this often (in sync points) to report
 * progress.  Checkpoints do not wait for them: tl_run ends a run at any
 * sync point where one is due (tl_ckpt_split), which in exit-free code,
 * where a landmark costs its breakpoint hits, may be every few. */
#define TL_RUN_CHUNK 256

/* ---- positions ---- */

void tl_pos_format(struct tl_pos p, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64 ":%" PRIu64, p.sync, p.n);
}

int tl_pos_parse(const char *s, struct tl_pos *p)
{
	char *end;
	unsigned long long a, b = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	a = strtoull(s, &end, 10);
	if (*end == ':') {
		if (end[1] < '0' || end[1] > '9')
			return -EINVAL;
		b = strtoull(end + 1, &end, 10);
	}
	if (*end || errno == ERANGE) /* a number past 2^64-1 names no position */
		return -EINVAL;
	*p = (struct tl_pos){ a, b };
	return 0;
}

int tl_pos_cmp(struct tl_pos a, struct tl_pos b)
{
	if (a.sync != b.sync)
		return a.sync < b.sync ? -1 : 1;
	return a.n < b.n ? -1 : a.n > b.n;
}

int tl_fail(struct timeline *t, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
	return err;
}

int tl_fail_restore(struct timeline *t, int err, sync_seq target)
{
	if (err == -ENOENT)
		return tl_fail(t, err, "no checkpoint before sync point %llu",
			       (unsigned long long)target);
	return tl_fail(t, err, "restoring the checkpoint before sync point %llu failed (%s)%s",
		       (unsigned long long)target, strerror(-err),
		       ckpt_unusable(&t->ck) ? ": the machine is unusable, restart the session" : "");
}

/* ---- running the machine ---- */

/* Out of replay, the determinism machinery still stands in the guest (its
 * RDTSC sites patched, its code pages read-only, RDMSR of the TSC
 * trapped): serve it from the host's clock, as `rrvm run` would. */
static int tl_live_exit(struct timeline *t, struct vmm_exit *x)
{
	struct rr_session *s = t->s;
	vclock_ns now = 0;
	int kind = rr_tsc_trap(s, x);

	if (kind || x->kind == VMM_EXIT_RDMSR)
		s->m.in.clock(s->m.in.ctx, x->sync, &now); /* the host inputs, live */
	if (kind)
		return rr_tsc_trap_finish(s, kind, rr_vtsc(s, now), 0);
	if (x->kind == VMM_EXIT_RDMSR && x->addr == X86_MSR_TSC)
		x->data = rr_vtsc(s, now), x->claimed = true;
	else if (x->kind == VMM_EXIT_MMIO_WRITE && x->claimed)
		rr_code_written(s, x);
	return 0;
}

/* At sync point X of a run: whether the run should end here for a
 * checkpoint the policy asks for (ckpt_due: by replay time, or every N
 * sync points).  Only where a checkpoint is what tl_run_to_sync would take
 * after stopping at this sync point: in replay, no single step running, no
 * trap patched into memory; and with breakpoints armed only at a landmark
 * whose RIP is not one, because completing an exit's I/O before the take
 * (snap_flush) keeps a breakpoint on the next instruction from firing
 * (vmm/machine_lm.c machine_lm_at_start) and the run would miss that hit. */
static void tl_ckpt_split(struct timeline *t, const struct vmm_exit *x)
{
	struct machine *m = &t->s->m;
	uint64_t rip = rr_rip(t->s);

	if (!x->is_sync || t->live || t->stepping || t->npatch || m->sync >= m->stop_after_sync)
		return;
	if (t->bp_armed && x->kind != VMM_EXIT_LANDMARK)
		return;
	for (unsigned i = 0; t->bp_armed && i < t->nbp; i++)
		if (t->bp[i] == rip)
			return;
	if (!ckpt_due(&t->ck))
		return;
	t->ckpt_split = m->sync;
	m->stop_after_sync = m->sync;
}

static int tl_on_exit(void *ctx, struct vmm_exit *x)
{
	struct timeline *t = ctx;

	tl_ckpt_split(t, x);

	if (x->kind == VMM_EXIT_DEBUG) {
		t->trap_pc = x->addr;
		machine_stop(&t->s->m, MACHINE_STOP_TRAP, "trap at %#" PRIx64, x->addr);
		return 0;
	}
	if (x->kind == VMM_EXIT_WATCH) {
		/* A single step over a write to a write-protected page ends
		 * here: kvm_pvm loses the step's trap when it completes the
		 * write, and runs on (tl_step_tf completes it instead). */
		if (t->stepping) {
			t->step_wrote = true;
			machine_stop(&t->s->m, MACHINE_STOP_TRAP, "write during a step");
		}
		for (unsigned i = 0; i < t->nwatch; i++) {
			const struct tl_watch *w = &t->watch[i];

			if (x->addr >= w->gpa + w->len || w->gpa >= x->addr + x->size)
				continue; /* same page, other bytes */
			t->watch_hits++;
			t->watch_addr = w->lin + (x->addr > w->gpa ? x->addr - w->gpa : 0);
			t->watch_old = x->old;
			t->watch_new = x->data;
			t->watch_size = x->size;
			if (t->stop_on_watch && !t->stepping)
				machine_stop(&t->s->m, MACHINE_STOP_TRAP, "watched write");
			break;
		}
		return 0;
	}
	return t->live ? tl_live_exit(t, x) : t->p.hooks.on_exit(t->p.hooks.ctx, x);
}

static int tl_on_inject(void *ctx, sync_seq s, uint8_t vector)
{
	struct timeline *t = ctx;

	return t->live ? 0 : t->p.hooks.on_inject(t->p.hooks.ctx, s, vector);
}

/* Runs until sync point LIMIT has been handled, a trap, the end of the
 * trace or an interruption.  < 0 on divergence or a KVM error. */
int tl_run(struct timeline *t, sync_seq limit)
{
	struct machine *m = &t->s->m;
	const struct machine_result *r;
	int e;

	for (;;) {
		t->ckpt_split = 0;
		m->stop_after_sync = limit;
		r = machine_run(m, &t->hooks);
		m->stop_after_sync = MACHINE_NO_SYNC_LIMIT;
		/* Registers the last exit changed (a TSC trap's result, a
		 * patched HLT's RIP put back on it) reach KVM now, so that
		 * whoever reads the stopped machine (KVM_GET_REGS) sees them. */
		if (machine_regs_flush(m) < 0) {
			m->stop_requested = 0;
			return tl_fail(t, -EIO, "cannot set the vCPU's registers");
		}
		if (r->why != MACHINE_STOP_SYNC_LIMIT || !t->ckpt_split || t->ckpt_split != m->sync)
			break;
		/* Ended early for a checkpoint: take it, and run on to LIMIT. */
		t->ckpt_split = 0;
		if ((e = ckpt_take(&t->ck, t->s)) < 0 && e != -EBUSY) {
			m->stop_requested = 0;
			return e;
		}
		if (m->sync >= limit || m->stop_requested)
			break;
	}
	t->ckpt_split = 0;
	if (m->stop_requested && r->why == MACHINE_STOP_SYNC_LIMIT && m->sync < limit) {
		m->stop_requested = 0;
		return TL_RUN_INTERRUPTED;
	}
	m->stop_requested = 0;
	switch (r->why) {
	case MACHINE_STOP_SYNC_LIMIT:
		return TL_RUN_SYNC;
	case MACHINE_STOP_TRAP:
		return TL_RUN_TRAP;
	case MACHINE_STOP_SIGNAL:
		return TL_RUN_INTERRUPTED;
	case MACHINE_STOP_DEBUG_EXIT:
	case MACHINE_STOP_HALTED:
	case MACHINE_STOP_TRIPLE_FAULT:
		return TL_RUN_END;
	default:
		if (t->p.div.hit)
			return tl_fail(t, -EIO, "replay diverged at sync point %llu: %s",
				       (unsigned long long)t->p.div.sync, t->p.div.what);
		return tl_fail(t, -EIO, "%s", r->detail);
	}
}

/* The machine rests at the top of its loop after a sync point: finish any
 * I/O KVM still owes, so that (S, 0) is one state however it was reached. */
int tl_settle(struct timeline *t)
{
	int r = snap_flush(&t->ck.snap);

	t->pos = (struct tl_pos){ t->s->m.sync, 0 };
	t->lazy.n = 0;
	return r;
}

/* A run stopped on request somewhere in a stretch: every stop knows its
 * position.  A stretch that ends at a landmark is short (the machine's
 * stretch bound, ~10 ms of guest code): the stop goes on to it, a seek of
 * milliseconds.  Any other goes back to the stretch's sync point (a
 * restore and a replay, which in exit-free code passes many landmarks). */
int tl_interrupted(struct timeline *t)
{
	sync_seq at = t->s->m.sync;
	int r;

	t->pos = (struct tl_pos){ at, TL_N_UNKNOWN };
	t->lazy.n = 0;
	if (!t->live && t->p.next_state == 1 && t->p.next.kind == TRACE_EV_LANDMARK &&
	    t->p.next.sync == at + 1) {
		if ((r = tl_run(t, at + 1)) < 0)
			return r;
		if (r == TL_RUN_SYNC) {
			if ((r = tl_settle(t)) < 0)
				return r;
			return tl_fail(t, -EINTR, "interrupted; stopped at sync point %llu",
				       (unsigned long long)t->s->m.sync);
		}
		at = t->s->m.sync; /* a trap or the end came first: back as below */
		t->pos = (struct tl_pos){ at, TL_N_UNKNOWN };
	}
	if ((r = tl_goto_exact(t, (struct tl_pos){ at, 0 })) < 0)
		return r; /* t->err says why the way back failed */
	return tl_fail(t, -EINTR, "interrupted at sync point %llu", (unsigned long long)at);
}

/* Free run from the current position to (TARGET, 0), taking checkpoints as
 * the policy asks. */
static int tl_run_to_sync(struct timeline *t, sync_seq target)
{
	struct machine *m = &t->s->m;
	sync_seq start = m->sync;

	if (target > t->end_sync)
		return tl_fail(t, -ERANGE, "sync point %llu lies past the end of the trace (%llu)",
			       (unsigned long long)target, (unsigned long long)t->end_sync);
	while (m->sync < target || (m->sync == target && t->pos.n)) {
		sync_seq lim = m->sync + TL_RUN_CHUNK < target ? m->sync + TL_RUN_CHUNK : target;
		int r = tl_run(t, lim > m->sync ? lim : m->sync + 1);

		if (r < 0)
			return r;
		if (r == TL_RUN_END)
			break;
		if (r == TL_RUN_INTERRUPTED)
			return tl_interrupted(t);
		t->pos = (struct tl_pos){ m->sync, 0 };
		if (t->progress)
			t->progress(t->progress_ctx, m->sync - start, target - start);
		if (ckpt_due(&t->ck) && (r = ckpt_take(&t->ck, t->s)) < 0 && r != -EBUSY)
			return r;
	}
	return tl_settle(t);
}

/* Back in replay after a live excursion: the recording's inputs again. */
static void tl_reenter_replay(struct timeline *t)
{
	if (!t->live)
		return;
	t->live = false;
	t->s->m.in = t->replay_in;
	log_info("back in replay: the machine is the recording's again");
}

/* Restores the nearest checkpoint at or before TARGET's sync point when
 * TARGET lies behind the current position, when that checkpoint lies ahead
 * of it (a long jump forward), or when the machine is live (its state is
 * not the recording's). */
static int tl_rewind(struct timeline *t, struct tl_pos target)
{
	sync_seq at;
	int r = ckpt_nearest(&t->ck, target.sync, &at);

	if (!t->live && tl_pos_cmp(target, t->pos) >= 0 && (r < 0 || at <= t->pos.sync))
		return 0;
	if (r == 0)
		r = ckpt_restore(&t->ck, t->s, target.sync, &at);
	if (r < 0)
		return tl_fail_restore(t, r, target.sync);
	tl_reenter_replay(t);
	t->pos = (struct tl_pos){ at, 0 };
	t->lazy.n = 0;
	return 0;
}

int tl_goto(struct timeline *t, struct tl_pos target)
{
	if (target.n == TL_N_UNKNOWN)
		return tl_fail(t, -EINVAL, "not a position");
	return tl_goto_exact(t, target);
}

/* Stepping into stretch S: anchor a checkpoint at its start (~0.4 ms), so
 * that the steps back that usually follow restore it rather than one up
 * to a checkpoint interval before. */
static int tl_anchor(struct timeline *t, sync_seq s)
{
	int r = 0;

	if (!t->live && t->pos.n == 0 && t->pos.sync == s && (r = ckpt_take(&t->ck, t->s)) == -EBUSY)
		r = 0;
	return r;
}

int tl_goto_exact(struct timeline *t, struct tl_pos target)
{
	int r = tl_rewind(t, target);

	if (r == 0 && t->pos.sync < target.sync)
		r = tl_run_to_sync(t, target.sync);
	if (r == 0 && target.n)
		r = tl_anchor(t, target.sync);
	while (r >= 0 && t->pos.n < target.n) {
		r = tl_step_fwd(t);
		if (r == TL_RUN_SYNC || r == TL_RUN_END)
			return tl_fail(t, -ERANGE, "sync point %llu has fewer than %llu instructions",
				       (unsigned long long)target.sync, (unsigned long long)target.n);
		if (r == TL_RUN_INTERRUPTED)
			return tl_fail(t, -EINTR, "interrupted");
	}
	return r < 0 ? r : 0;
}

/* The instructions in the stretch after sync point S: stepped from (S, 0)
 * until the next sync point. */
static int tl_stretch_len(struct timeline *t, sync_seq s, insn_count *len)
{
	int r = tl_goto(t, (struct tl_pos){ s, 0 });

	if (r == 0)
		r = tl_anchor(t, s);
	for (*len = 0; r >= 0; (*len)++) {
		r = tl_step_fwd(t);
		if (r == TL_RUN_SYNC || r == TL_RUN_END)
			return 0;
		if (r == TL_RUN_INTERRUPTED)
			return tl_fail(t, -EINTR, "interrupted");
	}
	return r;
}

int tl_stop_interrupted(struct timeline *t, int r, struct tl_stop *stop)
{
	if (r != -EINTR)
		return r;
	if (t->pos.n == TL_N_UNKNOWN && !t->live && (r = tl_interrupted(t)) != -EINTR)
		return r; /* could not even go back to the sync point */
	*stop = (struct tl_stop){ .why = TL_STOP_INTERRUPTED, .pos = t->pos };
	return 0;
}

static int tl_step_dir(struct timeline *t, bool reverse, struct tl_stop *stop)
{
	struct tl_pos to;
	insn_count len;
	int r;

	if (reverse && t->live && (r = tl_goto_exact(t, t->live_at)) < 0)
		return r;
	if (reverse && (r = tl_resolve(t)) < 0) {
		/* No count, but maybe single steps since the last arrival
		 * (else -ENOTSUP, with the reason resolving gave). */
		if (r != -ENOTSUP || (r = tl_lazy_back(t)) < 0)
			return r;
		*stop = (struct tl_stop){ .why = TL_STOP_STEP, .pos = t->pos };
		return 0;
	}
	to = t->pos;
	if (!reverse) {
		r = tl_step_fwd(t);
		if (r < 0)
			return r;
		stop->why = r == TL_RUN_END ? TL_STOP_END : TL_STOP_STEP;
	} else if (to.n == 0 && to.sync == 0) {
		stop->why = TL_STOP_START;
	} else {
		if (to.n) {
			to.n--;
		} else {
			/* The instruction that caused sync point S is the last of
			 * the stretch after S - 1. */
			if ((r = tl_stretch_len(t, to.sync - 1, &len)) < 0)
				return r;
			to = (struct tl_pos){ to.sync - 1, len };
		}
		if ((r = tl_goto(t, to)) < 0)
			return r;
		stop->why = TL_STOP_STEP;
	}
	stop->pos = t->pos;
	return 0;
}

int tl_step(struct timeline *t, bool reverse, struct tl_stop *stop)
{
	return tl_stop_interrupted(t, tl_step_dir(t, reverse, stop), stop);
}

/* LIN through the guest's page tables at the current position. */
int tl_xlat(struct timeline *t, uint64_t lin, struct paging_xlat *x)
{
	struct kvm_sregs s;
	struct paging_mode pm;
	int r = vcpu_get_sregs(&t->s->m.vcpu, &s);

	if (r < 0)
		return r;
	paging_mode_from_sregs(&pm, &s);
	r = paging_translate(&t->s->m.mem, &pm, lin, x);
	if (!(s.cr0 & X86_CR0_PG))
		x->perm &= ~PAGING_U; /* no user pages before paging */
	return r;
}

/* ---- memory ---- */

/* How much of LEFT bytes at ADDR lie in ADDR's page. */
static size_t tl_piece(uint64_t addr, size_t left)
{
	uint64_t page_left = 4096 - (addr & 4095);

	return left < page_left ? left : page_left;
}

/* One piece of a read that stays in one page. */
static size_t tl_read_piece(struct timeline *t, uint64_t gpa, uint8_t *buf, size_t n)
{
	if (gmem_read(&t->s->m.mem, gpa, buf, n) < 0)
		return 0;
	tsc_unpatch_view(&t->s->tsc, gpa, buf, n);
	return n;
}

static long tl_read(struct timeline *t, uint64_t addr, void *buf, size_t len, bool virt)
{
	struct paging_xlat x = { .gpa = addr };
	size_t done = 0;

	while (done < len) {
		size_t n = tl_piece(addr + done, len - done);

		if (virt && tl_xlat(t, addr + done, &x) < 0)
			break;
		if (tl_read_piece(t, virt ? x.gpa : addr + done, (uint8_t *)buf + done, n) != n)
			break;
		done += n;
	}
	return done ? (long)done : -EFAULT;
}

long tl_read_virt(struct timeline *t, uint64_t lin, void *buf, size_t len)
{
	return tl_read(t, lin, buf, len, true);
}

long tl_read_phys(struct timeline *t, uint64_t gpa, void *buf, size_t len)
{
	return tl_read(t, gpa, buf, len, false);
}

/* ---- positions and state writes ---- */

static int tl_refuse_write(struct timeline *t)
{
	return tl_fail(t, -EROFS, "refused: the machine is replaying a recording, which a "
		       "write would no longer describe; leave replay first (that ends "
		       "determinism from here on)");
}

int tl_write_regs(struct timeline *t, const struct kvm_regs *regs)
{
	struct machine *m = &t->s->m;

	if (!t->live)
		return tl_refuse_write(t);
	*machine_regs(m) = *regs;
	machine_regs_changed(m);
	return machine_regs_flush(m);
}

long tl_write_virt(struct timeline *t, uint64_t lin, const void *buf, size_t len)
{
	struct paging_xlat x;
	size_t done = 0;

	if (!t->live)
		return tl_refuse_write(t);
	if (len > UINT64_MAX - lin)
		return tl_fail(t, -EFAULT, "cannot write %zu bytes at %#" PRIx64 ": past the end "
			       "of the address space", len, lin);
	/* All or nothing: every page must be mapped before a byte is written. */
	for (uint64_t a = lin & ~4095ull; a < lin + len; a += 4096)
		if (tl_xlat(t, a, &x) < 0 || !gmem_ptr(&t->s->m.mem, x.gpa, 1))
			return tl_fail(t, -EFAULT, "cannot write at %#" PRIx64 ": not mapped",
				       a < lin ? lin : a);
	while (done < len) {
		size_t n = tl_piece(lin + done, len - done);

		tl_xlat(t, lin + done, &x);
		memcpy(gmem_ptr(&t->s->m.mem, x.gpa, n), (const uint8_t *)buf + done, n);
		snap_mem_mark(&t->ck.snap, x.gpa, n); /* no dirty log sees our writes */
		if (gmem_is_protected(&t->s->m.mem, x.gpa)) {
			/* Code, as the guest's own writes to it: rescanned. */
			struct vmm_exit w = { .kind = VMM_EXIT_MMIO_WRITE, .addr = x.gpa,
					      .size = (uint32_t)n, .claimed = true };

			rr_code_written(t->s, &w);
		}
		done += n;
	}
	return (long)len;
}

int tl_go_live(struct timeline *t)
{
	struct machine *m = &t->s->m;
	char pos[48];
	int r;

	if (t->live)
		return 0;
	if ((r = tl_resolve(t)) < 0)
		return r;
	t->live = true;
	t->live_at = t->pos;
	t->replay_in = m->in;
	/* Host time from here, continuing the guest's clock where it stands. */
	host_inputs_init(&m->host_in, -1);
	m->host_in.origin = host_now() - m->now;
	m->in = host_inputs_ops(&m->host_in);
	tl_pos_format(t->pos, pos, sizeof(pos));
	log_info("left replay at %s: the machine runs live from here, and nothing it does "
		 "is deterministic or recorded", pos);
	return 0;
}

void tl_interrupt(struct timeline *t)
{
	machine_request_stop(&t->s->m);
}

void tl_interrupt_clear(struct timeline *t)
{
	t->s->m.stop_requested = 0;
	if (t->s->m.vcpu.run)
		t->s->m.vcpu.run->immediate_exit = 0;
}

/* ---- setup ---- */

struct timeline *tl_new(void)
{
	return calloc(1, sizeof(struct timeline));
}

int tl_open(struct timeline *t, struct rr_session *s, struct trace_reader *rd)
{
	return tl_open_opts(t, s, rd, NULL);
}

int tl_open_opts(struct timeline *t, struct rr_session *s, struct trace_reader *rd,
		 const struct ckpt_opts *ck)
{
	const struct trace_end *end = trace_reader_end(rd);
	struct host_caps caps;
	int r;

	memset(t, 0, sizeof(*t));
	t->s = s;
	rpl_start(&t->p, s, rd);
	t->end_sync = t->p.truncated ? t->p.end_sync : end->total_sync;
	s->m.stop_after_sync = MACHINE_NO_SYNC_LIMIT;
	t->hooks = (struct vmm_hooks){ t, tl_on_exit, tl_on_inject };
	if (probe_host(&caps, s->m.cfg.kvm_path) == 0) {
		t->can_step_ring3 = probe_works(&caps.singlestep[PROBE_RING3]);
		t->can_break_ring3 = probe_works(&caps.hw_bp[PROBE_RING3]);
		t->can_watch_data = probe_works(&caps.data_bp[PROBE_RING0]);
		t->trap = probe_works(&caps.int3[PROBE_RING0]) ? TL_TRAP_INT3
			  : probe_works(&caps.hlt_ring0)       ? TL_TRAP_HLT
							       : TL_TRAP_NONE;
	}
	r = ckpt_store_init(&t->ck, s, &t->p, ck);
	if (r < 0)
		return tl_fail(t, r, "cannot set up checkpoints: %s", strerror(-r));
	r = ckpt_take(&t->ck, s);
	if (r < 0)
		return tl_fail(t, r, "cannot take the first checkpoint: %s", strerror(-r));
	return 0;
}

void tl_close(struct timeline *t)
{
	if (!t)
		return;
	ckpt_store_free(&t->ck);
	free(t);
}
