/* What the GDB stub needs from whatever it debugs: the time-travel engine
 * in rrvm, a fake in the tests.  The stub speaks GDB's protocol and calls
 * these ops; it knows nothing about KVM, traces or checkpoints.
 *
 * Numbering: vCPUs are 0-based here ("cpu"); the stub maps vCPU i to GDB
 * thread i + 1, because GDB reserves thread ids 0 ("any") and -1 ("all").
 * Registers use GDB's numbering of our target description (gdbstub/regs.h):
 * the order of target.xml, which is also the order of the 'g' packet.
 *
 * Errors: every int-returning op returns 0 (or a byte count where stated)
 * or a negative errno.  The stub turns -errno into the reply "Enn" with nn
 * the errno in decimal (EFAULT → "E14"), except where an op says otherwise.
 * Conventions the engine should follow:
 *   -EFAULT      guest virtual address not mapped (never return zeros)
 *   -EROFS       a write refused because we are replaying a recording
 *   -EOPNOTSUPP  this kind of breakpoint/watchpoint is not supported: the
 *                stub answers with the empty reply, so gdb stops trying it
 *   -ENOSPC      no free hardware breakpoint/watchpoint slot
 *   -ENOENT      (read_reg only) register unavailable: sent as "xx..."
 *
 * Thread contract: every op except `interrupt` is called from the one
 * session thread, never concurrently with another op.  `interrupt` is
 * called from the transport's watcher thread while `resume` runs in the
 * session thread (see the op).  Ops may be NULL where marked optional. */
#ifndef RRVM_GDBSTUB_TARGET_H
#define RRVM_GDBSTUB_TARGET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why the target is stopped, as GDB will be told in a stop reply. */
enum gdb_stop_reason {
	GDB_STOP_SIGNAL,       /* plain stop: "T<sig>"; a finished step is
				* SIGTRAP (5), an interrupt SIGINT (2) */
	GDB_STOP_SWBREAK,      /* hit a Z0 breakpoint: T05swbreak: */
	GDB_STOP_HWBREAK,      /* hit a Z1 breakpoint: T05hwbreak: */
	GDB_STOP_WATCH,        /* Z2 write watchpoint at addr: T05watch:ADDR */
	GDB_STOP_RWATCH,       /* Z3 read watchpoint */
	GDB_STOP_AWATCH,       /* Z4 access watchpoint */
	GDB_STOP_REPLAY_BEGIN, /* reverse execution reached the start of the
				* recording: T05replaylog:begin */
	GDB_STOP_REPLAY_END,   /* forward execution reached its end:
				* T05replaylog:end */
	GDB_STOP_EXITED,       /* the guest is gone: "Wxx" with exit_status */
};

/* Signal numbers in GDB's own numbering (gdb/signals.def), which the
 * protocol uses whatever the host is. */
#define GDB_SIGINT 2
#define GDB_SIGTRAP 5

struct gdb_stop {
	enum gdb_stop_reason reason;
	unsigned cpu;        /* vCPU that stopped (0-based) */
	int signal;          /* GDB_STOP_SIGNAL only: GDB signal number */
	uint64_t addr;       /* watchpoints: the data address that triggered */
	int exit_status;     /* GDB_STOP_EXITED: 0..255 */
};

enum gdb_bp_type {
	GDB_BP_SW = 0,      /* Z0: software breakpoint at addr, kind = 1 */
	GDB_BP_HW = 1,      /* Z1: hardware breakpoint at addr */
	GDB_BP_WRITE = 2,   /* Z2: write watchpoint, kind = length in bytes */
	GDB_BP_READ = 3,    /* Z3: read watchpoint */
	GDB_BP_ACCESS = 4,  /* Z4: access (read or write) watchpoint */
};

enum gdb_resume_action {
	GDB_RESUME_STEP,     /* one instruction of `cpu` */
	GDB_RESUME_CONTINUE, /* until a breakpoint, watchpoint, interrupt or
			      * either end of the recording */
};

struct gdb_resume_req {
	enum gdb_resume_action action;
	bool reverse;        /* bs/bc: run backwards.  A direction flag, not
			      * a second code path (STYLE.md 9). */
	unsigned cpu;        /* vCPU to step, or the current one for continue */
	/* Set to nonzero by the stub when gdb sends Ctrl-C (0x03) during this
	 * resume.  Cleared by the stub before `resume` is called, so a stale
	 * request can never stop a later resume.  The engine checks it at
	 * every point where it could stop; `interrupt` only wakes it. */
	const atomic_int *interrupted;
};

struct gdb_target_ops {
	void *ctx; /* passed to every op */

	/* Number of vCPUs (GDB threads 1..n).  Cheap; called often. */
	unsigned (*thread_count)(void *ctx);

	/* Where we are now and why we stopped: answers '?' on connect.
	 * Cheap. */
	int (*get_stop)(void *ctx, struct gdb_stop *out);

	/* Register REGNUM (see regs.h) of CPU into BUF, LEN = its size in
	 * bytes, little-endian as GDB expects.  -ENOENT: unavailable.
	 * Cost: cheap, from the engine's cached vCPU state; 'g' calls it once
	 * per register. */
	int (*read_reg)(void *ctx, unsigned cpu, int regnum, void *buf,
			size_t len);
	/* Optional.  -EROFS while replaying. */
	int (*write_reg)(void *ctx, unsigned cpu, int regnum, const void *buf,
			 size_t len);

	/* Read guest virtual memory through CPU's page tables.  Returns the
	 * number of bytes read (> 0; fewer than LEN when the range runs into
	 * an unmapped page), or -EFAULT when the first byte is unmapped.
	 * Must show guest memory as the guest sees it: breakpoints the
	 * engine implements by patching memory must not be visible.
	 * Cost: a page walk per page; LEN is at most about 8 KiB. */
	long (*read_mem)(void *ctx, unsigned cpu, uint64_t addr, void *buf,
			 size_t len);
	/* Optional.  All or nothing: 0, -EFAULT, or -EROFS while replaying. */
	int (*write_mem)(void *ctx, unsigned cpu, uint64_t addr,
			 const void *buf, size_t len);

	/* Insert/remove a breakpoint or watchpoint.  KIND is gdb's: 1 for an
	 * x86 software breakpoint, the length in bytes for watchpoints.
	 * Breakpoints apply to all vCPUs and to both directions; in a replay
	 * the engine owns them (it does not patch guest memory).  Inserting
	 * one that exists must succeed (gdb re-inserts after each stop).
	 * Cheap. */
	int (*insert_bp)(void *ctx, enum gdb_bp_type type, uint64_t addr,
			 uint64_t kind);
	int (*remove_bp)(void *ctx, enum gdb_bp_type type, uint64_t addr,
			 uint64_t kind);

	/* Run as REQ says and fill *STOP when stopped.  Blocks the session
	 * thread for as long as the guest runs: seconds to hours.  Returns 0,
	 * or -errno when it could not run at all (the stub then reports a
	 * SIGTRAP stop at the current position after logging the error, since
	 * gdb expects a stop reply).  -EOPNOTSUPP for reverse execution when
	 * not replaying. */
	int (*resume)(void *ctx, const struct gdb_resume_req *req,
		      struct gdb_stop *stop);

	/* Wake a running `resume` so that it looks at req->interrupted (the
	 * stub has already set it).  Called from another thread, possibly
	 * just before `resume` started or just after it returned; a wake-up
	 * with nothing running must be harmless (e.g. set immediate_exit,
	 * pthread_kill the vCPU thread, write an eventfd).  Must not block
	 * and must not call back into the stub.  Optional: without it, an
	 * interrupt is noticed only when the engine next checks the flag. */
	void (*interrupt)(void *ctx);

	/* Optional.  "monitor CMD" (qRcmd): write NUL-terminated text for the
	 * user into OUT (at most OUT_SIZE bytes including the NUL; the stub
	 * hex-encodes it).  Unknown commands should return 0 with a helpful
	 * message.  Cost: whatever the command costs (goto may replay). */
	int (*monitor)(void *ctx, const char *cmd, char *out, size_t out_size);
};

#endif
