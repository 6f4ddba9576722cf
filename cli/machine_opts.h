/* The options that describe a guest machine, shared by `run` and `record`:
 *   -m, --mem SIZE        guest RAM (default 64M; suffixes K, M, G)
 *   --strict-io           reads of ports with no device are fatal
 *   --no-fw-cfg           no QEMU fw_cfg ports
 *   --serial-out FILE     guest COM1 output (default stdout)
 *   --serial-in FILE      guest COM1 input (default stdin; "none" for none)
 *   --rtc-time SECONDS    wall clock at guest start (default: now)
 *   --apic on|off         a local APIC and IOAPIC (default off)
 *   --kvm PATH            the KVM device (default /dev/kvm)
 *   --initrd FILE         Linux's initial RAM disk; multiboot modules
 *   KERNEL [-- CMDLINE...]
 */
#ifndef RRVM_CLI_MACHINE_OPTS_H
#define RRVM_CLI_MACHINE_OPTS_H

#include <getopt.h>
#include <stdint.h>

#include "vmm/machine.h"

struct cli_machine_opts {
	struct machine_config cfg;
	const char *serial_out_path;
	const char *serial_in_path;
	char *cmdline; /* owned */
};

#define CLI_MACHINE_LONGOPTS                                          \
	{ "mem", required_argument, NULL, 'm' },                      \
	{ "strict-io", no_argument, NULL, CLI_OPT_STRICT_IO },        \
	{ "no-fw-cfg", no_argument, NULL, CLI_OPT_NO_FW_CFG },        \
	{ "serial-out", required_argument, NULL, CLI_OPT_SERIAL_OUT }, \
	{ "serial-in", required_argument, NULL, CLI_OPT_SERIAL_IN },   \
	{ "rtc-time", required_argument, NULL, CLI_OPT_RTC_TIME },      \
	{ "apic", required_argument, NULL, CLI_OPT_APIC },              \
	{ "kvm", required_argument, NULL, CLI_OPT_KVM },               \
	{ "initrd", required_argument, NULL, CLI_OPT_INITRD }

#define CLI_MACHINE_HELP                                                          \
	"  -m, --mem SIZE        guest RAM, e.g. 64M or 1G (default 64M)\n"          \
	"      --strict-io       make reads of ports with no device fatal\n"         \
	"      --no-fw-cfg       leave out QEMU's fw_cfg ports (0x510-0x511)\n"    \
	"      --serial-out FILE write guest serial output to FILE (default stdout)\n" \
	"      --serial-in FILE  read guest serial input from FILE (default stdin,\n"  \
	"                        'none' for no input)\n"                              \
	"      --rtc-time SECS   guest wall clock at start, seconds since 1970\n"     \
	"                        (default: now)\n"                                   \
	"      --apic on|off     a local APIC and IOAPIC, CPUID's APIC bit and an MP\n" \
	"                        table (default off: the 8259 pair alone)\n"          \
	"      --kvm PATH        use PATH as the KVM device (default /dev/kvm)\n"     \
	"      --initrd FILE     Linux's initial RAM disk (a bzImage or vmlinux\n"    \
	"                        KERNEL gets the command line alone); for a\n"       \
	"                        multiboot KERNEL the modules, as QEMU's -initrd:\n"  \
	"                        'FILE ARGS,FILE2' (',,' is a comma), each item its\n" \
	"                        module's command line, page-aligned after the\n"    \
	"                        kernel (and at or above 1 MiB)\n"

enum {
	CLI_OPT_STRICT_IO = 0x100,
	CLI_OPT_SERIAL_OUT,
	CLI_OPT_SERIAL_IN,
	CLI_OPT_RTC_TIME,
	CLI_OPT_KVM,
	CLI_OPT_NO_FW_CFG,
	CLI_OPT_APIC,
	CLI_OPT_INITRD,
	CLI_OPT_FIRST_FREE, /* subcommands number their own options from here */
};

void cli_machine_opts_init(struct cli_machine_opts *o);
/* Handles option OPT with OPTARG; returns 1 if it was a machine option, 0 if
 * not, -1 on a bad value (after printing one line). */
int cli_machine_opt(struct cli_machine_opts *o, int opt, const char *optarg);
/* Takes KERNEL and the optional "-- CMDLINE" from the remaining arguments and
 * opens the serial files.  Returns 0 or a cli_status. */
int cli_machine_finish(struct cli_machine_opts *o, const char *cmd, int argc, char **argv);
void cli_machine_opts_free(struct cli_machine_opts *o);

/* Maps a machine_init failure kind to the CLI exit status. */
int cli_init_status(enum machine_init_error kind);
/* Maps how the guest stopped to the CLI exit status and prints one line on
 * stderr unless the guest exited through isa-debug-exit. */
int cli_stop_status(const struct machine_result *r);
/* The same status, printing nothing. */
int cli_stop_code(const struct machine_result *r);

/* Parses "64M", "1G", "4096K" or a plain byte count. */
int cli_parse_size(const char *s, uint64_t *out);

#endif
