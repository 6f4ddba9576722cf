/* The GDB stub's target, served by the time-travel engine: registers and
 * memory of the replayed guest at the current position, breakpoints and
 * write watchpoints, steps and continues in both directions, and the
 * `monitor` commands.  Writes go to the engine, which refuses them during
 * replay (the recording would no longer describe the machine). */
#include "cli/gdb_target.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_trace.h"
#include "gdbstub/regs.h"
#include "replay/checkpoint.h"

/* An engine call's result for the stub: what went wrong goes to stderr
 * too, since gdb itself only shows "Enn". */
static int gt_check(struct gdb_target *g, long r)
{
	if (r >= 0)
		return 0;
	fprintf(stderr, "rrvm: %s\n", tl_error(g->t)[0] ? tl_error(g->t) : strerror((int)-r));
	return (int)r;
}

/* Before each engine call whose tl_error gt_check may print. */
static struct timeline *gt_engine(struct gdb_target *g)
{
	tl_error_clear(g->t);
	return g->t;
}

static void gt_forget_regs(struct gdb_target *g)
{
	g->regs.have_cpu = g->regs.have_fpu = false;
}

static int gt_cpu_regs(struct gdb_target *g)
{
	if (!g->regs.have_cpu &&
	    tl_get_regs(g->t, &g->regs.r) == 0 && tl_get_sregs(g->t, &g->regs.s) == 0)
		g->regs.have_cpu = true;
	return g->regs.have_cpu ? 0 : -EIO;
}

static int gt_fpu_regs(struct gdb_target *g)
{
	if (!g->regs.have_fpu && tl_get_fpu(g->t, &g->regs.f) == 0)
		g->regs.have_fpu = true;
	return g->regs.have_fpu ? 0 : -EIO;
}

static unsigned gt_threads(void *ctx)
{
	(void)ctx;
	return 1;
}

static int gt_get_stop(void *ctx, struct gdb_stop *out)
{
	struct gdb_target *g = ctx;

	*out = g->last;
	return 0;
}

/* rax rbx rcx rdx rsi rdi rbp rsp r8-r15 rip eflags in gdb's numbering;
 * NULL for the registers kvm_regs does not hold. */
static __u64 *gt_gpr(struct kvm_regs *r, int regnum)
{
	__u64 *gpr[] = { &r->rax, &r->rbx, &r->rcx, &r->rdx, &r->rsi, &r->rdi,
			    &r->rbp, &r->rsp, &r->r8,  &r->r9,	&r->r10, &r->r11,
			    &r->r12, &r->r13, &r->r14, &r->r15, &r->rip };

	if (regnum >= GDB_REG_RAX && regnum <= GDB_REG_RIP)
		return gpr[regnum - GDB_REG_RAX];
	return regnum == GDB_REG_EFLAGS ? &r->rflags : NULL;
}

/* The full x87 tag word GDB wants (two bits a register: 0 valid, 1 zero,
 * 2 special, 3 empty), from FXSAVE's abridged one (a bit a register: not
 * empty) and the registers' contents.  FPR holds ST(i); physical register
 * P is ST((P - TOP) mod 8).  (SDM vol. 1, 8.1.7 and 10.5.1.1.) */
static uint16_t gt_ftag(const struct kvm_fpu *f)
{
	unsigned top = f->fsw >> 11 & 7;
	uint16_t tag = 0;

	for (unsigned p = 0; p < 8; p++) {
		const uint8_t *st = f->fpr[(p - top) & 7];
		uint64_t mant;
		unsigned exp = (st[8] | st[9] << 8) & 0x7fff, t;

		memcpy(&mant, st, sizeof(mant));
		if (!(f->ftwx >> p & 1))
			t = 3;
		else if (exp == 0x7fff || (exp == 0 && mant) || (exp && !(mant >> 63)))
			t = 2;
		else
			t = exp == 0 ? 1 : 0;
		tag |= (uint16_t)(t << (2 * p));
	}
	return tag;
}

/* x87 and SSE registers (vcpu_get_fpu).  In 64-bit mode FXSAVE keeps
 * the last instruction and operand pointers as 64-bit offsets: GDB's
 * fiseg/foseg get their high halves, as its own FXSAVE reader does. */
static int gt_read_fpreg(struct gdb_target *g, int regnum, void *buf, size_t len)
{
	const struct kvm_fpu *f = &g->regs.f;
	uint64_t v;

	if (gt_fpu_regs(g) < 0)
		return -EIO;
	memset(buf, 0, len);
	if (regnum >= GDB_REG_ST0 && regnum < GDB_REG_FCTRL) {
		memcpy(buf, f->fpr[regnum - GDB_REG_ST0], len < 10 ? len : 10);
		return 0;
	}
	if (regnum >= GDB_REG_XMM0 && regnum < GDB_REG_MXCSR) {
		memcpy(buf, f->xmm[regnum - GDB_REG_XMM0], len < 16 ? len : 16);
		return 0;
	}
	v = (const uint64_t[]){ f->fcw, f->fsw, gt_ftag(f), f->last_ip >> 32, (uint32_t)f->last_ip,
				f->last_dp >> 32, (uint32_t)f->last_dp, f->last_opcode,
				f->mxcsr }[regnum == GDB_REG_MXCSR ? 8 : regnum - GDB_REG_FCTRL];
	memcpy(buf, &v, len < sizeof(v) ? len : sizeof(v));
	return 0;
}

static int gt_read_reg(void *ctx, unsigned cpu, int regnum, void *buf, size_t len)
{
	struct gdb_target *g = ctx;
	struct kvm_regs *r = &g->regs.r;
	const struct kvm_sregs *s = &g->regs.s;
	uint64_t v;
	__u64 *gpr;

	if (regnum >= GDB_REG_ST0 && regnum <= GDB_REG_MXCSR) /* x87, then SSE */
		return gt_read_fpreg(g, regnum, buf, len);
	if (gt_cpu_regs(g) < 0)
		return -EIO;
	if ((gpr = gt_gpr(r, regnum)))
		v = *gpr;
	else if (regnum >= GDB_REG_CS && regnum <= GDB_REG_GS)
		v = (const struct kvm_segment *const[]){ &s->cs, &s->ss, &s->ds, &s->es, &s->fs,
							  &s->gs }[regnum - GDB_REG_CS]->selector;
	else if (regnum == GDB_REG_FS_BASE || regnum == GDB_REG_GS_BASE)
		v = regnum == GDB_REG_FS_BASE ? s->fs.base : s->gs.base;
	else if (regnum >= GDB_REG_CR0 && regnum <= GDB_REG_EFER)
		v = (const uint64_t[]){ s->cr0, s->cr2, s->cr3, s->cr4, s->cr8,
					s->efer }[regnum - GDB_REG_CR0];
	else
		return -ENOENT;
	memset(buf, 0, len);
	memcpy(buf, &v, len < sizeof(v) ? len : sizeof(v));
	return 0;
}

/* The engine decides (it refuses while replaying, with its reason).  Only
 * the general registers are writable at all. */
static int gt_write_reg(void *ctx, unsigned cpu, int regnum, const void *buf, size_t len)
{
	struct gdb_target *g = ctx;
	struct kvm_regs r;
	uint64_t v = 0;
	__u64 *gpr;
	int rc;

	gt_forget_regs(g);
	if (tl_get_regs(g->t, &r) < 0)
		return -EIO;
	if ((gpr = gt_gpr(&r, regnum))) {
		memcpy(&v, buf, len < sizeof(v) ? len : sizeof(v));
		*gpr = v;
	}
	rc = gt_check(g, tl_write_regs(gt_engine(g), &r));
	return rc == 0 && !gpr ? -EINVAL : rc;
}

static long gt_read_mem(void *ctx, unsigned cpu, uint64_t addr, void *buf, size_t len)
{
	struct gdb_target *g = ctx;

	return tl_read_virt(g->t, addr, buf, len);
}

static int gt_write_mem(void *ctx, unsigned cpu, uint64_t addr, const void *buf, size_t len)
{
	struct gdb_target *g = ctx;

	gt_forget_regs(g); /* live writes do not change registers; stay safe anyway */
	return gt_check(g, tl_write_virt(gt_engine(g), addr, buf, len));
}

static struct gdb_target_bp *gt_bp_find(struct gdb_target *g, uint64_t addr)
{
	for (unsigned i = 0; i < g->nbp; i++)
		if (g->bp[i].addr == addr)
			return &g->bp[i];
	return NULL;
}

/* Z2/Z3/Z4 in the engine's terms. */
static enum tl_watch_kind gt_watch_kind(enum gdb_bp_type type)
{
	return type == GDB_BP_READ ? TL_WATCH_READ
	       : type == GDB_BP_ACCESS ? TL_WATCH_ACCESS : TL_WATCH_WRITE;
}

static int gt_insert(void *ctx, enum gdb_bp_type type, uint64_t addr, uint64_t kind)
{
	struct gdb_target *g = ctx;
	struct gdb_target_bp *b = gt_bp_find(g, addr);
	enum tl_watch_kind wk = gt_watch_kind(type);
	int r;

	if (type == GDB_BP_SW || type == GDB_BP_HW) {
		if (!b) {
			if ((r = gt_check(g, tl_break_insert(gt_engine(g), addr))) < 0)
				return r;
			b = &g->bp[g->nbp++];
			*b = (struct gdb_target_bp){ .addr = addr };
		}
		b->kinds |= 1u << type;
		return 0;
	}
	/* Read and access watchpoints are refused where data breakpoints
	 * never fire (kvm_pvm): -EOPNOTSUPP, and the reason on stderr. */
	return gt_check(g, tl_watch_insert(gt_engine(g), addr, kind, wk));
}

static int gt_remove(void *ctx, enum gdb_bp_type type, uint64_t addr, uint64_t kind)
{
	struct gdb_target *g = ctx;
	struct gdb_target_bp *b = gt_bp_find(g, addr);

	/* gdb removes everything at each stop; one that is gone is fine. */
	if (type != GDB_BP_SW && type != GDB_BP_HW) {
		tl_watch_remove(g->t, addr, kind, gt_watch_kind(type));
		return 0;
	}
	if (b && !(b->kinds &= ~(1u << type))) {
		tl_break_remove(g->t, addr);
		*b = g->bp[--g->nbp];
	}
	return 0;
}

/* Which of gdb's watchpoints a stop at data address ADDR belongs to. */
static enum gdb_stop_reason gt_watch_reason(const struct timeline *t, uint64_t addr)
{
	enum tl_watch_kind kind;

	if (tl_watch_find(t, addr, &kind) < 0)
		return GDB_STOP_WATCH;
	return kind == TL_WATCH_READ ? GDB_STOP_RWATCH
	       : kind == TL_WATCH_ACCESS ? GDB_STOP_AWATCH : GDB_STOP_WATCH;
}

static void gt_stop(struct gdb_target *g, const struct tl_stop *st, struct gdb_stop *stop)
{
	const struct gdb_target_bp *b;

	*stop = (struct gdb_stop){ .reason = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
	if (st->why == TL_STOP_BREAKPOINT) {
		/* A Z1-only address is a hardware breakpoint to gdb. */
		b = gt_bp_find(g, st->addr);
		stop->reason = b && b->kinds == 1u << GDB_BP_HW ? GDB_STOP_HWBREAK
								 : GDB_STOP_SWBREAK;
	} else if (st->why == TL_STOP_WATCH) {
		stop->reason = gt_watch_reason(g->t, st->addr);
		stop->addr = st->addr;
	} else if (st->why == TL_STOP_START) {
		stop->reason = GDB_STOP_REPLAY_BEGIN;
	} else if (st->why == TL_STOP_END) {
		stop->reason = GDB_STOP_REPLAY_END;
	} else if (st->why == TL_STOP_INTERRUPTED) {
		stop->signal = GDB_SIGINT;
	}
	g->last = *stop;
}

static int gt_resume(void *ctx, const struct gdb_resume_req *req, struct gdb_stop *stop)
{
	struct gdb_target *g = ctx;
	struct timeline *t = gt_engine(g);
	struct tl_stop st = { .why = TL_STOP_INTERRUPTED, .pos = tl_here(t) };
	int r = 0;

	gt_forget_regs(g);
	/* A Ctrl-C that came after the last resume had ended is stale: forget
	 * it, then look at this resume's (the stub sets the flag first). */
	tl_interrupt_clear(t);
	/* A Ctrl-C that came before the engine started. */
	if (!req->interrupted || !atomic_load(req->interrupted))
		r = req->action == GDB_RESUME_STEP ? tl_step(t, req->reverse, &st)
						   : tl_continue(t, req->reverse, &st);
	/* The engine's "not here" (-ENOTSUP: say, no instruction count to
	 * step back from) is not the stub's "no reverse execution at all",
	 * whose empty reply leaves gdb waiting for a stop: it gets a stop where
	 * the machine stands, and the reason on stderr. */
	if ((r = gt_check(g, r)) < 0)
		return r == -EOPNOTSUPP ? -EIO : r;
	gt_stop(g, &st, stop);
	return 0;
}

static void gt_interrupt(void *ctx)
{
	struct gdb_target *g = ctx;

	tl_interrupt(g->t);
}

/* ---- monitor commands ------------------------------------------------------ */

/* One command's output: FILE writes into the qRcmd reply of ROOM bytes. */
struct gt_mon {
	struct gdb_target *g;
	const char *arg;
	FILE *f;
	size_t room;
};

static void gt_mon_when(struct gt_mon *m)
{
	struct timeline *t = gt_engine(m->g);
	struct tl_pos p;
	char pos[48];

	if (tl_where(t, &p) < 0) {
		fprintf(m->f, "position unknown: %s\n", tl_error(t));
		return;
	}
	tl_pos_format(p, pos, sizeof(pos));
	fprintf(m->f, "position %s (sync point %" PRIu64 " of %" PRIu64 ")\n", pos,
		(uint64_t)p.sync, (uint64_t)tl_end_sync(t));
}

static void gt_mon_goto(struct gt_mon *m)
{
	struct tl_pos p;

	if (tl_pos_parse(m->arg, &p) < 0)
		fprintf(m->f, "usage: monitor goto SYNC[:N]\n");
	else if (tl_goto(gt_engine(m->g), p) < 0)
		fprintf(m->f, "%s\n", tl_error(m->g->t));
	else
		gt_mon_when(m);
}

static void gt_mon_leave(struct gt_mon *m)
{
	struct timeline *t = gt_engine(m->g);
	struct tl_pos at;
	char pos[48];

	if (tl_go_live(t) < 0 || !tl_is_live(t, &at)) {
		fprintf(m->f, "%s\n", tl_error(t));
		return;
	}
	tl_pos_format(at, pos, sizeof(pos));
	fprintf(m->f, "left replay at %s: the machine runs live from here (host time, no "
		"trace) and takes register and memory writes; nothing is deterministic any "
		"more.  A reverse step or continue, or monitor goto, returns to the "
		"recording.\n", pos);
}

static double gt_mib(uint64_t bytes)
{
	return (double)bytes / (1024.0 * 1024.0);
}

/* Room kept for the list's last line: the list ends early, with a count,
 * rather than be cut off by fmemopen. */
#define GT_MON_LIST_SLACK 96

static void gt_mon_checkpoint(struct gt_mon *m)
{
	const struct timeline *t = m->g->t;
	const struct ckpt_store *ck = tl_checkpoints(t);
	sync_seq here = tl_here(t).sync;
	const struct ckpt_stats *s = ckpt_store_stats(ck);
	unsigned n = ckpt_count(ck);
	sync_seq near = 0;
	bool cut = false;

	fprintf(m->f, "%u checkpoints, %.1f MiB (peak %.1f MiB, budget %.1f MiB); "
		"%" PRIu64 " taken, %" PRIu64 " restored, %" PRIu64 " evicted\n",
		n, gt_mib(s->bytes), gt_mib(s->peak_bytes), gt_mib(ckpt_budget(ck)),
		s->takes, s->restores, s->evictions);
	fprintf(m->f, "at sync points:");
	for (unsigned i = 0; i < n; i++) {
		sync_seq at = ckpt_sync_at(ck, i);

		if (at <= here)
			near = at;
		if (!cut && (size_t)ftell(m->f) + GT_MON_LIST_SLACK > m->room) {
			fprintf(m->f, " ... (%u more)", n - i);
			cut = true;
		}
		if (!cut)
			fprintf(m->f, " %" PRIu64, (uint64_t)at);
	}
	fprintf(m->f, "\nnearest at or before the current sync point %" PRIu64 ": %" PRIu64 "\n",
		(uint64_t)here, (uint64_t)near);
}

static void gt_mon_info_trace(struct gt_mon *m)
{
	cli_info_print(m->f, m->f, m->g->trace_path);
}

static void gt_mon_help(struct gt_mon *m);

struct gt_monitor_cmd {
	const char *name; /* with a trailing space when it takes an argument */
	void (*fn)(struct gt_mon *m);
	const char *help;
};

static const struct gt_monitor_cmd gt_monitor_cmds[] = {
	{ "when", gt_mon_when, "the current position S:N and its sync point" },
	{ "goto ", gt_mon_goto, "SYNC[:N]: go there (then: maint flush register-cache)" },
	{ "checkpoint", gt_mon_checkpoint, "the checkpoints held and what they cost" },
	{ "info trace", gt_mon_info_trace, "what `rrvm info TRACE` prints" },
	{ "leave-replay", gt_mon_leave, "run live from here: writes allowed, no determinism" },
	{ "help", gt_mon_help, "this list" }, /* last: also for unknown commands */
};

#define GT_MONITOR_NCMDS (sizeof(gt_monitor_cmds) / sizeof(gt_monitor_cmds[0]))

static void gt_mon_help(struct gt_mon *m)
{
	fprintf(m->f, "rrvm monitor commands:\n");
	for (size_t i = 0; i < GT_MONITOR_NCMDS; i++)
		fprintf(m->f, "  %-13s %s\n", gt_monitor_cmds[i].name, gt_monitor_cmds[i].help);
}

static int gt_monitor(void *ctx, const char *cmd, char *out, size_t len)
{
	struct gt_mon m = { .g = ctx, .arg = "", .f = fmemopen(out, len, "w"), .room = len };
	const struct gt_monitor_cmd *c = &gt_monitor_cmds[GT_MONITOR_NCMDS - 1];

	if (!m.f)
		return -errno;
	gt_forget_regs(m.g); /* goto, leave-replay: another machine state */
	for (size_t i = 0; i < GT_MONITOR_NCMDS; i++) {
		const char *name = gt_monitor_cmds[i].name;
		size_t n = strlen(name);

		if (name[n - 1] == ' ' ? !strncmp(cmd, name, n) : !strcmp(cmd, name)) {
			c = &gt_monitor_cmds[i];
			m.arg = cmd + n;
			break;
		}
	}
	if (c == &gt_monitor_cmds[GT_MONITOR_NCMDS - 1] && strcmp(cmd, "help"))
		fprintf(m.f, "unknown command '%s'\n", cmd);
	c->fn(&m);
	fclose(m.f);
	return 0;
}

void gdb_target_init(struct gdb_target *g, struct timeline *t, const char *trace_path)
{
	*g = (struct gdb_target){ .t = t, .trace_path = trace_path };
	g->last = (struct gdb_stop){ .reason = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
	g->ops = (struct gdb_target_ops){
		.ctx = g,
		.thread_count = gt_threads,
		.get_stop = gt_get_stop,
		.read_reg = gt_read_reg,
		.write_reg = gt_write_reg,
		.read_mem = gt_read_mem,
		.write_mem = gt_write_mem,
		.insert_bp = gt_insert,
		.remove_bp = gt_remove,
		.resume = gt_resume,
		.interrupt = gt_interrupt,
		.monitor = gt_monitor,
	};
}
