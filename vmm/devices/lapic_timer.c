/* The local APIC timer (SDM "APIC Timer"), on the virtual clock.
 *
 * The timer counts divided ticks of a LAPIC_TIMER_HZ input clock: with the
 * divider 2^s (DCR bits 3,1,0), n(t) = n0 + (input ticks since t0) >> s.
 * It expires whenever n reaches a multiple of the initial count; one-shot
 * mode stops at the first, periodic mode reloads.  Counts derive from the
 * clock on demand, so nothing ticks, and a divider change restarts n at
 * the current count.  Expiries are accounted for (and their interrupt
 * raised, unless the LVT is masked then) when the machine calls
 * lapic_update() at lapic_next_deadline(), and before every register
 * access, so the guest sees the timer as of the access. */
#include "vmm/devices/lapic_int.h"

#include "vmm/devices/devclock.h"

vclock_ns lapic_now(const struct lapic *l)
{
	return l->clock ? l->clock(l->clock_opaque) : 0;
}

/* log2 of the divider: DCR bits 3,1,0 = 111 divide by 1, else 2^(v+1). */
static unsigned lapic_div_shift(const struct lapic *l)
{
	unsigned v = (l->st.dcr & 3) | ((l->st.dcr >> 1) & 4);

	return (v + 1) & 7;
}

static bool lapic_periodic(const struct lapic *l)
{
	return l->st.lvt[LAPIC_LVT_TIMER] & LAPIC_TIMER_PERIODIC;
}

/* Divided ticks counted at virtual time T. */
static uint64_t lapic_timer_n(const struct lapic *l, vclock_ns t)
{
	uint64_t b0 = devclock_ticks_at(l->st.timer_t0, LAPIC_TIMER_HZ);
	uint64_t b = t > l->st.timer_t0 ? devclock_ticks_at(t, LAPIC_TIMER_HZ) : b0;

	return l->st.timer_n0 + ((b - b0) >> lapic_div_shift(l));
}

/* Virtual time at which the timer has counted N divided ticks. */
static vclock_ns lapic_timer_time_of(const struct lapic *l, uint64_t n)
{
	uint64_t b0 = devclock_ticks_at(l->st.timer_t0, LAPIC_TIMER_HZ);

	if (n <= l->st.timer_n0)
		return l->st.timer_t0;
	return devclock_time_of_tick(b0 + ((n - l->st.timer_n0) << lapic_div_shift(l)),
				     LAPIC_TIMER_HZ);
}

/* The count at which the next expiry happens. */
static uint64_t lapic_timer_next_n(const struct lapic *l)
{
	return (l->st.timer_fired + 1) * (uint64_t)l->st.timer_initial;
}

static void lapic_timer_fold(struct lapic *l, vclock_ns now)
{
	uint64_t n, k;
	uint32_t lvt = l->st.lvt[LAPIC_LVT_TIMER];

	if (!l->st.timer_running)
		return;
	n = lapic_timer_n(l, now);
	if (n < lapic_timer_next_n(l))
		return;
	k = n / l->st.timer_initial;
	l->st.timer_fired = lapic_periodic(l) ? k : l->st.timer_fired + 1;
	if (!lapic_periodic(l))
		l->st.timer_running = false;
	if (!(lvt & LAPIC_LVT_MASKED))
		lapic_accept(l, (uint8_t)lvt, false);
}

uint32_t lapic_timer_current(const struct lapic *l, vclock_ns now)
{
	uint64_t n;

	if (!l->st.timer_running)
		return 0;
	n = lapic_timer_n(l, now);
	if (!lapic_periodic(l))
		return n >= lapic_timer_next_n(l) ? 0 : (uint32_t)(lapic_timer_next_n(l) - n);
	return l->st.timer_initial - (uint32_t)(n % l->st.timer_initial);
}

/* Restart the divided-tick count at NOW (a new divider takes effect). */
void lapic_timer_rebase(struct lapic *l, vclock_ns now)
{
	l->st.timer_n0 = lapic_timer_n(l, now);
	l->st.timer_t0 = now;
}

void lapic_timer_start(struct lapic *l, uint32_t initial, vclock_ns now)
{
	l->st.timer_initial = initial;
	l->st.timer_t0 = now;
	l->st.timer_n0 = 0;
	l->st.timer_fired = 0;
	l->st.timer_running = initial != 0;
}

vclock_ns lapic_next_deadline(const struct lapic *l)
{
	if (!l->st.timer_running || (l->st.lvt[LAPIC_LVT_TIMER] & LAPIC_LVT_MASKED) ||
	    !lapic_enabled(l))
		return VCLOCK_NEVER;
	return lapic_timer_time_of(l, lapic_timer_next_n(l));
}

void lapic_update(struct lapic *l)
{
	if (l->st.timer_running)
		lapic_timer_fold(l, lapic_now(l));
}

/* Timer expiries due by now are accounted for before any access, so that
 * a read or write sees (and acts on) the timer as of this instant. */
vclock_ns lapic_timer_catch_up(struct lapic *l)
{
	vclock_ns now = 0;

	if (l->st.timer_running) {
		now = lapic_now(l);
		lapic_timer_fold(l, now);
	}
	return now;
}
