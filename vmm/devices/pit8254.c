/* Intel 8254 PIT, after the Intel 8254 datasheet (order no. 231164).
 *
 *   0x40-0x42  counter 0-2 data      0x43  control word (write only)
 *   0x61       (io[PIT_IO_PORT61]) bit 0 gate 2, bit 1 speaker data, bits 3:2
 *              NMI check enables, bit 4 refresh toggle, bit 5 OUT2
 *
 * Model: a channel counts ticks T since its count was loaded (or its gate
 * re-triggered it), T = base_ticks + ticks elapsed since base_time while the
 * gate lets it count.  With N the initial count (0 means 65536):
 *   mode 0  count N-T; OUT low, high from T = N (terminal count) on
 *   mode 1  as mode 0, started by a gate rising edge (one-shot)
 *   mode 2  count N - T mod N; OUT low only when the count is 1, so OUT
 *           rises at every multiple of N (rate generator)
 *   mode 3  OUT high for ceil(N/2) ticks, low for floor(N/2); the count
 *           runs down by 2 in each half (square wave)
 *   mode 4  count N-T; OUT low for the one tick at T = N (software strobe)
 *   mode 5  as mode 4, started by a gate rising edge
 * Counts after terminal count wrap modulo 65536 as on hardware.  Gate low
 * pauses modes 0 and 4, and stops modes 2 and 3 with OUT forced high; a gate
 * rising edge reloads modes 1, 2, 3 and 5.  Counts 1 in modes 2 and 3 are
 * illegal on the 8254 (its table of minimum counts says 2); they run as 2.
 *
 * Deviations, all invisible to guests that program the PIT as PCs do:
 * a count is loaded at the write itself rather than on the next CLK pulse
 * (so null count clears at once); a new count written while modes 2 and 3
 * run restarts the period at once rather than at its end (as QEMU does); BCD
 * is stored and reported in the status but counting is binary. */
#include "vmm/devices/pit8254.h"

#include <errno.h>
#include <string.h>

#include "vmm/devices/devclock.h"

#define PIT_NO_TICK UINT64_MAX

enum {
	PIT_CW_READBACK = 3,      /* SC field 11 */
	PIT_RB_NO_COUNT = 0x20,   /* read-back: bit 5 low latches the count */
	PIT_RB_NO_STATUS = 0x10,  /* read-back: bit 4 low latches the status */
	PIT_STATUS_OUT = 0x80,
	PIT_STATUS_NULL = 0x40,
	PIT_P61_GATE2 = 0x01,
	PIT_P61_WRITABLE = 0x0f,
	PIT_P61_REFRESH = 0x10,
	PIT_P61_OUT2 = 0x20,
};

static vclock_ns pit_now(const struct pit8254 *p)
{
	return p->clock ? p->clock(p->clock_opaque) : 0;
}

static bool pit_running(const struct pit_channel *c)
{
	if (!c->started)
		return false;
	return c->gate || c->mode == 1 || c->mode == 5;
}

static uint64_t pit_ticks(const struct pit_channel *c, vclock_ns now)
{
	if (!pit_running(c) || now < c->base_time)
		return c->base_ticks;
	return c->base_ticks + devclock_ticks_at(now, PIT_HZ) -
	       devclock_ticks_at(c->base_time, PIT_HZ);
}

static vclock_ns pit_time_of(const struct pit_channel *c, uint64_t t)
{
	return devclock_time_of_tick(devclock_ticks_at(c->base_time, PIT_HZ) +
					     (t - c->base_ticks),
				     PIT_HZ);
}

static uint16_t pit_count_at(const struct pit_channel *c, uint64_t t)
{
	uint64_t n = c->count, half = (n + 1) / 2, ph;

	if (!c->started)
		return c->reload;
	switch (c->mode) {
	case 2:
		return (uint16_t)(n - t % n);
	case 3:
		ph = t % n;
		if (ph >= half)
			ph -= half;
		return (uint16_t)((n & ~1ull) - 2 * ph);
	default:
		return (uint16_t)(n - t);
	}
}

static bool pit_out_at(const struct pit_channel *c, uint64_t t)
{
	uint64_t n = c->count;

	if (!c->started)
		return c->idle_out;
	switch (c->mode) {
	case 0:
	case 1:
		return t >= n;
	case 2:
		return !c->gate || t % n != n - 1;
	case 3:
		return !c->gate || t % n < (n + 1) / 2;
	default:
		return t != n;
	}
}

/* First tick after T at which OUT rises, or PIT_NO_TICK. */
static uint64_t pit_next_rise(const struct pit_channel *c, uint64_t t)
{
	uint64_t n = c->count;

	if (!pit_running(c))
		return PIT_NO_TICK;
	switch (c->mode) {
	case 0:
	case 1:
		return t < n ? n : PIT_NO_TICK;
	case 2:
	case 3:
		return (t / n + 1) * n;
	default:
		return t < n + 1 ? n + 1 : PIT_NO_TICK;
	}
}

static void pit_set_irq(struct pit8254 *p, bool level)
{
	if (p->st.irq_level == level)
		return;
	p->st.irq_level = level;
	if (p->irq)
		p->irq(p->irq_opaque, 0, level);
}

/* After channel 0 was reprogrammed: OUT0 is whatever it is now. */
static void pit_irq_resync(struct pit8254 *p, vclock_ns now)
{
	const struct pit_channel *c = &p->st.ch[0];
	uint64_t t = pit_ticks(c, now);

	p->st.irq_ticks = t;
	pit_set_irq(p, pit_out_at(c, t));
}

/* Start counting from the active count at NOW. */
static void pit_restart(struct pit_channel *c, vclock_ns now)
{
	c->started = true;
	c->base_time = now;
	c->base_ticks = 0;
}

static void pit_load(struct pit_channel *c, vclock_ns now)
{
	uint32_t n = c->reload ? c->reload : 65536;

	if ((c->mode == 2 || c->mode == 3) && n == 1)
		n = 2;
	c->count = n;
	c->has_count = true;
	c->null_count = false;
	/* Modes 1 and 5 wait for a gate trigger. */
	if (c->mode != 1 && c->mode != 5)
		pit_restart(c, now);
}

static void pit_set_gate(struct pit_channel *c, bool gate, vclock_ns now)
{
	uint64_t t = pit_ticks(c, now);

	if (gate == c->gate)
		return;
	/* Freeze or resume the tick count at NOW. */
	c->base_ticks = t;
	c->base_time = now;
	c->gate = gate;
	if (gate && c->has_count && c->mode != 0 && c->mode != 4)
		pit_restart(c, now); /* rising edge reloads modes 1, 2, 3, 5 */
}

static void pit_write_control(struct pit8254 *p, uint8_t v, vclock_ns now)
{
	unsigned sc = v >> 6, rw = (v >> 4) & 3;
	struct pit_channel *c;

	if (sc == PIT_CW_READBACK) {
		for (unsigned i = 0; i < 3; i++) {
			c = &p->st.ch[i];
			if (!(v & (2u << i)))
				continue;
			if (!(v & PIT_RB_NO_COUNT) && !c->count_latched) {
				c->latch = pit_count_at(c, pit_ticks(c, now));
				c->count_latched = true;
			}
			if (!(v & PIT_RB_NO_STATUS) && !c->status_latched) {
				bool out = pit_out_at(c, pit_ticks(c, now));

				c->status = (uint8_t)((out ? PIT_STATUS_OUT : 0) |
						      (c->null_count ? PIT_STATUS_NULL : 0) |
						      c->rw << 4 | c->mode << 1 | c->bcd);
				c->status_latched = true;
			}
		}
		return;
	}
	c = &p->st.ch[sc];
	if (rw == 0) { /* counter latch command; a second one is ignored */
		if (!c->count_latched) {
			c->latch = pit_count_at(c, pit_ticks(c, now));
			c->count_latched = true;
		}
		return;
	}
	c->rw = (uint8_t)rw;
	c->mode = (v >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4; /* 110 and 111 are modes 2 and 3 */
	c->bcd = v & 1;
	c->write_msb = c->read_msb = 0;
	c->count_latched = c->status_latched = false;
	c->null_count = true;
	c->has_count = false;
	c->started = false;
	c->base_ticks = 0;
	c->base_time = now;
	/* OUT is low after a mode 0 control word, high for every other mode. */
	c->idle_out = c->mode != 0;
	if (sc == 0)
		pit_irq_resync(p, now);
}

static void pit_write_count(struct pit8254 *p, unsigned idx, uint8_t v,
			    vclock_ns now)
{
	struct pit_channel *c = &p->st.ch[idx];

	switch (c->rw) {
	case 1:
		c->reload = v;
		break;
	case 2:
		c->reload = (uint16_t)(v << 8);
		break;
	default:
		if (!c->write_msb) {
			c->reload = (uint16_t)((c->reload & 0xff00) | v);
			c->write_msb = 1;
			c->null_count = true;
			/* Mode 0: the first byte stops counting, OUT low. */
			if (c->mode == 0) {
				c->started = false;
				c->idle_out = false;
				if (idx == 0)
					pit_irq_resync(p, now);
			}
			return;
		}
		c->reload = (uint16_t)((c->reload & 0xff) | (v << 8));
		c->write_msb = 0;
		break;
	}
	pit_load(c, now);
	if (idx == 0)
		pit_irq_resync(p, now);
}

static uint8_t pit_read_count(struct pit_channel *c, vclock_ns now)
{
	uint16_t v;
	uint8_t b;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	v = c->count_latched ? c->latch : pit_count_at(c, pit_ticks(c, now));
	switch (c->rw) {
	case 1:
		c->count_latched = false;
		return (uint8_t)v;
	case 2:
		c->count_latched = false;
		return (uint8_t)(v >> 8);
	default:
		b = c->read_msb ? (uint8_t)(v >> 8) : (uint8_t)v;
		if (c->read_msb)
			c->count_latched = false;
		c->read_msb ^= 1;
		return b;
	}
}

static uint32_t pit_io_read(void *dev, uint16_t offset, unsigned size)
{
	struct pit8254 *p = dev;
	vclock_ns now = pit_now(p);
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++) {
		unsigned off = offset + i;
		/* The control register is write-only; the bus floats high. */
		uint8_t b = off < 3 ? pit_read_count(&p->st.ch[off], now) : 0xff;

		v |= (uint32_t)b << (8 * i);
	}
	return v;
}

static void pit_io_write(void *dev, uint16_t offset, unsigned size,
			 uint32_t value)
{
	struct pit8254 *p = dev;
	vclock_ns now = pit_now(p);

	for (unsigned i = 0; i < size; i++) {
		unsigned off = offset + i;
		uint8_t b = (uint8_t)(value >> (8 * i));

		if (off < 3)
			pit_write_count(p, off, b, now);
		else if (off == 3)
			pit_write_control(p, b, now);
	}
}

static uint32_t pit_gate_io_read(void *dev, uint16_t offset, unsigned size)
{
	struct pit8254 *p = dev;
	const struct pit_channel *c2 = &p->st.ch[2];
	uint8_t v = p->st.port61 & PIT_P61_WRITABLE;

	if (offset != 0)
		return 0xffffffffu;
	/* Bit 4 follows the DRAM refresh request (channel 1 on the original
	 * PC); we flip it on each read so polling loops see it toggle, and
	 * deterministically so. */
	p->st.refresh = !p->st.refresh;
	if (p->st.refresh)
		v |= PIT_P61_REFRESH;
	if (pit_out_at(c2, pit_ticks(c2, pit_now(p))))
		v |= PIT_P61_OUT2;
	/* Bits 7:6 (parity and I/O channel check) are never set. */
	return v | (size > 1 ? 0xffffff00u : 0);
}

static void pit_gate_io_write(void *dev, uint16_t offset, unsigned size,
			      uint32_t value)
{
	struct pit8254 *p = dev;

	if (offset != 0)
		return;
	p->st.port61 = (uint8_t)(value & PIT_P61_WRITABLE);
	pit_set_gate(&p->st.ch[2], value & PIT_P61_GATE2, pit_now(p));
}

static void pit_reset(struct pit8254 *p)
{
	bool was = p->st.irq_level;

	memset(&p->st, 0, sizeof(p->st));
	for (unsigned i = 0; i < 3; i++) {
		p->st.ch[i].rw = 3;
		p->st.ch[i].null_count = true;
		/* Channels 0 and 1 have their gates tied high on the PC. */
		p->st.ch[i].gate = i != 2;
	}
	p->st.irq_level = was;
	pit_set_irq(p, false);
}

void pit_init(struct pit8254 *p, vmm_clock_fn clock, void *clock_opaque,
	      vmm_irq_fn irq, void *irq_opaque)
{
	memset(p, 0, sizeof(*p));
	p->clock = clock;
	p->clock_opaque = clock_opaque;
	p->irq = irq;
	p->irq_opaque = irq_opaque;
	pit_reset(p);
}

vclock_ns pit_next_deadline(const struct pit8254 *p)
{
	const struct pit_channel *c = &p->st.ch[0];
	uint64_t t = pit_next_rise(c, p->st.irq_ticks);

	return t == PIT_NO_TICK ? VCLOCK_NEVER : pit_time_of(c, t);
}

void pit_update(struct pit8254 *p)
{
	const struct pit_channel *c = &p->st.ch[0];
	uint64_t t = pit_ticks(c, pit_now(p));
	uint64_t rise = pit_next_rise(c, p->st.irq_ticks);

	if (t < p->st.irq_ticks)
		return; /* the clock went backwards: nothing is due */
	if (rise <= t) {
		/* Deliver the edge even if OUT0 fell again since (mode 3 past
		 * its half period): the PIC would have latched it then.  The
		 * line stays high until the next update. */
		pit_set_irq(p, false);
		pit_set_irq(p, true);
	} else {
		pit_set_irq(p, pit_out_at(c, t));
	}
	p->st.irq_ticks = t;
}

static void pit_save(const void *dev, void *blob)
{
	const struct pit8254 *p = dev;

	memcpy(blob, &p->st, sizeof(p->st));
}

static int pit_restore(void *dev, const void *blob)
{
	struct pit8254 *p = dev;
	struct pit8254_state st;

	memcpy(&st, blob, sizeof(st));
	for (unsigned i = 0; i < 3; i++) {
		const struct pit_channel *c = &st.ch[i];

		if (c->mode > 5 || c->rw < 1 || c->rw > 3 || c->count > 65536 ||
		    (c->started && c->count == 0))
			return -EINVAL;
	}
	p->st = st;
	return 0;
}

const struct vmm_device_ops pit_ops = {
	.name = "pit8254",
	.io = {
		[PIT_IO_COUNTERS] = { 0x40, 4, pit_io_read, pit_io_write },
		[PIT_IO_PORT61] = { 0x61, 1, pit_gate_io_read, pit_gate_io_write },
	},
	.state_size = sizeof(struct pit8254_state),
	.save = pit_save,
	.restore = pit_restore,
};
