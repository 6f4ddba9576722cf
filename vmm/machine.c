/* The machine's run loop: the one exit dispatch point, time and input at
 * sync points, interrupt delivery.  Building the machine is machine_init.c. */
#define LOG_MODULE "vmm"
#include "vmm/machine.h"

#include <assert.h>
#include <errno.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>

#include "util/hostclock.h"
#include "util/log.h"
#include "vmm/machine_int.h"
#include "vmm/x86.h"
#include "vmm/paging.h"

void machine_stop(struct machine *m, enum machine_stop why, const char *fmt, ...)
{
	va_list ap;

	if (m->result.why != MACHINE_RUNNING)
		return; /* the first reason wins */
	m->result.why = why;
	va_start(ap, fmt);
	vsnprintf(m->result.detail, sizeof(m->result.detail), fmt, ap);
	va_end(ap);
}

/* ---- Time, input and interrupts ---- */

/* The virtual time at the current sync point, frozen for all of it.  False
 * when the inputs have none (replay: nothing here depended on time). */
static bool machine_time(struct machine *m, vclock_ns *t)
{
	if (!m->now_valid) {
		if (!m->in.clock(m->in.ctx, m->sync, &m->now))
			return false;
		m->now_valid = true;
	}
	*t = m->now;
	return true;
}

/* A device reads the clock. */
vclock_ns machine_clock_cb(void *opaque)
{
	struct machine *m = opaque;
	vclock_ns t;

	if (!machine_time(m, &t)) {
		machine_stop(m, MACHINE_STOP_HOOK, "a device read the clock at sync point %llu, "
			     "where the trace has no time", (unsigned long long)m->sync);
		return m->now;
	}
	m->in.clock_used(m->in.ctx, m->sync, t);
	return t;
}

vclock_ns machine_next_deadline(const struct machine *m)
{
	vclock_ns a = pit_next_deadline(&m->pit), b = rtc_next_deadline(&m->rtc);
	vclock_ns c = m->cfg.apic ? lapic_next_deadline(&m->lapic) : VCLOCK_NEVER;

	a = a < b ? a : b;
	return a < c ? a : c;
}

/* Fires the timers that are due and takes serial input, in an order that
 * record and replay share. */
static void machine_update_inputs(struct machine *m)
{
	vclock_ns due = machine_next_deadline(m), now;
	uint8_t buf[SERIAL_FIFO_SIZE];
	unsigned n;

	if (due != VCLOCK_NEVER && machine_time(m, &now) && now >= due) {
		m->in.clock_used(m->in.ctx, m->sync, now);
		if (pit_next_deadline(&m->pit) <= now)
			pit_update(&m->pit);
		if (rtc_next_deadline(&m->rtc) <= now)
			rtc_update(&m->rtc);
		if (m->cfg.apic && lapic_next_deadline(&m->lapic) <= now)
			lapic_update(&m->lapic);
		if (m->irq_rose == VCLOCK_NEVER && machine_irq_pending(m))
			m->irq_rose = due; /* the line rose at the deadline */
	}
	n = m->in.serial(m->in.ctx, m->sync, buf, serial_rx_space(&m->com1));
	for (unsigned i = 0; i < n; i++)
		serial_rx_push(&m->com1, buf[i]);
	if (m->irq_rose == VCLOCK_NEVER && machine_irq_pending(m) && m->now_valid)
		m->irq_rose = m->now;
}

/* How long the interrupt about to be injected waited since its line rose,
 * in virtual time (0 where this sync point has no time: replay). */
static void machine_note_lateness(struct machine *m)
{
	m->inject_lateness = m->now_valid && m->irq_rose != VCLOCK_NEVER && m->now > m->irq_rose
				     ? m->now - m->irq_rose : 0;
	m->inject_at_landmark = m->lm.at_landmark;
	m->irq_rose = VCLOCK_NEVER;
}

/* The CPU's interrupt input.  PIC mode: the 8259's INTR.  APIC mode: the
 * local APIC's highest deliverable vector, else the 8259 as ExtINT when
 * LINT0 or IOAPIC pin 0 routes it (APIC first, as QEMU does).  The TPR is
 * CR8, which KVM keeps in kvm_run: a MOV to CR8 causes no exit here, so
 * the APIC takes it from there first. */
static bool machine_irq_extint(const struct machine *m)
{
	return pic_intr_pending(&m->pic) &&
	       (lapic_lint0_extint(&m->lapic) || ioapic_extint(&m->ioapic, 0));
}

static void machine_tpr_pull(struct machine *m)
{
	if (m->cfg.apic && m->vcpu.run->cr8 != lapic_get_cr8(&m->lapic))
		lapic_set_cr8(&m->lapic, (uint8_t)m->vcpu.run->cr8);
}

bool machine_irq_pending(struct machine *m)
{
	if (!m->cfg.apic)
		return pic_intr_pending(&m->pic);
	machine_tpr_pull(m);
	return lapic_pending(&m->lapic) >= 0 || machine_irq_extint(m);
}

/* The interrupt acknowledge cycle of what machine_irq_pending() saw. */
static uint8_t machine_irq_ack(struct machine *m)
{
	if (m->cfg.apic && lapic_pending(&m->lapic) >= 0)
		return lapic_intack(&m->lapic);
	return pic_intack(&m->pic);
}

/* Exact policy (DESIGN.md): called only at sync points.  Injects the
 * interrupt controller's interrupt when the guest can take it, else asks
 * KVM to exit as soon as it can (interrupt window), which is again a sync
 * point. */
static void machine_deliver(struct machine *m)
{
	struct kvm_run *run = m->vcpu.run;
	struct kvm_interrupt irq;

	if (m->result.why != MACHINE_RUNNING)
		return;
	machine_update_inputs(m);
	/* An NMI (self-IPI, IOAPIC NMI pin) follows from device state alone,
	 * so replay raises it at the same sync point without a trace event;
	 * IF does not block it, and KVM holds it while NMIs are blocked. */
	if (m->cfg.apic && lapic_nmi_take(&m->lapic) && ioctl(m->vcpu.fd, KVM_NMI) < 0) {
		machine_stop(m, MACHINE_STOP_KVM_ERROR, "KVM_NMI: %s", strerror(errno));
		return;
	}
	if (!machine_irq_pending(m)) {
		run->request_interrupt_window = 0;
		m->lm.held_at = 0;
		return;
	}
	if (!run->ready_for_interrupt_injection || !run->if_flag) {
		m->lm.held_at = 0;
		/* Without a precise window exit, the interrupt waits for the
		 * next exit the guest causes with interrupts enabled. */
		run->request_interrupt_window = m->cfg.irq_window;
		return;
	}
	if (m->in.irq_now &&
	    !m->in.irq_now(m->in.ctx, m->sync, run->exit_reason == KVM_EXIT_HLT)) {
		run->request_interrupt_window = 0; /* it waits for a later exit */
		m->lm.held_at = host_now();      /* ... or a kick (machine_lm.c) */
		return;
	}
	m->lm.held_at = 0;
	irq.irq = machine_irq_ack(m);
	machine_note_lateness(m);
	if (m->hooks && m->hooks->on_inject &&
	    m->hooks->on_inject(m->hooks->ctx, m->sync, (uint8_t)irq.irq) < 0) {
		machine_stop(m, MACHINE_STOP_HOOK, "stopped at interrupt injection");
		return;
	}
	if (ioctl(m->vcpu.fd, KVM_INTERRUPT, &irq) < 0) {
		machine_stop(m, MACHINE_STOP_KVM_ERROR, "KVM_INTERRUPT: %s", strerror(errno));
		return;
	}
	m->stats.injected++;
	m->irq_queued = true;
	m->irq_vector = (uint8_t)irq.irq;
	run->request_interrupt_window = 0;
}

/* HLT with nothing to inject yet: wait for the next timer deadline or
 * serial input (in host time, or not at all in replay), then deliver. */
static void machine_idle(struct machine *m)
{
	struct kvm_run *run = m->vcpu.run;

	fflush(m->cfg.serial_out);
	if (!run->if_flag) {
		machine_stop(m, MACHINE_STOP_HALTED, "guest halted with interrupts disabled");
		return;
	}
	while (!machine_irq_pending(m) && !m->stop_requested &&
	       m->result.why == MACHINE_RUNNING) {
		int r = m->in.idle(m->in.ctx, m->sync, machine_next_deadline(m));

		if (r < 0) {
			machine_stop(m, MACHINE_STOP_HALTED,
				     "guest halted with no interrupt source left to wake it");
			return;
		}
		if (r > 0) { /* the inputs end in this HLT (a recording stopped here) */
			machine_stop(m, MACHINE_STOP_SYNC_LIMIT, "reached sync point %llu in HLT",
				     (unsigned long long)m->sync);
			m->result.in_hlt = true;
			return;
		}
		m->now_valid = false; /* time moves on while the guest idles */
		machine_update_inputs(m);
	}
	if (m->stop_requested && !machine_irq_pending(m) && m->result.why == MACHINE_RUNNING) {
		machine_stop(m, MACHINE_STOP_SIGNAL, "stopped on request in HLT at sync point %llu",
			     (unsigned long long)m->sync);
		m->result.in_hlt = true;
		return;
	}
	machine_deliver(m);
}

/* ---- The exit dispatch point ---- */

static int machine_hook_exit(struct machine *m, struct vmm_exit *x)
{
	m->stats.exits[x->kind]++;
	x->sync = m->sync;
	if (m->hooks && m->hooks->on_exit && m->hooks->on_exit(m->hooks->ctx, x) < 0) {
		machine_stop(m, MACHINE_STOP_HOOK, "stopped by %s exit hook",
			     vmm_exit_kind_name(x->kind));
		return -1;
	}
	return 0;
}

static void machine_unassigned_read(struct machine *m, const char *what, uint64_t addr)
{
	if (m->cfg.strict_io)
		machine_stop(m, MACHINE_STOP_STRICT_IO, "read of %s %#llx with no device", what,
			     (unsigned long long)addr);
	else
		log_debug("read of %s %#llx with no device", what, (unsigned long long)addr);
}

static void machine_exit_io(struct machine *m)
{
	struct kvm_run *run = m->vcpu.run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool in = run->io.direction == KVM_EXIT_IO_IN;

	/* String instructions (INS/OUTS with REP) arrive as COUNT accesses. */
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
		struct vmm_exit x = {
			.kind = in ? VMM_EXIT_IO_IN : VMM_EXIT_IO_OUT,
			.is_sync = true,
			.addr = run->io.port,
			.size = run->io.size,
		};
		uint32_t v = 0;

		if (in) {
			x.claimed = portbus_read(&m->bus, run->io.port, run->io.size, &v);
			x.data = v;
			if (!x.claimed)
				machine_unassigned_read(m, "port", run->io.port);
		} else {
			memcpy(&v, data, run->io.size);
			x.data = v;
			x.claimed = portbus_write(&m->bus, run->io.port, run->io.size, v);
		}
		if (machine_hook_exit(m, &x) < 0)
			return;
		if (in) {
			v = (uint32_t)x.data;
			memcpy(data, &v, run->io.size);
		}
	}
	machine_deliver(m);
}

/* A write to a watched page (and not to code): applied, reported, and not
 * a sync point, since the recording had no exit there. */
static bool machine_is_watch_write(const struct machine *m)
{
	const struct kvm_run *run = m->vcpu.run;

	return run->mmio.is_write && m->mem.nwatch &&
	       gmem_ptr(&m->mem, run->mmio.phys_addr, run->mmio.len) &&
	       gmem_is_watched(&m->mem, run->mmio.phys_addr) &&
	       !gmem_is_protected(&m->mem, run->mmio.phys_addr);
}

static void machine_exit_watch(struct machine *m)
{
	struct kvm_run *run = m->vcpu.run;
	uint8_t *ram = gmem_ptr(&m->mem, run->mmio.phys_addr, run->mmio.len);
	unsigned n = run->mmio.len < 8 ? run->mmio.len : 8;
	struct vmm_exit x = { .kind = VMM_EXIT_WATCH, .addr = run->mmio.phys_addr, .size = n };

	memcpy(&x.old, ram, n);
	memcpy(ram, run->mmio.data, run->mmio.len);
	dirty_mark(&m->dirty, x.addr, run->mmio.len); /* the guest's write, by our hand */
	memcpy(&x.data, run->mmio.data, n);
	machine_hook_exit(m, &x);
}

static void machine_exit_mmio(struct machine *m)
{
	struct kvm_run *run = m->vcpu.run;
	struct vmm_exit x = {
		.kind = run->mmio.is_write ? VMM_EXIT_MMIO_WRITE : VMM_EXIT_MMIO_READ,
		.is_sync = true,
		.addr = run->mmio.phys_addr,
		.size = run->mmio.len,
	};

	machine_tpr_pull(m);
	/* The MMIO devices answer their ranges (reads are device reads like
	 * port reads: the hooks log and check them); elsewhere reads float
	 * high like an empty bus.  A write that lands in RAM hit a read-only
	 * (code) range: it is applied, and the hooks learn of it (x.claimed)
	 * to rescan that code. */
	if (run->mmio.is_write) {
		uint8_t *ram = gmem_ptr(&m->mem, x.addr, run->mmio.len);

		memcpy(&x.data, run->mmio.data, run->mmio.len < 8 ? run->mmio.len : 8);
		if (ram && gmem_is_protected(&m->mem, x.addr)) {
			memcpy(ram, run->mmio.data, run->mmio.len);
			dirty_mark(&m->dirty, x.addr, run->mmio.len);
			x.claimed = true;
		} else if (!mmiobus_write(&m->mmio, x.addr, x.size, x.data)) {
			m->bus.unassigned_writes++;
		}
	} else if (!mmiobus_read(&m->mmio, x.addr, x.size, &x.data)) {
		x.data = UINT64_MAX;
		m->bus.unassigned_reads++;
		machine_unassigned_read(m, "guest-physical address", x.addr);
	}
	if (machine_hook_exit(m, &x) < 0)
		return;
	if (!run->mmio.is_write)
		memcpy(run->mmio.data, &x.data, run->mmio.len < 8 ? run->mmio.len : 8);
	if (m->cfg.apic) /* a TPR write is a CR8 write: KVM takes run->cr8 on entry */
		run->cr8 = lapic_get_cr8(&m->lapic);
	machine_deliver(m);
}

/* RDMSR of an MSR the filter sends to userspace (the TSC, when the
 * recorder asks for it): the hooks supply the value. */
static void machine_exit_rdmsr(struct machine *m)
{
	struct kvm_run *run = m->vcpu.run;
	struct vmm_exit x = {
		.kind = VMM_EXIT_RDMSR, .is_sync = true, .addr = run->msr.index, .size = 8,
	};

	if (m->cfg.apic && x.addr == LAPIC_MSR_APIC_BASE) {
		x.data = lapic_get_base(&m->lapic);
		x.claimed = true;
	}
	if (machine_hook_exit(m, &x) < 0)
		return;
	run->msr.data = x.data;
	run->msr.error = !x.claimed; /* no one answered: #GP, as for a missing MSR */
	machine_deliver(m);
}

/* WRMSR of IA32_APIC_BASE (the only MSR whose writes the filter sends
 * here).  KVM's own copy follows, for CPUID's APIC bit.  Reserved bits and
 * x2APIC get #GP as on hardware; a new base address stops the machine,
 * since rrvm's APIC cannot move. */
static void machine_exit_wrmsr(struct machine *m)
{
	struct kvm_run *run = m->vcpu.run;
	struct vmm_exit x = {
		.kind = VMM_EXIT_WRMSR, .is_sync = true, .addr = run->msr.index, .size = 8,
		.data = run->msr.data,
	};
	int r = -EINVAL;

	if (m->cfg.apic && x.addr == LAPIC_MSR_APIC_BASE) {
		r = lapic_set_base(&m->lapic, x.data);
		x.claimed = r == 0;
		if (r == 0)
			r = vcpu_set_msr(&m->vcpu, LAPIC_MSR_APIC_BASE, lapic_get_base(&m->lapic));
	}
	if (machine_hook_exit(m, &x) < 0)
		return;
	if (r == -EOPNOTSUPP) {
		machine_stop(m, MACHINE_STOP_EMULATION,
			     "the guest moves the local APIC to %#llx (WRMSR IA32_APIC_BASE): rrvm "
			     "keeps it at %#x and cannot relocate it",
			     (unsigned long long)(x.data & ~0xfffull), LAPIC_DEFAULT_BASE);
		return;
	}
	run->msr.error = r != 0;
	machine_deliver(m);
}

/* KVM_EXIT_SET_TPR: VT-x and AMD-V without an in-kernel APIC exit when
 * the guest lowers CR8 (KVM has put the new value in kvm_run->cr8 and
 * takes it back from there on entry).  Not a sync point (kvm_pvm does not
 * exit there), so nothing is injected here: an interrupt the lower TPR
 * lets through waits for the next sync point or landmark, where
 * machine_irq_pending() pulls CR8 again.  The APIC's TPR follows now, so
 * that its state never lags the CPU's at an exit. */
static void machine_exit_set_tpr(struct machine *m)
{
	machine_tpr_pull(m);
}

static void machine_exit_hlt(struct machine *m)
{
	struct vmm_exit x = { .kind = VMM_EXIT_HLT, .is_sync = true };

	if (machine_hook_exit(m, &x) < 0)
		return;
	if (x.claimed) { /* a trap of the hooks' (replay/tsc_gp.h), not the guest's HLT */
		machine_deliver(m);
		return;
	}
	machine_update_inputs(m);
	if (machine_irq_pending(m))
		machine_deliver(m);
	else
		machine_idle(m);
}

static void machine_exit_window(struct machine *m)
{
	struct vmm_exit x = { .kind = VMM_EXIT_IRQ_WINDOW, .is_sync = true };

	if (machine_hook_exit(m, &x) < 0)
		return;
	machine_deliver(m);
}

static uint64_t machine_rip(const struct machine *m)
{
	struct kvm_regs r;

	return vcpu_get_regs(&m->vcpu, &r) < 0 ? 0 : r.rip;
}

/* A HLT exit leaves RIP past the HLT: was that HLT a patched trap? */
static bool machine_is_hlt_trap(struct machine *m)
{
	uint64_t gpa = 0;

	if (!m->ntraps || m->trap_byte != 0xf4 ||
	    machine_translate(m, machine_regs(m)->rip - 1, &gpa) < 0)
		return false;
	for (unsigned i = 0; i < m->ntraps; i++)
		if (m->traps[i] == gpa)
			return true;
	return false;
}

static void machine_exit_hlt_trap(struct machine *m)
{
	struct vmm_exit x = { .kind = VMM_EXIT_DEBUG, .addr = --machine_regs(m)->rip };

	machine_regs_changed(m);
	machine_hook_exit(m, &x);
}

/* A single-step or breakpoint trap the debugger asked for: not a sync
 * point.  The hooks decide whether the machine stops here. */
static void machine_exit_debug(struct machine *m)
{
	struct vmm_exit x = { .kind = VMM_EXIT_DEBUG, .addr = m->vcpu.run->debug.arch.pc };

	if (machine_lm_debug(m, x.addr))
		return; /* a landmark, or a step off a hit that was not one */
	machine_hook_exit(m, &x);
}

void machine_landmark(struct machine *m)
{
	struct vmm_exit x = { .kind = VMM_EXIT_LANDMARK, .is_sync = true };

	m->sync++;
	m->now_valid = false;
	m->at_sync = true;
	m->lm.at_landmark = true;
	m->stats.landmarks++;
	if (machine_hook_exit(m, &x) < 0)
		return;
	landmark_passed(m);
	machine_deliver(m);
}


static void machine_exit_shutdown(struct machine *m)
{
	struct vmm_exit x = { .kind = VMM_EXIT_SHUTDOWN };

	m->result.rip = machine_rip(m);
	machine_hook_exit(m, &x);
	machine_stop(m, MACHINE_STOP_TRIPLE_FAULT, "guest triple fault (shutdown) at rip %#llx",
		     (unsigned long long)m->result.rip);
}

/* The CPU mode, for a message about an instruction KVM could not run:
 * real and 16-bit code need saying, since where ring 0 is emulated
 * (kvm_pvm, HOST.md) the emulator's coverage of them decides whether a
 * real-mode kernel runs at all. */
static const char *machine_mode_note(const struct machine *m)
{
	const struct kvm_sregs *s = &m->vcpu.run->s.regs.sregs;

	if (!(s->cr0 & X86_CR0_PE))
		return ", in real mode";
	if (!(s->efer & X86_EFER_LMA) && !s->cs.db)
		return ", in 16-bit protected mode";
	return "";
}

static void machine_exit_internal(struct machine *m)
{
	struct kvm_run *run = m->vcpu.run;
	struct vmm_exit x = { .kind = VMM_EXIT_ERROR };
	uint8_t code[15];
	char hex[3 * sizeof(code) + 1] = "";
	/* Real mode fetches at CS.base + IP (segment << 4). */
	uint64_t lin = machine_rip(m) + (run->s.regs.sregs.cr0 & X86_CR0_PE
						 ? 0 : run->s.regs.sregs.cs.base);
	unsigned n = (unsigned)machine_read_virt(m, lin, code, sizeof(code));

	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR &&
	    run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION && n &&
	    machine_complete(m, code, n))
		return;
	for (unsigned i = 0; i < n; i++)
		snprintf(hex + (i ? 3 * i - 1 : 0), 4, "%s%02x", i ? " " : "", code[i]);
	m->result.rip = machine_rip(m);
	machine_hook_exit(m, &x);
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR &&
	    run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION)
		machine_stop(m, MACHINE_STOP_EMULATION,
			     "KVM cannot emulate the guest instruction at rip %#llx (bytes: %s)%s",
			     (unsigned long long)m->result.rip, n ? hex : "unreadable",
			     machine_mode_note(m));
	else if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
		machine_stop(m, MACHINE_STOP_KVM_ERROR,
			     "KVM failed to enter the guest (reason %#llx) at rip %#llx",
			     (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
			     (unsigned long long)m->result.rip);
	else
		machine_stop(m, MACHINE_STOP_EMULATION,
			     "KVM internal error %u at rip %#llx (bytes: %s)%s",
			     run->exit_reason == KVM_EXIT_INTERNAL_ERROR ? run->internal.suberror : 0,
			     (unsigned long long)m->result.rip, n ? hex : "unreadable",
			     machine_mode_note(m));
}

typedef void (*machine_exit_fn)(struct machine *m);

/* The one dispatch point: KVM exit reason -> handler. */
static const machine_exit_fn machine_exit_table[] = {
	[KVM_EXIT_IO] = machine_exit_io,
	[KVM_EXIT_MMIO] = machine_exit_mmio,
	[KVM_EXIT_HLT] = machine_exit_hlt,
	[KVM_EXIT_IRQ_WINDOW_OPEN] = machine_exit_window,
	[KVM_EXIT_DEBUG] = machine_exit_debug,
	[KVM_EXIT_SHUTDOWN] = machine_exit_shutdown,
	[KVM_EXIT_X86_RDMSR] = machine_exit_rdmsr,
	[KVM_EXIT_X86_WRMSR] = machine_exit_wrmsr,
	[KVM_EXIT_SET_TPR] = machine_exit_set_tpr,
	[KVM_EXIT_INTERNAL_ERROR] = machine_exit_internal,
	[KVM_EXIT_FAIL_ENTRY] = machine_exit_internal,
};

/* Reads or writes (WRITE set) the W-byte value *V at linear LIN. */
static bool machine_slot(struct machine *m, const struct paging_mode *pm, uint64_t lin,
			 unsigned w, uint64_t *v, bool write)
{
	struct paging_xlat x;

	if (!write) {
		*v = 0;
		return paging_read(&m->mem, pm, lin, v, w) == w;
	}
	return paging_translate(&m->mem, pm, lin, &x) == 0 && gmem_write(&m->mem, x.gpa, v, w) == 0;
}

/* A single step that an exception or interrupt cut into leaves, in the
 * frame the CPU pushed, RFLAGS with the TF that KVM set for the step: a
 * flag the guest never had, in memory that stays (the frame is live in
 * the handler and then lies below the stack pointer), where the landmark
 * memory hash would find it and the recording had none.  Delivery at the
 * same privilege without a stack switch puts the frame right below the old
 * stack pointer (16-aligned in long mode, with SS:RSP): the slot whose RIP
 * is the stepped instruction's, CS the current one, and (long mode) RSP the
 * old one, gets TF cleared. */
static void machine_step_scrub(struct machine *m)
{
	struct machine_lm *l = &m->lm;
	struct paging_mode pm;
	struct kvm_sregs s;
	bool lm;
	unsigned w;
	uint64_t top, f, rip, cs, fl, sp;

	if ((l->step_rflags & X86_RFLAGS_TF) || vcpu_get_sregs(&m->vcpu, &s) < 0)
		return; /* the guest's own TF is the guest's */
	paging_mode_from_sregs(&pm, &s);
	lm = (s.efer & X86_EFER_LMA) && s.cs.l;
	w = lm ? 8 : 4;
	top = lm ? (l->step_rsp & ~15ull) : (uint32_t)l->step_rsp;
	sp = l->step_rsp;
	/* RIP, CS, RFLAGS (then RSP, SS in long mode) up from here; an error
	 * code goes below RIP. */
	f = top - (lm ? 5 : 3) * w;
	if (!machine_slot(m, &pm, f, w, &rip, false) || !machine_slot(m, &pm, f + w, w, &cs, false) ||
	    !machine_slot(m, &pm, f + 2 * w, w, &fl, false) ||
	    (lm && !machine_slot(m, &pm, f + 3 * w, w, &sp, false)))
		return;
	if (rip == (lm ? l->step_rip : (uint32_t)l->step_rip) && (cs & 0xffff) == s.cs.selector &&
	    sp == l->step_rsp && (fl & X86_RFLAGS_TF)) {
		fl &= ~(uint64_t)X86_RFLAGS_TF;
		machine_slot(m, &pm, f + 2 * w, w, &fl, true);
	}
}

static void machine_dispatch(struct machine *m, int rc)
{
	unsigned reason = m->vcpu.run->exit_reason;
	machine_exit_fn fn;

	if (m->lm.step_valid) {
		m->lm.step_valid = false;
		if (rc != -EINTR && rc != -EAGAIN)
			machine_step_scrub(m);
	}
	m->at_sync = false;
	m->lm.at_landmark = false;
	if (reason != KVM_EXIT_DEBUG || rc < 0)
		m->lm.stepover = false; /* any other exit ends a step off a hit */
	/* KVM applied any register changes on entry: do not apply the same
	 * (by now stale) copy again at the next one. */
	m->vcpu.run->kvm_dirty_regs = 0;
	if (rc != -EINTR && rc != -EAGAIN)
		m->irq_queued = m->exc_queued = false; /* KVM entered the guest: it took them */
	if (rc == -EINTR || rc == -EAGAIN || (rc == 0 && reason == KVM_EXIT_INTR)) {
		struct vmm_exit x = { .kind = VMM_EXIT_KICK };

		m->vcpu.run->immediate_exit = 0;
		if (machine_lm_kick(m))
			return;
		machine_hook_exit(m, &x);
		return;
	}
	if (rc < 0) {
		machine_stop(m, MACHINE_STOP_KVM_ERROR, "KVM_RUN: %s", strerror(-rc));
		return;
	}
	fn = reason < sizeof(machine_exit_table) / sizeof(machine_exit_table[0])
		     ? machine_exit_table[reason]
		     : NULL;
	if (!fn) {
		machine_stop(m, MACHINE_STOP_KVM_ERROR, "unexpected KVM exit reason %u", reason);
		return;
	}
	/* Exits the guest's own instructions caused are sync points: number
	 * them before any device or input source sees this one. */
	if (reason == KVM_EXIT_MMIO && machine_is_watch_write(m)) {
		machine_exit_watch(m);
		return;
	}
	if (reason == KVM_EXIT_HLT && machine_is_hlt_trap(m)) {
		machine_exit_hlt_trap(m);
		return;
	}
	if (reason == KVM_EXIT_IO || reason == KVM_EXIT_MMIO || reason == KVM_EXIT_HLT ||
	    reason == KVM_EXIT_IRQ_WINDOW_OPEN || reason == KVM_EXIT_X86_RDMSR ||
	    reason == KVM_EXIT_X86_WRMSR) {
		m->sync++;
		m->now_valid = false;
		m->at_sync = true;
	}
	fn(m);
}

const struct machine_result *machine_run(struct machine *m, const struct vmm_hooks *hooks)
{
	int e;

	m->hooks = hooks;
	m->result.why = MACHINE_RUNNING;
	m->result.in_hlt = false;
	m->at_sync = true;
	if (m->sync == 0)
		m->host_in.origin = host_now(); /* guest time starts with the guest */
	if (machine_lm_start(m) < 0)
		log_warn("cannot set up vCPU kicks: interrupts wait for the next exit");
	while (m->result.why == MACHINE_RUNNING) {
		if (m->stop_requested) {
			machine_stop(m, MACHINE_STOP_SIGNAL, "stopped on request %s sync point %llu",
				     m->at_sync ? "at" : "after", (unsigned long long)m->sync);
			break;
		}
		if (m->sync >= m->stop_after_sync && m->at_sync) {
			machine_stop(m, MACHINE_STOP_SYNC_LIMIT, "reached sync point %llu",
				     (unsigned long long)m->sync);
			break;
		}
		if (machine_lm_at_start(m))
			continue;
		machine_lm_before_run(m);
		if ((e = machine_debug_apply(m)) < 0) {
			machine_stop(m, MACHINE_STOP_KVM_ERROR, "KVM_SET_GUEST_DEBUG: %s",
				     strerror(-e));
			break;
		}
		if ((m->lm.step_valid = m->lm.applied_valid &&
					 (m->lm.applied.control & KVM_GUESTDBG_SINGLESTEP))) {
			m->lm.step_rip = machine_regs(m)->rip;
			m->lm.step_rsp = machine_regs(m)->rsp;
			m->lm.step_rflags = machine_regs(m)->rflags;
		}
		machine_dispatch(m, vcpu_run(&m->vcpu));
	}
	kick_at(&m->kick, 0);
	fflush(m->cfg.serial_out);
	if (!m->result.rip)
		m->result.rip = machine_rip(m);
	return &m->result;
}

struct kvm_regs *machine_regs(struct machine *m)
{
	return &m->vcpu.run->s.regs.regs;
}

void machine_regs_changed(struct machine *m)
{
	m->vcpu.run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
}

int machine_regs_flush(struct machine *m)
{
	int r;

	if (!(m->vcpu.run->kvm_dirty_regs & KVM_SYNC_X86_REGS))
		return 0;
	if ((r = vcpu_set_regs(&m->vcpu, machine_regs(m))) == 0)
		m->vcpu.run->kvm_dirty_regs &= ~(uint64_t)KVM_SYNC_X86_REGS;
	return r;
}

void machine_set_traps(struct machine *m, const uint64_t *gpa, const uint8_t *orig, unsigned n,
		       uint8_t byte)
{
	assert(n <= 64);
	m->traps = gpa;
	m->trap_orig = orig;
	m->ntraps = n;
	m->trap_byte = byte;
	m->traps_shown = 0;
}

void machine_show_guest_bytes(struct machine *m, bool guest)
{
	for (unsigned i = 0; i < m->ntraps; i++) {
		uint8_t *b = gmem_ptr(&m->mem, m->traps[i], 1);

		if (!b)
			continue;
		if (guest && *b == m->trap_byte) {
			*b = m->trap_orig[i];
			m->traps_shown |= 1ull << i;
		} else if (!guest && (m->traps_shown >> i & 1)) {
			*b = m->trap_byte;
		}
	}
	if (!guest)
		m->traps_shown = 0;
}

static int machine_paging(struct machine *m, struct paging_mode *pm)
{
	struct kvm_sregs s;
	int r = vcpu_get_sregs(&m->vcpu, &s);

	if (r == 0)
		paging_mode_from_sregs(pm, &s);
	return r;
}

int machine_translate(struct machine *m, uint64_t lin, uint64_t *gpa)
{
	struct paging_mode pm;
	struct paging_xlat x;
	int r = machine_paging(m, &pm);

	if (r == 0 && (r = paging_translate(&m->mem, &pm, lin, &x)) == 0)
		*gpa = x.gpa;
	return r;
}

size_t machine_read_virt(struct machine *m, uint64_t lin, void *buf, size_t len)
{
	struct paging_mode pm;

	return machine_paging(m, &pm) < 0 ? 0 : paging_read(&m->mem, &pm, lin, buf, len);
}
