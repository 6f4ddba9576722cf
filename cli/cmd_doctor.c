/* rrvm doctor: what this host's KVM can do, measured by probe guests. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "vmm/complete.h"
#include "vmm/probe.h"
#include "vmm/x86.h"

static const char cli_doctor_help[] =
	"usage: rrvm doctor [--kvm PATH]\n"
	"\n"
	"Runs tiny probe guests on /dev/kvm and prints what this host supports:\n"
	"the KVM backend, the exit round-trip time, single-step and hardware\n"
	"breakpoints per ring, data breakpoints, int3 interception, OUT trapping in\n"
	"ring 3, system-call paths from ring 3, read-only memslots, dirty logging\n"
	"and the PMU.  rrvm chooses its strategies from these answers.\n"
	"\n"
	"options:\n"
	"      --kvm PATH   probe PATH instead of /dev/kvm\n"
	"  -h, --help       show this help\n";

static const char *ring_name[PROBE_NRINGS] = { "ring 0", "ring 3" };

static void doctor_row(const char *what, const char *answer)
{
	printf("%-48s  %s\n", what, answer); /* two spaces: rows parse */
}

static void doctor_result(const char *what, const struct probe_result *r)
{
	doctor_row(what, r->outcome == PROBE_EXITS && !strcmp(r->detail, "works") ? "works"
										     : r->detail);
}

static void doctor_per_ring(const char *what, const struct probe_result r[PROBE_NRINGS])
{
	char label[64];

	for (int i = 0; i < PROBE_NRINGS; i++) {
		snprintf(label, sizeof(label), "%s, %s", what, ring_name[i]);
		doctor_result(label, &r[i]);
	}
}

/* How a patched RDTSC that runs in ring 3 reads the virtual TSC here
 * (replay/tsc_gp.h): its OUT faults in ring 3 (#GP), and the HLT trap at
 * the guest's #GP handler exits in ring 0; or its OUT exits outright. */
static const char *doctor_rdtsc_ring3(const struct host_caps *c)
{
	if (probe_works(&c->out_ring3))
		return "the patched OUT exits: completed as in ring 0";
	if (c->out_ring3.outcome == PROBE_TO_GUEST && c->out_ring3.vector == X86_EXC_GP &&
	    probe_works(&c->hlt_ring0))
		return "completed at the guest's #GP vector (HLT trap at its handler)";
	return "cannot be completed here: a patched RDTSC in ring 3 faults";
}

static void doctor_print(const struct host_caps *c)
{
	char buf[128];

	doctor_row("KVM backend", c->backend);
	snprintf(buf, sizeof(buf), "%d", c->api_version);
	doctor_row("KVM API version", buf);
	for (int i = 0; i < PROBE_NRINGS; i++) {
		snprintf(buf, sizeof(buf), "round trip of a port I/O exit, %s", ring_name[i]);
		if (c->exit_rtt_us[i] < 0)
			doctor_row(buf, "could not measure");
		else {
			char v[32];
			snprintf(v, sizeof(v), "%.1f us", c->exit_rtt_us[i]);
			doctor_row(buf, v);
		}
	}
	doctor_per_ring("KVM_GUESTDBG_SINGLESTEP", c->singlestep);
	doctor_per_ring("hardware execution breakpoints (DR0-3)", c->hw_bp);
	/* Landmarks need both where the guest stopped (vmm/landmark.h). */
	for (int i = 0; i < PROBE_NRINGS; i++) {
		snprintf(buf, sizeof(buf), "interrupts in exit-free code, %s", ring_name[i]);
		doctor_row(buf, probe_works(&c->hw_bp[i]) && probe_works(&c->singlestep[i])
					? "on time (landmarks)"
					: "at the next exit (no breakpoints there)");
	}
	doctor_per_ring("data (write) breakpoints in DR7", c->data_bp);
	doctor_per_ring("int3 with KVM_GUESTDBG_USE_SW_BP", c->int3);
	doctor_result("OUT in ring 3 with IOPL=0", &c->out_ring3);
	doctor_result("INT 0x80 from ring 3 (DPL-3 gate)", &c->int80_ring3);
	doctor_result("SYSCALL from ring 3", &c->syscall_ring3);
	doctor_result("HLT in ring 0", &c->hlt_ring0);
	doctor_result("interrupt window exit (KVM_EXIT_IRQ_WINDOW_OPEN)", &c->irq_window);
	doctor_result("RDTSC", &c->rdtsc);
	doctor_row("RDTSC in ring 3 (patched)", doctor_rdtsc_ring3(c));
	doctor_result("KVM_MEM_READONLY memslots", &c->ro_memslot);
	doctor_result("dirty logging (KVM_GET_DIRTY_LOG)", &c->dirty_log);
	doctor_result("single step over a read-only memslot write", &c->step_ro_write);
	for (int k = COMPLETE_INT3; k < COMPLETE_KINDS; k++) {
		snprintf(buf, sizeof(buf), "%s in ring 0", complete_name(k));
		doctor_result(buf, &c->complete[k]);
	}
	if (c->cpuid_rewritten[0])
		snprintf(buf, sizeof(buf), "rewritten by KVM in leaves %s", c->cpuid_rewritten);
	doctor_row("fixed CPUID table (KVM_SET_CPUID2)", c->cpuid_rewritten[0] ? buf : "honoured");
	doctor_row("CPUID in ring 3", c->cpuid_ring3.outcome == PROBE_EXITS ?
		   "answered by the host CPU (recordings pin the vCPU thread to one CPU; replay "
		   "needs a CPU that answers the same)" : c->cpuid_ring3.detail);
	doctor_row("KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2", c->manual_dirty_protect ? "yes" : "no");
	doctor_row("dirty ring (KVM_CAP_DIRTY_LOG_RING)", c->dirty_ring ? "yes" : "no");
	doctor_row("TSC scaling (KVM_CAP_TSC_CONTROL)", c->tsc_control ? "yes" : "no");
	doctor_row("MSR filter (KVM_CAP_X86_MSR_FILTER)", c->msr_filter ? "yes" : "no");
	/* rrvm's own devices, never KVM's in-kernel irqchip; --apic on needs
	 * the filter for IA32_APIC_BASE. */
	doctor_row("interrupt controller",
		   c->msr_filter ? "8259 pair (default); --apic on: local APIC (xAPIC) + IOAPIC, "
				   "in userspace"
				 : "8259 pair only (--apic on needs the MSR filter)");
	if (c->pmu)
		snprintf(buf, sizeof(buf), "version %u, %u counters", c->pmu_version,
			 c->pmu_counters);
	doctor_row("performance counters (PMU)", c->pmu ? buf : "none");
}

int cli_doctor_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "kvm", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *kvm_path = NULL;
	struct host_caps caps;
	int opt, r;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			kvm_path = optarg;
			break;
		case 'h':
			fputs(cli_doctor_help, stdout);
			return CLI_OK;
		default:
			cli_bad_option("doctor", argv);
			return CLI_ERR_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "rrvm: doctor: unexpected argument '%s'\n", argv[optind]);
		return CLI_ERR_USAGE;
	}
	r = probe_host(&caps, kvm_path);
	if (r < 0) {
		fprintf(stderr, "rrvm: cannot use %s: %s\n", kvm_path ? kvm_path : "/dev/kvm",
			strerror(-r));
		return CLI_ERR_KVM;
	}
	doctor_print(&caps);
	return CLI_OK;
}
