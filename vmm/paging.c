#include "vmm/paging.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <string.h>

#include "vmm/memory.h"
#include "vmm/x86.h"

/* SDM vol. 3, 2.5 and 4.1: the bits x86.h does not define yet. */
#define PAGING_CR4_PSE (1ull << 4)
#define PAGING_CR4_LA57 (1ull << 12)
#define PAGING_PTE_XD (1ull << 63)

/* Physical-address bits of an entry: 51:12 in PAE and long mode (bits
 * above MAXPHYADDR are reserved and ignored, i.e. kept: such an address is
 * never RAM), 31:12 in 32-bit paging. */
#define PAGING_ADDR64 0x000ffffffffff000ull
#define PAGING_ADDR32 0xfffff000ull
#define PAGING_PAGE 4096ull

/* One level of a walk: the linear-address bits [shift, shift + bits) that
 * index its table. */
struct paging_level {
	uint8_t shift, bits;
	bool leaf_ok; /* PS maps a page here (else PS is reserved or ignored) */
	bool rights;  /* the entry has R/W, U/S and XD (not PAE PDPTEs) */
};

struct paging_format {
	uint8_t nlevels, entry_size;
	bool sign_extend;   /* long mode: canonical addresses; else 32-bit ones */
	uint64_t root_mask; /* table address bits of CR3 */
	uint64_t addr_mask;
	struct paging_level lv[5];
};

/* SDM 4.3: 10 + 10 bits, 4-byte entries; PS in a PDE only with CR4.PSE. */
static const struct paging_format paging_32 = {
	2, 4, false, PAGING_ADDR32, PAGING_ADDR32,
	{ { 22, 10, false, true }, { 12, 10, false, true } },
};
static const struct paging_format paging_32_pse = {
	2, 4, false, PAGING_ADDR32, PAGING_ADDR32,
	{ { 22, 10, true, true }, { 12, 10, false, true } },
};
/* SDM 4.4: four PDPTEs at CR3[31:5] holding only P and the address. */
static const struct paging_format paging_pae = {
	3, 8, false, 0xffffffe0ull, PAGING_ADDR64,
	{ { 30, 2, false, false }, { 21, 9, true, true }, { 12, 9, false, true } },
};
/* SDM 4.5: PS is reserved in PML5Es and PML4Es, a 1 GiB page in PDPTEs. */
static const struct paging_format paging_4level = {
	4, 8, true, PAGING_ADDR64, PAGING_ADDR64,
	{ { 39, 9, false, true }, { 30, 9, true, true }, { 21, 9, true, true },
	  { 12, 9, false, true } },
};
static const struct paging_format paging_5level = {
	5, 8, true, PAGING_ADDR64, PAGING_ADDR64,
	{ { 48, 9, false, true }, { 39, 9, false, true }, { 30, 9, true, true },
	  { 21, 9, true, true }, { 12, 9, false, true } },
};

void paging_mode_from_sregs(struct paging_mode *pm, const struct kvm_sregs *s)
{
	*pm = (struct paging_mode){ s->cr0, s->cr3, s->cr4, s->efer };
}

uint64_t paging_seg_lin(const struct kvm_sregs *s, const struct kvm_segment *seg, uint64_t off)
{
	if ((s->efer & X86_EFER_LMA) && s->cs.l)
		return off;
	return (uint32_t)(seg->base + off);
}

/* NULL when paging is off.  LMA, not LME: long mode is active only once
 * CR0.PG is set too, and LMA implies CR4.PAE. */
static const struct paging_format *paging_format_of(const struct paging_mode *pm)
{
	if (!(pm->cr0 & X86_CR0_PG))
		return NULL;
	if (pm->efer & X86_EFER_LMA)
		return pm->cr4 & PAGING_CR4_LA57 ? &paging_5level : &paging_4level;
	if (pm->cr4 & X86_CR4_PAE)
		return &paging_pae;
	return pm->cr4 & PAGING_CR4_PSE ? &paging_32_pse : &paging_32;
}

/* Long mode: bits above the walked width must copy its top bit (canonical,
 * 48 or 57 bits); elsewhere linear addresses are 32 bits wide. */
static bool paging_lin_ok(const struct paging_format *f, uint64_t lin)
{
	unsigned width = f->lv[0].shift + f->lv[0].bits;
	uint64_t high = lin >> (width - 1);

	if (!f->sign_extend)
		return lin >> width == 0;
	return high == 0 || high == UINT64_MAX >> (width - 1);
}

static int paging_entry(const struct guest_mem *m, const struct paging_format *f,
			uint64_t table, unsigned idx, uint64_t *e)
{
	const void *p = gmem_ptr(m, table + (uint64_t)idx * f->entry_size, f->entry_size);
	uint32_t e32;

	if (!p)
		return -EFAULT;
	/* memcpy: RAM holds no alignment promise for the host; x86 is little
	 * endian on both sides. */
	if (f->entry_size == 4) {
		memcpy(&e32, p, sizeof(e32));
		*e = e32;
	} else {
		memcpy(e, p, sizeof(*e));
	}
	return 0;
}

/* The frame a leaf entry maps, SIZE bytes aligned.  A 32-bit 4 MiB page
 * (PSE-36, SDM 4.3) keeps physical bits 39:32 in entry bits 20:13. */
static uint64_t paging_frame(const struct paging_format *f, uint64_t e, uint64_t size)
{
	if (f->entry_size == 4 && size > PAGING_PAGE)
		return (e & 0xffc00000ull) | ((e >> 13) & 0xff) << 32;
	/* Large pages: the PAT bit (12) and reserved bits below the frame drop out. */
	return e & f->addr_mask & ~(size - 1);
}

static unsigned paging_rights(unsigned perm, uint64_t e, const struct paging_mode *pm)
{
	if (!(e & X86_PTE_W))
		perm &= ~PAGING_W;
	if (!(e & X86_PTE_U))
		perm &= ~PAGING_U;
	/* Without EFER.NXE bit 63 is reserved, not execute-disable. */
	if ((pm->efer & X86_EFER_NXE) && (e & PAGING_PTE_XD))
		perm |= PAGING_NX;
	return perm;
}

/* At most f->nlevels table reads, each bounds-checked: no loop can run away,
 * even on page tables that point at themselves. */
static int paging_walk(const struct guest_mem *m, const struct paging_format *f,
		       const struct paging_mode *pm, uint64_t lin, struct paging_xlat *x)
{
	uint64_t table = pm->cr3 & f->root_mask, e;
	unsigned perm = PAGING_W | PAGING_U;

	for (unsigned i = 0; i < f->nlevels; i++) {
		const struct paging_level *l = &f->lv[i];
		unsigned idx = (unsigned)(lin >> l->shift) & ((1u << l->bits) - 1);
		uint64_t size = 1ull << l->shift;

		if (paging_entry(m, f, table, idx, &e) < 0 || !(e & X86_PTE_P))
			return -EFAULT;
		if (l->rights)
			perm = paging_rights(perm, e, pm);
		if (i + 1 == f->nlevels || (l->leaf_ok && (e & X86_PTE_PS))) {
			x->gpa = paging_frame(f, e, size) | (lin & (size - 1));
			x->page_size = size;
			x->perm = perm;
			return 0;
		}
		table = e & f->addr_mask;
	}
	return -EFAULT; /* not reached: the last level always maps */
}

int paging_translate(const struct guest_mem *m, const struct paging_mode *pm, uint64_t lin,
		     struct paging_xlat *x)
{
	const struct paging_format *f = paging_format_of(pm);

	if (!f) {
		/* Paging off: identity, no protection; linear addresses are
		 * 32 bits (long mode needs paging). */
		if (lin > UINT32_MAX)
			return -EFAULT;
		*x = (struct paging_xlat){ lin, PAGING_PAGE, PAGING_W | PAGING_U };
		return 0;
	}
	if (!paging_lin_ok(f, lin))
		return -EFAULT;
	return paging_walk(m, f, pm, lin, x);
}

/* Copies into OUT from guest, or from IN to guest, one page (or the part of
 * it that is RAM) at a time.  Each pass copies at least one byte or stops. */
static size_t paging_copy(const struct guest_mem *m, const struct paging_mode *pm,
			  uint64_t lin, uint8_t *out, const uint8_t *in, size_t len)
{
	size_t done = 0;

	while (done < len) {
		struct paging_xlat x;
		uint64_t n;
		uint8_t *p;

		if (paging_translate(m, pm, lin, &x) < 0 || x.gpa >= m->size)
			break;
		n = x.page_size - (lin & (x.page_size - 1));
		if (n > len - done)
			n = len - done;
		if (n > m->size - x.gpa)
			n = m->size - x.gpa;
		p = gmem_ptr(m, x.gpa, n);
		if (!p)
			break;
		if (out)
			memcpy(out + done, p, n);
		else
			memcpy(p, in + done, n);
		done += n;
		lin += n; /* wraps at 2^64 as the CPU's linear addresses do */
	}
	return done;
}

size_t paging_read(const struct guest_mem *m, const struct paging_mode *pm, uint64_t lin,
		   void *buf, size_t len)
{
	return paging_copy(m, pm, lin, buf, NULL, len);
}

size_t paging_write(const struct guest_mem *m, const struct paging_mode *pm, uint64_t lin,
		    const void *buf, size_t len)
{
	return paging_copy(m, pm, lin, NULL, buf, len);
}
