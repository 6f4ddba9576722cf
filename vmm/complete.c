#include "vmm/complete.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <string.h>

#define RFLAGS_CF (1u << 0)
#define RFLAGS_PF (1u << 2)
#define RFLAGS_AF (1u << 4)
#define RFLAGS_ZF (1u << 6)
#define RFLAGS_SF (1u << 7)
#define RFLAGS_OF (1u << 11)
#define RFLAGS_AC (1u << 18)
#define CR0_MP (1u << 1)
#define CR0_TS (1u << 3)
#define FSW_ES (1u << 7)
#define VECTOR_BP 3

const char *complete_name(enum complete_kind k)
{
	static const char *const names[COMPLETE_KINDS] = {
		[COMPLETE_NONE] = "none",     [COMPLETE_INT3] = "int3",
		[COMPLETE_FWAIT] = "fwait",   [COMPLETE_CLAC] = "clac",
		[COMPLETE_STAC] = "stac",     [COMPLETE_POPCNT] = "popcnt",
		[COMPLETE_CMPXCHG16B] = "cmpxchg16b",
	};

	if (k == COMPLETE_SYSCALL)
		return "syscall";
	return (unsigned)k < COMPLETE_KINDS ? names[k] : "?";
}

int completer_init(struct completer *c)
{
	csh h;

	memset(c, 0, sizeof(*c));
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return -ENOMEM;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	c->cs = (size_t)h;
	return 0;
}

void completer_free(struct completer *c)
{
	csh h = (csh)c->cs;

	if (h)
		cs_close(&h);
	c->cs = 0;
}

/* Capstone register -> general register index and width in bytes. */
static int cpl_gpr(x86_reg r, unsigned *width)
{
	static const x86_reg regs[3][CPL_NGPR] = {
		{ X86_REG_RAX, X86_REG_RCX, X86_REG_RDX, X86_REG_RBX, X86_REG_RSP, X86_REG_RBP,
		  X86_REG_RSI, X86_REG_RDI, X86_REG_R8, X86_REG_R9, X86_REG_R10, X86_REG_R11,
		  X86_REG_R12, X86_REG_R13, X86_REG_R14, X86_REG_R15 },
		{ X86_REG_EAX, X86_REG_ECX, X86_REG_EDX, X86_REG_EBX, X86_REG_ESP, X86_REG_EBP,
		  X86_REG_ESI, X86_REG_EDI, X86_REG_R8D, X86_REG_R9D, X86_REG_R10D, X86_REG_R11D,
		  X86_REG_R12D, X86_REG_R13D, X86_REG_R14D, X86_REG_R15D },
		{ X86_REG_AX, X86_REG_CX, X86_REG_DX, X86_REG_BX, X86_REG_SP, X86_REG_BP,
		  X86_REG_SI, X86_REG_DI, X86_REG_R8W, X86_REG_R9W, X86_REG_R10W, X86_REG_R11W,
		  X86_REG_R12W, X86_REG_R13W, X86_REG_R14W, X86_REG_R15W },
	};
	static const unsigned widths[3] = { 8, 4, 2 };

	for (unsigned w = 0; w < 3; w++)
		for (unsigned i = 0; i < CPL_NGPR; i++)
			if (regs[w][i] == r) {
				*width = widths[w];
				return (int)i;
			}
	return -1;
}

/* The linear address of a memory operand; -EINVAL for what Linux never
 * uses here (segment bases other than FS/GS outside 64-bit mode). */
static int cpl_address(const cs_insn *in, const x86_op_mem *mm, const struct complete_cpu *cpu,
		       uint64_t *lin)
{
	uint64_t a = (uint64_t)mm->disp;
	unsigned w;
	int i;

	if (mm->base == X86_REG_RIP) {
		a += cpu->rip + in->size;
	} else if (mm->base != X86_REG_INVALID) {
		if ((i = cpl_gpr(mm->base, &w)) < 0)
			return -EINVAL;
		a += cpu->gpr[i];
	}
	if (mm->index != X86_REG_INVALID) {
		if ((i = cpl_gpr(mm->index, &w)) < 0)
			return -EINVAL;
		a += cpu->gpr[i] * (uint64_t)mm->scale;
	}
	if (in->detail->x86.addr_size == 4)
		a = (uint32_t)a;
	else if (in->detail->x86.addr_size == 2)
		a = (uint16_t)a;
	if (mm->segment == X86_REG_FS)
		a += cpu->fs_base;
	else if (mm->segment == X86_REG_GS)
		a += cpu->gs_base;
	else if (cpu->bits != 64 && mm->segment != X86_REG_INVALID)
		return -EINVAL;
	*lin = a;
	return 0;
}

static void cpl_set_reg(struct complete_cpu *cpu, int i, unsigned width, uint64_t v)
{
	if (width == 8)
		cpu->gpr[i] = v;
	else if (width == 4)
		cpu->gpr[i] = (uint32_t)v; /* a 32-bit write zero-extends */
	else
		cpu->gpr[i] = (cpu->gpr[i] & ~0xffffull) | (v & 0xffff);
}

static bool cpl_popcnt(const cs_insn *in, struct complete_cpu *cpu,
		       const struct complete_mem *mem)
{
	const cs_x86 *x = &in->detail->x86;
	unsigned w, ws;
	uint64_t src = 0, lin;
	int d, s;

	if (x->op_count != 2 || x->operands[0].type != X86_OP_REG ||
	    (d = cpl_gpr(x->operands[0].reg, &w)) < 0)
		return false;
	if (x->operands[1].type == X86_OP_REG) {
		if ((s = cpl_gpr(x->operands[1].reg, &ws)) < 0 || ws != w)
			return false;
		src = cpu->gpr[s];
	} else if (x->operands[1].type == X86_OP_MEM) {
		if (cpl_address(in, &x->operands[1].mem, cpu, &lin) < 0 ||
		    mem->read(mem->ctx, lin, &src, w) < 0)
			return false;
	} else {
		return false;
	}
	if (w < 8)
		src &= (1ull << (8 * w)) - 1;
	cpu->rflags &= ~(uint64_t)(RFLAGS_OF | RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_CF |
				    RFLAGS_PF);
	if (!src)
		cpu->rflags |= RFLAGS_ZF;
	cpl_set_reg(cpu, d, w, (uint64_t)__builtin_popcountll(src));
	return true;
}

static bool cpl_cmpxchg16b(const cs_insn *in, struct complete_cpu *cpu,
			   const struct complete_mem *mem)
{
	const cs_x86 *x = &in->detail->x86;
	uint64_t lin, cur[2], val[2] = { cpu->gpr[CPL_RBX], cpu->gpr[CPL_RCX] };

	if (x->op_count != 1 || x->operands[0].type != X86_OP_MEM ||
	    cpl_address(in, &x->operands[0].mem, cpu, &lin) < 0 || lin % 16 ||
	    mem->read(mem->ctx, lin, cur, sizeof(cur)) < 0)
		return false; /* a misaligned operand is #GP: not simple */
	if (cur[0] == cpu->gpr[CPL_RAX] && cur[1] == cpu->gpr[CPL_RDX]) {
		if (mem->write(mem->ctx, lin, val, sizeof(val)) < 0)
			return false;
		cpu->rflags |= RFLAGS_ZF;
	} else {
		cpu->gpr[CPL_RAX] = cur[0];
		cpu->gpr[CPL_RDX] = cur[1];
		cpu->rflags &= ~(uint64_t)RFLAGS_ZF;
	}
	return true;
}

static enum complete_kind cpl_do(const cs_insn *in, struct complete_cpu *cpu,
				 const struct complete_mem *mem, int *vector)
{
	switch (in->id) {
	case X86_INS_INT3:
		*vector = VECTOR_BP;
		return COMPLETE_INT3;
	case X86_INS_WAIT:
		if ((cpu->fsw & FSW_ES) || (cpu->cr0 & (CR0_TS | CR0_MP)) == (CR0_TS | CR0_MP))
			return COMPLETE_NONE; /* #MF or #NM */
		return COMPLETE_FWAIT;
	case X86_INS_CLAC:
	case X86_INS_STAC:
		if (cpu->cpl)
			return COMPLETE_NONE; /* #UD */
		if (in->id == X86_INS_CLAC)
			cpu->rflags &= ~(uint64_t)RFLAGS_AC;
		else
			cpu->rflags |= RFLAGS_AC;
		return in->id == X86_INS_CLAC ? COMPLETE_CLAC : COMPLETE_STAC;
	case X86_INS_POPCNT:
		return cpl_popcnt(in, cpu, mem) ? COMPLETE_POPCNT : COMPLETE_NONE;
	case X86_INS_CMPXCHG16B:
		return cpl_cmpxchg16b(in, cpu, mem) ? COMPLETE_CMPXCHG16B : COMPLETE_NONE;
	default:
		return COMPLETE_NONE;
	}
}

enum complete_kind complete_insn(struct completer *c, const uint8_t *code, size_t len,
				 struct complete_cpu *cpu, const struct complete_mem *mem,
				 int *vector)
{
	csh h = (csh)c->cs;
	struct complete_cpu next = *cpu;
	enum complete_kind k = COMPLETE_NONE;
	cs_insn *in = NULL;

	*vector = -1;
	if (!h || cpu->bits != 64 ||
	    cs_disasm(h, code, len, cpu->rip, 1, &in) != 1)
		goto out;
	k = cpl_do(in, &next, mem, vector);
	if (k != COMPLETE_NONE) {
		next.rip += in->size;
		*cpu = next;
		c->done[k]++;
	} else {
		*vector = -1;
	}
out:
	if (in)
		cs_free(in, 1);
	return k;
}

#define PF_USER 0x04
#define PF_FETCH 0x10
#define RFLAGS_RF (1u << 16)

bool complete_syscall_fault(const uint64_t frame[6], uint64_t cr2, uint64_t lstar,
			    struct complete_cpu *cpu)
{
	if (frame[1] != lstar || cr2 != lstar || (frame[2] & 3) != 3 ||
	    (frame[0] & (PF_USER | PF_FETCH)) != (PF_USER | PF_FETCH))
		return false;
	cpu->rip = lstar;
	cpu->gpr[CPL_RSP] = frame[4];
	cpu->rflags = frame[3] & ~(uint64_t)RFLAGS_RF;
	cpu->cpl = 0;
	return true;
}

void complete_syscall_selectors(uint64_t star, uint16_t *cs, uint16_t *ss)
{
	*cs = (uint16_t)((star >> 32) & 0xfffc);
	*ss = (uint16_t)(*cs + 8);
}
