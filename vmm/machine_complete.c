/* The machine's side of vmm/complete.h: at an emulation failure, hand the
 * instruction and a copy of the vCPU state to the completer and apply what
 * it did.  Deterministic (state in, state out), so record and replay
 * complete alike; not a sync point (no input is consumed). */
#define LOG_MODULE "vmm"
#include "vmm/machine.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "util/log.h"
#include "vmm/machine_int.h"
#include "vmm/paging.h"

struct mc_mem {
	struct machine *m;
	struct paging_mode pm;
};

static int mc_read(void *ctx, uint64_t lin, void *buf, size_t len)
{
	struct mc_mem *x = ctx;

	return paging_read(&x->m->mem, &x->pm, lin, buf, len) == len ? 0 : -EFAULT;
}

static int mc_write(void *ctx, uint64_t lin, const void *buf, size_t len)
{
	struct mc_mem *x = ctx;

	return paging_write(&x->m->mem, &x->pm, lin, buf, len) == len ? 0 : -EFAULT;
}

static void mc_cpu_from(struct complete_cpu *c, const struct kvm_regs *r,
			const struct kvm_sregs *s, uint16_t fsw)
{
	const uint64_t gpr[CPL_NGPR] = { r->rax, r->rcx, r->rdx, r->rbx, r->rsp, r->rbp,
					 r->rsi, r->rdi, r->r8,	 r->r9,	 r->r10, r->r11,
					 r->r12, r->r13, r->r14, r->r15 };

	memcpy(c->gpr, gpr, sizeof(gpr));
	c->rip = r->rip;
	c->rflags = r->rflags;
	c->cr0 = s->cr0;
	c->fs_base = s->fs.base;
	c->gs_base = s->gs.base;
	c->cpl = s->cs.selector & 3;
	c->bits = s->cs.l ? 64 : s->cs.db ? 32 : 16;
	c->fsw = fsw;
}

static void mc_cpu_to(struct kvm_regs *r, const struct complete_cpu *c)
{
	__u64 *gpr[CPL_NGPR] = { &r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp,
				    &r->rsi, &r->rdi, &r->r8,  &r->r9,	&r->r10, &r->r11,
				    &r->r12, &r->r13, &r->r14, &r->r15 };

	for (unsigned i = 0; i < CPL_NGPR; i++)
		*gpr[i] = c->gpr[i];
	r->rip = c->rip;
	r->rflags = c->rflags;
}

/* Delivers exception VECTOR (no error code) on the next entry. */
static int mc_inject(struct machine *m, int vector)
{
	struct kvm_vcpu_events ev;

	if (ioctl(m->vcpu.fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	ev.exception.injected = 0;
	ev.exception.pending = 0;
	ev.exception.nr = (uint8_t)vector;
	ev.exception.has_error_code = 0;
	ev.exception.injected = 1;
	ev.flags = 0;
	if (ioctl(m->vcpu.fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	m->exc_queued = true;
	return 0;
}

#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082

static int mc_msrs(struct machine *m, uint64_t *star, uint64_t *lstar)
{
	/* struct kvm_msrs ends in a flexible array: the entries follow it in
	 * one buffer (a struct around it is a GNU extension). */
	union {
		struct kvm_msrs h;
		uint8_t bytes[sizeof(struct kvm_msrs) + 2 * sizeof(struct kvm_msr_entry)];
	} q;
	struct kvm_msr_entry e[2] = { { .index = MSR_STAR }, { .index = MSR_LSTAR } };

	memset(&q, 0, sizeof(q));
	q.h.nmsrs = 2;
	memcpy(q.bytes + sizeof(struct kvm_msrs), e, sizeof(e));
	if (ioctl(m->vcpu.fd, KVM_GET_MSRS, &q) != 2)
		return -EIO;
	memcpy(e, q.bytes + sizeof(struct kvm_msrs), sizeof(e));
	*star = e[0].data;
	*lstar = e[1].data;
	return 0;
}

/* A clac at the #PF entry after kvm_pvm's broken SYSCALL from ring 3:
 * complete the SYSCALL instead (complete_syscall_fault). */
static bool mc_syscall(struct machine *m, struct mc_mem *mem, struct kvm_sregs *s,
		       struct complete_cpu *c)
{
	const struct kvm_regs *r = machine_regs(m);
	uint64_t frame[6], star, lstar;
	uint16_t cs, ss;

	if (mc_read(mem, r->rsp, frame, sizeof(frame)) < 0 || frame[1] != s->cr2 ||
	    (frame[2] & 3) != 3 || mc_msrs(m, &star, &lstar) < 0 ||
	    !complete_syscall_fault(frame, s->cr2, lstar, c))
		return false;
	log_debug("syscall %llu (%#llx, %#llx, %#llx) from %#llx", (unsigned long long)r->rax,
		  (unsigned long long)r->rdi, (unsigned long long)r->rsi,
		  (unsigned long long)r->rdx, (unsigned long long)r->rcx);
	complete_syscall_selectors(star, &cs, &ss);
	s->cs = (struct kvm_segment){ .selector = cs, .limit = 0xffffffff, .type = 0xb,
				      .present = 1, .s = 1, .l = 1, .g = 1 };
	s->ss = (struct kvm_segment){ .selector = ss, .limit = 0xffffffff, .type = 0x3,
				      .present = 1, .s = 1, .db = 1, .g = 1 };
	return vcpu_set_sregs(&m->vcpu, s) == 0;
}

bool machine_complete(struct machine *m, const uint8_t *code, size_t len)
{
	struct mc_mem mem = { .m = m };
	struct complete_mem ops = { &mem, mc_read, mc_write };
	struct kvm_regs *r = machine_regs(m);
	struct kvm_sregs s;
	struct kvm_fpu fpu = { 0 };
	struct complete_cpu c;
	enum complete_kind k;
	int vector, e;

	if (vcpu_get_sregs(&m->vcpu, &s) < 0 || vcpu_get_fpu(&m->vcpu, &fpu) < 0)
		return false;
	paging_mode_from_sregs(&mem.pm, &s);
	mc_cpu_from(&c, r, &s, fpu.fsw);
	k = complete_insn(&m->completer, code, len, &c, &ops, &vector);
	if (k == COMPLETE_NONE)
		return false;

	if (k == COMPLETE_CLAC && mc_syscall(m, &mem, &s, &c)) {
		m->completer.syscalls++;
		k = COMPLETE_SYSCALL;
	}
	mc_cpu_to(r, &c);
	/* Hand the registers over now: KVM_SET_VCPU_EVENTS pushes the frame
	 * from the state KVM holds. */
	machine_regs_changed(m);
	if ((e = machine_regs_flush(m)) == 0 && vector >= 0)
		e = mc_inject(m, vector);
	if (e < 0) {
		machine_stop(m, MACHINE_STOP_KVM_ERROR, "completing %s at rip %#llx: %s",
			     complete_name(k), (unsigned long long)r->rip, strerror(-e));
		return true;
	}
	log_debug("completed %s, rip now %#llx", complete_name(k), (unsigned long long)r->rip);
	return true;
}
