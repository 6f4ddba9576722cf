#define LOG_MODULE "replay"
#include "replay/tsc_sites.h"

#include <capstone/capstone.h>
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "vmm/elf.h"
#include "vmm/memory.h"
#include "vmm/paging.h"
#include "vmm/x86.h"

#define TSC_MAX_SEGS 32

void tsc_sites_init(struct tsc_sites *s)
{
	memset(s, 0, sizeof(*s));
}

void tsc_sites_free(struct tsc_sites *s)
{
	free(s->site);
	free(s->region);
	tsc_sites_init(s);
}

static int tsc_grow(void **v, size_t *cap, size_t n, size_t elem)
{
	void *p;
	size_t ncap = *cap ? 2 * *cap : 64;

	if (n < *cap)
		return 0;
	p = realloc(*v, ncap * elem);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = ncap;
	return 0;
}

/* Index of the first site with gpa >= GPA. */
static size_t tsc_lower(const struct tsc_sites *s, uint64_t gpa)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->site[mid].gpa < gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct tsc_site *tsc_find(const struct tsc_sites *s, uint64_t gpa)
{
	size_t i = tsc_lower(s, gpa);

	return i < s->n && s->site[i].gpa == gpa && !s->site[i].native ? &s->site[i] : NULL;
}

static int tsc_add_site(struct tsc_sites *s, uint64_t gpa, uint8_t kind, const uint8_t *bytes,
			uint8_t len)
{
	size_t i = tsc_lower(s, gpa);

	if (i < s->n && s->site[i].gpa == gpa)
		return 0;
	if (tsc_grow((void **)&s->site, &s->cap, s->n, sizeof(*s->site)) < 0)
		return -ENOMEM;
	memmove(&s->site[i + 1], &s->site[i], (s->n - i) * sizeof(*s->site));
	s->site[i] = (struct tsc_site){ .gpa = gpa, .kind = kind, .len = len };
	memcpy(s->site[i].orig, bytes, len);
	s->n++;
	return 1;
}

static void tsc_patch(struct guest_mem *m, const struct tsc_site *site)
{
	uint8_t *p = gmem_ptr(m, site->gpa, site->len);

	gmem_wrote(m, site->gpa, site->len);
	p[0] = 0xe6; /* OUT imm8, AL */
	p[1] = TSC_TRAP_PORT;
	if (site->len == 3)
		p[2] = 0x90; /* NOP, never executed: the trap resumes past it */
}

void tsc_unpatch_view(const struct tsc_sites *s, uint64_t gpa, uint8_t *buf, size_t len)
{
	/* A site starting up to 2 bytes before GPA may reach into the view. */
	size_t i = tsc_lower(s, gpa > 2 ? gpa - 2 : 0);

	for (; i < s->n && s->site[i].gpa < gpa + len; i++)
		for (unsigned b = 0; b < s->site[i].len && !s->site[i].native; b++) {
			uint64_t a = s->site[i].gpa + b;
			if (a >= gpa && a < gpa + len)
				buf[a - gpa] = s->site[i].orig[b];
		}
	if (s->gp.armed && s->gp.gpa >= gpa && s->gp.gpa < gpa + len &&
	    buf[s->gp.gpa - gpa] == TSC_GP_HLT)
		buf[s->gp.gpa - gpa] = s->gp.orig;
	if (s->gp.stepping && s->gp.step_gpa >= gpa && s->gp.step_gpa < gpa + len &&
	    buf[s->gp.step_gpa - gpa] == TSC_GP_HLT)
		buf[s->gp.step_gpa - gpa] = s->gp.step_orig;
}

/* Capstone handles for both modes, opened once per scan (cs_open is not
 * cheap next to sweeping one small function). */
struct tsc_cs {
	csh h[2]; /* [0] 32-bit, [1] 64-bit */
};

static int tsc_cs_open(struct tsc_cs *c)
{
	if (cs_open(CS_ARCH_X86, CS_MODE_32, &c->h[0]) != CS_ERR_OK)
		return -ENOMEM;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &c->h[1]) != CS_ERR_OK) {
		cs_close(&c->h[0]);
		return -ENOMEM;
	}
	return 0;
}

static void tsc_cs_close(struct tsc_cs *c)
{
	cs_close(&c->h[0]);
	cs_close(&c->h[1]);
}

/* Linear sweep of CODE (at GPA) in one mode.  Returns the number of
 * RDTSC/RDTSCP found (added to S when ADD), or -1 if the sweep stopped on
 * bytes that decode to nothing. */
static int tsc_sweep(struct tsc_sites *s, const struct tsc_cs *c, const uint8_t *code,
		     size_t len, uint64_t gpa, bool mode64, bool add)
{
	csh h = c->h[mode64];
	cs_insn *insn;
	const uint8_t *p = code;
	size_t left = len;
	uint64_t addr = gpa;
	int found = 0;

	insn = cs_malloc(h);
	while (left && cs_disasm_iter(h, &p, &left, &addr, insn)) {
		uint8_t kind = insn->id == X86_INS_RDTSC    ? TSC_INSN_RDTSC
			       : insn->id == X86_INS_RDTSCP ? TSC_INSN_RDTSCP
							    : 0;
		if (!kind)
			continue;
		found++;
		if (add && tsc_add_site(s, insn->address, kind, insn->bytes, (uint8_t)insn->size) < 0) {
			found = -1;
			break;
		}
	}
	if (left && found >= 0)
		found = -1; /* undecodable bytes: wrong mode, or data */
	cs_free(insn, 1);
	return found;
}

/* Decodes one region in its mode (choosing it the first time: 64-bit unless
 * that fails and 32-bit does not) and patches what it finds. */
static int tsc_scan_region(struct tsc_sites *s, const struct tsc_cs *c, struct guest_mem *m,
			   struct tsc_region *r, bool choose)
{
	uint8_t *mem = gmem_ptr(m, r->gpa, r->len), *copy;
	int n;

	if (!mem)
		return 0;
	copy = malloc(r->len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, mem, r->len);
	tsc_unpatch_view(s, r->gpa, copy, r->len);
	if (choose) {
		r->mode64 = true;
		if (tsc_sweep(s, c, copy, r->len, r->gpa, true, false) < 0 &&
		    tsc_sweep(s, c, copy, r->len, r->gpa, false, false) >= 0)
			r->mode64 = false;
	}
	n = tsc_sweep(s, c, copy, r->len, r->gpa, r->mode64, true);
	if (n < 0) {
		/* Keep the sites found before the undecodable bytes; the
		 * rest of this region stays unpatched. */
		s->undecodable++;
		log_debug("code at %#llx+%llu does not decode; RDTSC there is not trapped",
			  (unsigned long long)r->gpa, (unsigned long long)r->len);
	}
	for (size_t i = tsc_lower(s, r->gpa); i < s->n && s->site[i].gpa < r->gpa + r->len; i++)
		if (!s->site[i].native)
			tsc_patch(m, &s->site[i]);
	free(copy);
	return n < 0 ? 0 : n;
}

static int tsc_add_region(struct tsc_sites *s, uint64_t gpa, uint64_t len, uint64_t lin)
{
	if (tsc_grow((void **)&s->region, &s->region_cap, s->nregion, sizeof(*s->region)) < 0)
		return -ENOMEM;
	s->region[s->nregion++] =
		(struct tsc_region){ .gpa = gpa, .len = len, .lin = lin, .mode64 = true };
	return 0;
}

struct tsc_scan_ctx {
	struct tsc_sites *s;
	const struct elf_seg *segs;
	unsigned nsegs;
	int err;
};

/* A function symbol: scan it where its executable segment was loaded. */
static int tsc_on_function(void *opaque, const struct elf_func *fn)
{
	struct tsc_scan_ctx *c = opaque;

	for (unsigned i = 0; i < c->nsegs; i++) {
		const struct elf_seg *g = &c->segs[i];

		if (!(g->flags & PF_X) || fn->vaddr < g->vaddr || fn->vaddr - g->vaddr >= g->memsz ||
		    fn->size > g->memsz - (fn->vaddr - g->vaddr))
			continue;
		c->err = tsc_add_region(c->s, fn->vaddr - g->vaddr + g->paddr, fn->size, fn->vaddr);
		return c->err;
	}
	return 0;
}

static int tsc_region_cmp(const void *a, const void *b)
{
	const struct tsc_region *x = a, *y = b;

	return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

int tsc_scan_kernel(struct tsc_sites *s, struct guest_mem *m, const uint8_t *file, size_t len)
{
	struct elf_seg segs[TSC_MAX_SEGS];
	struct tsc_scan_ctx c = { .s = s, .segs = segs };
	struct elf_file f;
	struct tsc_cs cs;
	const char *why;
	int total = 0;

	if (elf_open(&f, file, len, &why) < 0 ||
	    elf_segments(&f, segs, TSC_MAX_SEGS, &c.nsegs, &why) < 0)
		return 0; /* not ELF (a.out kludge): no code map to scan */
	if (!elf_functions(&f, tsc_on_function, &c))
		for (unsigned i = 0; i < c.nsegs && !c.err; i++)
			if (segs[i].flags & PF_X)
				c.err = tsc_add_region(s, segs[i].paddr, segs[i].filesz,
						       segs[i].vaddr);
	if (c.err)
		return c.err;
	qsort(s->region, s->nregion, sizeof(*s->region), tsc_region_cmp);
	if (tsc_cs_open(&cs) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < s->nregion && total >= 0; i++) {
		int n = tsc_scan_region(s, &cs, m, &s->region[i], true);
		total = n < 0 ? n : total + n;
	}
	tsc_cs_close(&cs);
	return total;
}

bool tsc_in_code(const struct tsc_sites *s, uint64_t gpa, uint64_t len)
{
	for (size_t i = 0; i < s->nregion; i++)
		if (gpa < s->region[i].gpa + s->region[i].len && s->region[i].gpa < gpa + len)
			return true;
	return false;
}

int tsc_rescan(struct tsc_sites *s, struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	size_t i = tsc_lower(s, gpa > 2 ? gpa - 2 : 0);
	size_t before;
	struct tsc_cs cs;
	int added = 0;

	/* The #GP trap's byte, written over, is the guest's now; the next
	 * sync point places the trap again over what the guest wrote. */
	if (s->gp.armed && s->gp.gpa >= gpa && s->gp.gpa < gpa + len)
		s->gp.armed = false;
	if (s->gp.stepping && s->gp.step_gpa >= gpa && s->gp.step_gpa < gpa + len)
		s->gp.stepping = false;
	/* Sites the guest overwrote (even in part) are the guest's now. */
	while (i < s->n && s->site[i].gpa < gpa + len) {
		if (s->site[i].gpa + s->site[i].len > gpa) {
			memmove(&s->site[i], &s->site[i + 1], (s->n - i - 1) * sizeof(*s->site));
			s->n--;
		} else {
			i++;
		}
	}
	if (tsc_cs_open(&cs) < 0)
		return -ENOMEM;
	for (size_t r = 0; r < s->nregion && added >= 0; r++) {
		struct tsc_region *reg = &s->region[r];
		if (gpa >= reg->gpa + reg->len || reg->gpa >= gpa + len)
			continue;
		before = s->n;
		if (tsc_scan_region(s, &cs, m, reg, false) < 0)
			added = -ENOMEM;
		else
			added += (int)(s->n - before);
	}
	tsc_cs_close(&cs);
	return added;
}

/* The region holding GPA (regions are sorted and disjoint), or NULL. */
static const struct tsc_region *tsc_region_of(const struct tsc_sites *s, uint64_t gpa)
{
	size_t lo = 0, hi = s->nregion;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct tsc_region *r = &s->region[mid];

		if (gpa < r->gpa)
			hi = mid;
		else if (gpa >= r->gpa + r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

unsigned tsc_leave_user_sites(struct tsc_sites *s, struct guest_mem *m,
			      const struct paging_mode *pm)
{
	unsigned n = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct tsc_site *t = &s->site[i];
		const struct tsc_region *r = t->native ? NULL : tsc_region_of(s, t->gpa);
		struct paging_xlat x;
		uint8_t *p;

		/* Without paging, ring 3 may run anything. */
		if (!r || !(p = gmem_ptr(m, t->gpa, t->len)) ||
		    ((pm->cr0 & X86_CR0_PG) &&
		     (paging_translate(m, pm, r->lin + (t->gpa - r->gpa), &x) < 0 ||
		      !(x.perm & PAGING_U))))
			continue;
		memcpy(p, t->orig, t->len);
		gmem_wrote(m, t->gpa, t->len);
		t->native = true;
		n++;
	}
	return n;
}
