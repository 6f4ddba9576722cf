#include "cli/machine_opts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "vmm/hostcpu.h"
#include "vmm/probe.h"

void cli_machine_opts_init(struct cli_machine_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->cfg.ram_size = MACHINE_DEFAULT_RAM;
	o->cfg.serial_in_fd = -1;
	o->cfg.rtc_epoch = (int64_t)time(NULL);
	o->cfg.fw_cfg = true;
}

int cli_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case '\0': break;
	default: return -1;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int cli_machine_opt(struct cli_machine_opts *o, int opt, const char *arg)
{
	char *end;

	switch (opt) {
	case 'm':
		if (cli_parse_size(arg, &o->cfg.ram_size) < 0) {
			fprintf(stderr, "rrvm: bad memory size '%s' (try 64M or 1G)\n", arg);
			return -1;
		}
		return 1;
	case CLI_OPT_STRICT_IO:
		o->cfg.strict_io = true;
		return 1;
	case CLI_OPT_NO_FW_CFG:
		o->cfg.fw_cfg = false;
		return 1;
	case CLI_OPT_SERIAL_OUT:
		o->serial_out_path = arg;
		return 1;
	case CLI_OPT_SERIAL_IN:
		o->serial_in_path = arg;
		return 1;
	case CLI_OPT_KVM:
		o->cfg.kvm_path = arg;
		return 1;
	case CLI_OPT_APIC:
		if (strcmp(arg, "on") && strcmp(arg, "off")) {
			fprintf(stderr, "rrvm: bad --apic '%s' (on or off)\n", arg);
			return -1;
		}
		o->cfg.apic = !strcmp(arg, "on");
		return 1;
	case CLI_OPT_INITRD:
		o->cfg.initrd_path = arg;
		return 1;
	case CLI_OPT_RTC_TIME:
		errno = 0;
		o->cfg.rtc_epoch = strtoll(arg, &end, 10);
		if (errno || *end || end == arg) {
			fprintf(stderr, "rrvm: bad --rtc-time '%s' (seconds since 1970)\n", arg);
			return -1;
		}
		return 1;
	default:
		return 0;
	}
}

static int cli_join_cmdline(struct cli_machine_opts *o, int argc, char **argv)
{
	size_t len = 1;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	o->cmdline = calloc(1, len);
	if (!o->cmdline)
		return -1;
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(o->cmdline, " ");
		strcat(o->cmdline, argv[i]);
	}
	o->cfg.cmdline = o->cmdline;
	return 0;
}

/* Landmarks where the host has breakpoints; RRVM_LANDMARKS=0 turns them
 * off and RRVM_IRQ_BOUND_US / RRVM_STRETCH_BOUND_US set the bounds, for the
 * benchmarks (bench/landmark_bench.sh) that chose the defaults. */
static void cli_landmark_opts(struct machine_config *c)
{
	const char *v;

	v = getenv("RRVM_LANDMARKS");
	c->landmark_rings = v && !strcmp(v, "0") ? 0 : probe_landmark_rings(c->kvm_path);
	if ((v = getenv("RRVM_IRQ_BOUND_US")))
		c->irq_bound = strtoull(v, NULL, 10) * 1000;
	if ((v = getenv("RRVM_STRETCH_BOUND_US")))
		c->stretch_bound = strtoull(v, NULL, 10) * 1000;
}

int cli_machine_finish(struct cli_machine_opts *o, const char *cmd, int argc, char **argv)
{
	if (argc < 1) {
		fprintf(stderr, "rrvm: %s: missing KERNEL (see rrvm %s --help)\n", cmd, cmd);
		return CLI_ERR_USAGE;
	}
	o->cfg.kernel_path = argv[0];
	o->cfg.irq_window = probe_irq_window_precise(o->cfg.kvm_path);
	/* The guest's user space would read whichever CPU this thread is on:
	 * a recording stays on one (a run has nothing to keep). */
	if (strcmp(cmd, "run") && probe_cpuid_ring3_host(o->cfg.kvm_path) && hostcpu_pin_here(&o->cfg.host_cpu_hash) < 0)
		o->cfg.host_cpu_hash = 0;
	cli_landmark_opts(&o->cfg);
	/* getopt stops at "--"; everything after the kernel is its command line. */
	argc--, argv++;
	if (argc && !strcmp(argv[0], "--"))
		argc--, argv++;
	if (cli_join_cmdline(o, argc, argv) < 0)
		return CLI_ERR_INTERNAL;
	o->cfg.serial_out = stdout;
	if (o->serial_out_path) {
		o->cfg.serial_out = fopen(o->serial_out_path, "we");
		if (!o->cfg.serial_out) {
			fprintf(stderr, "rrvm: %s: %s\n", o->serial_out_path, strerror(errno));
			return CLI_ERR_IO;
		}
	}
	/* Written through as the guest prints it: a run or recording killed
	 * outright leaves in the file everything the guest printed.  One
	 * write a byte costs less than the OUT exit that produced it. */
	setvbuf(o->cfg.serial_out, NULL, _IONBF, 0);
	if (!o->serial_in_path) {
		o->cfg.serial_in_fd = STDIN_FILENO;
	} else if (strcmp(o->serial_in_path, "none")) {
		o->cfg.serial_in_fd = open(o->serial_in_path, O_RDONLY | O_CLOEXEC);
		if (o->cfg.serial_in_fd < 0) {
			fprintf(stderr, "rrvm: %s: %s\n", o->serial_in_path, strerror(errno));
			return CLI_ERR_IO;
		}
	}
	return 0;
}

void cli_machine_opts_free(struct cli_machine_opts *o)
{
	if (o->cfg.serial_out && o->cfg.serial_out != stdout)
		fclose(o->cfg.serial_out);
	if (o->cfg.serial_in_fd > STDIN_FILENO)
		close(o->cfg.serial_in_fd);
	free(o->cmdline);
}

int cli_init_status(enum machine_init_error kind)
{
	switch (kind) {
	case MACHINE_INIT_KERNEL: return CLI_ERR_KERNEL;
	case MACHINE_INIT_NOFIT: return CLI_ERR_NOFIT;
	case MACHINE_INIT_KVM: return CLI_ERR_KVM;
	case MACHINE_INIT_CONFIG: return CLI_ERR_USAGE;
	case MACHINE_INIT_OK: break;
	}
	return CLI_ERR_INTERNAL;
}

int cli_stop_status(const struct machine_result *r)
{
	if (r->why != MACHINE_STOP_DEBUG_EXIT)
		fprintf(stderr, "rrvm: %s\n", r->detail);
	return cli_stop_code(r);
}

int cli_stop_code(const struct machine_result *r)
{
	static const int status[] = {
		[MACHINE_STOP_TRIPLE_FAULT] = CLI_ERR_TRIPLE_FAULT,
		[MACHINE_STOP_EMULATION] = CLI_ERR_EMULATION,
		[MACHINE_STOP_HALTED] = CLI_ERR_GUEST_HALT,
		[MACHINE_STOP_STRICT_IO] = CLI_ERR_STRICT_IO,
		[MACHINE_STOP_SIGNAL] = CLI_ERR_INTERRUPTED,
		[MACHINE_STOP_KVM_ERROR] = CLI_ERR_KVM,
		[MACHINE_STOP_HOOK] = CLI_ERR_INTERNAL,
		[MACHINE_STOP_RESET] = CLI_ERR_GUEST_RESET,
	};

	if (r->why == MACHINE_STOP_DEBUG_EXIT)
		return r->status & 0xff;
	if ((unsigned)r->why < sizeof(status) / sizeof(status[0]) && status[r->why])
		return status[r->why];
	return CLI_ERR_INTERNAL;
}
