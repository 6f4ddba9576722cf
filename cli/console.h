/* rrvm console: a command line over the time-travel engine, for looking
 * around a recording without gdb.  console.c owns the loop (readline with
 * history and completion when interactive; a script or a pipe otherwise,
 * with no prompt) and Ctrl-C; console_cmds.c the one const command table
 * that drives dispatch, `help` and completion; console_events.c the trace
 * events around the current position. */
#ifndef RRVM_CLI_CONSOLE_H
#define RRVM_CLI_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/disas.h"
#include "cli/progress.h"
#include "replay/timeline.h"

struct tl_session;
struct trace_reader;

struct console;

/* Returns 0, or -1 after one `rrvm:` line on stderr. */
typedef int (*con_cmd_fn)(struct console *c, int argc, char **argv);

struct con_cmd {
	const char *name;
	const char *args;    /* for help: "ADDR|SYMBOL", "[N]", "" */
	const char *help;    /* one line */
	con_cmd_fn fn;
	bool complete_syms;  /* Tab completes symbols in its arguments */
};

extern const struct con_cmd con_cmds[];
extern const unsigned con_ncmds;

/* A breakpoint or watchpoint as the user numbers them. */
struct con_point {
	unsigned id;
	bool watch;
	uint64_t addr, len;
};

#define CON_MAX_POINTS (TL_MAX_BREAKPOINTS + TL_MAX_WATCH)

struct console {
	struct tl_session *ts;
	struct timeline *t;
	const char *trace_path;
	struct cli_syms syms;
	char syms_path[512];       /* "" when there are no symbols */
	bool intel;                /* Intel syntax, else AT&T */
	bool interactive;
	bool quit;
	struct cli_progress prog;
	struct con_point pts[CON_MAX_POINTS];
	unsigned npts, next_id;
	struct trace_reader *ev;   /* a second reader for `events`, opened lazily */
};

/* Runs one command line.  0, or -1 after one `rrvm:` line. */
int con_execute(struct console *c, char *line);
const struct con_cmd *con_find(const char *name);

/* Brackets an operation that Ctrl-C may interrupt. */
void con_busy_begin(struct console *c);
void con_busy_end(struct console *c);
/* Ctrl-C came since con_busy_begin: loops of operations stop. */
bool con_interrupted(void);

/* One `rrvm:` line: the command ARGV, the engine's reason, the position. */
void con_engine_err(struct console *c, char **argv);
/* "S:N", or "S:?" when only the sync point is known. */
void con_pos_str(struct console *c, char *buf, size_t len);

/* console_events.c: N (at most CON_EVENTS_MAX) trace events around the
 * current position, and the sync point of event IDX (numbered as `events`
 * and `rrvm dump` list them, from 0). */
#define CON_EVENTS_MAX 200
int con_events_print(struct console *c, unsigned n);
int con_event_sync(struct console *c, uint64_t idx, sync_seq *s);
void con_events_close(struct console *c);


#endif
