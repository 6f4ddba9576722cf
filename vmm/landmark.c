#include "vmm/landmark.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <xxhash.h>

#include "vmm/dirty.h"
#include "vmm/machine.h"
#include "vmm/x86.h"

/* RF (bit 16) and TF (bit 8): set by breakpoints and single steps, not by
 * the guest's own execution here. */
#define LANDMARK_FLAGS_MASK (~((1ull << 16) | (1ull << 8)))

/* The XSAVE legacy area up to XMM15's end (SDM vol. 1, 10.5.1: FCW at 0,
 * ST0 at 32, XMM0 at 160, XMM15 ends at 416). */
#define LANDMARK_FXSAVE_USED 416

static void landmark_regs(struct machine *m, uint64_t out[LANDMARK_NREGS], uint64_t *rip)
{
	const struct kvm_regs *r = machine_regs(m);
	const uint64_t v[LANDMARK_NREGS] = {
		r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rsp, r->rbp,
		r->r8,	r->r9,	r->r10, r->r11, r->r12, r->r13, r->r14, r->r15,
		r->rflags & LANDMARK_FLAGS_MASK,
	};

	memcpy(out, v, sizeof(v));
	*rip = r->rip;
}

static void landmark_hash_seg(XXH64_state_t *st, const struct kvm_segment *s)
{
	XXH64_update(st, &s->base, sizeof(s->base));
	XXH64_update(st, &s->selector, sizeof(s->selector));
}

static int landmark_state_hash(struct machine *m, uint64_t *out)
{
	struct kvm_sregs s;
	struct kvm_xsave xs;
	struct kvm_fpu fpu;
	XXH64_state_t *st;
	int r = vcpu_get_sregs(&m->vcpu, &s);

	if (r < 0)
		return r;
	if (!(st = XXH64_createState()))
		return -ENOMEM;
	XXH64_reset(st, 0);
	landmark_hash_seg(st, &s.cs);
	landmark_hash_seg(st, &s.ds);
	landmark_hash_seg(st, &s.es);
	landmark_hash_seg(st, &s.fs);
	landmark_hash_seg(st, &s.gs);
	landmark_hash_seg(st, &s.ss);
	XXH64_update(st, &s.cr0, sizeof(s.cr0));
	XXH64_update(st, &s.cr2, sizeof(s.cr2));
	XXH64_update(st, &s.cr3, sizeof(s.cr3));
	XXH64_update(st, &s.cr4, sizeof(s.cr4));
	XXH64_update(st, &s.efer, sizeof(s.efer));
	/* KVM_GET_XSAVE, not KVM_GET_FPU: the latter reads MXCSR as 0 while
	 * SSE is in its initial state on kvm_pvm (HOST.md). */
	if (ioctl(m->vcpu.fd, KVM_GET_XSAVE, &xs) == 0)
		XXH64_update(st, xs.region, LANDMARK_FXSAVE_USED);
	else if (ioctl(m->vcpu.fd, KVM_GET_FPU, &fpu) == 0)
		XXH64_update(st, &fpu, sizeof(fpu));
	*out = XXH64_digest(st);
	XXH64_freeState(st);
	return 0;
}

/* Before 2.2: XXH64 of (page number, contents) of the pages KVM logged as
 * written since the previous landmark, a set that depends on the host
 * (vmm/memhash.h says why), so that a replay may not find it again. */
static int landmark_written_hash(struct machine *m, uint64_t *out)
{
	struct dirty_tracker *d = &m->dirty;
	XXH64_state_t *st = XXH64_createState();

	if (!st)
		return -ENOMEM;
	XXH64_reset(st, 0);
	for (uint64_t w = 0; w < d->words; w++)
		for (uint64_t bits = dirty_bits(d, m->lm_user)[w]; bits; bits &= bits - 1) {
			uint64_t pg = w * 64 + (uint64_t)__builtin_ctzll(bits);

			XXH64_update(st, &pg, sizeof(pg));
			XXH64_update(st, m->mem.base + pg * DIRTY_PAGE, DIRTY_PAGE);
		}
	*out = XXH64_digest(st);
	XXH64_freeState(st);
	return 0;
}

/* The page hash, of RAM as the guest has it (a debugger's breakpoints
 * taken out): all of it (vmm/memhash.h), or for older traces the pages
 * written. */
static int landmark_page_hash(struct machine *m, uint64_t *out)
{
	int r;

	*out = 0;
	if (m->lm_user < 0)
		return 0;
	if ((r = dirty_collect(&m->dirty)) < 0)
		return r;
	machine_show_guest_bytes(m, true);
	if (m->cfg.lm_hash_written)
		r = landmark_written_hash(m, out);
	else
		*out = memhash_peek(&m->lm_mem, m->mem.base, dirty_bits(&m->dirty, m->lm_user));
	machine_show_guest_bytes(m, false);
	return r;
}

int landmark_take(struct machine *m, struct landmark *lm)
{
	int r;

	lm->sync = m->sync;
	landmark_regs(m, lm->regs, &lm->rip);
	if ((r = landmark_state_hash(m, &lm->state_hash)) < 0)
		return r;
	return landmark_page_hash(m, &lm->page_hash);
}

unsigned landmark_reg_diff(struct machine *m, const struct landmark *lm)
{
	uint64_t regs[LANDMARK_NREGS], rip;
	unsigned n;

	landmark_regs(m, regs, &rip);
	n = rip != lm->rip;
	for (unsigned i = 0; i < LANDMARK_NREGS; i++)
		n += regs[i] != lm->regs[i];
	return n;
}

bool landmark_match(struct machine *m, const struct landmark *lm, struct landmark_miss *miss)
{
	unsigned diff = landmark_reg_diff(m, lm);
	uint64_t h;
	uint64_t rip;

	miss->hits++;
	if (diff < miss->best_diff) {
		miss->best_diff = diff;
		landmark_regs(m, miss->best_regs, &rip);
	}
	if (diff)
		return false;
	miss->regs_matched = true;
	if (landmark_state_hash(m, &h) < 0 || h != lm->state_hash)
		return false;
	miss->state_matched = true;
	return landmark_page_hash(m, &h) == 0 && h == lm->page_hash;
}

void landmark_passed(struct machine *m)
{
	if (m->lm_user < 0)
		return;
	if (!m->cfg.lm_hash_written) {
		/* A failed collect keeps the pages for the next landmark. */
		if (dirty_collect(&m->dirty) < 0)
			return;
		machine_show_guest_bytes(m, true);
		memhash_commit(&m->lm_mem, m->mem.base, dirty_bits(&m->dirty, m->lm_user));
		machine_show_guest_bytes(m, false);
	}
	dirty_clear(&m->dirty, m->lm_user);
}

/* True when the instruction bytes P are HLT or a REP/REPNE string
 * instruction (MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS), past prefixes. */
static bool landmark_bad_insn(const uint8_t *p, size_t n, bool lm)
{
	bool rep = false;
	size_t i = 0;

	for (; i < n; i++) {
		uint8_t b = p[i];

		if (b == 0xf2 || b == 0xf3)
			rep = true;
		else if (!(b == 0x66 || b == 0x67 || b == 0x2e || b == 0x36 || b == 0x3e ||
			   b == 0x26 || b == 0x64 || b == 0x65 || b == 0xf0 ||
			   (lm && b >= 0x40 && b <= 0x4f)))
			break;
	}
	if (i == n)
		return true; /* unreadable or all prefixes: do not risk it */
	if (p[i] == 0xf4)
		return true;
	return rep && ((p[i] >= 0xa4 && p[i] <= 0xa7) || (p[i] >= 0xaa && p[i] <= 0xaf) ||
		       (p[i] >= 0x6c && p[i] <= 0x6f));
}

bool landmark_possible(struct machine *m, unsigned rings, unsigned *cpl)
{
	struct kvm_vcpu_events ev;
	struct kvm_sregs s;
	uint8_t insn[15];
	size_t n;

	/* Not between an injection and the entry that delivers it: the place
	 * would be one the guest never executes (kvm_pvm does not always show
	 * an exception rrvm injected in KVM_GET_VCPU_EVENTS). */
	if (m->irq_queued || m->exc_queued || vcpu_get_sregs(&m->vcpu, &s) < 0)
		return false;
	*cpl = s.cs.dpl & 3;
	if (!(rings >> *cpl & 1))
		return false;
	if (ioctl(m->vcpu.fd, KVM_GET_VCPU_EVENTS, &ev) < 0 || ev.exception.injected ||
	    ev.exception.pending || ev.interrupt.injected || ev.interrupt.shadow ||
	    ev.nmi.injected || ev.nmi.pending)
		return false;
	memset(insn, 0, sizeof(insn));
	n = machine_read_virt(m, machine_regs(m)->rip, insn, sizeof(insn));
	return !landmark_bad_insn(insn, n, s.efer & X86_EFER_LMA);
}
