/* The guest machine: KVM VM, one vCPU, guest RAM, the kernel, and the
 * userspace devices, with the one exit dispatch loop.  Owns everything it
 * creates; machine_free releases it all. */
#ifndef RRVM_VMM_MACHINE_H
#define RRVM_VMM_MACHINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util/types.h"
#include "vmm/complete.h"
#include "vmm/cpuid.h"
#include "vmm/devices/cmos_rtc.h"
#include "vmm/devices/debugexit.h"
#include "vmm/devices/fwcfg.h"
#include "vmm/devices/ioapic.h"
#include "vmm/devices/lapic.h"
#include "vmm/devices/i8042.h"
#include "vmm/devices/pic8259.h"
#include "vmm/devices/pit8254.h"
#include "vmm/devices/postcode.h"
#include "vmm/devices/serial16550.h"
#include "vmm/dirty.h"
#include "vmm/memhash.h"
#include "vmm/exit.h"
#include "vmm/inputs.h"
#include "vmm/kick.h"
#include "vmm/kvm.h"
#include "vmm/landmark.h"
#include "vmm/loader.h"
#include "vmm/memory.h"
#include "vmm/mmiobus.h"
#include "vmm/portbus.h"
#include "vmm/vcpu.h"

#define MACHINE_DEFAULT_RAM (64ull << 20)
#define MACHINE_MIN_RAM (2ull << 20)
#define MACHINE_MAX_RAM (3ull << 30) /* below the 32-bit PCI hole */
#define MACHINE_NO_SYNC_LIMIT UINT64_MAX /* stop_after_sync: run on */
#define MACHINE_MAX_MSR_TRAPS 8

/* Multiboot modules: at most this many, their --initrd list at most this
 * long, each command line shorter than MACHINE_MODULE_CMDLINE_MAX (the
 * trace header's string bound). */
#define MACHINE_MAX_MODULES LOADER_MAX_MODULES
#define MACHINE_MODSTORE 16384
#define MACHINE_MODULE_CMDLINE_MAX 4096

struct machine_config {
	const char *kernel_path;
	/* Linux: the initrd's path.  Multiboot: QEMU's -initrd module list,
	 * "file arg arg,file2" (loader_split_modules), unless MODULES is set.
	 * NULL for none. */
	const char *initrd_path;
	/* Multiboot modules given one by one (replay: each module's path now
	 * and the command line it was recorded with); NULL: from initrd_path. */
	const struct loader_modspec *modules;
	unsigned nmodules;
	const char *cmdline;   /* multiboot: appended after the kernel path, as
				* QEMU does; Linux: the whole command line */
	bool cmdline_verbatim; /* pass cmdline as it is, without the path (replay) */
	uint64_t ram_size;
	bool strict_io;
	bool fw_cfg;           /* QEMU's fw_cfg ports (vmm/devices/fwcfg.h) */
	bool apic;             /* a local APIC and an IOAPIC (and CPUID's APIC bit,
				* an MP table); else the 8259 pair alone */
	uint64_t host_cpu_hash; /* the thread is pinned to this host CPU
				 * (vmm/hostcpu.h); 0 if not.  Set by the caller. */
	bool irq_window;       /* ask KVM for interrupt-window exits: only where
				* they are precise (probe_irq_window_precise) */
	FILE *serial_out;      /* guest COM1 output */
	int serial_in_fd;      /* COM1 input, non-blocking reads; -1 for none */
	int64_t rtc_epoch;     /* wall-clock seconds at guest start */
	const char *kvm_path;  /* NULL: /dev/kvm */
	const struct vmm_inputs *inputs; /* NULL: live host time and serial_in_fd */
	/* Landmarks (vmm/landmark.h): the rings (bit N: ring N) where the
	 * host has execution breakpoints and single steps, in which a guest
	 * that waits for an interrupt without exiting is kicked and gets it
	 * there.  0: interrupts wait for the next exit (and replay, which
	 * finds the trace's landmarks, makes none). */
	unsigned landmark_rings;
	host_ns irq_bound;       /* an interrupt waits at most this past its
				  * deadline (0: MACHINE_IRQ_BOUND) */
	host_ns stretch_bound;   /* a stretch without a sync point lasts at
				  * most about twice this (0: MACHINE_STRETCH_BOUND) */
	bool lm_hash_written;    /* a landmark's page hash covers the pages KVM
				  * logged as written since the previous one,
				  * not all of RAM (traces before 2.2) */
};

/* Defaults for the bounds above: see README.md "Landmarks" for the
 * measurements behind them. */
#define MACHINE_IRQ_BOUND 200000ull      /* 0.2 ms: a fifth of a 1 kHz tick */
#define MACHINE_STRETCH_BOUND 5000000ull /* 5 ms of guest code between sync points */

enum machine_stop {
	MACHINE_RUNNING,
	MACHINE_STOP_DEBUG_EXIT,   /* isa-debug-exit; status = (v << 1) | 1 */
	MACHINE_STOP_TRIPLE_FAULT,
	MACHINE_STOP_EMULATION,    /* KVM could not emulate an instruction */
	MACHINE_STOP_HALTED,       /* HLT with nothing that could ever wake it:
				    * interrupts off, or no interrupt source left
				    * (how a powered-off guest ends) */
	MACHINE_STOP_STRICT_IO,
	MACHINE_STOP_SIGNAL,       /* machine_request_stop() */
	MACHINE_STOP_KVM_ERROR,
	MACHINE_STOP_HOOK,
	MACHINE_STOP_SYNC_LIMIT,   /* reached stop_after_sync */
	MACHINE_STOP_TRAP,         /* a debugger's single-step or breakpoint */
	MACHINE_STOP_RESET,        /* the guest pulled the i8042 reset line */
};

struct machine_result {
	enum machine_stop why;
	int status;        /* guest exit status for DEBUG_EXIT */
	uint64_t rip;
	bool in_hlt;       /* stopped while the guest idled in HLT */
	char detail[192];  /* one line for the user */
};

/* Why machine_init failed, for the user and the CLI exit status. */
enum machine_init_error {
	MACHINE_INIT_OK,
	MACHINE_INIT_KERNEL,  /* missing, unreadable or not a kernel */
	MACHINE_INIT_NOFIT,   /* does not fit in guest RAM */
	MACHINE_INIT_KVM,     /* /dev/kvm or a KVM call */
	MACHINE_INIT_CONFIG,  /* bad configuration (RAM size, command line) */
};

struct machine_stats {
	uint64_t exits[VMM_EXIT_KIND_COUNT];
	uint64_t injected;
	uint64_t landmarks;      /* landmark sync points */
	uint64_t landmark_hits;  /* replay: breakpoint hits while seeking them */
	uint64_t late_kicks;     /* kicks that found the guest where no landmark
				  * can be (a ring without breakpoints) */
	unsigned late_cpl_mask;  /* ... and in which rings (bit N: ring N) */
};

/* The debug registers and single-step state, as KVM_SET_GUEST_DEBUG takes. */
struct machine_debug {
	uint32_t control;
	uint64_t dr[4];
	uint64_t dr7;
};

/* Landmark state of a machine (vmm/landmark.h). */
struct machine_lm {
	/* Recording: when to kick. */
	host_ns check_next;     /* next check for an over-long stretch */
	sync_seq check_sync;    /* m->sync at the previous check */
	host_ns retry_at;       /* a kick found no landmark: try again then */
	host_ns last_kick;
	vclock_ns plan_due;     /* the deadline the next kick is planned for */
	host_ns plan_at;        /* ... and its host time (0: none planned) */
	host_ns plan_held;      /* ... or the hold it is planned for */
	host_ns held_at;        /* the inputs held a pending interrupt back
				 * then (irq_now), 0: not held */
	bool at_landmark;       /* the current sync point is a landmark */
	/* Replay: the landmark sought (the next sync point's). */
	bool seek;
	host_ns seek_since;     /* when the current target was set */
	struct landmark target;
	struct landmark_miss miss;
	bool stepover;          /* the next run steps off a non-matching hit */
	sync_seq start_checked; /* the target compared where its stretch starts */
	/* Debug state: as the debugger set it, and as KVM has it now. */
	struct machine_debug user, applied;
	bool applied_valid;
	/* Where the last KVM_RUN single-stepped from (machine_step_scrub). */
	bool step_valid;
	uint64_t step_rip, step_rsp, step_rflags;
};

struct machine {
	struct machine_config cfg;
	struct kvm kvm;
	struct guest_mem mem;
	struct vcpu vcpu;
	struct cpuid_table cpuid;      /* what the guest sees (KVM_GET_CPUID2) */
	char cpuid_rewritten[64];      /* leaves KVM changed from rrvm's table, or "" */
	struct boot_image boot;
	const uint8_t *kernel;  /* the kernel file as loaded (mapped read-only) */
	size_t kernel_len;
	const uint8_t *initrd;  /* the initrd file (mapped read-only), or NULL */
	size_t initrd_len;
	/* Multiboot modules in load order: paths and command lines in
	 * modstore, the files mapped read-only. */
	struct machine_module {
		const char *path, *cmdline;
		const uint8_t *data;
		size_t len;
	} mods[MACHINE_MAX_MODULES];
	unsigned nmods;
	char modstore[MACHINE_MODSTORE];
	char cmdline[BOOT_INFO_SIZE]; /* the command line the kernel got */
	struct portbus bus;
	struct mmiobus mmio;
	/* Every device of the table in its order, which is the checkpoint
	 * order (vmm/snapshot.c), port and MMIO devices alike. */
	struct portbus_slot devs[PORTBUS_MAX_DEVICES + MMIOBUS_MAX_DEVICES];
	unsigned ndevs;

	/* Devices, in device-table order (vmm/machine_init.c). */
	struct serial16550 com1;
	struct pic_pair pic;
	struct pit8254 pit;
	struct cmos_rtc rtc;
	struct debugexit dbgexit;
	struct fwcfg fwcfg;        /* on the bus only with cfg.fw_cfg */
	struct lapic lapic;   /* with cfg.apic only */
	struct ioapic ioapic; /* with cfg.apic only */
	struct i8042 kbc;
	struct postcode post;

	struct vmm_inputs in;
	struct host_inputs host_in;
	vclock_ns now;     /* the time at this sync point, once asked for */
	bool now_valid;
	sync_seq sync;     /* sync points so far; the current one while handling it */
	atomic_int stop_requested; /* count of stop requests (signal handlers and
				    * other threads write it) */
	bool at_sync;              /* the last exit was a sync point */
	sync_seq stop_after_sync;  /* stop once this sync point is handled (0: before the
				    * first instruction); MACHINE_NO_SYNC_LIMIT: never */
	bool irq_queued;           /* an interrupt waits for the next KVM_RUN */
	bool exc_queued;           /* an exception rrvm injected (a completion) does */
	uint8_t irq_vector;        /* ... and its vector */
	uint32_t rdmsr_traps[MACHINE_MAX_MSR_TRAPS]; /* MSRs whose reads exit */
	unsigned nrdmsr_traps;
	const uint64_t *traps;     /* patched breakpoints (machine_set_traps) */
	const uint8_t *trap_orig;
	unsigned ntraps;
	uint8_t trap_byte;
	uint64_t traps_shown;      /* bit I: trap I shows the guest's byte now */
	struct machine_result result;
	struct machine_stats stats;
	struct completer completer; /* what KVM cannot emulate (vmm/complete.h) */
	const struct vmm_hooks *hooks;
	struct dirty_tracker dirty; /* written pages: checkpoints and landmarks */
	int lm_user;                /* the tracker's landmark user, -1: none */
	struct memhash lm_mem;      /* RAM as of the last landmark (vmm/memhash.h) */
	struct vmm_kick kick;
	struct machine_lm lm;
	/* Interrupt lateness: when the pending line rose (VCLOCK_NEVER: none
	 * pending), and for the injection being made, how late it is. */
	vclock_ns irq_rose;
	vclock_ns inject_lateness;
	bool inject_at_landmark;
};

/* Builds the machine from CFG and loads the kernel.  On failure returns
 * -errno, sets *KIND, and writes one line for the user into MSG. */
int machine_init(struct machine *m, const struct machine_config *cfg,
		 enum machine_init_error *kind, char *msg, size_t msglen);
void machine_free(struct machine *m);

/* Runs until the guest stops; HOOKS may be NULL.  Fills and returns
 * m->result. */
const struct machine_result *machine_run(struct machine *m, const struct vmm_hooks *hooks);

/* Stops the machine after the current exit with WHY and a one-line reason
 * (the first reason given wins).  For hooks and the machine itself. */
void machine_stop(struct machine *m, enum machine_stop why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The general registers as of the last exit (KVM_CAP_SYNC_REGS: no ioctl).
 * After changing them, call machine_regs_changed() before the guest runs. */
struct kvm_regs *machine_regs(struct machine *m);
void machine_regs_changed(struct machine *m);
/* Hands changed registers to KVM now rather than at the next entry, so
 * that KVM_GET_REGS sees them (a debugger reading a stopped machine). */
int machine_regs_flush(struct machine *m);

/* Guest memory by linear address, through the guest's page tables as of
 * now (vmm/paging.c: never KVM_TRANSLATE, which sets Accessed bits in the
 * guest's tables and so would change the state it inspects).  Read returns
 * the bytes copied before the first unmapped page. */
int machine_translate(struct machine *m, uint64_t lin, uint64_t *gpa);
size_t machine_read_virt(struct machine *m, uint64_t lin, void *buf, size_t len);

/* KVM_SET_GUEST_DEBUG: CONTROL is KVM_GUESTDBG_*, DR the four address
 * registers (may be NULL), DR7 their enables.  Debug exits reach the hooks
 * as VMM_EXIT_DEBUG with the trap's RIP in addr. */
int machine_set_debug(struct machine *m, uint32_t control, const uint64_t dr[4], uint64_t dr7);

/* A debugger's breakpoints patched into guest RAM as the one-byte BYTE at
 * the N guest-physical addresses GPA, over the guest's bytes ORIG.  The
 * landmark hash sees ORIG there (where the byte is still BYTE), as the
 * recording did.  With BYTE 0xf4, HLT (where int3 does not exit): a HLT
 * exit at one of them is not the guest's HLT and not a sync point but a
 * trap, reported as VMM_EXIT_DEBUG at the HLT with RIP moved back onto it.
 * GPA and ORIG must stay valid while set; N = 0 clears. */
void machine_set_traps(struct machine *m, const uint64_t *gpa, const uint8_t *orig, unsigned n,
		       uint8_t byte);

/* Puts the guest's bytes under the breakpoints of machine_set_traps back
 * (GUEST true), or the breakpoints again (false), around a look at RAM
 * as the guest has it. */
void machine_show_guest_bytes(struct machine *m, bool guest);

/* Makes RDMSR of INDEX exit to the hooks (VMM_EXIT_RDMSR).  -ENOTSUP when
 * KVM has no MSR filter.  (With cfg.apic, IA32_APIC_BASE is in the filter
 * too, answered by the machine itself.) */
int machine_trap_rdmsr(struct machine *m, uint32_t index);

/* An interrupt waits for the CPU: the 8259's INTR, or with the APIC its
 * highest deliverable vector (the TPR as the guest's CR8 left it). */
bool machine_irq_pending(struct machine *m);

/* The interrupt controller the guest has: "apic" or "pic", as the trace
 * header, `rrvm info` and `rrvm doctor` name it. */
const char *machine_irq_controller(const struct machine *m);

/* What the machine counted since it was built. */
const struct machine_stats *machine_get_stats(const struct machine *m);

/* Replay: the next sync point is landmark LM (NULL: it is not), to be
 * found by a breakpoint at its RIP and a full comparison at each hit. */
void machine_seek_landmark(struct machine *m, const struct landmark *lm);
/* True when the landmark sought has not been found in MACHINE_SEEK_LIMIT
 * of host time: a diverged replay in a loop without exits would otherwise
 * spin forever (the machine kicks itself then, as VMM_EXIT_KICK). */
bool machine_landmark_overdue(const struct machine *m);
/* Generous: a landmark is found within milliseconds (README.md). */
#define MACHINE_SEEK_LIMIT 20000000000ull

/* Async-signal-safe, from any thread: makes machine_run return
 * MACHINE_STOP_SIGNAL promptly, kicking a running KVM_RUN (kick_now),
 * at the next exit, sync point or not. */
void machine_request_stop(struct machine *m);

#endif
