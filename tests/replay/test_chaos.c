/* Chaos choices without KVM: the PRNG repeats per seed, an interrupt is
 * held back within its bounds and lands at once on a HLT, every lateness
 * in the bound is chosen, serial input comes a byte at a time with gaps,
 * landmark kicks come at a seeded random delay within the bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "replay/chaos.h"

static void test_rng_repeats(void **state)
{
	struct rng a, b, c;
	unsigned differ = 0;

	(void)state;
	rng_seed(&a, 42);
	rng_seed(&b, 42);
	rng_seed(&c, 43);
	for (int i = 0; i < 1000; i++) {
		uint64_t x = rng_next(&a);
		assert_true(x == rng_next(&b));
		differ += x != rng_next(&c);
		assert_true(rng_below(&a, 9) < 9);
		(void)rng_below(&b, 9);
	}
	assert_true(differ > 990);
}

static void test_same_seed_same_phase(void **state)
{
	struct chaos a, b, c;

	(void)state;
	chaos_init(&a, 7, 200000);
	chaos_init(&b, 7, 200000);
	chaos_init(&c, 8, 200000);
	assert_true(a.set.on && a.set.seed == 7);
	assert_true(a.set.clock_phase_ns == b.set.clock_phase_ns);
	assert_true(a.set.clock_phase_ns != c.set.clock_phase_ns);
	assert_true(a.set.clock_phase_ns < 1000000000ull);
}

/* Interrupts one after another: each waits at most the bound, and every
 * lateness within it is chosen. */
static void test_irq_bounds(void **state)
{
	unsigned seen[CHAOS_IRQ_LATE_SYNC + 2] = { 0 };
	struct chaos c;
	vclock_ns now = 0;

	(void)state;
	chaos_init(&c, 1, 200000);
	for (int irq = 0; irq < 2000; irq++) {
		unsigned waited = 0;
		while (!chaos_irq_now(&c, now, false)) {
			waited++;
			now += 1000; /* 1 us between sync points: the sync bound rules */
			assert_true(waited <= CHAOS_IRQ_LATE_SYNC);
		}
		seen[waited]++;
		now += 1000;
	}
	for (unsigned d = 0; d <= CHAOS_IRQ_LATE_SYNC; d++)
		assert_true(seen[d] > 100); /* uniform: ~222 each */
	assert_true(c.injected == 2000);
}

static void test_irq_time_bound_and_halt(void **state)
{
	struct chaos c;
	vclock_ns now = 0;
	unsigned held = 0;

	(void)state;
	chaos_init(&c, 3, 200000);
	for (int irq = 0; irq < 200; irq++) {
		vclock_ns since = now;
		while (!chaos_irq_now(&c, now, false))
			now += CHAOS_IRQ_LATE_NS / 2;
		assert_true(now - since <= CHAOS_IRQ_LATE_NS);
		held += now != since;
		now += 1;
		/* A halted guest takes it at once, held or not. */
		assert_true(chaos_irq_now(&c, now, true));
	}
	assert_true(held > 100);
}

/* A held interrupt that vanished leaves nothing behind: the next one is
 * held for a fresh, in-bound number of sync points, timed from its own
 * start. */
static void test_irq_gone(void **state)
{
	struct chaos c;
	unsigned fresh = 0;

	(void)state;
	chaos_init(&c, 9, 200000);
	for (int irq = 0; irq < 500; irq++) {
		vclock_ns t = (vclock_ns)irq * 10 * CHAOS_IRQ_LATE_NS;
		if (chaos_irq_now(&c, t, false))
			continue; /* not held: nothing to vanish */
		chaos_irq_gone(&c);
		/* Long after: without the reset this would land at once. */
		fresh += !chaos_irq_now(&c, t + 5 * CHAOS_IRQ_LATE_NS, false);
		while (!chaos_irq_now(&c, t + 5 * CHAOS_IRQ_LATE_NS, false))
			;
	}
	assert_true(fresh > 300);
}

static void test_serial_gaps(void **state)
{
	struct chaos c;
	sync_seq last = 0;
	unsigned bytes = 0;

	(void)state;
	chaos_init(&c, 5, 200000);
	for (sync_seq s = 1; s < 100000; s++) {
		unsigned room = chaos_serial_room(&c, s, 16);
		assert_true(room <= 1);
		assert_int_equal(chaos_serial_room(&c, s, 0), 0);
		if (!room)
			continue;
		if (bytes)
			assert_true(s - last <= CHAOS_SERIAL_GAP_SYNC + 1);
		chaos_serial_taken(&c, s);
		last = s;
		bytes++;
	}
	assert_true(bytes > 100000 / (CHAOS_SERIAL_GAP_SYNC + 1));
	assert_true(bytes < 100000 / 4);
}

/* Landmark kicks: each delay within the bound (and the trace's
 * kick_late_ns), spread over all of it, and the same sequence for the same
 * seed whatever the other choices drew in between. */
static void test_kick_delay(void **state)
{
	struct chaos a, b;
	unsigned quarter[4] = { 0 };

	(void)state;
	chaos_init(&a, 5, 200000);
	chaos_init(&b, 5, 200000);
	assert_true(a.set.kick_late_ns == 200000);
	for (int i = 0; i < 4000; i++) {
		host_ns d = chaos_kick_delay(&a, 200000);

		assert_true(d <= 200000);
		quarter[d * 4 / 200001]++;
		(void)chaos_irq_now(&b, (vclock_ns)i * 1000, false);
		chaos_serial_taken(&b, (sync_seq)i);
		assert_true(d == chaos_kick_delay(&b, 200000));
	}
	for (int q = 0; q < 4; q++)
		assert_true(quarter[q] > 800);
	for (int i = 0; i < 100; i++) {
		assert_true(chaos_kick_delay(&a, 50000) <= 50000); /* a smaller bound */
		assert_true(chaos_kick_delay(&a, 900000) <= 200000); /* kick_late_ns rules */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rng_repeats),
		cmocka_unit_test(test_same_seed_same_phase),
		cmocka_unit_test(test_irq_bounds),
		cmocka_unit_test(test_irq_time_bound_and_halt),
		cmocka_unit_test(test_irq_gone),
		cmocka_unit_test(test_serial_gaps),
		cmocka_unit_test(test_kick_delay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
