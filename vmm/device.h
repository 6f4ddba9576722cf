/* The contract between the port bus and a userspace device model.
 *
 * Devices are pure state machines (STYLE.md 3): no syscalls, no host time, no
 * terminal I/O.  Everything they need from the machine arrives through
 * callbacks stored in their own state struct at init time:
 *   - an IRQ line setter, called only when the level changes;
 *   - a virtual clock (vclock_ns) reader;
 *   - output sinks (serial bytes, exit requests).
 *
 * One device per file in vmm/devices/, each exporting a const vmm_device_ops.
 * Handlers get an offset from io_base (or mmio_base), never the absolute
 * port or address.  The machine's
 * ordered, const device table (vmm/machine.c) decides the port map and the
 * checkpoint order. */
#ifndef RRVM_VMM_DEVICE_H
#define RRVM_VMM_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/types.h"

/* Raise (level=true) or lower an interrupt line.  LINE is the ISA IRQ number. */
typedef void (*vmm_irq_fn)(void *opaque, unsigned line, bool level);
/* Current virtual time. */
typedef vclock_ns (*vmm_clock_fn)(void *opaque);

struct vmm_device_ops {
	const char *name;
	/* A port device has io_len ports from io_base; an MMIO device has
	 * mmio_len bytes of guest-physical space from mmio_base instead (and
	 * io_len 0).  Offsets then count bytes from mmio_base. */
	uint16_t io_base;
	uint16_t io_len;
	uint64_t mmio_base;
	uint32_t mmio_len;
	/* SIZE is 1, 2 or 4.  Reads of a device return its answer; the bus
	 * fills unanswered bytes with ones. */
	uint32_t (*io_read)(void *dev, uint16_t offset, unsigned size);
	void (*io_write)(void *dev, uint16_t offset, unsigned size, uint32_t value);
	/* Power-on state; callbacks set at init survive. */
	void (*reset)(void *dev);
	/* Device state as a flat blob of state_size bytes, without callbacks,
	 * so save -> restore -> continue behaves exactly like continuing. */
	size_t state_size;
	void (*save)(const void *dev, void *blob);
	int (*restore)(void *dev, const void *blob);
};

#endif
