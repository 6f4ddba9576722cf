/* gdb_target_ops over the time-travel engine (cli/ sits on both gdbstub/
 * and replay/; neither knows the other). */
#ifndef RRVM_CLI_GDB_TARGET_H
#define RRVM_CLI_GDB_TARGET_H

#include "gdbstub/target.h"
#include "replay/timeline.h"

struct gdb_target {
	struct timeline *t;
	struct gdb_stop last;
	struct gdb_target_ops ops;
};

void gdb_target_init(struct gdb_target *g, struct timeline *t);

#endif
