/* gdb_target_ops over the time-travel engine (cli/ sits on both gdbstub/
 * and replay/; neither knows the other). */
#ifndef RRVM_CLI_GDB_TARGET_H
#define RRVM_CLI_GDB_TARGET_H

#include <linux/kvm.h>
#include <stdbool.h>

#include "gdbstub/target.h"
#include "replay/timeline.h"

/* A breakpoint address as gdb set it: Z0, Z1 or both (the engine keeps one
 * breakpoint per address and does not know which packet asked). */
struct gdb_target_bp {
	uint64_t addr;
	unsigned kinds; /* bit GDB_BP_SW, bit GDB_BP_HW */
};

/* The vCPU's registers as of this stop: a `g` packet reads ~60 registers,
 * each of which would otherwise cost KVM_GET_REGS + KVM_GET_SREGS (or an
 * XSAVE).  Forgotten by anything that may change them: a resume, a write,
 * a monitor command. */
struct gdb_target_regs {
	bool have_cpu, have_fpu;
	struct kvm_regs r;
	struct kvm_sregs s;
	struct kvm_fpu f;
};

struct gdb_target {
	struct timeline *t;
	struct gdb_target_regs regs;
	const char *trace_path; /* for `monitor info trace` */
	struct gdb_stop last;
	struct gdb_target_bp bp[TL_MAX_BREAKPOINTS];
	unsigned nbp;
	struct gdb_target_ops ops;
};

/* Errors the engine explains (t->err) are also printed on stderr as one
 * "rrvm: ..." line, which gdb shows when it runs rrvm through `target
 * remote | rrvm gdb --stdio`: the protocol itself carries only "Enn". */
void gdb_target_init(struct gdb_target *g, struct timeline *t, const char *trace_path);

#endif
