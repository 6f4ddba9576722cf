/* A guest RAM of RAM bytes (the including test defines RAM) in host memory,
 * without KVM: the cmocka setup and teardown the vmm unit tests share. */
#ifndef RRVM_TESTS_VMM_FAKE_MEM_H
#define RRVM_TESTS_VMM_FAKE_MEM_H

#include <stdlib.h>

#include "vmm/memory.h"

static int setup(void **state)
{
	struct guest_mem *m = calloc(1, sizeof(*m));

	m->size = RAM;
	m->base = calloc(1, RAM);
	*state = m;
	return 0;
}

static int teardown(void **state)
{
	struct guest_mem *m = *state;

	free(m->base);
	free(m);
	return 0;
}

#endif
