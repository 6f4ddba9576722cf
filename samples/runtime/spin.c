#include "spin.h"

#include "runtime.h"

__attribute__((noinline)) void spin_sleep(volatile uint64_t *ticks, uint64_t n)
{
	for (uint64_t end = *ticks + n; *ticks < end;)
		cpu_relax();
}

__attribute__((noinline)) uint64_t spin_compute(uint64_t iters)
{
	static uint64_t x = 88172645463325252ull;

	for (uint64_t i = 0; i < iters; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

static uint64_t spin_tsc_window(volatile uint64_t *ticks, unsigned n)
{
	uint64_t k0 = *ticks, t0, t1;

	while (*ticks == k0)
		cpu_idle();
	t0 = rdtsc();
	k0 = *ticks;
	while (*ticks < k0 + n)
		cpu_idle();
	t1 = rdtsc();
	return (t1 - t0) / n;
}

/* The median of five windows: a host too busy to wake the guest on time
 * makes one window long (its last tick late) or short (its first). */
uint64_t spin_tsc_per_tick(volatile uint64_t *ticks, unsigned n)
{
	uint64_t w[5];

	for (unsigned i = 0; i < 5; i++) {
		uint64_t v = spin_tsc_window(ticks, n);
		unsigned j = i;

		for (; j > 0 && w[j - 1] > v; j--)
			w[j] = w[j - 1];
		w[j] = v;
	}
	return w[2];
}

uint64_t spin_iters_per_tick(uint64_t tsc_per_tick, uint64_t iters)
{
	uint64_t t0 = rdtsc(), t1;

	spin_compute(iters);
	t1 = rdtsc();
	return t1 > t0 ? iters * tsc_per_tick / (t1 - t0) + 1 : iters;
}

void spin_check_compute(const char *who, volatile uint64_t *ticks, uint64_t tsc_per_tick,
			unsigned n)
{
	uint64_t k0 = *ticks, t0 = rdtsc(), t1, got, due, x = 0;

	do
		x ^= spin_compute(4000);
	while ((t1 = rdtsc()) - t0 < n * tsc_per_tick);
	got = *ticks - k0;
	due = (t1 - t0) / tsc_per_tick;
	printf("%s: compute loop received %lu ticks, %lu fell due\n", who, got, due);
	report(due > 0 && got * 10 >= due && got * 10 <= due * 11 + 20,
	       "compute loop received a tenth of its ticks or more (a loaded QEMU loses half), "
	       "not many more than fell due");
	report(x != 0, "compute loop result");
}
