/* Booting the machine a trace recorded, and the options and argument of
 * the commands that do (`replay`, `gdb`, `console`). */
#ifndef RRVM_CLI_REPLAY_SESSION_H
#define RRVM_CLI_REPLAY_SESSION_H

#include <stdbool.h>
#include <stdio.h>

struct rr_session;
struct trace_header;

struct replay_opts {
	const char *trace, *kernel, *initrd, *kvm;
	bool quiet;
};

/* The options every such command takes, as getopt_long values past the
 * commands' own (0x100...). */
enum { CLI_TRACE_OPT_KERNEL = 0x180, CLI_TRACE_OPT_KVM, CLI_TRACE_OPT_INITRD };
#define CLI_TRACE_LONGOPTS                                            \
	{ "kernel", required_argument, NULL, CLI_TRACE_OPT_KERNEL }, \
	{ "kvm", required_argument, NULL, CLI_TRACE_OPT_KVM },       \
	{ "initrd", required_argument, NULL, CLI_TRACE_OPT_INITRD }

/* Takes OPT (one of those, or -q) into O: false when it is none of them. */
bool cli_trace_opt(int opt, const char *arg, struct replay_opts *o);
/* The one TRACE after the options into O->trace: 0, or CLI_ERR_USAGE after
 * one line naming CMD. */
int cli_trace_arg(const char *cmd, int argc, char **argv, struct replay_opts *o);

/* Boots the recorded machine into S (serial output to OUT) and checks it is
 * the one the header describes.  0, or a cli_status after one line on
 * stderr. */
int cli_replay_session(struct rr_session *s, const struct replay_opts *o,
		       const struct trace_header *h, FILE *out);

#endif
