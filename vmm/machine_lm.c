/* The machine's side of landmarks (vmm/landmark.h): when recording, kick
 * the vCPU where an interrupt has waited past its bound (or a stretch has
 * run too long) and make the place a sync point; when replaying, arm a
 * breakpoint at the next landmark's RIP and compare at each hit.  Also the
 * one place that hands debug registers to KVM, merging the debugger's with
 * the landmark's (DR3). */
#define LOG_MODULE "vmm"
#include "vmm/machine.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "util/hostclock.h"
#include "util/log.h"
#include "vmm/machine_int.h"

/* The landmark's breakpoint: DR3 (L3 is DR7 bit 6); the debugger keeps
 * DR0-DR2 (replay/timeline.h TL_HW_BREAKPOINTS). */
#define LM_DR 3
#define LM_DR7_ENABLE (1ull << (2 * LM_DR))
/* A kick that found the guest where it cannot take a landmark (ring 3 on
 * kvm_pvm) tries again after this long, not at once: each kick costs an
 * exit. */
#define LM_RETRY_NS 1000000ull

static host_ns lm_irq_bound(const struct machine *m)
{
	return m->cfg.irq_bound ? m->cfg.irq_bound : MACHINE_IRQ_BOUND;
}

static host_ns lm_stretch_bound(const struct machine *m)
{
	return m->cfg.stretch_bound ? m->cfg.stretch_bound : MACHINE_STRETCH_BOUND;
}

/* ---- debug registers ---- */

static bool lm_eligible(const struct machine *m)
{
	return m->lm.seek && m->sync + 1 == m->lm.target.sync;
}

int machine_debug_apply(struct machine *m)
{
	struct machine_debug d = m->lm.user;
	struct kvm_guest_debug g;

	if (lm_eligible(m) && !(d.control & KVM_GUESTDBG_SINGLESTEP)) {
		if (m->lm.stepover) {
			d.control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
		} else {
			d.control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
			d.dr[LM_DR] = m->lm.target.rip;
			d.dr7 |= LM_DR7_ENABLE;
		}
	}
	if (m->lm.applied_valid && !memcmp(&d, &m->lm.applied, sizeof(d)))
		return 0;
	memset(&g, 0, sizeof(g));
	g.control = d.control;
	memcpy(g.arch.debugreg, d.dr, sizeof(d.dr));
	g.arch.debugreg[7] = d.dr7;
	if (ioctl(m->vcpu.fd, KVM_SET_GUEST_DEBUG, &g) < 0) {
		m->lm.applied_valid = false;
		return -errno;
	}
	m->lm.applied = d;
	m->lm.applied_valid = true;
	return 0;
}

int machine_set_debug(struct machine *m, uint32_t control, const uint64_t dr[4], uint64_t dr7)
{
	struct machine_debug d = { .control = control, .dr7 = dr7 };

	for (int i = 0; i < 4 && dr; i++)
		d.dr[i] = dr[i];
	m->lm.user = d;
	return machine_debug_apply(m);
}

void machine_seek_landmark(struct machine *m, const struct landmark *lm)
{
	m->lm.stepover = false;
	if (!lm) {
		m->lm.seek = false;
		return;
	}
	if (!m->lm.seek || m->lm.target.sync != lm->sync) {
		m->lm.start_checked = 0;
		memset(&m->lm.miss, 0, sizeof(m->lm.miss));
		m->lm.miss.best_diff = LANDMARK_NREGS + 2;
		m->lm.seek_since = host_now();
	}
	m->lm.seek = true;
	m->lm.target = *lm;
}

/* Whether the debugger asked for a trap at PC: it single-steps, or one of
 * its breakpoints is there. */
static bool lm_user_trap(const struct machine *m, uint64_t pc)
{
	const struct machine_debug *d = &m->lm.user;

	if (!(d->control & KVM_GUESTDBG_ENABLE))
		return false;
	if (d->control & KVM_GUESTDBG_SINGLESTEP)
		return true;
	for (int i = 0; i < 4; i++)
		if ((d->dr7 >> (2 * i) & 3) && d->dr[i] == pc && (d->control & KVM_GUESTDBG_USE_HW_BP))
			return true;
	return false;
}

bool machine_lm_debug(struct machine *m, uint64_t pc)
{
	bool ours = m->lm.stepover;

	m->lm.stepover = false;
	if (lm_eligible(m) && pc == m->lm.target.rip) {
		m->stats.landmark_hits++;
		if (landmark_match(m, &m->lm.target, &m->lm.miss)) {
			machine_landmark(m);
			return true;
		}
		if (lm_user_trap(m, pc) && !ours)
			return false;
		/* RF does not suppress the hit on resume (HOST.md): step
		 * over it with the breakpoint off. */
		m->lm.stepover = true;
		return true;
	}
	/* Our own step off a hit: the debugger's breakpoints fire by
	 * themselves when the guest resumes, its single steps are its own. */
	return ours && !(m->lm.user.control & KVM_GUESTDBG_SINGLESTEP);
}

bool machine_landmark_overdue(const struct machine *m)
{
	return lm_eligible(m) && host_now() - m->lm.seek_since >= MACHINE_SEEK_LIMIT;
}

/* A landmark where its stretch starts: the recorder's kick came before the
 * guest ran an instruction past the last exit.  A breakpoint on that first
 * instruction does not fire on every path here (kvm_pvm: not after the
 * exit's I/O was completed by a KVM_RUN of its own, as a checkpoint or a
 * settled time-travel position does), so compare before entering the
 * guest, once what KVM owes for the last exit is done. */
bool machine_lm_at_start(struct machine *m)
{
	struct kvm_run *run = m->vcpu.run;
	uint8_t was = run->immediate_exit;

	if (!lm_eligible(m) || m->lm.stepover || !m->at_sync ||
	    m->lm.start_checked == m->lm.target.sync)
		return false;
	m->lm.start_checked = m->lm.target.sync;
	if (run->kvm_dirty_regs & KVM_SYNC_X86_REGS)
		vcpu_set_regs(&m->vcpu, machine_regs(m));
	run->kvm_dirty_regs = 0;
	run->immediate_exit = 1;
	ioctl(m->vcpu.fd, KVM_RUN, 0); /* completes the I/O, enters nothing */
	run->immediate_exit = was;
	if (vcpu_get_regs(&m->vcpu, machine_regs(m)) < 0 || machine_regs(m)->rip != m->lm.target.rip)
		return false;
	m->stats.landmark_hits++;
	if (!landmark_match(m, &m->lm.target, &m->lm.miss))
		return false;
	machine_landmark(m);
	return true;
}

/* ---- kicks ---- */

int machine_lm_start(struct machine *m)
{
	host_ns now = host_now();

	m->lm.check_next = now + lm_stretch_bound(m);
	m->lm.check_sync = m->sync;
	m->lm.plan_at = 0;
	m->lm.held_at = 0;
	return kick_bind(&m->kick, m->vcpu.run);
}

/* The host time at which the guest's virtual clock reads T. */
static host_ns lm_host_time(const struct machine *m, vclock_ns t)
{
	return m->in.host_time ? m->in.host_time(m->in.ctx, t) : m->host_in.origin + t;
}

/* The host time of the kick for deadline DUE, or (DUE 0) for an
 * interrupt already pending: at once if the guest could not take it (the
 * kick retries), else (the inputs held it back at held_at) after a delay.
 * A kick is its base time plus the delay the inputs choose within the
 * bound, planned once per deadline or hold, so that chaos draws one delay
 * for each. */
static host_ns lm_kick_plan(struct machine *m, vclock_ns due)
{
	host_ns bound = lm_irq_bound(m), delay = bound, base;

	if (!due && !m->lm.held_at)
		return lm_host_time(m, 0) + bound; /* long past */
	if (m->lm.plan_at && m->lm.plan_due == due && (due || m->lm.plan_held == m->lm.held_at))
		return m->lm.plan_at;
	if (m->in.kick_delay) {
		delay = m->in.kick_delay(m->in.ctx, due, bound);
		if (delay > bound)
			delay = bound;
	}
	base = due ? lm_host_time(m, due) : m->lm.held_at;
	m->lm.plan_due = due;
	m->lm.plan_held = m->lm.held_at;
	m->lm.plan_at = base + delay ? base + delay : 1;
	return m->lm.plan_at;
}

/* The host time of the next kick: the next timer deadline plus the bound
 * (or a delay within it), or a retry, or the next stretch check, whichever
 * comes first. */
void machine_lm_before_run(struct machine *m)
{
	vclock_ns due;
	host_ns want, at;

	if (!m->kick.tid)
		return;
	if (!m->cfg.landmark_rings) { /* replay: a watchdog while seeking */
		kick_at(&m->kick, lm_eligible(m) ? m->lm.seek_since + MACHINE_SEEK_LIMIT : 0);
		return;
	}
	want = m->lm.check_next;
	due = machine_irq_pending(m) ? 0 : machine_next_deadline(m);
	if (due != VCLOCK_NEVER) {
		at = lm_kick_plan(m, due);
		if (at <= m->lm.last_kick) /* that kick found no landmark */
			at = m->lm.retry_at;
		if (at < want)
			want = at;
	}
	kick_at(&m->kick, want);
}

/* At a kick: should this place become a landmark?  For an interrupt whose
 * deadline passed (and that the guest would take: IF=1), for a stretch
 * that has run a whole check period without a sync point, or for a stop
 * request (Ctrl-C, SIGTERM): the recording then ends at a sync point,
 * state and all, rather than after one with the stretch left out. */
bool machine_lm_kick(struct machine *m)
{
	host_ns now = host_now();
	vclock_ns due = machine_next_deadline(m);
	bool irq, stretch = false, stop = atomic_load(&m->stop_requested) > 0;
	unsigned cpl = 0;

	if (!m->cfg.landmark_rings || m->result.why != MACHINE_RUNNING)
		return false;
	m->kick.armed = 0; /* it fired */
	if (now >= m->lm.check_next) {
		stretch = m->sync == m->lm.check_sync;
		m->lm.check_sync = m->sync;
		m->lm.check_next = now + lm_stretch_bound(m);
	}
	irq = machine_irq_pending(m) || (due != VCLOCK_NEVER && now >= lm_host_time(m, due));
	if (!irq && !stretch && !stop)
		return false;
	m->lm.last_kick = now;
	m->lm.retry_at = now + (LM_RETRY_NS > lm_irq_bound(m) ? LM_RETRY_NS : lm_irq_bound(m));
	/* KVM_RUN ended in EINTR: read the registers rather than trust the
	 * sync copy, which only a real exit refreshes on every backend. */
	if (vcpu_get_regs(&m->vcpu, machine_regs(m)) < 0)
		return false;
	if (!landmark_possible(m, m->cfg.landmark_rings, &cpl)) {
		if (irq && !(m->cfg.landmark_rings >> cpl & 1)) {
			m->stats.late_kicks++;
			m->stats.late_cpl_mask |= 1u << cpl;
		}
		return false;
	}
	if (irq && !stretch && !stop && !(machine_regs(m)->rflags & (1u << 9)))
		return false; /* IF=0: it could not be taken here anyway */
	m->lm.check_sync = m->sync + 1;
	machine_landmark(m);
	return true;
}
