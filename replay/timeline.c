#define LOG_MODULE "replay"
#include "replay/timeline.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "vmm/paging.h"
#include "vmm/probe.h"
#include "vmm/x86.h"

/* Free runs stop this often (in sync points) to take checkpoints. */
#define TL_RUN_CHUNK 256

enum tl_run { TL_RUN_SYNC, TL_RUN_TRAP, TL_RUN_END, TL_RUN_INTERRUPTED };

/* "Somewhere after this sync point": what a free run that stopped at a trap
 * or an interruption knows.  Any target compares below it, so the next
 * goto rewinds to a checkpoint. */
#define TL_N_UNKNOWN UINT64_MAX

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
	a = strtoull(s, &end, 10);
	if (*end == ':') {
		if (end[1] < '0' || end[1] > '9')
			return -EINVAL;
		b = strtoull(end + 1, &end, 10);
	}
	if (*end)
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

static int tl_fail(struct timeline *t, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int tl_fail(struct timeline *t, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
	return err;
}

/* ---- running the machine ---- */

static int tl_on_exit(void *ctx, struct vmm_exit *x)
{
	struct timeline *t = ctx;

	if (x->kind == VMM_EXIT_DEBUG) {
		t->trapped = true;
		t->trap_pc = x->addr;
		machine_stop(&t->s->m, MACHINE_STOP_TRAP, "trap at %#" PRIx64, x->addr);
		return 0;
	}
	if (x->kind == VMM_EXIT_WATCH) {
		for (unsigned i = 0; i < t->nwatch; i++) {
			const struct tl_watch *w = &t->watch[i];

			if (x->addr >= w->gpa + w->len || w->gpa >= x->addr + x->size)
				continue; /* same page, other bytes */
			t->watch_hits++;
			t->watch_addr = w->lin + (x->addr > w->gpa ? x->addr - w->gpa : 0);
			t->watch_old = x->old;
			t->watch_new = x->data;
			t->watch_size = x->size;
			if (t->stop_on_watch)
				machine_stop(&t->s->m, MACHINE_STOP_TRAP, "watched write");
			break;
		}
		return 0;
	}
	return t->p.hooks.on_exit(t->p.hooks.ctx, x);
}

static int tl_on_inject(void *ctx, sync_seq s, uint8_t vector)
{
	struct timeline *t = ctx;

	return t->p.hooks.on_inject(t->p.hooks.ctx, s, vector);
}

/* Runs until sync point LIMIT has been handled, a trap, the end of the
 * trace or an interruption.  < 0 on divergence or a KVM error. */
static int tl_run(struct timeline *t, sync_seq limit)
{
	struct machine *m = &t->s->m;
	const struct machine_result *r;

	t->trapped = false;
	m->stop_after_sync = limit;
	r = machine_run(m, &t->hooks);
	m->stop_after_sync = 0;
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
static int tl_settle(struct timeline *t)
{
	int r = snap_flush(&t->ck.snap);

	t->pos = (struct tl_pos){ t->s->m.sync, 0 };
	return r;
}

/* Free run from the current position to (TARGET, 0), taking checkpoints as
 * the policy asks. */
static int tl_run_to_sync(struct timeline *t, sync_seq target)
{
	struct machine *m = &t->s->m;

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
		if (r == TL_RUN_INTERRUPTED) {
			t->pos = (struct tl_pos){ m->sync, TL_N_UNKNOWN };
			return tl_fail(t, -EINTR, "interrupted");
		}
		t->pos = (struct tl_pos){ m->sync, 0 };
		if (ckpt_due(&t->ck) && (r = ckpt_take(&t->ck, t->s)) < 0 && r != -EBUSY)
			return r;
	}
	return tl_settle(t);
}

/* ---- stepping ---- */

/* What a step needs to know about the vCPU, read once per step (each
 * KVM_GET_SREGS reloads the vCPU, which costs about as much as an exit). */
struct tl_cpu {
	struct kvm_sregs s;
	struct paging_mode pm;
	bool lm;          /* long mode: 16-byte IDT gates, 8-byte PUSHF */
	uint8_t insn[15]; /* the next instruction's bytes (zeros if unmapped) */
};

static int tl_cpu_read(struct timeline *t, struct tl_cpu *c)
{
	struct machine *m = &t->s->m;
	int r = vcpu_get_sregs(&m->vcpu, &c->s);

	if (r < 0)
		return tl_fail(t, r, "cannot read the vCPU: %s", strerror(-r));
	paging_mode_from_sregs(&c->pm, &c->s);
	c->lm = c->s.efer & X86_EFER_LMA;
	memset(c->insn, 0, sizeof(c->insn));
	paging_read(&m->mem, &c->pm, rr_rip(t->s), c->insn, sizeof(c->insn));
	return 0;
}

/* The entry point of interrupt VECTOR's handler, from the guest's IDT. */
static int tl_idt_handler(struct timeline *t, const struct tl_cpu *c, uint8_t vector,
			  uint64_t *entry)
{
	unsigned size = c->lm ? 16u : 8u; /* 64-bit gates are 16 bytes (SDM 6.14.1) */
	uint32_t g[4];

	if (paging_read(&t->s->m.mem, &c->pm, c->s.idt.base + vector * size, g, size) != size)
		return -EFAULT;
	*entry = (g[0] & 0xffff) | (g[1] & 0xffff0000u) | (c->lm ? (uint64_t)g[2] << 32 : 0);
	return 0;
}

/* PUSHF (9c, after prefixes) pushes RFLAGS with the single-step TF set:
 * true when INSN is one, with the pushed size in *SIZE. */
static bool tl_is_pushf(const uint8_t *insn, size_t n, bool lm, unsigned *size)
{
	bool opsize = false;
	size_t i = 0;

	for (; i < n && (insn[i] == 0x66 || insn[i] == 0xf2 || insn[i] == 0xf3 ||
			 (lm && insn[i] >= 0x40 && insn[i] <= 0x4f)); i++)
		opsize |= insn[i] == 0x66;
	*size = opsize ? 2 : lm ? 8 : 4;
	return i < n && insn[i] == 0x9c;
}

/* Steps one instruction with TF, hiding TF from what the guest can see: a
 * PUSHF under TF leaks it into the pushed image (so a later POPF would trap
 * inside the guest), so the image is cleaned after the step. */
static int tl_step_tf(struct timeline *t, const struct tl_cpu *c, sync_seq limit)
{
	struct machine *m = &t->s->m;
	uint64_t flags = 0;
	unsigned size = 0;
	bool pushf = tl_is_pushf(c->insn, sizeof(c->insn), c->lm, &size);
	int r;

	if ((r = machine_set_debug(m, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP, NULL, 0)) < 0)
		return tl_fail(t, r, "cannot single-step: %s", strerror(-r));
	r = tl_run(t, limit);
	machine_set_debug(m, 0, NULL, 0);
	if (r == TL_RUN_TRAP && pushf) {
		/* PUSHF changes neither the mode nor the page tables. */
		paging_read(&m->mem, &c->pm, machine_regs(m)->rsp, &flags, size);
		flags &= ~(uint64_t)X86_RFLAGS_TF;
		paging_write(&m->mem, &c->pm, machine_regs(m)->rsp, &flags, size);
	}
	return r;
}

/* Delivers the interrupt KVM holds for the next entry and stops at the
 * first instruction of its handler, with a breakpoint there rather than TF
 * (which the interrupt frame would save and IRET restore). */
static int tl_step_irq(struct timeline *t, const struct tl_cpu *c, sync_seq limit)
{
	struct machine *m = &t->s->m;
	uint64_t dr[4] = { 0 };
	int r = tl_idt_handler(t, c, m->irq_vector, &dr[0]);

	if (r < 0)
		return tl_fail(t, r, "cannot read the guest's IDT entry for vector %u",
			       m->irq_vector);
	if ((r = machine_set_debug(m, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP, dr, 1)) < 0)
		return tl_fail(t, r, "cannot set a breakpoint: %s", strerror(-r));
	r = tl_run(t, limit);
	machine_set_debug(m, 0, NULL, 0);
	return r;
}

/* One instruction (or one interrupt delivery) from wherever the machine
 * stands: TL_RUN_TRAP inside the stretch, TL_RUN_SYNC when it caused the
 * next sync point (the machine rests after it), or TL_RUN_END. */
static int tl_step_one(struct timeline *t)
{
	struct machine *m = &t->s->m;
	struct tl_cpu c;
	int r = tl_cpu_read(t, &c);

	if (r < 0)
		return r;
	if (c.s.cs.dpl == 3 && !t->can_step_ring3)
		return tl_fail(t, -ENOTSUP, "the guest runs ring-3 code here, and this host "
			       "(%s) cannot single-step ring 3 (rrvm doctor)", kvm_backend());
	if (m->irq_queued)
		return tl_step_irq(t, &c, m->sync + 1);
	if (c.insn[0] == 0xf4)
		/* Stepping over HLT does not exit as HLT on every backend:
		 * let it exit as it did while recording: a sync point. */
		return tl_run(t, m->sync + 1);
	return tl_step_tf(t, &c, m->sync + 1);
}

/* One step forward from t->pos. */
static int tl_step_fwd(struct timeline *t)
{
	int r;

	if (t->pos.sync >= t->end_sync)
		return TL_RUN_END;
	r = tl_step_one(t);
	if (r == TL_RUN_TRAP)
		t->pos.n++;
	else if (r == TL_RUN_SYNC || r == TL_RUN_END)
		tl_settle(t);
	return r;
}

/* Restores the nearest checkpoint at or before TARGET's sync point when
 * TARGET lies behind the current position. */
static int tl_rewind(struct timeline *t, struct tl_pos target)
{
	sync_seq at;
	int r;

	if (tl_pos_cmp(target, t->pos) >= 0)
		return 0;
	r = ckpt_restore(&t->ck, t->s, target.sync, &at);
	if (r < 0)
		return tl_fail(t, r, "no checkpoint before sync point %llu",
			       (unsigned long long)target.sync);
	t->pos = (struct tl_pos){ at, 0 };
	return 0;
}

int tl_goto(struct timeline *t, struct tl_pos target)
{
	int r = tl_rewind(t, target);

	if (r == 0 && t->pos.sync < target.sync)
		r = tl_run_to_sync(t, target.sync);
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

	for (*len = 0; r >= 0; (*len)++) {
		r = tl_step_fwd(t);
		if (r == TL_RUN_SYNC || r == TL_RUN_END)
			return 0;
		if (r == TL_RUN_INTERRUPTED)
			return tl_fail(t, -EINTR, "interrupted");
	}
	return r;
}

int tl_step(struct timeline *t, bool reverse, struct tl_stop *stop)
{
	struct tl_pos to = t->pos;
	insn_count len;
	int r;

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

/* ---- breakpoints ---- */

static bool tl_is_bp(const struct timeline *t, uint64_t addr)
{
	for (unsigned i = 0; i < t->nbp; i++)
		if (t->bp[i] == addr)
			return true;
	return false;
}

/* LIN through the guest's page tables at the current position. */
static int tl_xlat(struct timeline *t, uint64_t lin, struct paging_xlat *x)
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

/* HLT faults in ring 3: a trap must not be patched where ring 3 may run. */
static bool tl_trap_fits(const struct timeline *t, const struct paging_xlat *x)
{
	return t->trap != TL_TRAP_HLT || !(x->perm & PAGING_U);
}

int tl_break_insert(struct timeline *t, uint64_t addr)
{
	struct paging_xlat x;

	if (tl_is_bp(t, addr))
		return 0;
	if (t->nbp == TL_MAX_BREAKPOINTS)
		return tl_fail(t, -ENOSPC, "at most %d breakpoints", TL_MAX_BREAKPOINTS);
	if (t->nbp >= TL_HW_BREAKPOINTS) {
		if (t->trap == TL_TRAP_NONE)
			return tl_fail(t, -ENOSPC, "at most %d breakpoints on this host: the "
				       "hardware's; no trap instruction exits here (rrvm doctor)",
				       TL_HW_BREAKPOINTS);
		if (tl_xlat(t, addr, &x) < 0 || !gmem_ptr(&t->s->m.mem, x.gpa, 1))
			return tl_fail(t, -EFAULT, "cannot break at %#" PRIx64 ": not mapped here, "
				       "and only the first %d breakpoints (hardware) need not be",
				       addr, TL_HW_BREAKPOINTS);
		if (!tl_trap_fits(t, &x))
			return tl_fail(t, -EPERM, "cannot break at %#" PRIx64 ": ring-3 code, and "
				       "past %d breakpoints this host traps with HLT, a ring-0 "
				       "instruction (rrvm doctor)", addr, TL_HW_BREAKPOINTS);
	}
	t->bp[t->nbp++] = addr;
	return 0;
}

int tl_break_remove(struct timeline *t, uint64_t addr)
{
	for (unsigned i = 0; i < t->nbp; i++)
		if (t->bp[i] == addr) {
			t->bp[i] = t->bp[--t->nbp];
			return 0;
		}
	return tl_fail(t, -ENOENT, "no breakpoint at %#" PRIx64, addr);
}

static uint8_t tl_trap_byte(const struct timeline *t)
{
	return t->trap == TL_TRAP_INT3 ? 0xcc : 0xf4;
}

/* Puts back the bytes the traps replaced, unless the guest has since
 * written the byte itself. */
static void tl_unpatch(struct timeline *t)
{
	for (unsigned i = 0; i < t->npatch; i++) {
		uint8_t *b = gmem_ptr(&t->s->m.mem, t->patch_gpa[i], 1);

		if (*b == tl_trap_byte(t))
			*b = t->patch_orig[i];
	}
	t->npatch = 0;
	machine_set_hlt_traps(&t->s->m, NULL, 0);
}

static void tl_patch(struct timeline *t, uint64_t lin)
{
	struct paging_xlat x;
	uint8_t *b;

	if (tl_xlat(t, lin, &x) < 0 || !(b = gmem_ptr(&t->s->m.mem, x.gpa, 1)))
		return; /* not mapped now: it cannot run now either */
	if (!tl_trap_fits(t, &x)) {
		log_warn("breakpoint at %#" PRIx64 " not set: its page is now open to ring 3, "
			 "where this host's trap (HLT) faults", lin);
		return;
	}
	for (unsigned i = 0; i < t->npatch; i++)
		if (t->patch_gpa[i] == x.gpa)
			return; /* two names for one byte */
	t->patch_gpa[t->npatch] = x.gpa;
	t->patch_orig[t->npatch++] = *b;
	*b = tl_trap_byte(t);
}

/* Arms the breakpoints: DR0-DR3 (execution: RW and LEN 0, enabled locally
 * in DR7) for the first four, patched traps for the rest.  Disarming
 * removes every patch. */
static int tl_arm(struct timeline *t, bool on)
{
	struct machine *m = &t->s->m;
	unsigned nhw = t->nbp < TL_HW_BREAKPOINTS ? t->nbp : TL_HW_BREAKPOINTS;
	uint32_t control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
	uint64_t dr7 = 0;

	tl_unpatch(t);
	if (!on || !t->nbp)
		return machine_set_debug(m, 0, NULL, 0);
	for (unsigned i = 0; i < nhw; i++)
		dr7 |= 1ull << (2 * i); /* L0-L3 */
	for (unsigned i = nhw; i < t->nbp; i++)
		tl_patch(t, t->bp[i]);
	if (t->trap == TL_TRAP_INT3 && t->npatch)
		control |= KVM_GUESTDBG_USE_SW_BP;
	if (t->trap == TL_TRAP_HLT)
		machine_set_hlt_traps(m, t->patch_gpa, t->npatch);
	return machine_set_debug(m, control, t->bp, dr7);
}

/* A hit a free run found: the K-th of its kind after sync point SYNC.  For
 * a breakpoint, the K-th arrival at ADDR; for a watchpoint, the K-th
 * instruction that wrote a watched range (the hit is right after it). */
struct tl_hit {
	bool found, watch;
	sync_seq sync;
	uint64_t k;
	uint64_t addr;
	uint64_t old_val, new_val;
	unsigned size;
};

/* Steps from (S, FROM) to hit H: its position.  SKIP: (S, FROM) itself
 * does not count as an arrival (the run that found H resumed from there).
 * A watch hit is right after the writing instruction going forward, and
 * right before it going backward (REVERSE), as a debugger running
 * backwards meets it: with the value it had before the write. */
static int tl_locate(struct timeline *t, insn_count from, bool skip, const struct tl_hit *h,
		     bool reverse)
{
	int r = tl_goto(t, (struct tl_pos){ h->sync, from });
	uint64_t k = h->k;

	while (r >= 0 && k) {
		uint64_t seen = t->watch_hits;
		struct tl_pos before = t->pos;

		if (!h->watch && rr_rip(t->s) == h->addr && !skip && --k == 0)
			break;
		skip = false;
		r = tl_step_fwd(t);
		if (h->watch && r == TL_RUN_TRAP && t->watch_hits != seen && --k == 0)
			return reverse ? tl_goto(t, before) : 0;
		if (r == TL_RUN_SYNC || r == TL_RUN_END)
			return tl_fail(t, -EPROTO, "%s hit not found again after sync point %llu",
				       h->watch ? "watchpoint" : "breakpoint",
				       (unsigned long long)h->sync);
	}
	return r < 0 ? r : 0;
}

static void tl_stop_at(struct timeline *t, const struct tl_hit *h, struct tl_stop *stop)
{
	*stop = (struct tl_stop){ h->watch ? TL_STOP_WATCH : TL_STOP_BREAKPOINT, t->pos, h->addr,
				  h->old_val, h->new_val, h->size };
}

/* Notes a hit at the machine's current sync point, counting per kind. */
static void tl_note_hit(struct timeline *t, struct tl_hit *h, bool watch, sync_seq *count_sync,
			uint64_t count[2])
{
	struct machine *m = &t->s->m;

	if (m->sync != *count_sync)
		*count_sync = m->sync, count[0] = count[1] = 0;
	*h = (struct tl_hit){ true, watch, m->sync, ++count[watch],
			      watch ? t->watch_addr : t->trap_pc, t->watch_old, t->watch_new,
			      t->watch_size };
}

/* Free run with breakpoints and watchpoints armed from the current position
 * to the end of sync point LIMIT.  FIRST: stop at the first hit; else keep
 * the last. */
static int tl_scan(struct timeline *t, sync_seq limit, bool first, struct tl_hit *hit)
{
	struct machine *m = &t->s->m;
	sync_seq count_sync = m->sync;
	uint64_t count[2] = { 0, 0 }, seen;
	/* Going forward, a breakpoint the guest stands on is where we are, not
	 * a hit: step past it first.  (Going backward from a checkpoint, it
	 * is one.) */
	bool past = first && tl_is_bp(t, rr_rip(t->s));
	int r;

	hit->found = false;
	for (;;) {
		if (past) {
			/* Disarmed: a patched trap must not run, and stepping
			 * rather than RFLAGS.RF, which kvm_pvm does not honour. */
			tl_arm(t, false);
			seen = t->watch_hits;
			r = tl_step_one(t);
			if (r >= 0 && t->watch_hits != seen) {
				tl_note_hit(t, hit, true, &count_sync, count);
				if (first)
					break;
			}
			if (r < 0 || r == TL_RUN_END || (r == TL_RUN_SYNC && m->sync >= limit))
				break;
			past = false;
		}
		if ((r = tl_arm(t, true)) < 0) {
			r = tl_fail(t, r, "cannot set breakpoints: %s", strerror(-r));
			break;
		}
		seen = t->watch_hits;
		t->stop_on_watch = true;
		r = tl_run(t, limit);
		t->stop_on_watch = false;
		if (r != TL_RUN_TRAP)
			break;
		if (t->watch_hits != seen) {
			tl_note_hit(t, hit, true, &count_sync, count);
			if (first)
				break;
			continue; /* resuming completes the write */
		}
		/* Not one of ours: a patched page reached under another name. */
		past = true;
		if (!tl_is_bp(t, t->trap_pc))
			continue;
		tl_note_hit(t, hit, false, &count_sync, count);
		if (first)
			break;
	}
	tl_arm(t, false);
	if (r == TL_RUN_TRAP || r == TL_RUN_INTERRUPTED) /* somewhere in this stretch */
		t->pos = (struct tl_pos){ m->sync, TL_N_UNKNOWN };
	else if (r == TL_RUN_SYNC || r == TL_RUN_END)
		tl_settle(t);
	return r;
}

static int tl_continue_fwd(struct timeline *t, struct tl_stop *stop)
{
	struct tl_pos from = t->pos;
	struct tl_hit hit;
	int r;

	if (t->pos.sync >= t->end_sync) {
		*stop = (struct tl_stop){ .why = TL_STOP_END, .pos = t->pos };
		return 0;
	}
	r = tl_scan(t, t->end_sync, true, &hit);
	if (r < 0)
		return r;
	if (r == TL_RUN_INTERRUPTED) {
		/* Stopped anywhere in a stretch: back to its sync point. */
		r = tl_goto(t, (struct tl_pos){ t->s->m.sync, 0 });
		*stop = (struct tl_stop){ .why = TL_STOP_INTERRUPTED, .pos = t->pos };
		return r;
	}
	if (!hit.found) {
		*stop = (struct tl_stop){ .why = TL_STOP_END, .pos = t->pos };
		return 0;
	}
	/* Count from where this run began if it began in the hit's stretch. */
	r = tl_locate(t, hit.sync == from.sync ? from.n : 0, hit.sync == from.sync, &hit, false);
	tl_stop_at(t, &hit, stop);
	return r;
}

/* Hits inside HI's own stretch, before HI.n: found by stepping. */
static int tl_scan_stretch(struct timeline *t, struct tl_pos hi, struct tl_hit *hit)
{
	uint64_t kb = 0, kw = 0;
	int r = tl_goto(t, (struct tl_pos){ hi.sync, 0 });

	while (r >= 0 && t->pos.n < hi.n) {
		uint64_t seen = t->watch_hits;

		for (unsigned i = 0; i < t->nbp; i++)
			if (rr_rip(t->s) == t->bp[i])
				*hit = (struct tl_hit){ true, false, hi.sync, ++kb, t->bp[i], 0, 0, 0 };
		r = tl_step_fwd(t);
		if (r == TL_RUN_TRAP && t->watch_hits != seen && t->pos.n < hi.n)
			*hit = (struct tl_hit){ true, true, hi.sync, ++kw, t->watch_addr,
						t->watch_old, t->watch_new, t->watch_size };
		else if (r == TL_RUN_TRAP && t->watch_hits != seen)
			++kw;
	}
	return r < 0 ? r : 0;
}

int tl_continue(struct timeline *t, bool reverse, struct tl_stop *stop)
{
	struct tl_hit hit;
	struct tl_pos hi = t->pos;
	sync_seq at;
	int r;

	if (!reverse)
		return tl_continue_fwd(t, stop);
	/* Backward: scan checkpoint intervals from the latest one before the
	 * current position back to the start, keeping the last hit. */
	while (hi.sync || hi.n) {
		sync_seq below = hi.n ? hi.sync : hi.sync - 1;

		if ((r = ckpt_restore(&t->ck, t->s, below, &at)) < 0)
			return tl_fail(t, r, "no checkpoint before sync point %llu",
				       (unsigned long long)below);
		t->pos = (struct tl_pos){ at, 0 };
		if ((r = tl_scan(t, hi.sync, false, &hit)) < 0)
			return r;
		if (hi.n && (r = tl_scan_stretch(t, hi, &hit)) < 0)
			return r;
		if (hit.found) {
			r = tl_locate(t, 0, false, &hit, true);
			tl_stop_at(t, &hit, stop);
			return r;
		}
		hi = (struct tl_pos){ at, 0 };
	}
	r = tl_goto(t, (struct tl_pos){ 0, 0 });
	*stop = (struct tl_stop){ .why = TL_STOP_START, .pos = t->pos };
	return r;
}

/* ---- watchpoints ---- */

static int tl_watch_apply(struct timeline *t)
{
	struct gmem_range r[TL_MAX_WATCH];

	for (unsigned i = 0; i < t->nwatch; i++)
		r[i] = (struct gmem_range){ t->watch[i].gpa, t->watch[i].len };
	return gmem_set_watch(&t->s->m.mem, r, t->nwatch);
}

int tl_watch_insert(struct timeline *t, uint64_t lin, uint64_t len, enum tl_watch_kind kind)
{
	uint64_t gpa, last;
	int r;

	if (kind != TL_WATCH_WRITE && !t->can_watch_data)
		return tl_fail(t, -EOPNOTSUPP, "%s watchpoints need data breakpoints, and they "
			       "never fire on this host (%s; rrvm doctor): only write "
			       "watchpoints work here", kind == TL_WATCH_READ ? "read" : "access",
			       kvm_backend());
	if (kind != TL_WATCH_WRITE)
		return tl_fail(t, -EOPNOTSUPP, "read and access watchpoints are not implemented yet");
	if (!len || t->nwatch == TL_MAX_WATCH)
		return tl_fail(t, -ENOSPC, "at most %d watchpoints", TL_MAX_WATCH);
	if (machine_translate(&t->s->m, lin, &gpa) < 0 ||
	    machine_translate(&t->s->m, lin + len - 1, &last) < 0 || last - gpa != len - 1)
		return tl_fail(t, -EFAULT, "cannot watch %#" PRIx64 "+%" PRIu64
			       ": not mapped (or not contiguous) here", lin, len);
	t->watch[t->nwatch++] = (struct tl_watch){ lin, gpa, len, kind };
	if ((r = tl_watch_apply(t)) < 0) {
		t->nwatch--;
		return tl_fail(t, r, "cannot write-protect the watched page: %s", strerror(-r));
	}
	return 0;
}

int tl_watch_remove(struct timeline *t, uint64_t lin, uint64_t len, enum tl_watch_kind kind)
{
	for (unsigned i = 0; i < t->nwatch; i++)
		if (t->watch[i].lin == lin && t->watch[i].len == len && t->watch[i].kind == kind) {
			t->watch[i] = t->watch[--t->nwatch];
			return tl_watch_apply(t);
		}
	return tl_fail(t, -ENOENT, "no watchpoint at %#" PRIx64, lin);
}

/* ---- memory ---- */

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
		uint64_t page_left = 4096 - ((addr + done) & 4095);
		size_t n = len - done < page_left ? len - done : page_left;

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

int tl_where(struct timeline *t, struct tl_pos *pos)
{
	if (t->pos.n == TL_N_UNKNOWN)
		return tl_fail(t, -EAGAIN, "position not known");
	*pos = t->pos;
	return 0;
}

static int tl_refuse_write(struct timeline *t)
{
	return tl_fail(t, -EROFS, "refused: writing state would make the machine differ "
		       "from the recording; leave replay first (it ends determinism)");
}

int tl_write_regs(struct timeline *t, const struct kvm_regs *regs)
{
	(void)regs;
	return t->live ? -ENOTSUP : tl_refuse_write(t);
}

long tl_write_virt(struct timeline *t, uint64_t lin, const void *buf, size_t len)
{
	(void)lin, (void)buf, (void)len;
	return t->live ? -ENOTSUP : tl_refuse_write(t);
}

int tl_go_live(struct timeline *t)
{
	return tl_fail(t, -ENOTSUP, "leaving replay is not implemented yet");
}

void tl_interrupt(struct timeline *t)
{
	machine_request_stop(&t->s->m);
}

/* ---- setup ---- */

int tl_open(struct timeline *t, struct rr_session *s, struct trace_reader *rd)
{
	const struct trace_end *end = trace_reader_end(rd);
	struct host_caps caps;
	int r;

	memset(t, 0, sizeof(*t));
	t->s = s;
	rpl_start(&t->p, s, rd);
	t->end_sync = end ? end->total_sync : s->m.stop_after_sync;
	s->m.stop_after_sync = 0;
	t->hooks = (struct vmm_hooks){ t, tl_on_exit, tl_on_inject };
	if (probe_host(&caps, s->m.cfg.kvm_path) == 0) {
		t->can_step_ring3 = probe_works(&caps.singlestep[PROBE_RING3]);
		t->can_watch_data = probe_works(&caps.data_bp[PROBE_RING0]);
		t->trap = probe_works(&caps.int3[PROBE_RING0]) ? TL_TRAP_INT3
			  : probe_works(&caps.hlt_ring0)       ? TL_TRAP_HLT
							       : TL_TRAP_NONE;
	}
	r = ckpt_store_init(&t->ck, s, &t->p, NULL);
	if (r < 0)
		return tl_fail(t, r, "cannot set up checkpoints: %s", strerror(-r));
	r = ckpt_take(&t->ck, s);
	if (r < 0)
		return tl_fail(t, r, "cannot take the first checkpoint: %s", strerror(-r));
	return 0;
}

void tl_close(struct timeline *t)
{
	ckpt_store_free(&t->ck);
}
