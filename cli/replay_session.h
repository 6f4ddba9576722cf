/* Booting the machine a trace recorded, and the options and argument of
 * the commands that do (`replay`, `gdb`, `console`). */
#ifndef RRVM_CLI_REPLAY_SESSION_H
#define RRVM_CLI_REPLAY_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct replayer;
struct rr_session;
struct trace_header;

struct replay_opts {
	const char *trace, *kernel, *initrd, *kvm;
	bool quiet;
	uint64_t checkpoint_every; /* sync points; 0: by replay time (gdb, console) */
};

/* The options every such command takes, as getopt_long values past the
 * commands' own (0x100...). */
enum { CLI_TRACE_OPT_KERNEL = 0x180, CLI_TRACE_OPT_KVM, CLI_TRACE_OPT_CKPT, CLI_TRACE_OPT_INITRD };
#define CLI_TRACE_LONGOPTS                                            \
	{ "kernel", required_argument, NULL, CLI_TRACE_OPT_KERNEL }, \
	{ "kvm", required_argument, NULL, CLI_TRACE_OPT_KVM },       \
	{ "initrd", required_argument, NULL, CLI_TRACE_OPT_INITRD }
/* And for the commands that travel in time (gdb, console). */
#define CLI_TIMELINE_LONGOPTS \
	CLI_TRACE_LONGOPTS, { "checkpoint-every", required_argument, NULL, CLI_TRACE_OPT_CKPT }
#define CLI_TIMELINE_HELP                                                          \
	"      --checkpoint-every N  a checkpoint every N sync points (default: every\n" \
	"                        50 ms of replay), the same places in every session\n"

/* Takes OPT (one of those, or -q) into O: 1 when it was one, 0 when it is
 * none of them, -1 after one line about a bad value. */
int cli_trace_opt(int opt, const char *arg, struct replay_opts *o);
/* The one TRACE after the options into O->trace: 0, or CLI_ERR_USAGE after
 * one line naming CMD. */
int cli_trace_arg(const char *cmd, int argc, char **argv, struct replay_opts *o);

/* Boots the recorded machine into a session *S (serial output to OUT;
 * rr_session_close frees it) and checks it is the one the header
 * describes.  0, or a cli_status after one line on stderr (*S NULL). */
int cli_replay_session(struct rr_session **s, const struct replay_opts *o,
		       const struct trace_header *h, FILE *out);

/* For a truncated or damaged trace (P started on it), one line on stderr:
 * what is wrong, and up to which sync point it replays, or that nothing
 * does (then false). */
bool cli_replay_incomplete(const char *trace, const struct replayer *p);

#endif
