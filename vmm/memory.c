#include "vmm/memory.h"

#include <assert.h>
#include <errno.h>
#include <string.h>
#include <linux/kvm.h>
#include <sys/mman.h>

#include "vmm/dirty.h"
#include "vmm/kvm.h"

int gmem_init(struct guest_mem *m, struct kvm *k, uint64_t size)
{
	int r;

	m->base = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->base == MAP_FAILED) {
		m->base = NULL;
		return -errno;
	}
	m->size = size;
	/* Huge pages make checkpoints coarser later; plain pages suit dirty
	 * logging better, so no madvise(MADV_HUGEPAGE) here. */
	m->kvm = k;
	m->nro = 0;
	r = kvm_add_slot(k, 0, size, m->base, 0);
	if (r < 0) {
		gmem_free(m);
		return r;
	}
	m->first_slot = (unsigned)r;
	m->nslots = 1;
	return 0;
}

#define GMEM_PAGE 4096ull

/* Adds [gpa, gpa+len), rounded out to pages, to the sorted, merged list
 * L of *N ranges.  -EINVAL outside RAM, -ENOSPC when full. */
static int gmem_merge(struct gmem_range *l, unsigned *n, unsigned cap, uint64_t size,
		      uint64_t gpa, uint64_t len);

/* The read-only ranges as slots see them: code and watch pages merged. */
static unsigned gmem_ro_union(const struct guest_mem *m, struct gmem_range *u)
{
	unsigned n = 0;

	int r = 0;

	/* Two lists of at most GMEM_MAX_RO in-RAM ranges: the union fits. */
	for (unsigned i = 0; i < m->nro; i++)
		r |= gmem_merge(u, &n, 2 * GMEM_MAX_RO, m->size, m->ro[i].gpa, m->ro[i].len);
	for (unsigned i = 0; i < m->nwatch; i++)
		r |= gmem_merge(u, &n, 2 * GMEM_MAX_RO, m->size, m->watch[i].gpa, m->watch[i].len);
	assert(r == 0 && n <= 2 * GMEM_MAX_RO);
	return n;
}

unsigned gmem_slots(const struct guest_mem *m, struct gmem_slot *out)
{
	struct gmem_range ro[2 * GMEM_MAX_RO];
	unsigned nro = gmem_ro_union(m, ro);
	uint64_t at = 0;
	unsigned n = 0;

	for (unsigned i = 0; i <= nro; i++) {
		uint64_t end = i < nro ? ro[i].gpa : m->size;

		if (end > at) {
			out[n] = (struct gmem_slot){ m->first_slot + n, at, end - at, false };
			n++;
		}
		if (i == nro)
			break;
		out[n] = (struct gmem_slot){ m->first_slot + n, ro[i].gpa, ro[i].len, true };
		n++;
		at = ro[i].gpa + ro[i].len;
	}
	assert(n <= GMEM_MAX_SLOTS); /* a writable gap around each read-only range */
	return n;
}

/* Before the ranges change: the dirty logs of the slots about to go are
 * collected while the slots still stand as the tracker knows them. */
static bool gmem_relayout_begin(struct guest_mem *m)
{
	return m->dirty && dirty_relayout_begin(m->dirty);
}

/* Lays RAM out again as slots: writable gaps between the read-only ranges.
 * KVM cannot shrink a slot in place, so the old slots go first.  LOGGED:
 * gmem_relayout_begin collected their logs. */
static int gmem_relayout(struct guest_mem *m, bool logged)
{
	struct gmem_slot sl[GMEM_MAX_SLOTS];
	unsigned n = gmem_slots(m, sl);
	int r;

	for (unsigned i = 0; i < m->nslots; i++)
		if ((r = kvm_set_slot(m->kvm, m->first_slot + i, 0, 0, NULL, 0)) < 0)
			return r;
	for (unsigned i = 0; i < n; i++) {
		r = kvm_set_slot(m->kvm, sl[i].slot, sl[i].gpa, sl[i].len, m->base + sl[i].gpa,
				 sl[i].ro ? KVM_MEM_READONLY : m->rw_flags);
		if (r < 0)
			return r;
	}
	m->nslots = n;
	m->layout_gen++;
	if (logged)
		dirty_relayout_done(m->dirty);
	if (m->kvm->nslots < m->first_slot + n)
		m->kvm->nslots = m->first_slot + n;
	return 0;
}

int gmem_rewritten(struct guest_mem *m)
{
	return gmem_relayout(m, gmem_relayout_begin(m));
}

int gmem_set_log_dirty(struct guest_mem *m, bool on)
{
	struct gmem_slot sl[GMEM_MAX_SLOTS];
	unsigned n = gmem_slots(m, sl);

	m->rw_flags = on ? KVM_MEM_LOG_DIRTY_PAGES : 0;
	/* Changing only the flags of a slot is allowed in place. */
	for (unsigned i = 0; i < n; i++) {
		int r = sl[i].ro ? 0
				 : kvm_set_slot(m->kvm, sl[i].slot, sl[i].gpa, sl[i].len,
						m->base + sl[i].gpa, m->rw_flags);
		if (r < 0)
			return r;
	}
	return 0;
}

static int gmem_merge(struct gmem_range *l, unsigned *n, unsigned cap, uint64_t size,
		      uint64_t gpa, uint64_t len)
{
	uint64_t lo = gpa & ~(GMEM_PAGE - 1);
	uint64_t hi = (gpa + len + GMEM_PAGE - 1) & ~(GMEM_PAGE - 1);
	unsigned i = 0, j;

	if (hi > size || lo >= hi)
		return -EINVAL;
	/* Merge with every range it touches, keep the list sorted. */
	while (i < *n && l[i].gpa + l[i].len < lo)
		i++;
	for (j = i; j < *n && l[j].gpa <= hi; j++) {
		lo = l[j].gpa < lo ? l[j].gpa : lo;
		hi = l[j].gpa + l[j].len > hi ? l[j].gpa + l[j].len : hi;
	}
	if (j == i && *n == cap)
		return -ENOSPC;
	memmove(&l[i + 1], &l[j], (*n - j) * sizeof(l[0]));
	*n = *n - (j - i) + 1;
	l[i] = (struct gmem_range){ lo, hi - lo };
	return 0;
}

int gmem_protect(struct guest_mem *m, const struct gmem_range *r, unsigned n)
{
	bool logged = gmem_relayout_begin(m);

	for (unsigned i = 0; i < n; i++) {
		int e = gmem_merge(m->ro, &m->nro, GMEM_MAX_RO, m->size, r[i].gpa, r[i].len);
		if (e < 0)
			return e;
	}
	return gmem_relayout(m, logged);
}

int gmem_set_watch(struct guest_mem *m, const struct gmem_range *r, unsigned n)
{
	bool logged = gmem_relayout_begin(m);

	m->nwatch = 0;
	for (unsigned i = 0; i < n; i++) {
		int e = gmem_merge(m->watch, &m->nwatch, GMEM_MAX_RO, m->size, r[i].gpa, r[i].len);
		if (e < 0)
			return e;
	}
	return gmem_relayout(m, logged);
}

bool gmem_is_watched(const struct guest_mem *m, uint64_t gpa)
{
	for (unsigned i = 0; i < m->nwatch; i++)
		if (gpa >= m->watch[i].gpa && gpa - m->watch[i].gpa < m->watch[i].len)
			return true;
	return false;
}

bool gmem_is_protected(const struct guest_mem *m, uint64_t gpa)
{
	for (unsigned i = 0; i < m->nro; i++)
		if (gpa >= m->ro[i].gpa && gpa - m->ro[i].gpa < m->ro[i].len)
			return true;
	return false;
}

void gmem_free(struct guest_mem *m)
{
	if (m->base)
		munmap(m->base, m->size);
	m->base = NULL;
	m->size = 0;
}

void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (gpa > m->size || len > m->size - gpa)
		return NULL;
	return m->base + gpa;
}

int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = gmem_ptr(m, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	gmem_wrote(m, gpa, len);
	return 0;
}

void gmem_wrote(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (m->dirty)
		dirty_mark(m->dirty, gpa, len);
}

int gmem_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len)
{
	const void *p = gmem_ptr(m, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}
