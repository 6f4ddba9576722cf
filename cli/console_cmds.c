/* The console's commands: one const table drives dispatch, `help` and Tab
 * completion.  Every handler prints its result on stdout, or one `rrvm:`
 * line on stderr and returns -1. */
#include "cli/console.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/tl_session.h"
#include "replay/checkpoint.h"

#define CON_MAX_ARGS 8
#define CON_X_DEFAULT 64
#define CON_X_MAX 4096
#define CON_DISAS_DEFAULT 10
#define CON_DISAS_MAX 64
#define CON_EVENTS_DEFAULT 10

static int con_usage(const char *name)
{
	const struct con_cmd *cmd = con_find(name);

	fprintf(stderr, "rrvm: usage: %s %s\n", cmd->name, cmd->args);
	return -1;
}

/* A count argument: 1..MAX. */
static int con_count(const char *s, uint64_t max, uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || *end || !*out || *out > max ? -1 : 0;
}

static int con_addr(struct console *c, const char *s, uint64_t *addr)
{
	int r = cli_parse_addr(&c->syms, s, addr);

	if (r == -ENOENT)
		fprintf(stderr, "rrvm: no symbol '%s' in %s\n", s,
			c->syms_path[0] ? c->syms_path : "the kernel (no symbol table)");
	else if (r < 0)
		fprintf(stderr, "rrvm: bad address '%s' (a number, SYMBOL or SYMBOL+OFFSET)\n", s);
	return r < 0 ? -1 : 0;
}

static uint64_t con_rip(struct console *c)
{
	return tl_rip(c->t);
}

/* The instruction at RIP, as `disas` shows it. */
static void con_show_pc(struct console *c)
{
	if (cli_disas(c->t, &c->syms, con_rip(c), 1, c->intel, stdout) < 0)
		printf("=> %#" PRIx64 ": (not readable)\n", con_rip(c));
}

static const struct con_point *con_point_at(struct console *c, bool watch, uint64_t addr)
{
	for (unsigned i = 0; i < c->npts; i++)
		if (c->pts[i].watch == watch && c->pts[i].addr == addr)
			return &c->pts[i];
	return NULL;
}

static void con_report_stop(struct console *c, const struct tl_stop *st)
{
	const struct con_point *p;
	char pos[48], where[300];

	con_pos_str(c, pos, sizeof(pos));
	cli_syms_format(&c->syms, st->addr, where, sizeof(where));
	switch (st->why) {
	case TL_STOP_BREAKPOINT:
		p = con_point_at(c, false, st->addr);
		printf("breakpoint %u, %s, position %s\n", p ? p->id : 0, where, pos);
		break;
	case TL_STOP_WATCH:
		p = con_point_at(c, true, st->addr);
		printf("watchpoint %u: %u bytes at %s written: old %#" PRIx64 ", new %#" PRIx64
		       ", position %s\n", p ? p->id : 0, st->size, where, st->old_val, st->new_val,
		       pos);
		break;
	case TL_STOP_START:
		printf("start of the trace, position %s\n", pos);
		break;
	case TL_STOP_END:
		printf("end of the trace, position %s\n", pos);
		break;
	case TL_STOP_INTERRUPTED:
		printf("interrupted, position %s\n", pos);
		break;
	default:
		printf("position %s\n", pos);
		break;
	}
	con_show_pc(c);
}

/* After an operation: the engine's reason for failing R, or where it stopped. */
static int con_moved(struct console *c, char **argv, int r, const struct tl_stop *st)
{
	if (r < 0) {
		con_engine_err(c, argv);
		return -1;
	}
	con_report_stop(c, st);
	return 0;
}

static int con_when(struct console *c, int argc, char **argv)
{
	struct tl_pos p;
	char pos[48];

	if (argc != 1)
		return con_usage(argv[0]);
	if (tl_where(c->t, &p) < 0) {
		fprintf(stderr, "rrvm: %s: %s\n", c->trace_path, tl_error(c->t));
		return -1;
	}
	tl_pos_format(p, pos, sizeof(pos));
	printf("position %s (sync point %" PRIu64 " of %" PRIu64 ")\n", pos, p.sync,
	       tl_end_sync(c->t));
	return 0;
}

/* POSITION (S or S:N), #EVENT, start or end. */
static int con_goto(struct console *c, int argc, char **argv)
{
	struct tl_pos p;
	struct tl_stop st = { .why = TL_STOP_STEP };
	uint64_t idx;
	char *end;
	int r;

	if (argc != 2)
		return con_usage(argv[0]);
	if (!strcmp(argv[1], "start")) {
		p = (struct tl_pos){ 0, 0 };
	} else if (!strcmp(argv[1], "end")) {
		p = (struct tl_pos){ tl_end_sync(c->t), 0 };
	} else if (argv[1][0] == '#') {
		errno = 0;
		idx = strtoull(argv[1] + 1, &end, 10);
		if (argv[1][1] < '0' || argv[1][1] > '9' || *end || errno)
			return con_usage(argv[0]);
		if (con_event_sync(c, idx, &p.sync) < 0)
			return -1;
		p.n = 0;
	} else if (tl_pos_parse(argv[1], &p) < 0) {
		return con_usage(argv[0]);
	}
	con_busy_begin(c);
	r = tl_goto(c->t, p);
	con_busy_end(c);
	return con_moved(c, argv, r, &st);
}

/* step [N], rstep [N], continue, rcontinue: a leading r goes backward. */
static int con_move(struct console *c, int argc, char **argv)
{
	bool reverse = argv[0][0] == 'r', step = strstr(argv[0], "step") != NULL;
	struct tl_stop st = { .why = TL_STOP_STEP };
	uint64_t n = 1;
	int r = 0;

	if (argc > (step ? 2 : 1) || (argc == 2 && con_count(argv[1], UINT32_MAX, &n) < 0))
		return con_usage(argv[0]);
	con_busy_begin(c);
	if (!step)
		r = tl_continue(c->t, reverse, &st);
	for (uint64_t i = 0; step && i < n && r == 0 && st.why == TL_STOP_STEP; i++) {
		r = tl_step(c->t, reverse, &st);
		if (r == 0 && i + 1 < n && con_interrupted())
			st.why = TL_STOP_INTERRUPTED; /* between two steps */
	}
	con_busy_end(c);
	return con_moved(c, argv, r, &st);
}

static void con_print_point(struct console *c, const struct con_point *p)
{
	char where[300];

	cli_syms_format(&c->syms, p->addr, where, sizeof(where));
	if (p->watch)
		printf("watchpoint %u: %" PRIu64 " bytes at %s (writes)\n", p->id, p->len, where);
	else
		printf("breakpoint %u at %s\n", p->id, where);
}

/* break ADDR, watch ADDR LEN: a new point, numbered for the user. */
static int con_set_point(struct console *c, int argc, char **argv)
{
	bool watch = !strcmp(argv[0], "watch");
	uint64_t addr, len = 1;
	int r;

	if (argc != (watch ? 3 : 2) || (watch && con_count(argv[2], UINT32_MAX, &len) < 0))
		return con_usage(argv[0]);
	if (con_addr(c, argv[1], &addr) < 0)
		return -1;
	if (con_point_at(c, watch, addr)) {
		fprintf(stderr, "rrvm: a %s is already set at %s\n",
			watch ? "watchpoint" : "breakpoint", argv[1]);
		return -1;
	}
	r = watch ? tl_watch_insert(c->t, addr, len, TL_WATCH_WRITE) : tl_break_insert(c->t, addr);
	if (r < 0) {
		fprintf(stderr, "rrvm: %s %s: %s\n", argv[0], argv[1], tl_error(c->t));
		return -1;
	}
	c->pts[c->npts] = (struct con_point){ ++c->next_id, watch, addr, len };
	con_print_point(c, &c->pts[c->npts++]);
	return 0;
}

static void con_remove_point(struct console *c, unsigned i)
{
	struct con_point *p = &c->pts[i];

	if (p->watch)
		tl_watch_remove(c->t, p->addr, p->len, TL_WATCH_WRITE);
	else
		tl_break_remove(c->t, p->addr);
	c->pts[i] = c->pts[--c->npts];
}

/* delete: all of them; delete ID: one. */
static int con_delete(struct console *c, int argc, char **argv)
{
	uint64_t id = 0;

	if (argc > 2 || (argc == 2 && con_count(argv[1], UINT32_MAX, &id) < 0))
		return con_usage(argv[0]);
	if (argc == 1) {
		while (c->npts)
			con_remove_point(c, c->npts - 1);
		return 0;
	}
	for (unsigned i = 0; i < c->npts; i++)
		if (c->pts[i].id == id) {
			con_remove_point(c, i);
			return 0;
		}
	fprintf(stderr, "rrvm: no breakpoint or watchpoint %" PRIu64 "\n", id);
	return -1;
}

static void con_seg(const char *name, const struct kvm_segment *s)
{
	printf("%-6s %#06x base %#" PRIx64 " limit %#x %s\n", name, s->selector, (uint64_t)s->base,
	       s->limit, s->l ? "64-bit" : s->db ? "32-bit" : "16-bit");
}

static int con_regs(struct console *c, int argc, char **argv)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char where[300];

	if (argc != 1)
		return con_usage(argv[0]);
	if (tl_get_regs(c->t, &r) < 0 || tl_get_sregs(c->t, &s) < 0) {
		fprintf(stderr, "rrvm: cannot read the vCPU registers\n");
		return -1;
	}
	printf("rax    0x%016llx  rbx    0x%016llx  rcx    0x%016llx\n", r.rax, r.rbx, r.rcx);
	printf("rdx    0x%016llx  rsi    0x%016llx  rdi    0x%016llx\n", r.rdx, r.rsi, r.rdi);
	printf("rbp    0x%016llx  rsp    0x%016llx  r8     0x%016llx\n", r.rbp, r.rsp, r.r8);
	printf("r9     0x%016llx  r10    0x%016llx  r11    0x%016llx\n", r.r9, r.r10, r.r11);
	printf("r12    0x%016llx  r13    0x%016llx  r14    0x%016llx\n", r.r12, r.r13, r.r14);
	printf("r15    0x%016llx  rflags 0x%016llx\n", r.r15, r.rflags);
	cli_syms_format(&c->syms, r.rip, where, sizeof(where));
	printf("rip    %s\n", where);
	con_seg("cs", &s.cs);
	con_seg("ss", &s.ss);
	con_seg("ds", &s.ds);
	con_seg("es", &s.es);
	con_seg("fs", &s.fs);
	con_seg("gs", &s.gs);
	printf("cr0    %#llx  cr2 %#llx  cr3 %#llx  cr4 %#llx  efer %#llx\n", s.cr0, s.cr2, s.cr3,
	       s.cr4, s.efer);
	return 0;
}

/* x ADDR [N]: N bytes (default 64) by guest virtual address, 16 a line. */
static int con_x(struct console *c, int argc, char **argv)
{
	uint8_t buf[CON_X_MAX];
	uint64_t addr, n = CON_X_DEFAULT;
	long got;

	if (argc < 2 || argc > 3 || (argc == 3 && con_count(argv[2], CON_X_MAX, &n) < 0))
		return con_usage(argv[0]);
	if (con_addr(c, argv[1], &addr) < 0)
		return -1;
	got = tl_read_virt(c->t, addr, buf, n);
	if (got <= 0) {
		fprintf(stderr, "rrvm: %#" PRIx64 " is not mapped at this position\n", addr);
		return -1;
	}
	for (long off = 0; off < got; off += 16) {
		printf("%#010" PRIx64 ":", addr + (uint64_t)off);
		for (long i = off; i < off + 16 && i < got; i++)
			printf(" %02x", buf[i]);
		putchar('\n');
	}
	if ((uint64_t)got < n)
		printf("(%" PRIu64 " bytes not mapped)\n", n - (uint64_t)got);
	return 0;
}

static int con_disas(struct console *c, int argc, char **argv)
{
	uint64_t addr = con_rip(c), n = CON_DISAS_DEFAULT;

	if (argc > 3 || (argc == 3 && con_count(argv[2], CON_DISAS_MAX, &n) < 0))
		return con_usage(argv[0]);
	if (argc >= 2 && con_addr(c, argv[1], &addr) < 0)
		return -1;
	if (cli_disas(c->t, &c->syms, addr, (unsigned)n, c->intel, stdout) < 0) {
		fprintf(stderr, "rrvm: cannot disassemble at %#" PRIx64 ": not mapped\n", addr);
		return -1;
	}
	return 0;
}

static int con_events(struct console *c, int argc, char **argv)
{
	uint64_t n = CON_EVENTS_DEFAULT;

	if (argc > 2 || (argc == 2 && con_count(argv[1], CON_EVENTS_MAX, &n) < 0))
		return con_usage(argv[0]);
	return con_events_print(c, (unsigned)n);
}

static int con_info(struct console *c, int argc, char **argv)
{
	const struct ckpt_stats *ck = ckpt_store_stats(tl_checkpoints(c->t));
	struct tl_caps caps;
	char pos[48];

	if (argc != 1)
		return con_usage(argv[0]);
	con_pos_str(c, pos, sizeof(pos));
	tl_caps(c->t, &caps);
	printf("trace:        %s (sync points 0..%" PRIu64 ")\n", c->trace_path, tl_end_sync(c->t));
	printf("symbols:      %s (%u functions)\n", c->syms_path[0] ? c->syms_path : "none",
	       c->syms.nfuncs);
	printf("position:     %s\n", pos);
	printf("checkpoints:  %u, %.1f MiB\n", ck->count, (double)ck->bytes / (1024.0 * 1024.0));
	printf("ring-3 steps: %s\n", caps.step_ring3 ? "yes" : "no (this host ignores them)");
	printf("disassembly:  %s syntax\n", c->intel ? "Intel" : "AT&T");
	for (unsigned i = 0; i < c->npts; i++)
		con_print_point(c, &c->pts[i]);
	return 0;
}

static int con_help(struct console *c, int argc, char **argv)
{
	const struct con_cmd *cmd;

	if (argc > 2)
		return con_usage(argv[0]);
	if (argc == 2) {
		if (!(cmd = con_find(argv[1]))) {
			fprintf(stderr, "rrvm: no command '%s' (see help)\n", argv[1]);
			return -1;
		}
		printf("%s %s\n  %s\n", cmd->name, cmd->args, cmd->help);
		return 0;
	}
	for (unsigned i = 0; i < con_ncmds; i++) {
		char head[64];

		snprintf(head, sizeof(head), "%s %s", con_cmds[i].name, con_cmds[i].args);
		printf("  %-28s %s\n", head, con_cmds[i].help);
	}
	printf("Positions are S:N (N instructions after sync point S); #I is trace event I.\n");
	return 0;
}

static int con_quit(struct console *c, int argc, char **argv)
{
	c->quit = true;
	return 0;
}

const struct con_cmd con_cmds[] = {
	{ "when", "", "the current position", con_when, false },
	{ "goto", "S[:N]|#EVENT|start|end",
	  "go to a position, or to just after trace event #EVENT (its sync point, S:0)", con_goto,
	  false },
	{ "step", "[N]", "execute N instructions (default 1)", con_move, false },
	{ "rstep", "[N]", "go back N instructions (default 1)", con_move, false },
	{ "continue", "", "run to the next breakpoint or watchpoint hit, or the end", con_move,
	  false },
	{ "rcontinue", "", "run backward to the previous hit, or the start", con_move, false },
	{ "break", "ADDR|SYMBOL", "execution breakpoint", con_set_point, true },
	{ "watch", "ADDR|SYMBOL LEN", "write watchpoint on LEN bytes", con_set_point, true },
	{ "delete", "[ID]", "delete breakpoint or watchpoint ID (default: all)", con_delete, false },
	{ "regs", "", "the vCPU's registers", con_regs, false },
	{ "x", "ADDR|SYMBOL [N]", "N bytes of memory (default 64) by virtual address", con_x, true },
	{ "disas", "[ADDR|SYMBOL] [N]", "disassemble N instructions (default 10) at ADDR or rip",
	  con_disas, true },
	{ "events", "[N]", "N trace events around the current position (default 10)", con_events,
	  false },
	{ "info", "", "the trace, symbols, position, checkpoints, breakpoints", con_info, false },
	{ "help", "[COMMAND]", "this list, or one command", con_help, false },
	{ "quit", "", "leave the console (also Ctrl-D)", con_quit, false },
};

const unsigned con_ncmds = sizeof(con_cmds) / sizeof(con_cmds[0]);

const struct con_cmd *con_find(const char *name)
{
	for (unsigned i = 0; i < con_ncmds; i++)
		if (!strcmp(con_cmds[i].name, name))
			return &con_cmds[i];
	return NULL;
}

int con_execute(struct console *c, char *line)
{
	char *argv[CON_MAX_ARGS + 1], *save = NULL, *tok;
	const struct con_cmd *cmd;
	int argc = 0;

	for (tok = strtok_r(line, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (argc == CON_MAX_ARGS) {
			fprintf(stderr, "rrvm: too many arguments\n");
			return -1;
		}
		argv[argc++] = tok;
	}
	argv[argc] = NULL;
	if (!argc || argv[0][0] == '#')
		return 0; /* blank lines and comments, for scripts */
	if (!(cmd = con_find(argv[0]))) {
		fprintf(stderr, "rrvm: unknown command '%s' (see help)\n", argv[0]);
		return -1;
	}
	return cmd->fn(c, argc, argv);
}
