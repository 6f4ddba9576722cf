/* Guest RAM: one anonymous mapping at guest physical 0.  Bounds-checked
 * pointers into it; callers never compute host addresses themselves. */
#ifndef RRVM_VMM_MEMORY_H
#define RRVM_VMM_MEMORY_H

#include <stddef.h>
#include <stdint.h>

struct kvm;

struct guest_mem {
	uint8_t *base;
	uint64_t size;
};

/* Maps SIZE bytes (a multiple of 2 MiB) and registers them with K. */
int gmem_init(struct guest_mem *m, struct kvm *k, uint64_t size);
void gmem_free(struct guest_mem *m);

/* Host pointer to [gpa, gpa+len) or NULL when any byte is outside RAM. */
void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len);
int gmem_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len);

#endif
