/* rrvm console: the loop.  Interactive (stdin a terminal, no --script):
 * readline through its callback interface, so that Ctrl-C at the prompt
 * drops the line and Ctrl-C during an operation interrupts the engine
 * (tl_interrupt, async-signal-safe) and comes back to the prompt; history
 * in $RRVM_HISTORY or ~/.rrvm_history; Tab completes commands, and symbols
 * after the commands that take an address.  Otherwise the commands come
 * from the script or pipe, with no prompt. */
#include "cli/console.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cli/cli.h"
#include "cli/tl_session.h"
#include "trace-format/trace.h"

#define CON_PROMPT "(rrvm) "
#define CON_HISTORY_MAX 1000

static const char con_help_text[] =
	"usage: rrvm console [options] TRACE\n"
	"\n"
	"Looks around a recording without gdb: goto, step and continue both ways,\n"
	"breakpoints, write watchpoints, registers, memory, disassembly and the\n"
	"trace's events.  Reads commands from the terminal (readline, history in\n"
	"$RRVM_HISTORY or ~/.rrvm_history, Tab completion, Ctrl-C interrupts a long\n"
	"operation), or from --script FILE or a pipe, printing no prompt.  `help`\n"
	"lists the commands.\n"
	"\n"
	"options:\n"
	"  -x, --script FILE     read commands from FILE\n"
	"      --syntax att|intel  disassembly syntax (default att)\n"
	"      --symbols ELF     symbols from ELF (default: the recorded kernel)\n"
	"      --serial-out FILE the guest's serial output (default: discarded)\n"
	"  -q, --quiet           no progress bar\n"
	"      --kernel PATH     the kernel file, if it moved since recording\n"
	"      --kvm PATH        use PATH as the KVM device (default /dev/kvm)\n"
	CLI_TIMELINE_HELP
	"  -h, --help            show this help\n"
	"\n"
	"exit status: 0, or 28 when a command of a script failed; 18 when Ctrl-C\n"
	"ended a script; 20 unreadable trace; 26 another kernel, RAM size or CPU.\n";

struct con_opts {
	struct replay_opts ro;
	const char *script, *symbols, *serial_out;
	bool intel;
};

static volatile sig_atomic_t con_sigint;
static struct timeline *volatile con_running;

static void con_on_sigint(int sig)
{
	struct timeline *t = con_running;

	(void)sig;
	con_sigint = 1;
	if (t)
		tl_interrupt(t);
}

void con_busy_begin(struct console *c)
{
	con_sigint = 0;
	con_running = c->t;
}

bool con_interrupted(void)
{
	return con_sigint;
}

void con_busy_end(struct console *c)
{
	con_running = NULL;
	cli_progress_done(&c->prog);
	if (con_sigint && c->interactive)
		fputc('\n', stderr); /* after the ^C the terminal echoed */
	/* A Ctrl-C that came after the engine's last run must not stop the
	 * next operation before it starts. */
	tl_interrupt_clear(c->t);
	fflush(stdout);
}

void con_pos_str(struct console *c, char *buf, size_t len)
{
	struct tl_pos p;

	if (tl_where(c->t, &p) == 0)
		tl_pos_format(p, buf, len);
	else
		snprintf(buf, len, "%llu:?", (unsigned long long)tl_here(c->t).sync);
}

void con_engine_err(struct console *c, char **argv)
{
	char pos[48], why[256];

	snprintf(why, sizeof(why), "%s", tl_error(c->t)); /* tl_where may set it */
	con_pos_str(c, pos, sizeof(pos));
	fprintf(stderr, "rrvm: %s%s%s: %s (position %s)\n", argv[0], argv[1] ? " " : "",
		argv[1] ? argv[1] : "", why, pos);
}

static int con_parse(int argc, char **argv, struct con_opts *o)
{
	enum { OPT_SYNTAX = 0x100, OPT_SYMBOLS, OPT_SERIAL };
	static const struct option longopts[] = {
		{ "script", required_argument, NULL, 'x' },
		{ "syntax", required_argument, NULL, OPT_SYNTAX },
		{ "symbols", required_argument, NULL, OPT_SYMBOLS },
		{ "serial-out", required_argument, NULL, OPT_SERIAL },
		{ "quiet", no_argument, NULL, 'q' },
		CLI_TIMELINE_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "x:qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'x': o->script = optarg; break;
		case OPT_SYNTAX:
			if (strcmp(optarg, "att") && strcmp(optarg, "intel")) {
				fprintf(stderr, "rrvm: console: bad syntax '%s' (att or intel)\n",
					optarg);
				return CLI_ERR_USAGE;
			}
			o->intel = !strcmp(optarg, "intel");
			break;
		case OPT_SYMBOLS: o->symbols = optarg; break;
		case OPT_SERIAL: o->serial_out = optarg; break;
		case 'h':
			fputs(con_help_text, stdout);
			return -1;
		default:
			switch (cli_trace_opt(opt, optarg, &o->ro)) {
			case 1: break;
			case 0: cli_bad_option("console", argv); /* fall through */
			default: return CLI_ERR_USAGE;
			}
			break;
		}
	}
	return cli_trace_arg("console", argc, argv, &o->ro);
}

/* ---- completion ---- */

static struct console *con_cur;

/* The I-th completion candidate of its kind, or NULL past the last. */
static const char *con_cmd_name(unsigned i)
{
	return i < con_ncmds ? con_cmds[i].name : NULL;
}

static const char *con_sym_name(unsigned i)
{
	return i < con_cur->syms.nfuncs ? con_cur->syms.funcs[i].name : NULL;
}

static const char *(*con_gen_names)(unsigned i);

/* readline's generator over con_gen_names: the next one TEXT begins. */
static char *con_gen(const char *text, int state)
{
	static unsigned i;
	size_t n = strlen(text);
	const char *name;

	if (!state)
		i = 0;
	while ((name = con_gen_names(i++)))
		if (!strncmp(name, text, n))
			return strdup(name);
	return NULL;
}

static char **con_matches(const char *text, const char *(*names)(unsigned i))
{
	con_gen_names = names;
	return rl_completion_matches(text, con_gen);
}

static char **con_complete(const char *text, int start, int end)
{
	char word[64];
	size_t k = 0;
	const char *p = rl_line_buffer;
	const struct con_cmd *cmd;

	rl_attempted_completion_over = 1; /* never file names */
	while (*p == ' ')
		p++;
	if (p - rl_line_buffer >= start)
		return con_matches(text, con_cmd_name);
	while (p[k] && p[k] != ' ' && k < sizeof(word) - 1) {
		word[k] = p[k];
		k++;
	}
	word[k] = '\0';
	cmd = con_find(word);
	if (cmd && cmd->complete_syms)
		return con_matches(text, con_sym_name);
	return NULL;
}

/* ---- the loops ---- */

static void con_history_path(char *buf, size_t len)
{
	const char *env = getenv("RRVM_HISTORY"), *home = getenv("HOME");

	if (env && *env)
		snprintf(buf, len, "%s", env);
	else
		snprintf(buf, len, "%s/.rrvm_history", home && *home ? home : ".");
}

static char *con_line;
static bool con_have_line;

static void con_on_line(char *line)
{
	con_line = line;
	con_have_line = true;
	rl_callback_handler_remove();
}

/* Waits for a line: 0 with con_line set (NULL at Ctrl-D), -1 on error. */
static int con_read_line(void)
{
	fd_set fds;

	con_have_line = false;
	rl_callback_handler_install(CON_PROMPT, con_on_line);
	while (!con_have_line) {
		FD_ZERO(&fds);
		FD_SET(fileno(rl_instream), &fds);
		if (select(fileno(rl_instream) + 1, &fds, NULL, NULL, NULL) < 0) {
			if (errno != EINTR) {
				rl_callback_handler_remove();
				return -1;
			}
			if (con_sigint) { /* Ctrl-C at the prompt: drop the line */
				con_sigint = 0;
				/* ^C before the handler goes: leaving readline's
				 * mode returns the cursor to column 0. */
				fputs("^C", rl_outstream);
				fflush(rl_outstream);
				rl_replace_line("", 0);
				rl_callback_handler_remove();
				fputs("\n", rl_outstream);
				rl_callback_handler_install(CON_PROMPT, con_on_line);
			}
			continue;
		}
		rl_callback_read_char();
	}
	return 0;
}

static int con_interactive(struct console *c)
{
	char hist[1024];

	con_history_path(hist, sizeof(hist));
	using_history();
	stifle_history(CON_HISTORY_MAX);
	read_history(hist); /* none yet is fine */
	rl_readline_name = "rrvm";
	rl_catch_signals = 0;
	rl_attempted_completion_function = con_complete;
	while (!c->quit) {
		if (con_read_line() < 0 || !con_line) {
			putchar('\n');
			break;
		}
		if (con_line[strspn(con_line, " \t")])
			add_history(con_line);
		con_execute(c, con_line);
		free(con_line);
		fflush(stdout);
	}
	if (write_history(hist) != 0)
		fprintf(stderr, "rrvm: cannot write the history file %s\n", hist);
	return CLI_OK;
}

static int con_script(struct console *c, FILE *in)
{
	char *line = NULL;
	size_t cap = 0;
	int status = CLI_OK;

	while (!c->quit && !con_sigint && getline(&line, &cap, in) >= 0) {
		if (con_execute(c, line) < 0)
			status = CLI_ERR_COMMAND;
		fflush(stdout);
	}
	free(line);
	/* Ctrl-C ends a script, whether it came during a command or a read. */
	return con_sigint ? CLI_ERR_INTERRUPTED : status;
}

static void con_load_symbols(struct console *c, const struct con_opts *o)
{
	const struct trace_header *h = trace_reader_header(c->ts->rd);
	const char *path = o->symbols ? o->symbols : o->ro.kernel ? o->ro.kernel
					  : h->nfiles			? h->files[0].path
									: NULL;
	char why[600];

	if (!path)
		return;
	if (cli_syms_load(&c->syms, path, why, sizeof(why)) < 0) {
		if (o->symbols) /* asked for: say why not */
			fprintf(stderr, "rrvm: no symbols: %s\n", why);
		return;
	}
	if (c->syms.nfuncs)
		snprintf(c->syms_path, sizeof(c->syms_path), "%s", path);
}

static int con_run(struct console *c, const struct con_opts *o)
{
	struct sigaction sa = { .sa_handler = con_on_sigint };
	FILE *in = stdin;
	int status;

	if (o->script && strcmp(o->script, "-") && !(in = fopen(o->script, "re"))) {
		fprintf(stderr, "rrvm: %s: %s\n", o->script, strerror(errno));
		return CLI_ERR_IO;
	}
	/* No SA_RESTART: select() and KVM_RUN must return at once. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	c->interactive = !o->script && isatty(STDIN_FILENO);
	con_cur = c;
	status = c->interactive ? con_interactive(c) : con_script(c, in);
	con_cur = NULL;
	signal(SIGINT, SIG_DFL);
	if (in != stdin)
		fclose(in);
	return status;
}

int cli_console_main(int argc, char **argv)
{
	struct con_opts o = { 0 };
	struct console *c;
	int status = con_parse(argc, argv, &o);

	if (status)
		return status < 0 ? CLI_OK : status;
	if (!(c = calloc(1, sizeof(*c))))
		return CLI_ERR_INTERNAL;
	status = cli_tl_open(&c->ts, &o.ro, o.serial_out);
	if (status == 0) {
		c->t = c->ts->t;
		c->trace_path = o.ro.trace;
		c->intel = o.intel;
		cli_progress_attach(&c->prog, c->t, o.ro.quiet);
		con_load_symbols(c, &o);
		status = con_run(c, &o);
		con_events_close(c);
		cli_syms_free(&c->syms);
		cli_tl_close(c->ts);
	}
	free(c);
	return status;
}
