#define _GNU_SOURCE
#define LOG_MODULE "probe"
#include "vmm/probe.h"

#include <cpuid.h>
#include <errno.h>
#include <linux/kvm.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/hostclock.h"
#include "util/log.h"
#include "vmm/complete.h"
#include "vmm/cpuid.h"
#include "vmm/hostcpu.h"
#include "vmm/kvm.h"
#include "vmm/memory.h"
#include "vmm/vcpu.h"
#include "vmm/x86.h"

#include "vmm/probe_vm.h"

static void probe_set(struct probe_result *res, enum probe_outcome o, const char *detail)
{
	res->outcome = o;
	snprintf(res->detail, sizeof(res->detail), "%s", detail);
}

/* Classifies a stop that was not the one the probe hoped for.  MARKER: the
 * probe code ends in UD2, so #UD means the probed instruction had no effect. */
static void probe_classify(struct probe_result *res, const struct probe_stop *st, bool marker)
{
	static const char *const vec_name[32] = { [1] = "#DB", [3] = "#BP", [6] = "#UD",
						  [13] = "#GP", [14] = "#PF" };
	char buf[64];

	if (marker && st->reason == KVM_EXIT_IO && st->port == PORT_EXCEPTION &&
	    st->value == X86_EXC_UD) {
		res->vector = X86_EXC_UD;
		probe_set(res, PROBE_IGNORED, "ignored");
	} else if (st->reason == KVM_EXIT_IO && st->port == PORT_EXCEPTION) {
		res->vector = st->value;
		if (st->value < 32 && vec_name[st->value])
			snprintf(buf, sizeof(buf), "delivered to the guest as %s", vec_name[st->value]);
		else
			snprintf(buf, sizeof(buf), "guest exception %u", st->value);
		probe_set(res, PROBE_TO_GUEST, buf);
	} else if (st->reason == KVM_EXIT_IO && st->port == PORT_TICK) {
		probe_set(res, PROBE_IGNORED, "ignored");
	} else if (st->reason == KVM_EXIT_INTERNAL_ERROR) {
		probe_set(res, PROBE_EMUL_FAIL, "KVM internal error (emulation failure)");
	} else {
		snprintf(buf, sizeof(buf), "unexpected exit %u", st->reason);
		probe_set(res, PROBE_OTHER, buf);
	}
}

/* Sets up a VM, runs CODE once, and hands the first stop to the caller. */
static int probe_once(const char *kvm_path, int ring, const uint8_t *code, size_t len,
		      bool ioperm, uint32_t dbg, uint64_t dr0, uint64_t dr7,
		      struct probe_stop *st, struct probe_result *res)
{
	struct probe_vm p;
	int err = probe_vm_open(&p, kvm_path, ring, code, len, ioperm);

	if (err == 0 && dbg)
		err = probe_vm_debug(&p, dbg, dr0, dr7);
	if (err < 0) {
		probe_set(res, PROBE_UNKNOWN, strerror(-err));
		if (p.kvm.vm_fd >= 0)
			probe_vm_close(&p);
		return err;
	}
	*st = probe_vm_step(&p);
	probe_vm_close(&p);
	return 0;
}

/* Single-step: the first exit must be a debug exit after one instruction. */
static void probe_singlestep(const char *kp, int ring, struct probe_result *res)
{
	static const uint8_t code[] = { NOP, NOP, NOP, UD2 };
	struct probe_stop st;

	if (probe_once(kp, ring, code, sizeof(code), false,
		       KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP, 0, 0, &st, res) < 0)
		return;
	if (st.reason == KVM_EXIT_DEBUG && st.pc == PROBE_CODE + 1)
		probe_set(res, PROBE_EXITS, "works");
	else if (st.reason == KVM_EXIT_DEBUG && st.pc >= PROBE_HANDLERS &&
		 st.pc < PROBE_HANDLERS + 256 * 8)
		/* The trap went to the guest's #DB handler, whose first
		 * instruction in ring 0 is what finally exited. */
		probe_set(res, PROBE_TO_GUEST, "ignored (the guest gets #DB)");
	else
		probe_classify(res, &st, true);
}

/* DR7: L0 enable (bit 0), RW0 (bits 16-17), LEN0 (bits 18-19). */
#define DR7_L0 1u
#define DR7_RW0_WRITE (1u << 16)
#define DR7_LEN0_4 (3u << 18)

static void probe_hw_bp(const char *kp, int ring, struct probe_result *res)
{
	static const uint8_t code[] = { NOP, NOP, NOP, UD2 };
	struct probe_stop st;

	if (probe_once(kp, ring, code, sizeof(code), false,
		       KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP, PROBE_CODE + 2, DR7_L0, &st,
		       res) < 0)
		return;
	if (st.reason == KVM_EXIT_DEBUG && st.pc == PROBE_CODE + 2)
		probe_set(res, PROBE_EXITS, "works");
	else
		probe_classify(res, &st, true);
}

static void probe_data_bp(const char *kp, int ring, struct probe_result *res)
{
	/* mov [PROBE_DATA], eax (89 04 25 disp32); nop; out; hlt */
	static const uint8_t code[] = { 0x89, 0x04, 0x25, PROBE_DATA & 0xff, (PROBE_DATA >> 8) & 0xff,
					(PROBE_DATA >> 16) & 0xff, 0, NOP, UD2 };
	struct probe_stop st;

	if (probe_once(kp, ring, code, sizeof(code), false,
		       KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP, PROBE_DATA,
		       DR7_L0 | DR7_RW0_WRITE | DR7_LEN0_4, &st, res) < 0)
		return;
	if (st.reason == KVM_EXIT_DEBUG)
		probe_set(res, PROBE_EXITS, "works");
	else if (st.reason == KVM_EXIT_IO && st.port == PORT_EXCEPTION && st.value == X86_EXC_UD)
		probe_set(res, PROBE_IGNORED, "never fire");
	else
		probe_classify(res, &st, true);
}

static void probe_int3(const char *kp, int ring, struct probe_result *res)
{
	static const uint8_t code[] = { NOP, 0xcc, NOP, UD2 };
	struct probe_stop st;

	if (probe_once(kp, ring, code, sizeof(code), false,
		       KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP, 0, 0, &st, res) < 0)
		return;
	if (st.reason == KVM_EXIT_DEBUG)
		probe_set(res, PROBE_EXITS, "exits to userspace");
	else if (st.reason == KVM_EXIT_IO && st.port == PORT_EXCEPTION && st.value == X86_EXC_BP)
		probe_set(res, PROBE_TO_GUEST, "delivered to the guest as #BP, no exit");
	else
		probe_classify(res, &st, true);
}

/* The instructions vmm/complete.h completes, each in ring 0 followed by
 * UD2: a #UD report means KVM ran it, an emulation failure that rrvm has
 * to complete it (vmm/machine_complete.c). */
_Static_assert(PROBE_NCOMPLETE == COMPLETE_KINDS, "one probe result per completion");

static void probe_completions(const char *kp, struct probe_result *res)
{
	static const struct {
		enum complete_kind k;
		uint8_t code[12];
		uint8_t len;
	} insns[] = {
		{ COMPLETE_INT3, { 0xcc, 0x0f, 0x0b }, 3 },
		{ COMPLETE_FWAIT, { 0x9b, 0x0f, 0x0b }, 3 },
		{ COMPLETE_CLAC, { 0x0f, 0x01, 0xca, 0x0f, 0x0b }, 5 },
		{ COMPLETE_STAC, { 0x0f, 0x01, 0xcb, 0x0f, 0x0b }, 5 },
		{ COMPLETE_POPCNT, { 0xf3, 0x48, 0x0f, 0xb8, 0xc3, 0x0f, 0x0b }, 7 },
		/* lock cmpxchg16b [PROBE_DATA] (16-byte aligned) */
		{ COMPLETE_CMPXCHG16B, { 0xf0, 0x48, 0x0f, 0xc7, 0x0c, 0x25, PROBE_DATA & 0xff,
					 (PROBE_DATA >> 8) & 0xff, (PROBE_DATA >> 16) & 0xff, 0,
					 0x0f, 0x0b }, 12 },
	};

	for (size_t i = 0; i < sizeof(insns) / sizeof(insns[0]); i++) {
		struct probe_stop st;
		struct probe_result *r = &res[insns[i].k];

		if (probe_once(kp, PROBE_RING0, insns[i].code, insns[i].len, false, 0, 0, 0, &st,
			       r) < 0)
			continue;
		if (st.reason == KVM_EXIT_INTERNAL_ERROR)
			probe_set(r, PROBE_EMUL_FAIL, "KVM cannot emulate it: rrvm completes it");
		else if (st.reason == KVM_EXIT_IO && st.port == PORT_EXCEPTION && st.value == X86_EXC_UD)
			probe_set(r, PROBE_IGNORED, "KVM runs it");
		else
			probe_classify(r, &st, false);
	}
}

/* A ring-3 instruction whose architectural effect we test; GOOD_PORT is the
 * port that says it did what the VMM needs. */
static void probe_ring3_insn(const char *kp, const uint8_t *code, size_t len, uint16_t good_port,
			     uint8_t good_value, const char *good, struct probe_result *res)
{
	struct probe_stop st;

	if (probe_once(kp, PROBE_RING3, code, len, false, 0, 0, 0, &st, res) < 0)
		return;
	if (st.reason == KVM_EXIT_IO && st.port == good_port && st.value == good_value)
		probe_set(res, PROBE_EXITS, good);
	else
		probe_classify(res, &st, false);
}

static void probe_hlt(const char *kp, struct probe_result *res)
{
	static const uint8_t code[] = { NOP, HLT, OUT_TICK };
	struct probe_vm p;
	struct kvm_regs r;
	struct probe_stop st;

	if (probe_vm_open(&p, kp, PROBE_RING0, code, sizeof(code), false) < 0) {
		probe_set(res, PROBE_UNKNOWN, "cannot create a VM");
		return;
	}
	st = probe_vm_step(&p);
	if (st.reason == KVM_EXIT_HLT && vcpu_get_regs(&p.vcpu, &r) == 0 && r.rip == PROBE_CODE + 2)
		probe_set(res, PROBE_EXITS, "KVM_EXIT_HLT, RIP past the HLT");
	else if (st.reason == KVM_EXIT_HLT)
		probe_set(res, PROBE_OTHER, "KVM_EXIT_HLT, RIP not advanced");
	else
		probe_classify(res, &st, true);
	probe_vm_close(&p);
}

/* Requests an interrupt window while IF=0, then STI: the exit must come
 * right after the instruction in STI's shadow. */
static void probe_irq_window(const char *kp, struct probe_result *res)
{
	static const uint8_t code[] = { 0xfa, OUT_TICK, NOP, 0xfb, NOP, NOP, NOP, NOP, HLT };
	const uint64_t after_shadow = PROBE_CODE + 5;
	struct probe_vm p;
	struct kvm_regs r;
	struct probe_stop st;

	probe_set(res, PROBE_UNKNOWN, "cannot create a VM");
	if (probe_vm_open(&p, kp, PROBE_RING0, code, sizeof(code), false) < 0)
		return;
	st = probe_vm_step(&p); /* the OUT, with IF=0 */
	p.vcpu.run->request_interrupt_window = 1;
	if (st.reason == KVM_EXIT_IO)
		st = probe_vm_step(&p);
	if (vcpu_get_regs(&p.vcpu, &r) < 0)
		probe_set(res, PROBE_OTHER, "cannot read registers");
	else if (st.reason == KVM_EXIT_IRQ_WINDOW_OPEN && r.rip == after_shadow)
		probe_set(res, PROBE_EXITS, "precise");
	else if (st.reason == KVM_EXIT_IRQ_WINDOW_OPEN || st.reason == KVM_EXIT_HLT)
		probe_set(res, PROBE_IGNORED, "late (comes with a later exit): not used");
	else
		probe_classify(res, &st, false);
	probe_vm_close(&p);
}

bool probe_irq_window_precise(const char *kp)
{
	struct probe_result r;

	probe_irq_window(kp, &r);
	return probe_works(&r);
}

unsigned probe_landmark_rings(const char *kp)
{
	static const int cpl[PROBE_NRINGS] = { [PROBE_RING0] = 0, [PROBE_RING3] = 3 };
	struct probe_result bp, step;
	unsigned rings = 0;

	for (int ring = 0; ring < PROBE_NRINGS; ring++) {
		probe_hw_bp(kp, ring, &bp);
		probe_singlestep(kp, ring, &step);
		if (probe_works(&bp) && probe_works(&step))
			rings |= 1u << cpl[ring];
	}
	return rings;
}

/* Does RDTSC exit?  It should not anywhere: rrvm patches it instead. */
static void probe_rdtsc(const char *kp, struct probe_result *res)
{
	static const uint8_t code[] = { 0x0f, 0x31, OUT_TICK, HLT };
	struct probe_stop st;

	if (probe_once(kp, PROBE_RING0, code, sizeof(code), false, 0, 0, 0, &st, res) < 0)
		return;
	if (st.reason == KVM_EXIT_IO && st.port == PORT_TICK)
		probe_set(res, PROBE_IGNORED, "no exit (executed inside KVM)");
	else
		probe_classify(res, &st, true);
}

/* Average round trip of an OUT exit over many iterations. */
static double probe_exit_rtt(const char *kp, int ring)
{
	static const uint8_t code[] = { OUT_TICK, 0xeb, 0xfc }; /* 1: out; jmp 1b */
	const int n = 2000;
	struct probe_vm p;
	host_ns t0;
	int i;

	if (probe_vm_open(&p, kp, ring, code, sizeof(code), true) < 0)
		return -1;
	probe_vm_step(&p); /* warm up */
	t0 = host_now();
	for (i = 0; i < n; i++) {
		struct probe_stop st = probe_vm_step(&p);
		if (st.reason != KVM_EXIT_IO)
			break;
	}
	probe_vm_close(&p);
	return i == n ? (double)(host_now() - t0) / n / 1000.0 : -1;
}

static void probe_memslots(const char *kp, struct host_caps *c)
{
	/* mov eax, [RO]; mov [RO], eax; mov [DIRTY], eax; out; hlt */
#define ABS32(a) (a) & 0xff, ((a) >> 8) & 0xff, ((a) >> 16) & 0xff, ((a) >> 24) & 0xff
	static const uint8_t code[] = { 0x8b, 0x04, 0x25, ABS32(PROBE_RO_GPA),
					0x89, 0x04, 0x25, ABS32(PROBE_RO_GPA),
					0x89, 0x04, 0x25, ABS32(PROBE_DIRTY_GPA),
					OUT_TICK, HLT };
	struct probe_vm p;
	struct probe_stop st;
	struct kvm_dirty_log log = { 0 };
	uint64_t bitmap = 0;
	int ro_slot, dirty_slot;

	probe_set(&c->ro_memslot, PROBE_UNKNOWN, "cannot create a VM");
	probe_set(&c->dirty_log, PROBE_UNKNOWN, "cannot create a VM");
	if (probe_vm_open(&p, kp, PROBE_RING0, code, sizeof(code), false) < 0)
		return;
	p.extra = aligned_alloc(4096, 2 * 4096);
	if (!p.extra)
		goto out;
	memset(p.extra, 0x5a, 2 * 4096);
	ro_slot = kvm_add_slot(&p.kvm, PROBE_RO_GPA, 4096, p.extra, KVM_MEM_READONLY);
	dirty_slot = kvm_add_slot(&p.kvm, PROBE_DIRTY_GPA, 4096, (char *)p.extra + 4096,
				  KVM_MEM_LOG_DIRTY_PAGES);
	if (ro_slot < 0) {
		probe_set(&c->ro_memslot, PROBE_OTHER, "KVM_MEM_READONLY refused");
		goto out;
	}
	st = probe_vm_step(&p);
	if (st.reason == KVM_EXIT_MMIO && st.mmio_write && st.mmio_addr == PROBE_RO_GPA)
		probe_set(&c->ro_memslot, PROBE_EXITS, "write exits as KVM_EXIT_MMIO");
	else
		probe_classify(&c->ro_memslot, &st, false);
	if (dirty_slot < 0) {
		probe_set(&c->dirty_log, PROBE_OTHER, "KVM_MEM_LOG_DIRTY_PAGES refused");
		goto out;
	}
	st = probe_vm_step(&p);
	log.slot = (uint32_t)dirty_slot;
	log.dirty_bitmap = &bitmap;
	if (st.reason == KVM_EXIT_IO && ioctl(p.kvm.vm_fd, KVM_GET_DIRTY_LOG, &log) == 0 &&
	    (bitmap & 1))
		probe_set(&c->dirty_log, PROBE_EXITS, "works");
	else
		probe_set(&c->dirty_log, PROBE_OTHER, "written page not reported dirty");
out:
	probe_vm_close(&p);
}

/* A single step over a write to a read-only memslot: the write exits as
 * MMIO; once it is completed (the next KVM_RUN), does the step end right
 * after the writing instruction, as the time-travel engine's positions
 * need, or does the guest run on? */
static void probe_step_ro_write(const char *kp, struct probe_result *res)
{
	/* mov [RO], eax (7 bytes); nop; nop; ud2 */
	static const uint8_t code[] = { 0x89, 0x04, 0x25, ABS32(PROBE_RO_GPA), NOP, NOP, UD2 };
	struct probe_vm p;
	struct probe_stop st;
	char buf[64];

	probe_set(res, PROBE_UNKNOWN, "cannot create a VM");
	if (probe_vm_open(&p, kp, PROBE_RING0, code, sizeof(code), false) < 0)
		return;
	p.extra = aligned_alloc(4096, 4096);
	if (!p.extra || kvm_add_slot(&p.kvm, PROBE_RO_GPA, 4096, p.extra, KVM_MEM_READONLY) < 0 ||
	    probe_vm_debug(&p, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP, 0, 0) < 0)
		goto out;
	st = probe_vm_step(&p);
	if (st.reason != KVM_EXIT_MMIO || !st.mmio_write) {
		probe_classify(res, &st, true);
		goto out;
	}
	st = probe_vm_step(&p);
	if (st.reason == KVM_EXIT_DEBUG && st.pc == PROBE_CODE + 7) {
		probe_set(res, PROBE_EXITS, "the step ends after the write");
	} else if (st.reason == KVM_EXIT_DEBUG && st.pc > PROBE_CODE + 7 && st.pc < PROBE_CODE + 16) {
		unsigned more = (unsigned)(st.pc - PROBE_CODE - 7); /* NOPs: a byte each */

		snprintf(buf, sizeof(buf), "the step runs on (%u more instruction%s)", more,
			 more == 1 ? "" : "s");
		probe_set(res, PROBE_IGNORED, buf);
	} else {
		probe_classify(res, &st, true);
	}
out:
	probe_vm_close(&p);
}

/* Ring 3 runs CPUID leaf 1 and faults on the UD2 after it: does the answer
 * come from the host CPU the thread is pinned to (kvm_pvm: CPUID runs
 * natively in guest user mode) rather than from rrvm's table? */
static void probe_cpuid_ring3(const char *kp, struct probe_result *res)
{
	static const uint8_t code[] = { 0xb8, 1, 0, 0, 0, 0x31, 0xc9, 0x0f, 0xa2, UD2 };
	cpu_set_t allowed;
	uint64_t unused;
	struct probe_vm p;
	struct probe_stop st;
	struct kvm_regs r;
	const struct cpuid_entry *mine;
	uint32_t h[4];

	probe_set(res, PROBE_UNKNOWN, "?");
	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0 || hostcpu_pin_here(&unused) < 0)
		return;
	if (probe_vm_open(&p, kp, PROBE_RING3, code, sizeof(code), false) < 0)
		goto out;
	st = probe_vm_step(&p);
	mine = cpuid_find(&p.cpuid, 1, 0);
	__cpuid_count(1, 0, h[0], h[1], h[2], h[3]);
	if (st.reason != KVM_EXIT_IO || st.port != PORT_EXCEPTION || st.value != 6 ||
	    vcpu_get_regs(&p.vcpu, &r) < 0)
		probe_classify(res, &st, false);
	/* EBX[31:24] is the initial APIC ID: the host CPU's, not rrvm's 0. */
	else if (r.rbx == h[1] && mine && (r.rbx != mine->ebx || r.rax != mine->eax ||
					   r.rcx != mine->ecx || r.rdx != mine->edx))
		probe_set(res, PROBE_EXITS, "answered by the host CPU");
	else
		probe_set(res, PROBE_IGNORED, "answered from rrvm's table");
	probe_vm_close(&p);
out:
	sched_setaffinity(0, sizeof(allowed), &allowed);
}

bool probe_cpuid_ring3_host(const char *kp)
{
	struct probe_result r;

	probe_cpuid_ring3(kp, &r);
	return probe_works(&r);
}

/* Does KVM_SET_CPUID2 stick, or does the backend rewrite rrvm's table? */
static void probe_cpuid(struct host_caps *c, const char *kp)
{
	static const uint8_t code[] = { HLT };
	struct probe_vm p;
	struct cpuid_table seen;

	snprintf(c->cpuid_rewritten, sizeof(c->cpuid_rewritten), "?");
	if (probe_vm_open(&p, kp, PROBE_RING0, code, sizeof(code), false) < 0)
		return;
	if (cpuid_read(&seen, p.vcpu.fd) == 0)
		cpuid_diff(&p.cpuid, &seen, c->cpuid_rewritten, sizeof(c->cpuid_rewritten));
	probe_vm_close(&p);
}

static void probe_pmu(struct host_caps *c, const char *kp)
{
	struct kvm k;
	const char *why;
	struct kvm_cpuid2 *sup;
	const unsigned max = 256;

	if (kvm_open(&k, kp, &why) < 0)
		return;
	c->api_version = ioctl(k.sys_fd, KVM_GET_API_VERSION, 0);
	c->manual_dirty_protect = kvm_cap(&k, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) > 0;
	c->dirty_ring = kvm_cap(&k, KVM_CAP_DIRTY_LOG_RING) > 0;
	c->tsc_control = kvm_cap(&k, KVM_CAP_TSC_CONTROL) > 0;
	c->msr_filter = kvm_cap(&k, KVM_CAP_X86_MSR_FILTER) > 0;
	c->user_msr = kvm_cap(&k, KVM_CAP_X86_USER_SPACE_MSR) > 0;
	sup = calloc(1, sizeof(*sup) + max * sizeof(sup->entries[0]));
	if (sup) {
		sup->nent = max;
		if (ioctl(k.sys_fd, KVM_GET_SUPPORTED_CPUID, sup) == 0)
			for (unsigned i = 0; i < sup->nent; i++)
				if (sup->entries[i].function == 0xa) {
					/* Architectural PMU leaf: EAX[7:0] version,
					 * EAX[15:8] general-purpose counters. */
					c->pmu_version = sup->entries[i].eax & 0xff;
					c->pmu_counters = (sup->entries[i].eax >> 8) & 0xff;
				}
		free(sup);
	}
	c->pmu = c->pmu_version > 0 && c->pmu_counters > 0;
	kvm_close(&k);
}

int probe_host(struct host_caps *c, const char *kp)
{
	static const uint8_t out_code[] = { OUT_TICK, HLT };
	static const uint8_t int80_code[] = { 0xcd, 0x80, HLT };
	static const uint8_t syscall_code[] = { 0x0f, 0x05, HLT };
	struct kvm k;
	const char *why;
	int err;

	memset(c, 0, sizeof(*c));
	snprintf(c->backend, sizeof(c->backend), "%s", kvm_backend());
	err = kvm_open(&k, kp, &why);
	if (err < 0)
		return err;
	kvm_close(&k);
	probe_pmu(c, kp);
	for (int ring = 0; ring < PROBE_NRINGS; ring++) {
		c->exit_rtt_us[ring] = probe_exit_rtt(kp, ring);
		probe_singlestep(kp, ring, &c->singlestep[ring]);
		probe_hw_bp(kp, ring, &c->hw_bp[ring]);
		probe_data_bp(kp, ring, &c->data_bp[ring]);
		probe_int3(kp, ring, &c->int3[ring]);
	}
	probe_ring3_insn(kp, out_code, sizeof(out_code), PORT_TICK, 0, "exits to userspace",
			 &c->out_ring3);
	probe_ring3_insn(kp, int80_code, sizeof(int80_code), PORT_EXCEPTION, 0x80,
			 "reaches the ring-0 handler", &c->int80_ring3);
	probe_ring3_insn(kp, syscall_code, sizeof(syscall_code), PORT_SYSCALL, 0xaa,
			 "reaches LSTAR", &c->syscall_ring3);
	probe_hlt(kp, &c->hlt_ring0);
	probe_irq_window(kp, &c->irq_window);
	probe_rdtsc(kp, &c->rdtsc);
	probe_memslots(kp, c);
	probe_step_ro_write(kp, &c->step_ro_write);
	probe_completions(kp, c->complete);
	probe_cpuid(c, kp);
	probe_cpuid_ring3(kp, &c->cpuid_ring3);
	return 0;
}

int probe_summary(const struct host_caps *c, char *buf, size_t len)
{
	int n = snprintf(buf, len,
			 "backend=%s singlestep=%d%d hwbp=%d%d databp=%d%d int3=%d%d "
			 "ro_memslot=%d dirty_log=%d pmu=%d",
			 c->backend, probe_works(&c->singlestep[0]), probe_works(&c->singlestep[1]),
			 probe_works(&c->hw_bp[0]), probe_works(&c->hw_bp[1]),
			 probe_works(&c->data_bp[0]), probe_works(&c->data_bp[1]),
			 probe_works(&c->int3[0]), probe_works(&c->int3[1]),
			 probe_works(&c->ro_memslot), probe_works(&c->dirty_log), c->pmu);

	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}
