#define LOG_MODULE "replay"
#include "replay/chaos.h"

#include <sys/random.h>
#include <time.h>

#include "util/hostclock.h"

#define NS_PER_SEC 1000000000ull
/* Tells the kick stream's seed from the main one's (any odd constant). */
#define CHAOS_KICK_STREAM 0x6b69636b6c617465ull

void chaos_init(struct chaos *c, uint64_t seed, host_ns kick_late_ns)
{
	*c = (struct chaos){ 0 };
	rng_seed(&c->rng, seed);
	rng_seed(&c->kick_rng, seed ^ CHAOS_KICK_STREAM);
	c->set = (struct trace_chaos){
		.on = true,
		.seed = seed,
		.irq_late_sync = CHAOS_IRQ_LATE_SYNC,
		.irq_late_ns = CHAOS_IRQ_LATE_NS,
		.clock_phase_ns = rng_below(&c->rng, NS_PER_SEC),
		.serial_gap_sync = CHAOS_SERIAL_GAP_SYNC,
		.kick_late_ns = kick_late_ns,
	};
}

host_ns chaos_kick_delay(struct chaos *c, host_ns bound)
{
	if (bound > c->set.kick_late_ns)
		bound = c->set.kick_late_ns;
	return rng_below(&c->kick_rng, bound + 1);
}

bool chaos_irq_now(struct chaos *c, vclock_ns now, bool must)
{
	if (!c->holding) {
		/* Uniform over this sync point and the next irq_late_sync
		 * where it could land. */
		c->hold_left = (unsigned)rng_below(&c->rng, (uint64_t)c->set.irq_late_sync + 1);
		c->hold_since = now;
		c->holding = true;
	}
	if (must || !c->hold_left || now - c->hold_since >= c->set.irq_late_ns) {
		c->holding = false;
		c->injected++;
		return true;
	}
	c->hold_left--;
	c->held++;
	return false;
}

void chaos_irq_gone(struct chaos *c)
{
	c->holding = false;
}

unsigned chaos_serial_room(const struct chaos *c, sync_seq s, unsigned room)
{
	return s < c->serial_next || !room ? 0 : 1;
}

void chaos_serial_taken(struct chaos *c, sync_seq s)
{
	c->serial_next = s + 1 + rng_below(&c->rng, (uint64_t)c->set.serial_gap_sync + 1);
}

uint64_t chaos_fresh_seed(void)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		return seed;
	seed = host_now() ^ (uint64_t)time(NULL) << 20;
	return rng_splitmix64(&seed);
}
