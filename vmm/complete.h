/* Completing what the host cannot (DESIGN.md): instructions KVM's emulator
 * gives up on (KVM_EXIT_INTERNAL_ERROR, emulation) that the architecture
 * defines simply, done here on a copy of the vCPU state:
 *   int3        RIP past it, then #BP for the caller to deliver (a trap)
 *   fwait       nothing, when no x87 exception is pending and not CR0.TS+MP
 *   clac, stac  RFLAGS.AC cleared / set (CPL 0 only)
 *   popcnt      the count in the destination; OF SF ZF AF CF PF cleared,
 *               ZF set when the source is 0 (SDM vol. 2B "POPCNT")
 *   cmpxchg16b  on one vCPU: RDX:RAX against the 16-byte operand (16-byte
 *               aligned), ZF says equal; RCX:RBX stored, or the operand
 *               loaded into RDX:RAX
 * Anything else is left alone (COMPLETE_NONE).  Pure: no KVM; the caller
 * reads the state and memory (by linear address) and applies the result,
 * so record and replay complete identically.  Cost: one capstone decode. */
#ifndef RRVM_VMM_COMPLETE_H
#define RRVM_VMM_COMPLETE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum complete_kind {
	COMPLETE_NONE,
	COMPLETE_INT3,
	COMPLETE_FWAIT,
	COMPLETE_CLAC,
	COMPLETE_STAC,
	COMPLETE_POPCNT,
	COMPLETE_CMPXCHG16B,
	COMPLETE_KINDS,
	COMPLETE_SYSCALL = COMPLETE_KINDS, /* machine_complete's, not complete_insn's */
};

/* General registers in the hardware encoding order: RAX RCX RDX RBX RSP
 * RBP RSI RDI R8..R15. */
enum { CPL_RAX, CPL_RCX, CPL_RDX, CPL_RBX, CPL_RSP, CPL_RBP, CPL_RSI, CPL_RDI, CPL_R11 = 11,
       CPL_NGPR = 16 };

struct complete_cpu {
	uint64_t gpr[CPL_NGPR];
	uint64_t rip, rflags;
	uint64_t cr0;
	uint64_t fs_base, gs_base;
	unsigned cpl;
	int bits;      /* 64, 32 or 16: the code segment's mode */
	uint16_t fsw;  /* x87 status word (ES, bit 7: an unmasked exception pending) */
};

/* Guest memory by linear address: 0 or -errno (a fault: nothing is done). */
struct complete_mem {
	void *ctx;
	int (*read)(void *ctx, uint64_t lin, void *buf, size_t len);
	int (*write)(void *ctx, uint64_t lin, const void *buf, size_t len);
};

struct completer {
	size_t cs;     /* capstone handle (csh), opened once */
	uint64_t done[COMPLETE_KINDS];
	uint64_t syscalls; /* SYSCALLs completed at the #PF entry */
};

int completer_init(struct completer *c);
void completer_free(struct completer *c);

/* Completes the instruction at CPU->rip, whose first LEN bytes are CODE.
 * Updates CPU (and memory through MEM) and returns its kind; *VECTOR is the
 * exception to deliver afterwards (3 for int3) or -1.  COMPLETE_NONE
 * changes nothing. */
enum complete_kind complete_insn(struct completer *c, const uint8_t *code, size_t len,
				 struct complete_cpu *cpu, const struct complete_mem *mem,
				 int *vector);

const char *complete_name(enum complete_kind k);

/* kvm_pvm's SYSCALL from ring 3 (HOST.md) sets RCX, R11 and masks RFLAGS
 * but leaves CS, SS and the CPL alone, so the fetch at LSTAR page-faults
 * from ring 3.  At the #PF handler's entry (where its clac exits), FRAME is
 * what the fault pushed: error code, RIP, CS, RFLAGS, RSP, SS.  When it is
 * that fault (a user-mode instruction fetch at LSTAR, CR2 = LSTAR), sets
 * CPU to what SYSCALL should have produced (RIP = LSTAR, the user RSP, the
 * masked RFLAGS without the RF the fault added; RCX and R11 as they are)
 * and returns true; the caller loads CS = STAR[47:32] and SS = CS + 8 with
 * DPL 0 (complete_syscall_selectors).  What stays different from real
 * hardware: CR2 holds LSTAR, and the fault frame lies below RSP0. */
bool complete_syscall_fault(const uint64_t frame[6], uint64_t cr2, uint64_t lstar,
			    struct complete_cpu *cpu);
void complete_syscall_selectors(uint64_t star, uint16_t *cs, uint16_t *ss);

#endif
