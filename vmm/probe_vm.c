#include "vmm/probe_vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/x86.h"

static void probe_write_idt(struct guest_mem *m)
{
	uint8_t *h = gmem_ptr(m, PROBE_HANDLERS, 256 * 8);
	uint64_t *idt = gmem_ptr(m, PROBE_IDT, 256 * 16);
	static const uint8_t sys[] = { 0xb0, 0xaa, 0xe6, PORT_SYSCALL, HLT, 0xeb, 0xfd };

	for (unsigned v = 0; v < 256; v++) {
		/* mov al, v; out PORT_EXCEPTION, al; 1: hlt; jmp 1b */
		const uint8_t stub[8] = { 0xb0, (uint8_t)v, 0xe6, PORT_EXCEPTION, HLT, 0xeb, 0xfd, NOP };
		uint64_t off = PROBE_HANDLERS + v * 8;
		/* Interrupt gate, present; DPL 3 for 0x80 so ring 3 may INT it. */
		uint64_t type = v == 0x80 ? 0xee : 0x8e;

		memcpy(h + v * 8, stub, sizeof(stub));
		idt[2 * v] = (off & 0xffff) | ((uint64_t)SEL_CODE64 << 16) | (type << 40) |
			     ((off >> 16) & 0xffff) << 48;
		idt[2 * v + 1] = off >> 32;
	}
	memcpy(gmem_ptr(m, PROBE_SYSCALL_ENTRY, sizeof(sys)), sys, sizeof(sys));
}

/* IOPERM: an all-zero I/O bitmap lets ring 3 use every port, with IOPL 0
 * (IOPL cannot be relied on: software backends run guest ring 3 with the
 * host's IOPL).  Without it the bitmap lies past the TSS limit: no port. */
static void probe_write_tss(struct guest_mem *m, struct kvm_sregs *s, bool ioperm)
{
	uint8_t *tss = gmem_ptr(m, PROBE_TSS, PROBE_TSS_IOPERM_LIMIT + 1);
	uint64_t rsp0 = PROBE_STACK0;
	uint16_t iopb = 104;

	memset(tss, 0, PROBE_TSS_IOPERM_LIMIT + 1);
	/* The byte after the bitmap must be all ones (SDM 20.5.2). */
	tss[PROBE_TSS_IOPERM_LIMIT] = 0xff;
	s->tr.base = PROBE_TSS;
	s->tr.limit = ioperm ? PROBE_TSS_IOPERM_LIMIT : 103;
	memcpy(tss + 4, &rsp0, 8);
	memcpy(tss + 102, &iopb, 2);
}

void probe_vm_close(struct probe_vm *p)
{
	vcpu_free(&p->vcpu);
	gmem_free(&p->mem);
	free(p->extra);
	kvm_close(&p->kvm);
}

static struct kvm_segment probe_user_seg(uint16_t sel, uint8_t type, bool code)
{
	return (struct kvm_segment){ .limit = 0xffffffff, .selector = sel | 3, .type = type,
				     .present = 1, .dpl = 3, .db = !code, .s = 1, .l = code,
				     .g = 1 };
}

int probe_vm_open(struct probe_vm *p, const char *kvm_path, int ring, const uint8_t *code,
			 size_t len, bool ioperm)
{
	const char *why;
	struct kvm_sregs s;
	struct kvm_regs r;
	int err;

	memset(p, 0, sizeof(*p));
	p->vcpu.fd = -1;
	err = kvm_open(&p->kvm, kvm_path, &why);
	if (err < 0)
		return err;
	if ((err = gmem_init(&p->mem, &p->kvm, PROBE_RAM)) < 0 ||
	    (err = cpuid_build(&p->cpuid, &p->kvm, false)) < 0 ||
	    (err = vcpu_init(&p->vcpu, &p->kvm, &p->cpuid)) < 0 ||
	    (err = vcpu_boot_long(&p->vcpu, &p->mem, 0, PROBE_CODE, true)) < 0)
		goto fail;
	probe_write_idt(&p->mem);
	gmem_write(&p->mem, PROBE_CODE, code, len);
	if ((err = vcpu_get_sregs(&p->vcpu, &s)) < 0 || (err = vcpu_get_regs(&p->vcpu, &r)) < 0)
		goto fail;
	probe_write_tss(&p->mem, &s, ioperm);
	s.idt.base = PROBE_IDT;
	s.idt.limit = 256 * 16 - 1;
	r.rsp = PROBE_STACK0;
	if (ring == PROBE_RING3) {
		s.cs = probe_user_seg(SEL_UCODE64, 0xb, true);
		s.ss = s.ds = s.es = s.fs = s.gs = probe_user_seg(SEL_UDATA, 0x3, false);
		r.rsp = PROBE_STACK3;
	}
	if ((err = vcpu_set_sregs(&p->vcpu, &s)) < 0 || (err = vcpu_set_regs(&p->vcpu, &r)) < 0)
		goto fail;
	/* SYSCALL: kernel CS from STAR[47:32], entry at LSTAR, clear IF. */
	if ((err = vcpu_set_msr(&p->vcpu, X86_MSR_STAR, (uint64_t)SEL_CODE64 << 32 |
					(uint64_t)(SEL_UCODE32 | 3) << 48)) < 0 ||
	    (err = vcpu_set_msr(&p->vcpu, X86_MSR_LSTAR, PROBE_SYSCALL_ENTRY)) < 0 ||
	    (err = vcpu_set_msr(&p->vcpu, X86_MSR_FMASK, X86_RFLAGS_IF)) < 0)
		goto fail;
	return 0;
fail:
	probe_vm_close(p);
	return err;
}

int probe_vm_debug(struct probe_vm *p, uint32_t control, uint64_t dr0, uint64_t dr7)
{
	struct kvm_guest_debug d = { .control = control };

	d.arch.debugreg[0] = dr0;
	d.arch.debugreg[7] = dr7;
	return ioctl(p->vcpu.fd, KVM_SET_GUEST_DEBUG, &d) < 0 ? -errno : 0;
}

struct probe_stop probe_vm_step(struct probe_vm *p)
{
	struct kvm_run *run = p->vcpu.run;
	struct probe_stop st = { .reason = ~0u };
	int r;

	do
		r = vcpu_run(&p->vcpu);
	while (r == -EINTR || r == -EAGAIN);
	if (r < 0)
		return st;
	st.reason = run->exit_reason;
	if (st.reason == KVM_EXIT_DEBUG)
		st.pc = run->debug.arch.pc;
	if (st.reason == KVM_EXIT_IO) {
		st.port = run->io.port;
		st.value = *((uint8_t *)run + run->io.data_offset);
	}
	if (st.reason == KVM_EXIT_MMIO) {
		st.mmio_write = run->mmio.is_write;
		st.mmio_addr = run->mmio.phys_addr;
	}
	return st;
}
