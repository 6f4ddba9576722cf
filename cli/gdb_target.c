/* The GDB stub's target, served by the time-travel engine: registers and
 * memory of the replayed guest at the current position, breakpoints and
 * write watchpoints, steps and continues in both directions.  Writes are
 * refused: the replay is read-only. */
#include "cli/gdb_target.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

#include "gdbstub/regs.h"
#include "vmm/paging.h"

static unsigned gt_threads(void *ctx)
{
	return 1;
}

static int gt_get_stop(void *ctx, struct gdb_stop *out)
{
	struct gdb_target *g = ctx;

	*out = g->last;
	return 0;
}

static uint64_t gt_seg(const struct kvm_segment *s)
{
	return s->selector;
}

static int gt_read_reg(void *ctx, unsigned cpu, int regnum, void *buf, size_t len)
{
	struct gdb_target *g = ctx;
	struct machine *m = &g->t->s->m;
	const uint64_t *gpr;
	struct kvm_regs r;
	struct kvm_sregs s;
	uint64_t v;

	if (vcpu_get_regs(&m->vcpu, &r) < 0 || vcpu_get_sregs(&m->vcpu, &s) < 0)
		return -EIO;
	/* rax rbx rcx rdx rsi rdi rbp rsp r8-r15 rip in gdb's order. */
	gpr = (const uint64_t[]){ r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp,
				  r.r8,	 r.r9,	r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip };
	if (regnum >= GDB_REG_RAX && regnum <= GDB_REG_RIP)
		v = gpr[regnum - GDB_REG_RAX];
	else if (regnum == GDB_REG_EFLAGS)
		v = r.rflags;
	else if (regnum >= GDB_REG_CS && regnum <= GDB_REG_GS)
		v = gt_seg((const struct kvm_segment *[]){ &s.cs, &s.ss, &s.ds, &s.es, &s.fs,
							   &s.gs }[regnum - GDB_REG_CS]);
	else if (regnum == GDB_REG_FS_BASE || regnum == GDB_REG_GS_BASE)
		v = regnum == GDB_REG_FS_BASE ? s.fs.base : s.gs.base;
	else if (regnum >= GDB_REG_CR0 && regnum <= GDB_REG_EFER)
		v = (const uint64_t[]){ s.cr0, s.cr2, s.cr3, s.cr4, s.cr8,
					s.efer }[regnum - GDB_REG_CR0];
	else
		return -ENOENT; /* x87 and SSE: not served yet */
	memset(buf, 0, len);
	memcpy(buf, &v, len < sizeof(v) ? len : sizeof(v));
	return 0;
}

static long gt_read_mem(void *ctx, unsigned cpu, uint64_t addr, void *buf, size_t len)
{
	struct gdb_target *g = ctx;

	return tl_read_virt(g->t, addr, buf, len);
}

static int gt_insert(void *ctx, enum gdb_bp_type type, uint64_t addr, uint64_t kind)
{
	struct gdb_target *g = ctx;

	if (type == GDB_BP_SW || type == GDB_BP_HW)
		return tl_break_insert(g->t, addr);
	if (type == GDB_BP_WRITE) {
		for (unsigned i = 0; i < g->t->nwatch; i++)
			if (g->t->watch[i].lin == addr && g->t->watch[i].len == kind)
				return 0;
		return tl_watch_insert(g->t, addr, kind, TL_WATCH_WRITE);
	}
	/* Data breakpoints never fire on kvm_pvm (rrvm doctor): refused. */
	return -EOPNOTSUPP;
}

static int gt_remove(void *ctx, enum gdb_bp_type type, uint64_t addr, uint64_t kind)
{
	struct gdb_target *g = ctx;

	/* gdb removes everything at each stop; one that is gone is fine. */
	if (type == GDB_BP_SW || type == GDB_BP_HW)
		tl_break_remove(g->t, addr);
	else if (type == GDB_BP_WRITE)
		tl_watch_remove(g->t, addr, kind, TL_WATCH_WRITE);
	else
		return -EOPNOTSUPP;
	return 0;
}

static int gt_resume(void *ctx, const struct gdb_resume_req *req, struct gdb_stop *stop)
{
	struct gdb_target *g = ctx;
	struct tl_stop st;
	int r = req->action == GDB_RESUME_STEP ? tl_step(g->t, req->reverse, &st)
					       : tl_continue(g->t, req->reverse, &st);

	if (r < 0) {
		fprintf(stderr, "rrvm: %s\n", g->t->err);
		return r;
	}
	*stop = (struct gdb_stop){ .reason = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
	if (st.why == TL_STOP_BREAKPOINT)
		stop->reason = GDB_STOP_SWBREAK;
	else if (st.why == TL_STOP_WATCH)
		*stop = (struct gdb_stop){ .reason = GDB_STOP_WATCH, .addr = st.addr };
	else if (st.why == TL_STOP_START)
		stop->reason = GDB_STOP_REPLAY_BEGIN;
	else if (st.why == TL_STOP_END)
		stop->reason = GDB_STOP_REPLAY_END;
	else if (st.why == TL_STOP_INTERRUPTED)
		stop->signal = GDB_SIGINT;
	g->last = *stop;
	return 0;
}

static void gt_interrupt(void *ctx)
{
	struct gdb_target *g = ctx;

	tl_interrupt(g->t);
}

static int gt_monitor(void *ctx, const char *cmd, char *out, size_t len)
{
	struct gdb_target *g = ctx;
	struct tl_pos p;
	char pos[48];

	if (!strncmp(cmd, "goto ", 5)) {
		if (tl_pos_parse(cmd + 5, &p) < 0)
			return snprintf(out, len, "usage: monitor goto SYNC[:N]\n"), 0;
		if (tl_goto(g->t, p) < 0)
			return snprintf(out, len, "%s\n", g->t->err), 0;
	} else if (strcmp(cmd, "when")) {
		snprintf(out, len, "rrvm monitor commands: when, goto SYNC[:N]\n");
		return 0;
	}
	tl_pos_format(g->t->pos, pos, sizeof(pos));
	snprintf(out, len, "position %s (sync point %llu of %llu)\n", pos,
		 (unsigned long long)g->t->pos.sync, (unsigned long long)g->t->end_sync);
	return 0;
}

void gdb_target_init(struct gdb_target *g, struct timeline *t)
{
	g->t = t;
	g->last = (struct gdb_stop){ .reason = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
	g->ops = (struct gdb_target_ops){
		.ctx = g,
		.thread_count = gt_threads,
		.get_stop = gt_get_stop,
		.read_reg = gt_read_reg,
		.read_mem = gt_read_mem,
		.insert_bp = gt_insert,
		.remove_bp = gt_remove,
		.resume = gt_resume,
		.interrupt = gt_interrupt,
		.monitor = gt_monitor,
	};
}
