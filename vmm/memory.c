#include "vmm/memory.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

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
	r = kvm_add_slot(k, 0, size, m->base, 0);
	if (r < 0) {
		gmem_free(m);
		return r;
	}
	return 0;
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
	return 0;
}

int gmem_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len)
{
	const void *p = gmem_ptr(m, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}
