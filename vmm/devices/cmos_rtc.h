/* Motorola MC146818 real-time clock with its 128 bytes of CMOS RAM, at
 * 0x70 (index, bit 7 = NMI disable) and 0x71 (data).
 *
 * The wall clock is base_epoch_sec + the virtual clock, never host time: a
 * guest sees the same dates in record and in replay.  Flags in register C
 * are derived from the virtual clock when read.  IRQ8 follows register C's
 * IRQF bit through the irq callback (level changes only); the machine calls
 * rtc_update() once the virtual clock reaches rtc_next_deadline() so that a
 * periodic, alarm or update-ended interrupt is raised on time.  Every call
 * is O(1); the clock callback is read once per call. */
#ifndef RRVM_DEVICES_CMOS_RTC_H
#define RRVM_DEVICES_CMOS_RTC_H

#include <stdbool.h>
#include <stdint.h>

#include "util/types.h"
#include "vmm/device.h"

#define RTC_CMOS_SIZE 128

/* Saved as a flat blob (rtc_ops.state_size bytes). */
struct cmos_rtc_state {
	uint8_t cmos[RTC_CMOS_SIZE]; /* time registers hold the last sync */
	int64_t epoch_at_zero;       /* wall-clock seconds at vclock 0 */
	vclock_ns checked;           /* events up to here are in register C */
	uint8_t index;               /* selected register, 0-127 */
	bool nmi_disabled;           /* bit 7 of the last index write */
	bool irq_level;              /* IRQ8 as the PIC sees it */
};

struct cmos_rtc {
	vmm_clock_fn clock;
	void *clock_opaque;
	vmm_irq_fn irq;
	void *irq_opaque;

	struct cmos_rtc_state st;
};

/* 0x70-0x71; dev is a struct cmos_rtc *. */
extern const struct vmm_device_ops rtc_ops;

/* BASE_EPOCH_SEC is the wall-clock time (Unix seconds, UTC) at virtual time
 * 0.  RAM_BYTES fills the memory size bytes a BIOS would have written. */
void rtc_init(struct cmos_rtc *r, int64_t base_epoch_sec, uint64_t ram_bytes,
	      vmm_clock_fn clock, void *clock_opaque, vmm_irq_fn irq,
	      void *irq_opaque);

/* Virtual time of the next event that would raise IRQ8, or VCLOCK_NEVER
 * (no enabled source, or IRQ8 already high: it stays high until the guest
 * reads register C). */
vclock_ns rtc_next_deadline(const struct cmos_rtc *r);

/* Fold the events due by now into register C and drive IRQ8. */
void rtc_update(struct cmos_rtc *r);

/* The wall-clock time the guest sees now, in Unix seconds. */
int64_t rtc_epoch_now(const struct cmos_rtc *r);

#endif
