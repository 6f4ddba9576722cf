/* Subcommands of the rrvm command.  Each takes argv with argv[0] set to the
 * subcommand name, parses its own options (getopt_long, --help printing usage
 * to stdout and returning 0), and returns the process exit status.  Only cli/
 * prints usage or exits (STYLE.md 10). */
#ifndef RRVM_CLI_CLI_H
#define RRVM_CLI_CLI_H

#include <stdio.h>

/* Exit statuses shared by every subcommand.  rrvm's own statuses are even so
 * that they never collide with a guest's isa-debug-exit status, which is
 * (value << 1) | 1 and therefore odd, exactly as under QEMU. */
enum cli_status {
	CLI_OK = 0,
	CLI_ERR_USAGE = 2,        /* bad option or argument */
	CLI_ERR_KERNEL = 4,       /* kernel file missing, unreadable, not a kernel */
	CLI_ERR_NOFIT = 6,        /* kernel does not fit in guest RAM */
	CLI_ERR_KVM = 8,          /* /dev/kvm missing, unreadable, or KVM call failed */
	CLI_ERR_TRIPLE_FAULT = 10, /* guest shut down (triple fault) */
	CLI_ERR_EMULATION = 12,   /* KVM could not emulate a guest instruction */
	CLI_ERR_GUEST_HALT = 14,  /* guest halted with interrupts disabled */
	CLI_ERR_STRICT_IO = 16,   /* --strict-io: access to a port with no device */
	CLI_ERR_INTERRUPTED = 18, /* stopped by SIGINT or SIGTERM */
	CLI_ERR_TRACE = 20,       /* trace file missing, corrupt or truncated */
	CLI_ERR_IO = 22,          /* host file I/O error (output file, etc.) */
	CLI_ERR_DIVERGED = 24,    /* replay diverged from the trace */
	CLI_ERR_MISMATCH = 26,    /* trace recorded with another kernel, RAM size or CPU */
	CLI_ERR_COMMAND = 28,     /* console: a command of a script failed */
	CLI_ERR_NOT_CAUGHT = 30,  /* record --until-*: no try met the condition */
	CLI_ERR_BISECT = 32,      /* bisect: no first bad commit could be named */
	CLI_ERR_GUEST_RESET = 34, /* the guest reset the machine (i8042 reset line) */
	CLI_ERR_INTERNAL = 126,   /* a bug in rrvm */
};

/* After getopt_long (with opterr = 0) returned '?' or ':': one line naming
 * the bad option and pointing at --help. */
void cli_bad_option(const char *cmd, char **argv);

int cli_run_main(int argc, char **argv);
int cli_doctor_main(int argc, char **argv);
int cli_record_main(int argc, char **argv);
int cli_replay_main(int argc, char **argv);
int cli_gdb_main(int argc, char **argv);
int cli_info_main(int argc, char **argv);
int cli_dump_main(int argc, char **argv);
int cli_console_main(int argc, char **argv);
int cli_bisect_main(int argc, char **argv);

#endif
