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
};

/* General registers in the hardware encoding order: RAX RCX RDX RBX RSP
 * RBP RSI RDI R8..R15. */
enum { CPL_RAX, CPL_RCX, CPL_RDX, CPL_RBX, CPL_RSP, CPL_RBP, CPL_RSI, CPL_RDI, CPL_NGPR = 16 };

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

#endif
