#define _GNU_SOURCE
#include "vmm/hostcpu.h"

#include <cpuid.h>
#include <errno.h>
#include <sched.h>

#define XXH_STATIC_LINKING_ONLY /* XXH64_state_t on the stack */
#include <xxhash.h>

/* Leaves with subleaves have them numbered from 0; the first few carry the
 * per-CPU fields (0xb and 0x1f: x2APIC ID; 4, 0x8000001d: cache sharing). */
#define SUBLEAVES 4
#define LEAF_CAP 0x40

static void hash_range(XXH64_state_t *st, uint32_t base)
{
	uint32_t max = __get_cpuid_max(base, NULL);

	if (max < base || max - base > LEAF_CAP)
		max = base + (max < base ? 0 : LEAF_CAP);
	for (uint32_t leaf = base; leaf <= max; leaf++)
		for (uint32_t sub = 0; sub < SUBLEAVES; sub++) {
			uint32_t r[6] = { leaf, sub };

			__cpuid_count(leaf, sub, r[2], r[3], r[4], r[5]);
			XXH64_update(st, r, sizeof(r));
		}
}

uint64_t hostcpu_cpuid_hash(void)
{
	XXH64_state_t st;
	uint64_t h;

	XXH64_reset(&st, 0);
	hash_range(&st, 0);
	hash_range(&st, 0x80000000u);
	h = XXH64_digest(&st);
	return h ? h : 1;
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) < 0 ? -errno : 0;
}

int hostcpu_pin_here(uint64_t *hash)
{
	int cpu = sched_getcpu(), err;

	if (cpu < 0)
		return -errno;
	err = pin(cpu);
	if (err == 0)
		*hash = hostcpu_cpuid_hash();
	return err;
}

int hostcpu_pin_matching(uint64_t hash, int *cpu)
{
	cpu_set_t allowed;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		return -errno;
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &allowed) || pin(c) < 0)
			continue;
		if (hostcpu_cpuid_hash() == hash) {
			*cpu = c;
			return 0;
		}
	}
	return sched_setaffinity(0, sizeof(allowed), &allowed) < 0 ? -errno : -ENOENT;
}
