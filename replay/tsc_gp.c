#define LOG_MODULE "replay"
#include "replay/tsc_gp.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

#include "replay/tsc_sites.h"
#include "vmm/memory.h"
#include "vmm/paging.h"
#include "vmm/x86.h"

/* RFLAGS.VM: the frame came from virtual-8086 mode (and is longer). */
#define TSC_GP_RFLAGS_VM (1u << 17)
/* CR4.TSD: RDTSC is a ring-0 instruction. */
#define TSC_GP_CR4_TSD (1u << 2)

static uint64_t tsc_gp_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = n; i--;)
		v = v << 8 | p[i];
	return v;
}

unsigned tsc_gp_frame_size(bool lm)
{
	return lm ? 48u : 24u;
}

void tsc_gp_frame_decode(const uint8_t *raw, bool lm, struct tsc_gp_frame *f)
{
	unsigned w = lm ? 8u : 4u;
	uint64_t v[6];

	for (unsigned i = 0; i < 6; i++)
		v[i] = tsc_gp_le(raw + i * w, w);
	/* Selectors are 16 bits; the CPU zero-extends them in the slot. */
	*f = (struct tsc_gp_frame){ v[0], v[1], v[2] & 0xffff, v[3], v[4], v[5] & 0xffff };
}

int tsc_gp_gate_decode(const uint8_t *gate, bool lm, uint64_t *entry)
{
	uint8_t attr = gate[5];
	unsigned type = attr & 0xf;

	if (!(attr & 0x80))
		return -ENOENT;
	/* 0xe/0xf: 32-bit (legacy) or 64-bit (long mode) interrupt/trap gates.
	 * 16-bit gates (6, 7) and task gates (5) push no frame we model. */
	if (type != 0xe && type != 0xf)
		return -ENOTSUP;
	*entry = tsc_gp_le(gate, 2) | tsc_gp_le(gate + 6, 2) << 16;
	if (lm)
		*entry |= tsc_gp_le(gate + 8, 4) << 32;
	return 0;
}

int tsc_gp_segment(uint64_t d, uint16_t sel, struct kvm_segment *seg)
{
	uint32_t limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
	bool g = (d >> 55) & 1;

	if (!((d >> 44) & 1) || !((d >> 47) & 1))
		return -EINVAL; /* a system descriptor, or not present */
	*seg = (struct kvm_segment){
		.base = ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000),
		.limit = g ? limit << 12 | 0xfff : limit,
		.selector = sel,
		.type = (uint8_t)(((d >> 40) & 0xf) | 1), /* loading sets Accessed */
		.present = 1,
		.dpl = (uint8_t)((d >> 45) & 3),
		.db = (uint8_t)((d >> 54) & 1),
		.s = 1,
		.l = (uint8_t)((d >> 53) & 1),
		.g = g,
		.avl = (uint8_t)((d >> 52) & 1),
	};
	return 0;
}

enum tsc_gp_verdict tsc_gp_frame_verdict(const struct tsc_gp_frame *f, uint64_t cr4)
{
	if (f->rflags & TSC_GP_RFLAGS_VM)
		return TSC_GP_V86;
	if ((f->cs & 3) != 3)
		return TSC_GP_NOT_RING3;
	if (f->err)
		return TSC_GP_ERRCODE;
	if (cr4 & TSC_GP_CR4_TSD)
		return TSC_GP_TSD;
	return TSC_GP_OURS;
}

/* The descriptor SEL names in SR's GDT or LDT. */
static int tsc_gp_desc(struct guest_mem *m, const struct paging_mode *pm,
		       const struct kvm_sregs *sr, uint16_t sel, struct kvm_segment *seg)
{
	uint64_t base = sel & 4 ? sr->ldt.base : sr->gdt.base, d = 0;
	uint32_t limit = sel & 4 ? sr->ldt.limit : sr->gdt.limit;

	if ((sel & ~7u) == 0 || (sel | 7u) > limit ||
	    paging_read(m, pm, base + (sel & ~7u), &d, 8) != 8)
		return -EFAULT;
	return tsc_gp_segment(d, sel, seg);
}

void tsc_gp_disarm(struct tsc_sites *s, struct guest_mem *m)
{
	struct tsc_gp_trap *t = &s->gp;
	uint8_t *b = t->armed ? gmem_ptr(m, t->gpa, 1) : NULL;

	/* A byte that is no longer the HLT was written by someone else
	 * since (a debugger's patch, the guest): it stays. */
	if (b && *b == TSC_GP_HLT) {
		*b = t->orig;
		gmem_wrote(m, t->gpa, 1);
	}
	t->armed = false;
}

/* Where the #GP handler starts now (linear *ENTRY, *OFF in its code
 * segment), or why there is none to trap. */
static const char *tsc_gp_handler(struct guest_mem *m, const struct kvm_sregs *sr,
				  uint64_t *entry, uint64_t *off, uint64_t *gpa)
{
	bool lm = sr->efer & X86_EFER_LMA;
	unsigned size = lm ? 16u : 8u; /* SDM vol. 3, 6.14.1 */
	struct paging_mode pm;
	struct paging_xlat x;
	struct kvm_segment cs;
	uint8_t gate[16];
	uint16_t sel;
	int r;

	if (!(sr->cr0 & X86_CR0_PE))
		return "the guest runs in real mode";
	if (sr->idt.limit < TSC_GP_VECTOR * size + size - 1)
		return "the guest's IDT has no #GP gate";
	paging_mode_from_sregs(&pm, sr);
	if (paging_read(m, &pm, sr->idt.base + TSC_GP_VECTOR * size, gate, size) != size)
		return "the guest's IDT is not mapped";
	if ((r = tsc_gp_gate_decode(gate, lm, entry)) < 0)
		return r == -ENOENT ? "the #GP gate is not present" : "the #GP gate is a task or 16-bit gate";
	sel = (uint16_t)tsc_gp_le(gate + 2, 2);
	*off = *entry;
	if (!lm) { /* legacy mode: the gate's code segment may have a base */
		if (tsc_gp_desc(m, &pm, sr, sel, &cs) < 0)
			return "the #GP gate's code segment is not readable";
		*entry = (uint32_t)(*entry + cs.base);
	}
	if (paging_translate(m, &pm, *entry, &x) < 0 || !gmem_ptr(m, x.gpa, 1))
		return "the #GP handler is not mapped to RAM";
	*gpa = x.gpa;
	return NULL;
}

uint8_t tsc_gp_insn_len(const uint8_t *code, size_t n, bool mode64)
{
	static const cs_group_type branch[] = { CS_GRP_JUMP, CS_GRP_CALL, CS_GRP_RET,
						CS_GRP_IRET, CS_GRP_INT, CS_GRP_BRANCH_RELATIVE };
	cs_insn *insn = NULL;
	uint8_t len = 0;
	csh h;

	if (cs_open(CS_ARCH_X86, mode64 ? CS_MODE_64 : CS_MODE_32, &h) != CS_ERR_OK)
		return 0;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	if (cs_disasm(h, code, n, 0, 1, &insn) == 1) {
		len = (uint8_t)insn->size;
		for (size_t i = 0; i < sizeof(branch) / sizeof(branch[0]); i++)
			if (cs_insn_group(h, insn, branch[i]))
				len = 0;
		/* HLT and the like stop or fault here; stepping over them would
		 * wait on the guest's terms, not ours. */
		if (insn->id == X86_INS_HLT || insn->id == X86_INS_UD2)
			len = 0;
		cs_free(insn, 1);
	}
	cs_close(&h);
	return len;
}

static void tsc_gp_step_cancel(struct tsc_sites *s, struct guest_mem *m)
{
	struct tsc_gp_trap *t = &s->gp;
	uint8_t *b = t->stepping ? gmem_ptr(m, t->step_gpa, 1) : NULL;

	if (b && *b == TSC_GP_HLT) {
		*b = t->step_orig;
		gmem_wrote(m, t->step_gpa, 1);
	}
	t->stepping = false;
}

void tsc_gp_pass(struct tsc_sites *s, struct guest_mem *m, const struct kvm_sregs *sr)
{
	struct tsc_gp_trap *t = &s->gp;
	struct paging_mode pm;
	struct paging_xlat x;
	uint8_t *b;

	tsc_gp_disarm(s, m);
	paging_mode_from_sregs(&pm, sr);
	if (!t->len || paging_translate(m, &pm, t->entry + t->len, &x) < 0 ||
	    !(b = gmem_ptr(m, x.gpa, 1)) || *b == TSC_GP_HLT)
		return; /* the trap returns at the next sync point */
	t->stepping = true;
	t->step_gpa = x.gpa;
	t->step_orig = *b;
	*b = TSC_GP_HLT;
	gmem_wrote(m, x.gpa, 1);
}

bool tsc_gp_is_step(struct tsc_sites *s, struct guest_mem *m, const struct kvm_sregs *sr,
		    uint64_t rip)
{
	struct paging_mode pm;
	struct paging_xlat x;

	if (!s->gp.stepping || (sr->cs.dpl & 3))
		return false;
	paging_mode_from_sregs(&pm, sr);
	if (paging_translate(m, &pm, paging_seg_lin(sr, &sr->cs, rip - 1), &x) < 0 ||
	    x.gpa != s->gp.step_gpa)
		return false;
	tsc_gp_step_cancel(s, m);
	return true;
}

/* The first instruction at ENTRY (its first byte ORIG, the rest from
 * memory): how to step over it. */
static uint8_t tsc_gp_first_len(struct guest_mem *m, const struct kvm_sregs *sr, uint64_t entry,
				uint8_t orig)
{
	struct paging_mode pm;
	uint8_t code[15];
	size_t n;

	paging_mode_from_sregs(&pm, sr);
	if (!(n = paging_read(m, &pm, entry, code, sizeof(code))))
		return 0;
	code[0] = orig;
	return tsc_gp_insn_len(code, n, sr->cs.l);
}

void tsc_gp_arm(struct tsc_sites *s, struct guest_mem *m, const struct kvm_sregs *sr)
{
	struct tsc_gp_trap *t = &s->gp;
	uint64_t entry = 0, off = 0, gpa = 0;
	const char *why = tsc_gp_handler(m, sr, &entry, &off, &gpa);
	uint8_t *b;

	tsc_gp_step_cancel(s, m); /* the first instruction made an exit, or faulted */
	if (!why && t->armed && t->gpa == gpa) {
		t->entry = entry; /* the same byte, perhaps by another name */
		t->entry_rip = off;
		return;
	}
	tsc_gp_disarm(s, m);
	b = why ? NULL : gmem_ptr(m, gpa, 1);
	if (b && *b == TSC_GP_HLT)
		why = "the #GP handler starts with HLT";
	t->usable = !why;
	if (why) {
		snprintf(t->why, sizeof(t->why), "%s", why);
		return;
	}
	t->orig = *b;
	t->len = tsc_gp_first_len(m, sr, entry, *b);
	*b = TSC_GP_HLT;
	gmem_wrote(m, gpa, 1);
	t->armed = true;
	t->entry = entry;
	t->entry_rip = off;
	t->gpa = gpa;
}

bool tsc_gp_is_trap(const struct tsc_sites *s, struct guest_mem *m, const struct kvm_sregs *sr,
		    uint64_t rip)
{
	struct paging_mode pm;
	struct paging_xlat x;

	if (!s->gp.armed || (sr->cs.dpl & 3))
		return false;
	paging_mode_from_sregs(&pm, sr);
	return paging_translate(m, &pm, paging_seg_lin(sr, &sr->cs, rip - 1), &x) == 0 &&
	       x.gpa == s->gp.gpa;
}

enum tsc_gp_verdict tsc_gp_judge(const struct tsc_sites *s, struct guest_mem *m,
				 const struct kvm_sregs *sr, uint64_t rsp, struct tsc_gp_frame *f,
				 uint64_t *site_gpa)
{
	bool lm = sr->efer & X86_EFER_LMA;
	unsigned size = tsc_gp_frame_size(lm);
	uint8_t raw[TSC_GP_FRAME_MAX];
	struct paging_mode pm;
	struct paging_xlat x;
	struct kvm_segment cs = { .base = 0 };
	enum tsc_gp_verdict v;
	const struct tsc_site *site;
	const uint8_t *code;

	paging_mode_from_sregs(&pm, sr);
	if (paging_read(m, &pm, paging_seg_lin(sr, &sr->ss, rsp), raw, size) != size)
		return TSC_GP_NO_SITE;
	tsc_gp_frame_decode(raw, lm, f);
	if ((v = tsc_gp_frame_verdict(f, sr->cr4)) != TSC_GP_OURS)
		return v;
	/* Ring 3 and the fault share CR3: the frame's RIP translates here.
	 * Outside long mode its CS may have a base. */
	if (!lm && tsc_gp_desc(m, &pm, sr, (uint16_t)f->cs, &cs) < 0)
		return TSC_GP_NO_SITE;
	if (paging_translate(m, &pm, lm ? f->rip : (uint32_t)(f->rip + cs.base), &x) < 0 ||
	    !(site = tsc_find(s, x.gpa)) || !(code = gmem_ptr(m, x.gpa, 2)) ||
	    code[0] != 0xe6 || code[1] != TSC_TRAP_PORT)
		return TSC_GP_NO_SITE;
	*site_gpa = site->gpa;
	return TSC_GP_OURS;
}

int tsc_gp_iret_segments(struct guest_mem *m, struct kvm_sregs *sr, const struct tsc_gp_frame *f)
{
	struct paging_mode pm;
	struct kvm_segment cs, ss;
	int r;

	paging_mode_from_sregs(&pm, sr);
	if ((r = tsc_gp_desc(m, &pm, sr, (uint16_t)f->cs, &cs)) < 0 ||
	    (r = tsc_gp_desc(m, &pm, sr, (uint16_t)f->ss, &ss)) < 0)
		return r;
	if (cs.dpl != 3 || ss.dpl != 3 || !(cs.type & 8) || (ss.type & 8) || !(ss.type & 2))
		return -EINVAL; /* IRET would fault: not a ring-3 return we can make */
	sr->cs = cs;
	sr->ss = ss;
	return 0;
}
