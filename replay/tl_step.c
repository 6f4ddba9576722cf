/* Single steps for the time-travel engine: one instruction with TF, one
 * interrupt delivery with a breakpoint at its handler, HLT left to exit as
 * it did when recorded, and what a step must hide from the guest. */
#define LOG_MODULE "replay"
#include "replay/timeline.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

#include "replay/timeline_int.h"
#include "util/log.h"
#include "vmm/paging.h"
#include "vmm/x86.h"

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

/* The next instruction's opcode byte, past its 66/F2/F3 and (in long
 * mode) REX prefixes, with what they say about operand size. */
struct tl_insn {
	uint8_t op, op2; /* op2: the byte after a 0f */
	bool o16, rexw;
};

static struct tl_insn tl_decode(const struct tl_cpu *c)
{
	const uint8_t *p = c->insn;
	struct tl_insn d = { 0 };
	size_t i = 0;

	for (; i < sizeof(c->insn) - 2 && (p[i] == 0x66 || p[i] == 0xf2 || p[i] == 0xf3 ||
					   (c->lm && p[i] >= 0x40 && p[i] <= 0x4f)); i++) {
		d.o16 |= p[i] == 0x66;
		d.rexw = c->lm && p[i] >= 0x48 && p[i] <= 0x4f; /* REX must come last */
	}
	d.op = p[i];
	d.op2 = p[i + 1];
	return d;
}

/* PUSHF (9c) pushes RFLAGS with the single-step TF set: true when the
 * next instruction is one, with the pushed size in *SIZE. */
static bool tl_is_pushf(const struct tl_cpu *c, unsigned *size)
{
	struct tl_insn d = tl_decode(c);

	*size = d.o16 ? 2 : c->lm ? 8 : 4;
	return d.op == 0x9c;
}

/* Steps one instruction with TF, hiding TF from what the guest can see: a
 * PUSHF under TF leaks it into the pushed image (so a later POPF would trap
 * inside the guest), so the image is cleaned after the step. */
static int tl_step_tf(struct timeline *t, const struct tl_cpu *c, sync_seq limit)
{
	struct machine *m = &t->s->m;
	uint64_t flags = 0;
	unsigned size = 0;
	bool pushf = tl_is_pushf(c, &size);
	int r;

	if ((r = machine_set_debug(m, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP, NULL, 0)) < 0)
		return tl_fail(t, r, "cannot single-step: %s", strerror(-r));
	t->stepping = true;
	t->step_wrote = false;
	t->s->tsc_step_tf = true; /* TF in a #GP frame is ours (replay/tsc_gp.h) */
	r = tl_run(t, limit);
	t->s->tsc_step_tf = false;
	t->stepping = false;
	if (r == TL_RUN_TRAP && t->step_wrote && (r = snap_flush(&t->ck.snap)) == 0)
		r = TL_RUN_TRAP; /* the write completed: the step is done */
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
/* True when INSN (at the vCPU's RIP) returns to ring 3: SYSRET, SYSEXIT, or
 * an IRET or far RET whose CS on the stack has RPL 3.  (Nothing else
 * lowers the privilege level: SDM vol. 3, 5.8.) */
static bool tl_to_ring3(struct timeline *t, const struct tl_cpu *c)
{
	struct tl_insn d = tl_decode(c);
	unsigned size = d.rexw ? 8 : d.o16 ? 2 : 4; /* IRET and far RET: 32-bit by default */
	uint64_t sel = 0;

	if (d.op == 0x0f)
		return d.op2 == 0x07 || d.op2 == 0x35;
	if (d.op != 0xcf && d.op != 0xca && d.op != 0xcb)
		return false;
	/* The frame: RIP, then CS (IRET: then RFLAGS, ...; RET imm16 pops
	 * the immediate after CS). */
	if (paging_read(&t->s->m.mem, &c->pm, machine_regs(&t->s->m)->rsp + size, &sel, size) != size)
		return false;
	return (sel & 3) == 3;
}

int tl_step_one(struct timeline *t)
{
	struct machine *m = &t->s->m;
	struct tl_cpu c;
	int r = tl_cpu_read(t, &c);

	if (r < 0)
		return r;
	/* A step into ring 3, too, would run on to the next exception or
	 * interrupt there: not one instruction. */
	if (!t->can_step_ring3 &&
	    (c.s.cs.dpl == 3 || (!m->irq_queued && tl_to_ring3(t, &c))))
		return tl_fail(t, -ENOTSUP, "%s, and this host (%s) cannot single-step ring 3 "
			       "(rrvm doctor)", c.s.cs.dpl == 3 ? "the guest runs ring-3 code here"
			       : "the next instruction returns to ring 3", kvm_backend());
	if (m->irq_queued)
		return tl_step_irq(t, &c, m->sync + 1);
	if (c.insn[0] == 0xf4)
		/* Stepping over HLT does not exit as HLT on every backend:
		 * let it exit as it did while recording: a sync point. */
		return tl_run(t, m->sync + 1);
	return tl_step_tf(t, &c, m->sync + 1);
}

/* One step forward from t->pos. */
int tl_step_fwd(struct timeline *t)
{
	int r;

	if (t->pos.sync >= t->end_sync && !t->live)
		return TL_RUN_END;
	r = tl_step_one(t);
	if (r == TL_RUN_TRAP && t->pos.n == TL_N_UNKNOWN) {
		if (t->lazy.n) /* else not placeable at all (live) */
			t->lazy.a[t->lazy.n - 1].extra++;
	} else if (r == TL_RUN_TRAP)
		t->pos.n++;
	else if (r == TL_RUN_SYNC || r == TL_RUN_END)
		tl_settle(t);
	return r;
}

