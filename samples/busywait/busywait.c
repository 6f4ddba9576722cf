/*
 * busywait: a kernel that never exits while it waits or computes, the way
 * hobby kernels are written.  At a 1 kHz PIT with interrupts enabled:
 *
 * 1. sleep(): `for (end = ticks + n; ticks < end;) pause;` in ring 0.  Only
 *    an interrupt delivered inside the loop ends it.
 * 2. an exit-free compute loop (no I/O, no RDTSC inside), timed by the TSC
 *    at both ends: the ticks it received are compared with the ticks that
 *    fell due in that time, which the TSC gives once it has been calibrated
 *    against the PIT while idling in HLT (interrupts land there exactly).
 * 3. a loop whose registers repeat while memory changes: `incq` of a
 *    counter in memory, and of a second one on another page, compared with
 *    a constant in memory.  Every iteration has the same registers.
 *
 * With "bench" on the command line it instead computes forever, printing
 * per second of ticks what it received and what fell due, and calling
 * dot() once a round: the guest of bench/landmark_bench.py.  "quiet" as
 * well masks the timer first: nothing to inject, so only the stretch bound
 * ends its stretches (between the RDTSC exits of its rounds).
 *
 * Ring-0 cost (emulated at ~1.3 M instructions/s on the development host):
 * ~30 k instructions of sleep, ~60 k of compute, ~40 k of counting.
 */
#include "runtime.h"
#include "spin.h"

#define HZ            1000
#define SLEEP_TICKS   20
#define CALIB_TICKS   20
#define COMPUTE_ITERS 15000
#define COUNT_ITERS   4000
#define COMPUTE_TICKS 50

static volatile uint64_t ticks;

/* Two counters on two pages, the loop's limit on a third. */
static volatile uint64_t counter __attribute__((aligned(4096)));
static volatile uint64_t counter2 __attribute__((aligned(4096)));
static volatile uint64_t count_limit __attribute__((aligned(4096))) = COUNT_ITERS;

static void timer_irq(struct regs *r)
{
	ticks++;
}

/* The loop body is the same registers every time round: only memory moves. */
__attribute__((noinline)) static void count_in_memory(void)
{
	__asm__ volatile("1:\n\t"
			 "incq %0\n\t"
			 "incq %1\n\t"
			 "mov %2, %%rax\n\t"
			 "cmp %%rax, %0\n\t"
			 "jb 1b"
			 : "+m"(counter), "+m"(counter2)
			 : "m"(count_limit)
			 : "rax", "cc", "memory");
}

/* A once-a-round function for breakpoints (bench/tt_bench.c breaks here). */
__attribute__((noinline)) void dot(uint64_t round);
__attribute__((noinline)) void dot(uint64_t round)
{
	__asm__ volatile("" : : "r"(round) : "memory");
}

static bool has_word(const char *s, const char *w)
{
	for (; s && *s; s++) {
		const char *a = s, *b = w;

		while (*b && *a == *b)
			a++, b++;
		if (!*b && (!*a || *a == ' '))
			return true;
	}
	return false;
}

/* Forever: exit-free compute in chunks of about a second of ticks. */
static void bench(uint64_t tsc_per_tick)
{
	uint64_t x = 0;

	for (uint64_t round = 0;; round++) {
		uint64_t k0 = ticks, t0 = rdtsc(), t1, iters = 0;

		do {
			x ^= spin_compute(COMPUTE_ITERS);
			iters += COMPUTE_ITERS;
		} while ((t1 = rdtsc()) - t0 < HZ * tsc_per_tick);
		dot(round);
		printf("bench: round %lu received %lu ticks, %lu fell due, %lu iterations\n", round,
		       ticks - k0, (t1 - t0) / tsc_per_tick, iters);
	}
}

void kmain(uint32_t mb_magic, uint32_t mb_info);
void kmain(uint32_t mb_magic, uint32_t mb_info)
{
	uint64_t t0, t1, k0, k1, tsc_per_tick, due, got, x;
	const struct multiboot_info *mbi;

	serial_init();
	idt_init();
	pic_init();
	idt_set_handler(IRQ_BASE + 0, timer_irq);
	printf("busywait: PIT at %u Hz, ring-0 loops without exits\n", HZ);
	pit_init_periodic(HZ, PIT_MODE_RATE);
	pic_unmask(0);
	irq_enable();

	k0 = ticks;
	spin_sleep(&ticks, SLEEP_TICKS);
	report(ticks - k0 >= SLEEP_TICKS, "busy-wait sleep of %u ticks ended", SLEEP_TICKS);

	/* Calibrate: HLT exits, so each tick lands where it falls due. */
	k0 = ticks;
	while (ticks == k0)
		cpu_idle();
	t0 = rdtsc();
	k0 = ticks;
	while (ticks < k0 + CALIB_TICKS)
		cpu_idle();
	t1 = rdtsc();
	tsc_per_tick = (t1 - t0) / CALIB_TICKS;
	mbi = (const struct multiboot_info *)(uintptr_t)mb_info;
	if (mb_magic == MULTIBOOT_BOOTLOADER_MAGIC && (mbi->flags & MB_INFO_CMDLINE) &&
	    has_word((const char *)(uintptr_t)mbi->cmdline, "bench")) {
		if (has_word((const char *)(uintptr_t)mbi->cmdline, "quiet"))
			pic_mask(0);
		bench(tsc_per_tick);
	}

	/* Chunks until 50 ticks' worth of TSC time passed: one chunk where
	 * ring 0 is emulated (it takes longer), many under a fast emulator. */
	k0 = ticks;
	t0 = rdtsc();
	x = 0;
	do
		x ^= spin_compute(COMPUTE_ITERS);
	while ((t1 = rdtsc()) - t0 < COMPUTE_TICKS * tsc_per_tick);
	k1 = ticks;
	got = k1 - k0;
	due = tsc_per_tick ? (t1 - t0) / tsc_per_tick : 0;
	printf("busywait: compute loop received %lu ticks, %lu fell due\n", got, due);
	report(due > 0 && got * 4 >= due, "compute loop received a quarter of its ticks or more");
	report(due > 0 && got * 10 >= due * 9 && got * 10 <= due * 11 + 10,
	       "compute loop received its ticks (within 10 %%)");
	report(x != 0, "compute loop result");

	/* Rounds until a tick came: one where ring 0 is emulated. */
	k0 = ticks;
	unsigned rounds = 0;
	do {
		count_in_memory();
		count_limit += COUNT_ITERS;
		rounds++;
	} while (ticks == k0);
	k1 = ticks;
	printf("busywait: counting loop received %lu ticks\n", k1 - k0);
	report(k1 > k0, "counting loop received ticks");
	report(counter == (uint64_t)rounds * COUNT_ITERS && counter2 == counter,
	       "both counters reached %u per round", COUNT_ITERS);
	irq_disable();
}
