/* tscring3's code for both rings (tscring3.h). */
#include "tscring3.h"

volatile uint64_t reads[NREADS];
volatile unsigned nreads;
uint64_t delta[2][2]; /* [ring 0, ring 3][N, 8N] */
uint8_t ustack[16384] __attribute__((aligned(16)));
volatile bool task_gp = true;

__attribute__((noinline)) uint64_t clock_cycles(void)
{
	uint64_t t = rdtsc();

	if (nreads < NREADS)
		reads[nreads++] = t;
	return t;
}

static uint64_t busy(uint64_t n)
{
	uint64_t x = 88172645463325252ull;

	for (uint64_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

static volatile uint64_t sink;

/* The least TSC delta of TRIES busy loops of N iterations. */
static uint64_t timed(uint64_t n)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < TRIES; i++) {
		uint64_t t0 = clock_cycles();
		sink = busy(n);
		uint64_t d = clock_cycles() - t0;
		best = d < best ? d : best;
	}
	return best;
}

void measure(int ring, uint64_t n)
{
	delta[ring][0] = timed(n);
	delta[ring][1] = timed(8 * n);
}

void task(void)
{
	measure(1, RING3_N);
	if (task_gp)
		__asm__ volatile("hlt" ::: "memory");
	clock_cycles();
	__asm__ volatile("int $0x80" ::: "memory");
	for (;;)
		;
}

