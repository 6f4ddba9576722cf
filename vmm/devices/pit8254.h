/* Intel 8254 programmable interval timer (0x40-0x43) and the PC's port 0x61
 * (channel 2 gate, speaker data, channel 2 OUT, refresh toggle).
 *
 * Counters are never ticked: each channel remembers when it was loaded and
 * computes its count and OUT level from the virtual clock on demand.  OUT0
 * drives IRQ0 through the irq callback, which sees only level changes.  The
 * 8259A is edge-triggered, so the machine must deliver each rising edge of
 * OUT0: it calls pit_update() once the virtual clock reaches
 * pit_next_deadline().  Missed periods coalesce into one edge, like lost
 * ticks on real hardware.  Every call is O(1); the clock callback is read at
 * most once per call. */
#ifndef RRVM_DEVICES_PIT8254_H
#define RRVM_DEVICES_PIT8254_H

#include <stdbool.h>
#include <stdint.h>

#include "util/types.h"
#include "vmm/device.h"

/* The PC feeds the 8254 with the 14.31818 MHz NTSC colour-burst crystal
 * divided by 12: 1193181.8 Hz, which everyone (Linux's PIT_TICK_RATE
 * included) rounds to 1193182. */
#define PIT_HZ 1193182u

struct pit_channel {
	vclock_ns base_time;  /* when base_ticks was counted */
	uint64_t base_ticks;  /* clock ticks counted since the load at base_time */
	uint32_t count;       /* active initial count, 1-65536 */
	uint16_t reload;      /* the count last written */
	uint16_t latch;       /* latched count */
	uint8_t mode;         /* 0-5 */
	uint8_t rw;           /* 1 = LSB, 2 = MSB, 3 = LSB then MSB */
	uint8_t bcd;          /* stored and reported; counting is binary */
	uint8_t write_msb;    /* next count byte written is the MSB */
	uint8_t read_msb;     /* next byte read is the MSB */
	uint8_t status;       /* latched status byte */
	bool status_latched;
	bool count_latched;
	bool null_count;      /* a count was written but not yet loaded */
	bool has_count;       /* a count has been written since the mode */
	bool started;         /* counting began (load, or trigger in 1 and 5) */
	bool gate;
	bool idle_out;        /* OUT before counting starts */
};

/* Saved as a flat blob (pit_ops.state_size bytes). */
struct pit8254_state {
	struct pit_channel ch[3];
	uint64_t irq_ticks;   /* channel 0 ticks up to which edges are delivered */
	bool irq_level;       /* IRQ0 as the PIC sees it */
	uint8_t port61;       /* bits 3:0 as written */
	bool refresh;         /* port 0x61 bit 4 */
};

struct pit8254 {
	vmm_clock_fn clock;
	void *clock_opaque;
	vmm_irq_fn irq;
	void *irq_opaque;

	struct pit8254_state st;
};

/* pit_ops.io[]: the counters and port 0x61 (channel 2's gate and OUT).
 * dev is a struct pit8254 *. */
enum {
	PIT_IO_COUNTERS, /* 0x40-0x43 */
	PIT_IO_PORT61,   /* 0x61 */
};
extern const struct vmm_device_ops pit_ops;

/* Power-on state: every channel unprogrammed (mode 0, no count, OUT low),
 * channel 0 and 1 gates high (wired so on the PC), channel 2 gate low. */
void pit_init(struct pit8254 *p, vmm_clock_fn clock, void *clock_opaque,
	      vmm_irq_fn irq, void *irq_opaque);

/* Virtual time of the next rising edge of OUT0 not yet delivered, or
 * VCLOCK_NEVER. */
vclock_ns pit_next_deadline(const struct pit8254 *p);

/* Bring IRQ0 up to date with the virtual clock: one rising edge if any
 * was due since the last update, then the current level. */
void pit_update(struct pit8254 *p);

#endif
