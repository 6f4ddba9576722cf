/* What `replay`, `gdb` and `console` share: their trace options and
 * argument, booting the machine a trace recorded and checking it is that
 * machine, and the one line about a trace that does not replay whole. */
#include "cli/replay_session.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/machine_opts.h"
#include "replay/replayer.h"
#include "replay/session.h"
#include "trace-format/trace.h"
#include "vmm/hostcpu.h"
#include "vmm/loader.h"
#include "vmm/probe.h"

int cli_trace_opt(int opt, const char *arg, struct replay_opts *o)
{
	char *end;

	if (opt == 'q') {
		o->quiet = true;
	} else if (opt == CLI_TRACE_OPT_KERNEL) {
		o->kernel = arg;
	} else if (opt == CLI_TRACE_OPT_KVM) {
		o->kvm = arg;
	} else if (opt == CLI_TRACE_OPT_CKPT) {
		errno = 0;
		o->checkpoint_every = strtoull(arg, &end, 10);
		if (errno || *end || end == arg || !o->checkpoint_every || *arg == '-') {
			fprintf(stderr, "rrvm: bad --checkpoint-every '%s' (a number of sync points)\n",
				arg);
			return -1;
		}
	} else if (opt == CLI_TRACE_OPT_INITRD) {
		o->initrd = arg;
	} else {
		return 0;
	}
	return 1;
}

int cli_trace_arg(const char *cmd, int argc, char **argv, struct replay_opts *o)
{
	if (optind != argc - 1) {
		fprintf(stderr, "rrvm: %s: expected one TRACE (see rrvm %s --help)\n", cmd, cmd);
		return CLI_ERR_USAGE;
	}
	o->trace = argv[optind];
	return 0;
}

/* The recorded multiboot modules, each with its recorded command line and
 * its file where --initrd (QEMU's list syntax, of which only the paths
 * count) says it is now, else where it was.  -1 after a message. */
static int replay_modules(const struct replay_opts *o, const struct trace_header *h,
			  struct loader_modspec *mods, unsigned *n, char *store, size_t storelen)
{
	struct loader_modspec moved[MACHINE_MAX_MODULES];
	unsigned nmoved = 0;

	*n = 0;
	for (uint32_t i = 0; i < h->nfiles; i++)
		if (h->files[i].role == TRACE_FILE_MODULE && *n < MACHINE_MAX_MODULES)
			mods[(*n)++] = (struct loader_modspec){ h->files[i].path, h->files[i].cmdline };
	if (!o->initrd || !*n)
		return 0;
	if (loader_split_modules(o->initrd, store, storelen, moved, MACHINE_MAX_MODULES,
				 &nmoved) < 0) {
		fprintf(stderr, "rrvm: bad --initrd '%s' (PATH[,PATH...])\n", o->initrd);
		return -1;
	}
	if (nmoved != *n) {
		fprintf(stderr, "rrvm: %s: the trace recorded %u multiboot module%s, --initrd "
			"names %u\n", o->trace, *n, *n == 1 ? "" : "s", nmoved);
		return -1;
	}
	for (unsigned i = 0; i < *n; i++)
		mods[i].path = moved[i].path;
	return 0;
}

int cli_replay_session(struct rr_session **out_s, const struct replay_opts *o,
		       const struct trace_header *h, FILE *out)
{
	struct rr_session *s;
	struct loader_modspec mods[MACHINE_MAX_MODULES];
	char modstore[MACHINE_MODSTORE];
	unsigned nmods;
	const struct trace_file_hash *k = trace_header_file(h, TRACE_FILE_KERNEL);
	const struct trace_file_hash *rd = trace_header_file(h, TRACE_FILE_INITRD);
	struct machine_config cfg = {
		.kernel_path = o->kernel ? o->kernel : k ? k->path : "",
		.initrd_path = o->initrd ? o->initrd : rd ? rd->path : NULL,
		.cmdline = h->cmdline,
		.cmdline_verbatim = true,
		.ram_size = h->guest_mem_bytes,
		.serial_out = out,
		.serial_in_fd = -1,
		.rtc_epoch = h->rtc_epoch_sec,
		.kvm_path = o->kvm,
		/* Interrupts must reach the guest the way they did while recording. */
		.irq_window = h->irq_window,
		.fw_cfg = h->fw_cfg,
		/* Landmarks hash all of RAM since 2.2. */
		.lm_hash_written = h->format_major < 2 || (h->format_major == 2 && h->format_minor < 2),
	};
	enum machine_init_error kind;
	char msg[400];

	*out_s = NULL;
	if (replay_modules(o, h, mods, &nmods, modstore, sizeof(modstore)) < 0)
		return CLI_ERR_MISMATCH;
	if (nmods) {
		cfg.modules = mods;
		cfg.nmodules = nmods;
		cfg.initrd_path = NULL;
	}
	/* The interrupt controller the guest had ("" before format 2.0). */
	if (strcmp(h->irq_controller, "apic") && strcmp(h->irq_controller, "pic") &&
	    *h->irq_controller) {
		fprintf(stderr, "rrvm: %s: recorded with interrupt controller '%s', which this "
			"rrvm does not have\n", o->trace, h->irq_controller);
		return CLI_ERR_MISMATCH;
	}
	cfg.apic = !strcmp(h->irq_controller, "apic");
	if (h->host_cpu_hash) {
		int cpu, err = hostcpu_pin_matching(h->host_cpu_hash, &cpu);

		if (err < 0) {
			fprintf(stderr, "rrvm: %s: %s\n", o->trace, err == -ENOENT ?
				"no CPU of this host answers CPUID as the recording's did, and "
				"this host's KVM lets the guest's ring 3 read the host CPU's "
				"CPUID: replay on the recording's host" : strerror(-err));
			return CLI_ERR_MISMATCH;
		}
		cfg.host_cpu_hash = h->host_cpu_hash;
	}
	if (cfg.irq_window && !probe_irq_window_precise(o->kvm)) {
		fprintf(stderr, "rrvm: %s: recorded with precise interrupt-window exits, which "
			"this host's KVM does not give\n", o->trace);
		return CLI_ERR_MISMATCH;
	}
	if (rr_session_open(&s, &cfg, &kind, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "rrvm: %s\n", msg);
		return cli_init_status(kind);
	}
	if (rpl_check_header(h, s, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "rrvm: %s: %s\n", o->trace, msg);
		rr_session_close(s);
		return CLI_ERR_MISMATCH;
	}
	/* The guest's TSC ran at the recorded rate: a live TSC after leaving
	 * replay continues at it, whatever this host's rate. */
	if (h->tsc_khz)
		rr_session_set_tsc_khz(s, h->tsc_khz);
	*out_s = s;
	return 0;
}

bool cli_replay_incomplete(const char *trace, const struct replayer *p)
{
	const struct trace_info *inf = trace_reader_info(rpl_reader(p));
	const char *what = inf->corrupt ? "corrupt" : "truncated";
	const char *why = inf->damage[0] ? inf->damage : "no end record";

	if (rpl_replays_nothing(p))
		fprintf(stderr, "rrvm: %s is %s (%s): it holds no whole chunk of events, nothing "
			"to replay\n", trace, what, why);
	else
		fprintf(stderr, "rrvm: %s is %s (%s): replaying up to sync point %llu\n", trace,
			what, why, (unsigned long long)rpl_end_sync(p));
	return !rpl_replays_nothing(p);
}
