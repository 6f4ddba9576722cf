/* rrvm run: boot a kernel on KVM with userspace devices, no recording. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/machine_opts.h"
#include "cli/signals.h"

static const char cli_run_help[] =
	"usage: rrvm run [options] [--initrd FILE] KERNEL [-- KERNEL COMMAND LINE...]\n"
	"\n"
	"Boots KERNEL (a multiboot1 ELF, an ELF64 entered in long mode, or Linux:\n"
	"a bzImage or a vmlinux, as QEMU's -kernel -initrd -append) on KVM with\n"
	"every device emulated in userspace: 16550A UART on COM1, 8259A PIC pair,\n"
	"8254 PIT, CMOS RTC, i8042 reset line, POST port 0x80 and isa-debug-exit\n"
	"on port 0xf4, and QEMU's fw_cfg ports 0x510-0x511.\n"
	"\n"
	"Guest memory rrvm writes before the kernel starts: the kernel's segments;\n"
	"the modules; the MP table at 0x9fc00 (--apic on); and 64 KiB for its boot\n"
	"structures (GDT, TSS, multiboot information, module list and command\n"
	"lines; page tables and stack for a 64-bit entry) at 0x0-0xffff, or, when\n"
	"the kernel or its modules lie there, at the first free 64 KiB-aligned\n"
	"64 KiB below 576 KiB, else right above everything loaded.\n"
	"\n"
	"options:\n" CLI_MACHINE_HELP
	"  -h, --help            show this help\n"
	"\n"
	"exit status: the guest's isa-debug-exit status ((value << 1) | 1, as\n"
	"under QEMU), 34 when the guest reset the machine (Linux's reboot), or\n"
	"one of rrvm's other even statuses (see rrvm(1)).\n";

int cli_run_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_MACHINE_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_machine_opts o;
	struct machine *m = NULL;
	enum machine_init_error kind;
	char msg[256];
	int opt, status;

	cli_machine_opts_init(&o);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+m:h", longopts, NULL)) != -1) {
		int r = cli_machine_opt(&o, opt, optarg);

		if (r > 0)
			continue;
		if (r == 0 && opt == 'h') {
			fputs(cli_run_help, stdout);
			return CLI_OK;
		}
		if (r == 0)
			cli_bad_option("run", argv);
		status = CLI_ERR_USAGE;
		goto out;
	}
	status = cli_machine_finish(&o, "run", argc - optind, argv + optind);
	if (status)
		goto out;
	m = malloc(sizeof(*m));
	if (!m) {
		status = CLI_ERR_INTERNAL;
		goto out;
	}
	if (machine_init(m, &o.cfg, &kind, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "rrvm: %s\n", msg);
		status = cli_init_status(kind);
		free(m);
		m = NULL;
		goto out;
	}
	cli_signals_catch(m);
	status = cli_stop_status(machine_run(m, NULL));
	cli_signals_release();
	machine_free(m);
out:
	free(m);
	cli_machine_opts_free(&o);
	return status;
}
