#include "vmm/vcpu.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/cpuid.h"
#include "vmm/kvm.h"
#include "vmm/memory.h"
#include "vmm/x86.h"

#define TSS_LIMIT 103

int vcpu_init(struct vcpu *v, struct kvm *k, const struct cpuid_table *cpuid)
{
	int r;

	v->run = NULL;
	v->fd = ioctl(k->vm_fd, KVM_CREATE_VCPU, 0);
	if (v->fd < 0)
		return -errno;
	v->run_size = k->run_size;
	v->run = mmap(NULL, (size_t)v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		r = -errno;
		v->run = NULL;
		goto fail;
	}
	r = cpuid_apply(cpuid, v->fd);
	if (r < 0)
		goto fail;
	/* KVM copies the general registers into kvm_run at every exit, so
	 * that RIP for each logged event costs no ioctl; and the segment and
	 * control registers, so that a look at the guest's IDT and page
	 * tables at each sync point (replay/tsc_gp.h) costs none either.
	 * Everything reads the general registers there (machine_regs):
	 * without them every RIP would read 0. */
	if (!(kvm_cap(k, KVM_CAP_SYNC_REGS) & KVM_SYNC_X86_REGS)) {
		r = -ENOTSUP;
		goto fail;
	}
	v->run->kvm_valid_regs = kvm_cap(k, KVM_CAP_SYNC_REGS) &
				 (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS);
	return 0;
fail:
	vcpu_free(v);
	return r;
}

void vcpu_free(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, (size_t)v->run_size);
	if (v->fd >= 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}

int vcpu_run(struct vcpu *v)
{
	return ioctl(v->fd, KVM_RUN, 0) < 0 ? -errno : 0;
}

#define VCPU_IOCTL(v, req, arg) (ioctl((v)->fd, (req), (arg)) < 0 ? -errno : 0)

int vcpu_get_regs(const struct vcpu *v, struct kvm_regs *r)
{
	return VCPU_IOCTL(v, KVM_GET_REGS, r);
}

int vcpu_set_regs(const struct vcpu *v, const struct kvm_regs *r)
{
	return VCPU_IOCTL(v, KVM_SET_REGS, r);
}

int vcpu_get_sregs(const struct vcpu *v, struct kvm_sregs *s)
{
	return VCPU_IOCTL(v, KVM_GET_SREGS, s);
}

int vcpu_set_sregs(const struct vcpu *v, const struct kvm_sregs *s)
{
	return VCPU_IOCTL(v, KVM_SET_SREGS, s);
}

int vcpu_get_fpu(const struct vcpu *v, struct kvm_fpu *f)
{
	struct kvm_xsave *x = malloc(sizeof(*x));
	const uint8_t *b = (const uint8_t *)x;

	/* The legacy region is FXSAVE's layout (SDM vol. 1, table 10-2). */
	if (!x || VCPU_IOCTL(v, KVM_GET_XSAVE, x) < 0) {
		free(x);
		return VCPU_IOCTL(v, KVM_GET_FPU, f);
	}
	memset(f, 0, sizeof(*f));
	memcpy(&f->fcw, b, 2);
	memcpy(&f->fsw, b + 2, 2);
	f->ftwx = b[4];
	memcpy(&f->last_opcode, b + 6, 2);
	memcpy(&f->last_ip, b + 8, 8);
	memcpy(&f->last_dp, b + 16, 8);
	memcpy(&f->mxcsr, b + 24, 4);
	for (int i = 0; i < 8; i++)
		memcpy(f->fpr[i], b + 32 + 16 * i, 16);
	memcpy(f->xmm, b + 160, sizeof(f->xmm));
	free(x);
	return 0;
}

int vcpu_translate(const struct vcpu *v, uint64_t linear, uint64_t *phys)
{
	struct kvm_translation t = { .linear_address = linear };
	int r = VCPU_IOCTL(v, KVM_TRANSLATE, &t);

	if (r < 0)
		return r;
	if (!t.valid)
		return -EFAULT;
	*phys = t.physical_address;
	return 0;
}

int vcpu_set_msr(const struct vcpu *v, uint32_t index, uint64_t value)
{
	/* struct kvm_msrs ends in a flexible array: room for one entry. */
	union {
		struct kvm_msrs hdr;
		uint8_t bytes[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
	} m = { 0 };
	struct kvm_msr_entry e = { .index = index, .data = value };
	int r;

	m.hdr.nmsrs = 1;
	memcpy(m.bytes + sizeof(struct kvm_msrs), &e, sizeof(e));
	r = ioctl(v->fd, KVM_SET_MSRS, &m);

	if (r < 0)
		return -errno;
	return r == 1 ? 0 : -EINVAL;
}

uint32_t vcpu_tsc_khz(const struct vcpu *v)
{
	int khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);

	return khz > 0 ? (uint32_t)khz : 1000000;
}

/* A flat segment: base 0, limit 4 GiB, granularity 4 KiB. */
static struct kvm_segment vcpu_flat_seg(uint16_t sel, uint8_t type, bool code64, bool db)
{
	return (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.dpl = (uint8_t)(sel & 3),
		.db = db,
		.s = 1,
		.l = code64,
		.g = 1,
	};
}

/* Packs a kvm_segment into an 8-byte GDT descriptor (SDM 3.4.5). */
static uint64_t vcpu_gdt_desc(const struct kvm_segment *s, uint8_t dpl)
{
	uint64_t lim = s->g ? s->limit >> 12 : s->limit;
	uint64_t d = (lim & 0xffff) | ((s->base & 0xffffff) << 16);

	d |= (uint64_t)(s->type | (s->s << 4) | (dpl << 5) | (s->present << 7)) << 40;
	d |= ((lim >> 16) & 0xf) << 48;
	d |= (uint64_t)((s->avl) | (s->l << 1) | (s->db << 2) | (s->g << 3)) << 52;
	d |= ((s->base >> 24) & 0xff) << 56;
	return d;
}

/* Code types: 0xb = execute/read, accessed; data: 0x3 = read/write, accessed. */
#define SEG_CODE 0xb
#define SEG_DATA 0x3
#define SEG_TSS64_BUSY 0xb

static int vcpu_write_gdt(struct guest_mem *m, uint32_t area, struct kvm_sregs *s)
{
	uint64_t gdt[10] = { 0 };
	struct kvm_segment c64 = vcpu_flat_seg(SEL_CODE64, SEG_CODE, true, false);
	struct kvm_segment c32 = vcpu_flat_seg(SEL_CODE32, SEG_CODE, false, true);
	struct kvm_segment d = vcpu_flat_seg(SEL_DATA, SEG_DATA, false, true);
	uint64_t tss_lo, tss = area + BOOT_TSS_OFF;

	gdt[SEL_CODE64 / 8] = vcpu_gdt_desc(&c64, 0);
	gdt[SEL_DATA / 8] = vcpu_gdt_desc(&d, 0);
	gdt[SEL_UCODE32 / 8] = vcpu_gdt_desc(&c32, 3);
	gdt[SEL_UDATA / 8] = vcpu_gdt_desc(&d, 3);
	gdt[SEL_UCODE64 / 8] = vcpu_gdt_desc(&c64, 3);
	gdt[SEL_CODE32 / 8] = vcpu_gdt_desc(&c32, 0);
	s->tr = (struct kvm_segment){
		.base = tss, .limit = TSS_LIMIT, .selector = SEL_TSS,
		.type = SEG_TSS64_BUSY, .present = 1,
	};
	tss_lo = TSS_LIMIT | ((tss & 0xffffff) << 16) | ((uint64_t)(SEG_TSS64_BUSY | 0x80) << 40) |
		 ((tss >> 24) & 0xff) << 56;
	gdt[SEL_TSS / 8] = tss_lo;
	gdt[SEL_TSS / 8 + 1] = 0;
	s->gdt.base = area + BOOT_GDT_OFF;
	s->gdt.limit = sizeof(gdt) - 1;
	s->idt.base = 0;
	s->idt.limit = 0;
	return gmem_write(m, area + BOOT_GDT_OFF, gdt, sizeof(gdt));
}

static void vcpu_set_data_segs(struct kvm_sregs *s, struct kvm_segment d)
{
	s->ds = s->es = s->fs = s->gs = s->ss = d;
}

static int vcpu_boot_common(struct vcpu *v, struct guest_mem *m, uint32_t area,
			    struct kvm_sregs *s)
{
	int r = vcpu_get_sregs(v, s);

	if (r < 0)
		return r;
	return vcpu_write_gdt(m, area, s);
}

int vcpu_boot_protected(struct vcpu *v, struct guest_mem *m, uint32_t area, uint32_t entry,
			uint32_t eax, uint32_t ebx)
{
	struct kvm_sregs s;
	struct kvm_regs regs = { 0 };
	int r = vcpu_boot_common(v, m, area, &s);

	if (r < 0)
		return r;
	s.cs = vcpu_flat_seg(SEL_CODE32, SEG_CODE, false, true);
	vcpu_set_data_segs(&s, vcpu_flat_seg(SEL_DATA, SEG_DATA, false, true));
	/* Multiboot 1 spec, "Machine state": PE set, PG clear. */
	s.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE;
	s.cr4 = 0;
	s.efer = 0;
	r = vcpu_set_sregs(v, &s);
	if (r < 0)
		return r;
	regs.rip = entry;
	regs.rax = eax;
	regs.rbx = ebx;
	regs.rflags = X86_RFLAGS_FIXED;
	return vcpu_set_regs(v, &regs);
}

static int vcpu_write_page_tables(struct guest_mem *m, uint64_t pml4, bool user)
{
	uint64_t pt[6 * 512];
	uint64_t flags = X86_PTE_P | X86_PTE_W | (user ? X86_PTE_U : 0);

	memset(pt, 0, sizeof(pt));
	pt[0] = (pml4 + 0x1000) | flags;
	for (unsigned i = 0; i < 4; i++)
		pt[512 + i] = (pml4 + 0x2000 + i * 0x1000ull) | flags;
	for (unsigned i = 0; i < 4 * 512; i++)
		pt[1024 + i] = ((uint64_t)i << 21) | flags | X86_PTE_PS;
	return gmem_write(m, pml4, pt, sizeof(pt));
}

int vcpu_boot_long(struct vcpu *v, struct guest_mem *m, uint32_t area, uint64_t entry,
		   bool user)
{
	struct kvm_sregs s;
	struct kvm_regs regs = { 0 };
	int r = vcpu_boot_common(v, m, area, &s);

	if (r < 0)
		return r;
	r = vcpu_write_page_tables(m, area + BOOT_PML4_OFF, user);
	if (r < 0)
		return r;
	s.cs = vcpu_flat_seg(SEL_CODE64, SEG_CODE, true, false);
	vcpu_set_data_segs(&s, vcpu_flat_seg(SEL_DATA, SEG_DATA, false, true));
	s.cr3 = area + BOOT_PML4_OFF;
	s.cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	s.cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_PG;
	s.efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE | X86_EFER_SCE;
	r = vcpu_set_sregs(v, &s);
	if (r < 0)
		return r;
	regs.rip = entry;
	regs.rsp = area + BOOT_AREA_SIZE;
	regs.rflags = X86_RFLAGS_FIXED;
	return vcpu_set_regs(v, &regs);
}
