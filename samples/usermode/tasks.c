/*
 * Ring-3 half of the usermode sample.  Linked into the user region (objects named
 * *.user.o, see runtime/linker.ld), so it may not call anything in the kernel image:
 * no runtime.h, no memset/memcpy, string constants live in this object's .rodata.
 *
 * Each task computes a known result natively (ring 3 is not emulated), asking the
 * kernel for the time after every chunk: that system call reads the PIT, a port I/O
 * exit, which is where rrvm can inject the timer interrupt that preempts the task.
 * Tasks then print in id order (task i waits until i tasks have exited), so the
 * output does not depend on how the scheduler interleaved them.
 */
#include "usermode.h"

uint8_t user_stacks[NTASKS][8192] __attribute__((aligned(16)));

static inline uint64_t sys3(uint64_t nr, uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "memory");
	return ret;
}

/* Per-task state: the tasks share this object's data, so nothing here is global. */
struct clock_check {
	uint64_t last;
	int backwards;
};

/* Called between chunks of work. */
static void checkpoint(struct clock_check *c)
{
	uint64_t now = sys3(SYS_CLOCK, 0, 0, 0);

	if (now < c->last)
		c->backwards = 1;
	c->last = now;
}

static uint64_t count_primes(struct clock_check *c)
{
	uint64_t count = 1;   /* 2 */

	for (uint32_t n = 3; n < PRIMES_LIMIT; n += 2) {
		int prime = 1;

		for (uint32_t d = 3; d * d <= n; d += 2) {
			if (n % d == 0) {
				prime = 0;
				break;
			}
		}
		count += prime;
		if (n % 2048 == 1)
			checkpoint(c);
	}
	return count;
}

static uint64_t longest_collatz(struct clock_check *c)
{
	uint64_t best = 1, best_steps = 0;

	for (uint64_t start = 1; start < COLLATZ_LIMIT; start++) {
		uint64_t n = start, steps = 0;

		while (n != 1) {
			n = (n & 1) ? 3 * n + 1 : n / 2;
			steps++;
		}
		if (steps > best_steps) {
			best_steps = steps;
			best = start;
		}
		if (start % 2048 == 0)
			checkpoint(c);
	}
	return best;
}

static uint64_t xorshift_sum(struct clock_check *c)
{
	uint64_t x = 0x9e3779b97f4a7c15ull, sum = 0;

	for (uint32_t i = 1; i <= XORSHIFT_ROUNDS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sum += x >> 32;
		if (i % 65536 == 0)
			checkpoint(c);
	}
	return sum;
}

static int put_u64(char *p, uint64_t v, unsigned base)
{
	char tmp[20];
	int n = 0, len = 0;

	do {
		unsigned d = (unsigned)(v % base);
		tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	while (n)
		p[len++] = tmp[--n];
	return len;
}

static int put_str(char *p, const char *s)
{
	int n = 0;

	while (s[n]) {
		p[n] = s[n];
		n++;
	}
	return n;
}

void task_main(uint64_t id)
{
	static const char *const names[NTASKS] = { "primes", "collatz", "xorshift" };
	struct clock_check clock = { 0, 0 };
	char line[96];
	uint64_t result;
	int n = 0;

	sys3(SYS_YIELD, 0, 0, 0);         /* let every task start before computing */
	if (id == 0)
		result = count_primes(&clock);
	else if (id == 1)
		result = longest_collatz(&clock);
	else
		result = xorshift_sum(&clock);

	while (sys3(SYS_NEXITED, 0, 0, 0) < id)
		sys3(SYS_YIELD, 0, 0, 0);

	n += put_str(line + n, "task ");
	n += put_u64(line + n, id, 10);
	n += put_str(line + n, " (");
	n += put_str(line + n, names[id]);
	n += put_str(line + n, "): result ");
	n += put_u64(line + n, result, 10);
	if (clock.backwards)
		n += put_str(line + n, ", clock went backwards");
	line[n++] = '\n';
	sys3(SYS_WRITE, (uint64_t)line, (uint64_t)n, 0);
	sys3(SYS_EXIT, clock.backwards ? ~0ull : result, 0, 0);
	for (;;)
		;
}
