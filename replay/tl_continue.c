/* Breakpoints, watchpoints and continuing both ways for the time-travel
 * engine: free runs with breakpoints armed, hits counted per address and
 * placed lazily (DESIGN.md: "the k-th hit of A after S"), reverse by
 * scanning checkpoint intervals backwards. */
#define LOG_MODULE "replay"
#include "replay/timeline.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

#include "replay/timeline_int.h"
#include "util/log.h"
#include "vmm/paging.h"
#include "vmm/x86.h"

static int tl_bp_index(const struct timeline *t, uint64_t addr)
{
	for (unsigned i = 0; i < t->nbp; i++)
		if (t->bp[i] == addr)
			return (int)i;
	return -1;
}

static bool tl_is_bp(const struct timeline *t, uint64_t addr)
{
	return tl_bp_index(t, addr) >= 0;
}

/* HLT faults in ring 3: a trap must not be patched where ring 3 may run. */
static bool tl_trap_fits(const struct timeline *t, const struct paging_xlat *x)
{
	return t->trap != TL_TRAP_HLT || !(x->perm & PAGING_U);
}

int tl_break_insert(struct timeline *t, uint64_t addr)
{
	struct paging_xlat x;
	bool mapped;

	if (tl_is_bp(t, addr))
		return 0;
	if (t->nbp == TL_MAX_BREAKPOINTS)
		return tl_fail(t, -ENOSPC, "at most %d breakpoints", TL_MAX_BREAKPOINTS);
	mapped = tl_xlat(t, addr, &x) == 0 && gmem_ptr(&t->s->m.mem, x.gpa, 1);
	/* A breakpoint that cannot fire would be a wrong answer, not a slow
	 * one: refuse it where only ring 3 can run the code (a user page that
	 * SMEP closes to ring 0).  Small kernels map their own code
	 * user-accessible and run it in ring 0, where the breakpoint fires:
	 * armed, with a warning (once) about ring 3. */
	if (!t->can_break_ring3 && mapped && (x.perm & PAGING_U)) {
		struct kvm_sregs sr;

		if (vcpu_get_sregs(&t->s->m.vcpu, &sr) == 0 && (sr.cr4 & X86_CR4_SMEP))
			return tl_fail(t, -ENOTSUP, "cannot break at %#" PRIx64 ": ring-3 code "
				       "(a user page, closed to ring 0 by SMEP), and breakpoints "
				       "never fire in ring 3 on this host (%s; rrvm doctor)",
				       addr, kvm_backend());
		if (!t->warned_user_bp)
			log_warn("breakpoint at %#" PRIx64 " is on a user-accessible page: it fires "
				 "when ring 0 runs the code there, never in ring 3 on this host "
				 "(%s; rrvm doctor)", addr, kvm_backend());
		t->warned_user_bp = true;
	}
	if (t->nbp >= TL_HW_BREAKPOINTS) {
		if (t->trap == TL_TRAP_NONE)
			return tl_fail(t, -ENOSPC, "at most %d breakpoints on this host: the "
				       "hardware's; no trap instruction exits here (rrvm doctor)",
				       TL_HW_BREAKPOINTS);
		if (!mapped)
			return tl_fail(t, -EFAULT, "cannot break at %#" PRIx64 ": not mapped here, "
				       "and only the first %d breakpoints (hardware) need not be",
				       addr, TL_HW_BREAKPOINTS);
		if (!tl_trap_fits(t, &x))
			return tl_fail(t, -EPERM, "cannot break at %#" PRIx64 ": ring-3 code, and "
				       "past %d breakpoints this host traps with HLT, a ring-0 "
				       "instruction (rrvm doctor)", addr, TL_HW_BREAKPOINTS);
	}
	assert(t->nbp < TL_MAX_BREAKPOINTS);
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
	machine_set_traps(&t->s->m, NULL, NULL, 0, 0);
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
	t->bp_armed = on && t->nbp;
	if (!on || !t->nbp)
		return machine_set_debug(m, 0, NULL, 0);
	for (unsigned i = 0; i < nhw; i++)
		dr7 |= 1ull << (2 * i); /* L0-L3 */
	for (unsigned i = nhw; i < t->nbp; i++)
		tl_patch(t, t->bp[i]);
	if (t->trap == TL_TRAP_INT3 && t->npatch)
		control |= KVM_GUESTDBG_USE_SW_BP;
	machine_set_traps(m, t->patch_gpa, t->patch_orig, t->npatch, tl_trap_byte(t));
	return machine_set_debug(m, control, t->bp, dr7);
}

/* A hit a free run found, the K-th of its kind after sync point SYNC: for a
 * breakpoint, the K-th arrival at ADDR; for a watchpoint, the K-th
 * instruction that wrote a watched range (the hit is right after it). */
struct tl_hit {
	bool found, watch;
	sync_seq sync;
	uint64_t k;
	uint64_t addr;
	uint64_t old_val, new_val;
	unsigned size;
};

/* Hits counted per breakpoint, and watched writes, since sync point SYNC. */
struct tl_count {
	sync_seq sync;
	uint64_t bp[TL_MAX_BREAKPOINTS], watch;
};

/* Counts one more hit of its kind (a watched write, or an arrival at the
 * breakpoint ADDR) in C and returns the count. */
static uint64_t tl_count_hit(const struct timeline *t, struct tl_count *c, bool watch,
			     uint64_t addr)
{
	int i = watch ? 0 : tl_bp_index(t, addr);

	assert(i >= 0 && i < TL_MAX_BREAKPOINTS); /* a trap counts only at a breakpoint */
	return watch ? ++c->watch : ++c->bp[i];
}

/* An arrival at ADDR: the guest is about to run the instruction there (an
 * interrupt KVM holds for the next entry comes first: no arrival yet). */
static bool tl_at(struct timeline *t, uint64_t addr)
{
	/* At the #GP trap for a ring-3 RDTSC, the guest is not really there:
	 * natively RDTSC does not fault. */
	return rr_rip(t->s) == addr && !t->s->m.irq_queued && !rr_tsc_gp_here(t->s);
}

/* Arrivals at breakpoints right where the machine stands, in stretch S:
 * counted in C, the last one in *HIT. */
static void tl_note_here(struct timeline *t, sync_seq s, struct tl_count *c, struct tl_hit *hit)
{
	for (unsigned i = 0; i < t->nbp; i++)
		if (tl_at(t, t->bp[i]))
			*hit = (struct tl_hit){ true, false, s, tl_count_hit(t, c, false, t->bp[i]),
						t->bp[i], 0, 0, 0 };
}

/* Single steps from here to arrival A, then A->extra more.  WATCH: A is
 * instead the A->k-th instruction that writes a watched range, and the
 * walk stops right after it, with the position before it in *BEFORE. */
static int tl_walk(struct timeline *t, const struct tl_arrival *a, bool watch,
		   struct tl_pos *before)
{
	uint64_t k = a->k;
	bool skip = a->skip;
	int r;

	while (k) {
		uint64_t seen = t->watch_hits;

		if (!watch && tl_at(t, a->addr) && !skip && --k == 0)
			break;
		skip = false;
		if (before)
			*before = t->pos;
		if ((r = tl_step_fwd(t)) < 0)
			return r;
		if (r == TL_RUN_INTERRUPTED) /* stopped at an exact position */
			return tl_fail(t, -EINTR, "interrupted");
		if (r == TL_RUN_SYNC || r == TL_RUN_END)
			return tl_fail(t, -EPROTO, "%s hit not found again after sync point %llu",
				       watch ? "watchpoint" : "breakpoint",
				       (unsigned long long)t->pos.sync - 1);
		if (watch && t->watch_hits != seen && --k == 0)
			break;
	}
	for (insn_count i = 0; i < a->extra; i++)
		if ((r = tl_step_fwd(t)) != TL_RUN_TRAP)
			return r < 0 ? r : tl_fail(t, -EPROTO, "stretch ended early");
	return 0;
}

int tl_where(struct timeline *t, struct tl_pos *pos)
{
	int r = tl_resolve(t);

	if (r == 0)
		*pos = t->pos;
	return r;
}

/* Notes the run's stop at breakpoint hit H as a lazy position: relative to
 * where the run began (FROM) when it is in the same stretch, else to the
 * start of H's stretch. */
static int tl_lazy_hit(struct timeline *t, struct tl_pos from, const struct tl_lazy *from_lz,
		       const struct tl_hit *h)
{
	bool same = h->sync == from.sync;

	t->pos = (struct tl_pos){ h->sync, TL_N_UNKNOWN };
	if (t->live) { /* nothing to replay it from */
		t->lazy.n = 0;
		return 0;
	}
	if (!same)
		t->lazy = (struct tl_lazy){ .from = 0 };
	else if (from.n != TL_N_UNKNOWN)
		t->lazy = (struct tl_lazy){ .from = from.n };
	else
		t->lazy = *from_lz;
	t->lazy.a[t->lazy.n++] = (struct tl_arrival){ h->addr, h->k, same, 0 };
	/* A chain this long costs more to keep than to place. */
	return t->lazy.n == TL_LAZY_MAX ? tl_resolve(t) : 0;
}

static void tl_stop_at(struct timeline *t, const struct tl_hit *h, struct tl_stop *stop)
{
	*stop = (struct tl_stop){ h->watch ? TL_STOP_WATCH : TL_STOP_BREAKPOINT, t->pos, h->addr,
				  h->old_val, h->new_val, h->size };
}

/* Notes a hit at the machine's current sync point. */
static void tl_note_hit(struct timeline *t, struct tl_hit *h, bool watch, struct tl_count *c)
{
	struct machine *m = &t->s->m;

	if (m->sync != c->sync)
		*c = (struct tl_count){ .sync = m->sync };
	*h = (struct tl_hit){ true, watch, m->sync, tl_count_hit(t, c, watch, t->trap_pc),
			      watch ? t->watch_addr : t->trap_pc, t->watch_old, t->watch_new,
			      t->watch_size };
}

/* Free run with breakpoints and watchpoints armed from the current position
 * to the end of sync point LIMIT.  FIRST: stop at the first hit; else keep
 * the last. */
static int tl_scan(struct timeline *t, sync_seq limit, bool first, struct tl_hit *hit)
{
	struct machine *m = &t->s->m;
	struct tl_count count = { .sync = m->sync };
	uint64_t seen;
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
				tl_note_hit(t, hit, true, &count);
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
			tl_note_hit(t, hit, true, &count);
			if (first)
				break;
			continue; /* resuming completes the write */
		}
		/* Not one of ours: a patched page reached under another name. */
		past = true;
		if (!tl_is_bp(t, t->trap_pc) || rr_tsc_gp_here(t->s))
			continue;
		tl_note_hit(t, hit, false, &count);
		if (first)
			break;
	}
	tl_arm(t, false);
	if (r == TL_RUN_TRAP || r == TL_RUN_INTERRUPTED) { /* somewhere in this stretch */
		t->pos = (struct tl_pos){ m->sync, TL_N_UNKNOWN };
		t->lazy.n = 0; /* the caller says how it got here, if it can */
	}
	else if (r == TL_RUN_SYNC || r == TL_RUN_END)
		tl_settle(t);
	return r;
}

/* A breakpoint at ADDR for a run that must stop there whether or not the
 * debugger has one there now (gdb takes all of its breakpoints out at
 * every stop, before it asks where it stands or runs backwards).  True
 * when it was added, for tl_bp_pop. */
static bool tl_bp_push(struct timeline *t, uint64_t addr)
{
	if (tl_is_bp(t, addr) || t->nbp == TL_MAX_BREAKPOINTS)
		return false;
	t->bp[t->nbp++] = addr;
	return true;
}

static void tl_bp_pop(struct timeline *t, bool added)
{
	if (added)
		t->nbp--;
}

/* The next hit of a free run in stretch SYNC, which must be one. */
static int tl_next_hit(struct timeline *t, sync_seq sync, struct tl_hit *next)
{
	int r = tl_scan(t, sync + 1, true, next);

	if (r == TL_RUN_INTERRUPTED)
		return tl_interrupted(t);
	if (r >= 0 && (!next->found || next->sync != sync))
		return tl_fail(t, -EPROTO, "breakpoint hit not found again after sync point %llu",
			       (unsigned long long)sync);
	return r < 0 ? r : 0;
}

/* Free runs to the K-th arrival at ADDR in stretch SYNC. */
static int tl_run_to_arrival(struct timeline *t, sync_seq sync, uint64_t addr, uint64_t k)
{
	bool added = tl_bp_push(t, addr);
	struct tl_hit next;
	int r = 0;

	while (k && (r = tl_next_hit(t, sync, &next)) >= 0)
		if (!next.watch && next.addr == addr)
			k--;
	tl_bp_pop(t, added);
	return r;
}

/* From where the machine stands in stretch SYNC, on to arrival A by free
 * runs to each breakpoint hit (no single steps), then A->extra steps. */
static int tl_reach_arrival(struct timeline *t, sync_seq sync, const struct tl_arrival *a)
{
	uint64_t k = a->k;
	int r;

	if (!a->skip && tl_at(t, a->addr))
		k--;
	if ((r = tl_run_to_arrival(t, sync, a->addr, k)) < 0)
		return r;
	for (insn_count i = 0; i < a->extra; i++)
		if ((r = tl_step_one(t)) != TL_RUN_TRAP)
			return r < 0 ? r : tl_fail(t, -EPROTO, "stretch ended early");
	return 0;
}

/* Back to lazy position LZ in stretch S by free runs: for a stretch that
 * single steps cannot count through (ring-3 code on a host that cannot
 * step it).  The machine stands there again and the position stays lazy. */
static int tl_reach_lazy(struct timeline *t, sync_seq s, const struct tl_lazy *lz)
{
	int r = tl_goto_exact(t, (struct tl_pos){ s, lz->from });

	for (unsigned i = 0; r >= 0 && i < lz->n; i++)
		r = tl_reach_arrival(t, s, &lz->a[i]);
	if (r < 0)
		return r;
	t->pos = (struct tl_pos){ s, TL_N_UNKNOWN };
	t->lazy = *lz;
	return 0;
}

/* Places a lazy position: replays to where it started, then walks it.
 * Where the walk cannot count (ring 3 ran in between, and this host
 * cannot single-step it), the machine is put back at the position, which
 * stays lazy, and the reason is the error (-ENOTSUP). */
int tl_resolve(struct timeline *t)
{
	struct tl_lazy lz = t->lazy;
	sync_seq s = t->pos.sync;
	char why[sizeof(t->err)];
	int r;

	if (t->pos.n != TL_N_UNKNOWN)
		return 0;
	if (t->live)
		return tl_fail(t, -EAGAIN, "the position is not known: the machine left replay at "
			       "sync point %llu and has run live since", (unsigned long long)t->live_at.sync);
	if (!lz.n)
		return tl_fail(t, -EAGAIN, "the position is not known");
	r = tl_goto_exact(t, (struct tl_pos){ s, lz.from });
	for (unsigned i = 0; r >= 0 && i < lz.n; i++)
		r = tl_walk(t, &lz.a[i], false, NULL);
	if (r != -ENOTSUP)
		return r < 0 ? r : 0;
	snprintf(why, sizeof(why), "%s", t->err);
	if ((r = tl_reach_lazy(t, s, &lz)) < 0)
		return r;
	return tl_fail(t, -ENOTSUP, "no instruction count for this stop, %llu:? (the %llu%s "
		       "arrival at %#llx after sync point %llu): counting from there, %s",
		       (unsigned long long)s, (unsigned long long)lz.a[lz.n - 1].k,
		       lz.a[lz.n - 1].k == 1 ? "st" : "th", (unsigned long long)lz.a[lz.n - 1].addr,
		       (unsigned long long)s, why);
}

/* One instruction back from a lazy position reached by single steps after
 * its last arrival: the same free runs, one step fewer.  -ENOTSUP, the
 * error left as it was, when the position is the arrival itself. */
int tl_lazy_back(struct timeline *t)
{
	struct tl_lazy lz = t->lazy;

	if (t->pos.n != TL_N_UNKNOWN || !lz.n || !lz.a[lz.n - 1].extra)
		return -ENOTSUP;
	lz.a[lz.n - 1].extra--;
	tl_error_clear(t);
	return tl_reach_lazy(t, t->pos.sync, &lz);
}

/* Replays from the start of H's stretch to breakpoint hit H without single
 * steps: free runs to each hit until the K-th arrival at its address. */
static int tl_reach(struct timeline *t, const struct tl_hit *h)
{
	struct tl_arrival a = { h->addr, h->k, false, 0 };
	int r = tl_goto_exact(t, (struct tl_pos){ h->sync, 0 });

	if (r >= 0)
		r = tl_reach_arrival(t, h->sync, &a);
	if (r < 0)
		return r;
	t->lazy = (struct tl_lazy){ .n = 1, .from = 0, .a = { a } };
	t->pos = (struct tl_pos){ h->sync, TL_N_UNKNOWN };
	return 0;
}

static int tl_continue_fwd(struct timeline *t, struct tl_stop *stop)
{
	struct tl_pos from = t->pos;
	struct tl_lazy from_lz = t->lazy;
	struct tl_hit hit = { .found = false };
	int r;

	if (t->pos.sync >= t->end_sync && !t->live) {
		*stop = (struct tl_stop){ .why = TL_STOP_END, .pos = t->pos };
		return 0;
	}
	r = tl_scan(t, t->live ? TL_NO_LIMIT : t->end_sync, true, &hit);
	if (r < 0)
		return r;
	if (r == TL_RUN_INTERRUPTED) /* live, no sync point can be gone back to */
		return t->live ? tl_fail(t, -EINTR, "interrupted") : tl_interrupted(t);
	if (!hit.found) {
		*stop = (struct tl_stop){ .why = TL_STOP_END, .pos = t->pos };
		return 0;
	}
	if (!hit.watch) {
		/* The machine stands at the hit: placing it can wait. */
		r = tl_lazy_hit(t, from, &from_lz, &hit);
	} else if (t->live) {
		/* Live, nothing can be replayed: the write is completed here. */
		r = snap_flush(&t->ck.snap);
		t->lazy.n = 0;
		t->pos = (struct tl_pos){ hit.sync, TL_N_UNKNOWN };
	} else {
		/* Stopped inside the writing instruction: step to just after it,
		 * counting from where this run began if it began in its stretch. */
		bool same = hit.sync == from.sync;
		struct tl_arrival a = { 0, hit.k, false, 0 };

		if (same && from.n == TL_N_UNKNOWN)
			t->lazy = from_lz, t->pos = from, r = tl_resolve(t);
		else
			r = tl_goto_exact(t, (struct tl_pos){ hit.sync, same ? from.n : 0 });
		if (r >= 0)
			r = tl_walk(t, &a, true, NULL);
	}
	tl_stop_at(t, &hit, stop);
	return r < 0 ? r : 0;
}

/* Hits inside HI's own stretch, before HI.n: found by stepping. */
static int tl_scan_stretch(struct timeline *t, struct tl_pos hi, struct tl_hit *hit)
{
	struct tl_count c = { .sync = hi.sync };
	int r = tl_goto_exact(t, (struct tl_pos){ hi.sync, 0 });

	while (r >= 0 && t->pos.n < hi.n) {
		uint64_t seen = t->watch_hits, k;

		tl_note_here(t, hi.sync, &c, hit);
		if ((r = tl_step_fwd(t)) == TL_RUN_INTERRUPTED)
			return tl_fail(t, -EINTR, "interrupted");
		if (r != TL_RUN_TRAP || t->watch_hits == seen)
			continue;
		k = tl_count_hit(t, &c, true, 0);
		if (t->pos.n < hi.n)
			*hit = (struct tl_hit){ true, true, hi.sync, k, t->watch_addr, t->watch_old,
						t->watch_new, t->watch_size };
	}
	return r < 0 ? r : 0;
}

/* A backward scan of one checkpoint interval stops this often (in sync
 * points) to take a checkpoint, so that reaching the last hit it found
 * afterwards replays at most this much (~10 ms here), for the cost of a
 * take (~0.5 ms) per piece. */
#define TL_SCAN_PIECE 512

/* Scans from here to the end of sync point LIMIT, keeping the last hit. */
static int tl_scan_back(struct timeline *t, sync_seq limit, struct tl_hit *hit)
{
	struct machine *m = &t->s->m;
	struct tl_hit h;
	int r;

	hit->found = false;
	do {
		sync_seq lim = m->sync + TL_SCAN_PIECE < limit ? m->sync + TL_SCAN_PIECE : limit;

		if ((r = ckpt_take(&t->ck, t->s)) < 0 && r != -EBUSY)
			return r;
		if ((r = tl_scan(t, lim, false, &h)) < 0)
			return r;
		if (h.found)
			*hit = h;
	} while (r == TL_RUN_SYNC && m->sync < limit);
	return r;
}

/* The position A (one arrival, from the start of stretch S) and the hits
 * before it in that stretch, found by free runs from (S, 0), where the
 * machine stands: no single steps.  The last such hit goes in *HIT. */
static int tl_scan_upto(struct timeline *t, sync_seq s, const struct tl_arrival *a,
			struct tl_hit *hit)
{
	struct tl_count c = { .sync = s };
	struct tl_hit next;
	uint64_t k = a->k;
	bool added;
	int r = 0;

	if (tl_at(t, a->addr) && --k == 0)
		return 0;
	tl_note_here(t, s, &c, hit); /* hits at (S, 0) itself: the scans step past them */
	added = tl_bp_push(t, a->addr);
	while (k && (r = tl_next_hit(t, s, &next)) >= 0) {
		bool at_a = !next.watch && next.addr == a->addr;

		if (at_a && --k == 0)
			break;
		/* Its k counted from where its scan began: from (S, 0) instead. */
		next.k = tl_count_hit(t, &c, next.watch, next.addr);
		if (!(at_a && added)) /* not a stop of the run's own */
			*hit = next;
	}
	tl_bp_pop(t, added);
	return r;
}

/* Backward: scans checkpoint intervals from the latest one before the
 * current position back to the start, keeping the last hit.  A watch hit
 * is placed right before the writing instruction, as a debugger running
 * backwards meets it (memory as it was). */
static int tl_continue_back(struct timeline *t, struct tl_stop *stop)
{
	struct tl_hit hit = { .found = false };
	struct tl_pos hi = t->pos, before;
	struct tl_arrival a, upto = t->lazy.a[0];
	/* A stop one arrival into its stretch: the hits before it are found
	 * by free runs.  Any other position is placed, then stepped through. */
	bool free_run = hi.n == TL_N_UNKNOWN && t->lazy.n == 1 && t->lazy.from == 0 &&
			!upto.skip && !upto.extra;
	sync_seq at, total = hi.sync;
	int r;

	if (!free_run && (r = tl_resolve(t)) < 0)
		return r;
	hi = t->pos;

	while (hi.sync || hi.n) {
		sync_seq below = hi.n ? hi.sync : hi.sync - 1;

		if ((r = ckpt_restore(&t->ck, t->s, below, &at)) < 0)
			return tl_fail_restore(t, r, below);
		t->pos = (struct tl_pos){ at, 0 };
		if ((r = tl_scan_back(t, hi.sync, &hit)) < 0)
			return r;
		if (r == TL_RUN_INTERRUPTED)
			return tl_interrupted(t);
		if (free_run)
			r = tl_scan_upto(t, hi.sync, &upto, &hit);
		else if (hi.n)
			r = tl_scan_stretch(t, hi, &hit);
		if (r < 0)
			return r;
		free_run = false;
		if (hit.found && !hit.watch) {
			r = tl_reach(t, &hit);
		} else if (hit.found) {
			a = (struct tl_arrival){ 0, hit.k, false, 0 };
			r = tl_goto_exact(t, (struct tl_pos){ hit.sync, 0 });
			if (r >= 0)
				r = tl_walk(t, &a, true, &before);
			if (r >= 0)
				r = tl_goto_exact(t, before);
		}
		if (hit.found) {
			tl_stop_at(t, &hit, stop);
			return r < 0 ? r : 0;
		}
		hi = (struct tl_pos){ at, 0 };
		if (t->progress)
			t->progress(t->progress_ctx, total - at, total);
	}
	r = tl_goto_exact(t, (struct tl_pos){ 0, 0 });
	*stop = (struct tl_stop){ .why = TL_STOP_START, .pos = t->pos };
	return r;
}

int tl_continue(struct timeline *t, bool reverse, struct tl_stop *stop)
{
	int r;

	if (!reverse)
		r = tl_continue_fwd(t, stop);
	else if (!t->live || (r = tl_goto_exact(t, t->live_at)) == 0)
		r = tl_continue_back(t, stop);
	return tl_stop_interrupted(t, r, stop);
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
	for (unsigned i = 0; i < t->nwatch; i++)
		if (t->watch[i].lin == lin && t->watch[i].len == len && t->watch[i].kind == kind)
			return 0; /* set already: a debugger inserts again after each stop */
	if (!len)
		return tl_fail(t, -EINVAL, "a watchpoint needs a length of at least one byte");
	if (t->nwatch == TL_MAX_WATCH)
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

