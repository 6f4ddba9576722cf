/* TEST ONLY: see fake_target.h. */
#include "tests/gdbstub/fake_target.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static size_t reg_offset(int regnum)
{
	size_t off = 0;

	for (int i = 0; i < regnum; i++)
		off += gdb_reg_size(i);
	return off;
}

uint64_t fake_reg(const struct fake_target *t, unsigned cpu, int regnum)
{
	uint64_t v = 0;
	size_t n = gdb_reg_size(regnum);

	memcpy(&v, &t->regs[cpu][reg_offset(regnum)], n < 8 ? n : 8);
	return v;
}

void fake_set_reg(struct fake_target *t, unsigned cpu, int regnum, uint64_t v)
{
	size_t n = gdb_reg_size(regnum);

	memset(&t->regs[cpu][reg_offset(regnum)], 0, n);
	memcpy(&t->regs[cpu][reg_offset(regnum)], &v, n < 8 ? n : 8);
}

/* Derive rip and the data bytes from the position, so that going back
 * restores exactly what was there. */
static void fake_sync(struct fake_target *t)
{
	fake_set_reg(t, 0, GDB_REG_RIP, FAKE_CODE + t->pos);
	for (unsigned k = 0; k < 8; k++) {
		uint8_t v = 0;

		for (uint64_t p = 0; p < t->pos; p++)
			if (p % 8 == k)
				v = (uint8_t)p;
		t->mem[FAKE_DATA + k] = v;
	}
}

void fake_target_init(struct fake_target *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned c = 0; c < FAKE_NCPU; c++) {
		for (int r = GDB_REG_RAX; r <= GDB_REG_R15; r++)
			fake_set_reg(t, c, r, 0x100 * (c + 1) + (uint64_t)r);
		fake_set_reg(t, c, GDB_REG_RIP, 0x2000 + c);
		fake_set_reg(t, c, GDB_REG_RSP, 0x8000);
		fake_set_reg(t, c, GDB_REG_EFLAGS, 0x2);
		fake_set_reg(t, c, GDB_REG_CS, 0x8);
		fake_set_reg(t, c, GDB_REG_SS, 0x10);
		fake_set_reg(t, c, GDB_REG_FCTRL, 0x37f);
		fake_set_reg(t, c, GDB_REG_MXCSR, 0x1f80);
		fake_set_reg(t, c, GDB_REG_FS_BASE, 0x7000);
		fake_set_reg(t, c, GDB_REG_CR0, 0x80000011);
		fake_set_reg(t, c, GDB_REG_CR3, 0x4000);
		fake_set_reg(t, c, GDB_REG_CR4, 0x20);
		fake_set_reg(t, c, GDB_REG_EFER, 0x500);
	}
	/* nops at the code, a recognisable pattern elsewhere */
	for (size_t i = 0; i < FAKE_MEM_SIZE; i++)
		t->mem[i] = (uint8_t)i;
	memset(&t->mem[FAKE_CODE], 0x90, FAKE_END + 1);
	t->last = (struct gdb_stop){ .reason = GDB_STOP_SIGNAL,
				     .signal = GDB_SIGTRAP };
	fake_sync(t);
}

static unsigned f_thread_count(void *ctx)
{
	return FAKE_NCPU;
}

static int f_get_stop(void *ctx, struct gdb_stop *out)
{
	struct fake_target *t = ctx;

	*out = t->last;
	return 0;
}

static int f_read_reg(void *ctx, unsigned cpu, int regnum, void *buf, size_t len)
{
	struct fake_target *t = ctx;

	if (cpu >= FAKE_NCPU || len != gdb_reg_size(regnum))
		return -EINVAL;
	if (regnum == GDB_REG_ST0 + 7)
		return -ENOENT; /* exercises the "xx" path */
	memcpy(buf, &t->regs[cpu][reg_offset(regnum)], len);
	return 0;
}

static int f_write_reg(void *ctx, unsigned cpu, int regnum, const void *buf,
		       size_t len)
{
	struct fake_target *t = ctx;

	if (!t->allow_writes)
		return -EROFS;
	if (cpu >= FAKE_NCPU || len != gdb_reg_size(regnum))
		return -EINVAL;
	memcpy(&t->regs[cpu][reg_offset(regnum)], buf, len);
	return 0;
}

static long f_read_mem(void *ctx, unsigned cpu, uint64_t addr, void *buf,
		       size_t len)
{
	struct fake_target *t = ctx;

	if (addr >= FAKE_MEM_SIZE)
		return -EFAULT;
	if (len > FAKE_MEM_SIZE - addr)
		len = FAKE_MEM_SIZE - addr;
	memcpy(buf, &t->mem[addr], len);
	return (long)len;
}

static int f_write_mem(void *ctx, unsigned cpu, uint64_t addr, const void *buf,
		       size_t len)
{
	struct fake_target *t = ctx;

	if (!t->allow_writes)
		return -EROFS;
	if (addr >= FAKE_MEM_SIZE || len > FAKE_MEM_SIZE - addr)
		return -EFAULT;
	memcpy(&t->mem[addr], buf, len);
	return 0;
}

static int f_insert_bp(void *ctx, enum gdb_bp_type type, uint64_t addr,
		       uint64_t kind)
{
	struct fake_target *t = ctx;
	struct fake_bp *free_slot = NULL;

	for (int i = 0; i < FAKE_MAX_BPS; i++) {
		struct fake_bp *b = &t->bps[i];

		if (b->used && b->type == type && b->addr == addr && b->kind == kind)
			return 0;
		if (!b->used && !free_slot)
			free_slot = b;
	}
	if (!free_slot)
		return -ENOSPC;
	*free_slot = (struct fake_bp){ true, type, addr, kind };
	return 0;
}

static int f_remove_bp(void *ctx, enum gdb_bp_type type, uint64_t addr,
		       uint64_t kind)
{
	struct fake_target *t = ctx;

	for (int i = 0; i < FAKE_MAX_BPS; i++) {
		struct fake_bp *b = &t->bps[i];

		if (b->used && b->type == type && b->addr == addr && b->kind == kind) {
			b->used = false;
			return 0;
		}
	}
	return 0;
}

/* After moving across the instruction at position P (either way): did a
 * breakpoint or watchpoint fire? */
static bool fake_check(struct fake_target *t, uint64_t p, struct gdb_stop *st)
{
	uint64_t rip = FAKE_CODE + t->pos, data = FAKE_DATA + p % 8;

	for (int i = 0; i < FAKE_MAX_BPS; i++) {
		const struct fake_bp *b = &t->bps[i];
		bool hit_data = data >= b->addr && data < b->addr + b->kind;

		if (!b->used)
			continue;
		if ((b->type == GDB_BP_SW || b->type == GDB_BP_HW) && b->addr == rip) {
			st->reason = b->type == GDB_BP_SW ? GDB_STOP_SWBREAK
							  : GDB_STOP_HWBREAK;
			return true;
		}
		if ((b->type == GDB_BP_WRITE || b->type == GDB_BP_ACCESS) && hit_data) {
			st->reason = b->type == GDB_BP_WRITE ? GDB_STOP_WATCH
							     : GDB_STOP_AWATCH;
			st->addr = data;
			return true;
		}
	}
	return false;
}

/* One instruction in the requested direction; false at either end. */
static bool fake_move(struct fake_target *t, bool reverse, struct gdb_stop *st)
{
	uint64_t p;

	if (reverse ? t->pos == 0 : t->pos == FAKE_END) {
		st->reason = reverse ? GDB_STOP_REPLAY_BEGIN : GDB_STOP_REPLAY_END;
		return false;
	}
	p = reverse ? --t->pos : t->pos++;
	fake_sync(t);
	return !fake_check(t, p, st);
}

static void fake_pause(void)
{
	struct timespec ts = { 0, 1000000 }; /* 1 ms: a "slow guest" */

	nanosleep(&ts, NULL);
}

static int f_resume(void *ctx, const struct gdb_resume_req *req,
		    struct gdb_stop *st)
{
	struct fake_target *t = ctx;

	t->resumes++;
	t->last_req = *req;
	if (req->reverse && t->no_reverse)
		return -EOPNOTSUPP;
	*st = (struct gdb_stop){ .reason = GDB_STOP_SIGNAL,
				 .signal = GDB_SIGTRAP, .cpu = req->cpu };
	if (req->action == GDB_RESUME_STEP) {
		fake_move(t, req->reverse, st);
	} else if (atomic_load(&t->spin)) {
		while (!atomic_load(req->interrupted))
			fake_pause();
	} else {
		while (!atomic_load(req->interrupted) && fake_move(t, req->reverse, st)) {
		}
	}
	if (atomic_load(req->interrupted) && st->reason == GDB_STOP_SIGNAL &&
	    req->action == GDB_RESUME_CONTINUE)
		st->signal = GDB_SIGINT;
	t->last = *st;
	return 0;
}

static void f_interrupt(void *ctx)
{
	struct fake_target *t = ctx;

	atomic_fetch_add(&t->interrupts, 1);
}

static int f_monitor(void *ctx, const char *cmd, char *out, size_t out_size)
{
	struct fake_target *t = ctx;

	if (strcmp(cmd, "when") == 0)
		snprintf(out, out_size, "position %llu of %u\n",
			 (unsigned long long)t->pos, FAKE_END);
	else if (strcmp(cmd, "quiet") == 0)
		out[0] = 0;
	else if (strcmp(cmd, "fail") == 0)
		return -EIO;
	else
		snprintf(out, out_size, "unknown monitor command: %s\n", cmd);
	return 0;
}

void fake_target_ops(struct fake_target *t, struct gdb_target_ops *ops)
{
	*ops = (struct gdb_target_ops){
		.ctx = t,
		.thread_count = f_thread_count,
		.get_stop = f_get_stop,
		.read_reg = f_read_reg,
		.write_reg = f_write_reg,
		.read_mem = f_read_mem,
		.write_mem = f_write_mem,
		.insert_bp = f_insert_bp,
		.remove_bp = f_remove_bp,
		.resume = f_resume,
		.interrupt = f_interrupt,
		.monitor = f_monitor,
	};
}
