/* TEST ONLY: a fake implementation of struct gdb_target_ops, so the GDB
 * stub can be tested (by cmocka, by the fuzzer, and by the real gdb via
 * fake_target_server) without the time-travel engine.  It is not a model
 * of rrvm; nothing outside tests/ may link it.
 *
 * The "recording" is a straight line of FAKE_END one-byte instructions:
 * at position p, vCPU 0's rip is 0x1000 + p.  Executing position p writes
 * the byte p to 0x3000 + p % 8 (something for watchpoints to see).  Going
 * backwards past 0 stops with replaylog:begin, forwards past FAKE_END with
 * replaylog:end.  Memory is 64 KiB at guest virtual 0; anything above is
 * unmapped.  Writes are refused (-EROFS) unless allow_writes is set. */
#ifndef RRVM_TESTS_GDBSTUB_FAKE_TARGET_H
#define RRVM_TESTS_GDBSTUB_FAKE_TARGET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "gdbstub/regs.h"
#include "gdbstub/target.h"

#define FAKE_NCPU 2
#define FAKE_MEM_SIZE 0x10000
#define FAKE_CODE 0x1000      /* rip of vCPU 0 at position 0 */
#define FAKE_DATA 0x3000      /* the 8 bytes the fake instructions write */
#define FAKE_END 64           /* positions 0..FAKE_END */
#define FAKE_MAX_BPS 16
#define FAKE_REGS_SIZE 1024   /* >= gdb_regs_total_size() */

struct fake_bp {
	bool used;
	enum gdb_bp_type type;
	uint64_t addr, kind;
};

struct fake_target {
	uint8_t regs[FAKE_NCPU][FAKE_REGS_SIZE];
	uint8_t mem[FAKE_MEM_SIZE];
	uint64_t pos;
	bool allow_writes;      /* pretend we are live, not replaying */
	atomic_bool spin;       /* continue runs until interrupted (set from the test thread) */
	bool no_reverse;        /* reverse returns -EOPNOTSUPP */
	struct fake_bp bps[FAKE_MAX_BPS];
	struct gdb_stop last;
	atomic_int interrupts;  /* calls of the interrupt op */
	atomic_uint resumes;    /* resume calls, read by the test thread */
	struct gdb_resume_req last_req;
};

void fake_target_init(struct fake_target *t);
/* Fills OPS with the fake's ops and ctx = T. */
void fake_target_ops(struct fake_target *t, struct gdb_target_ops *ops);
/* Register REGNUM of CPU as an integer (for registers up to 8 bytes). */
uint64_t fake_reg(const struct fake_target *t, unsigned cpu, int regnum);
void fake_set_reg(struct fake_target *t, unsigned cpu, int regnum, uint64_t v);

#endif
