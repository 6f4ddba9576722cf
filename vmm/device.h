/* The contract between the port bus and a userspace device model.
 *
 * Devices are pure state machines (STYLE.md 3): no syscalls, no host time, no
 * terminal I/O.  Everything they need from the machine arrives through
 * callbacks stored in their own state struct at init time:
 *   - an IRQ line setter, called only when the level changes;
 *   - a virtual clock (vclock_ns) reader;
 *   - output sinks (serial bytes, exit requests).
 *
 * One device per file in vmm/devices/, each exporting one const
 * vmm_device_ops, whatever number of port ranges it answers.  Handlers get
 * an offset from their range's base (or mmio_base), never the absolute port
 * or address.  The machine's ordered, const device table
 * (vmm/machine_init.c) decides the port map and the checkpoint order. */
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

/* A range of I/O ports a device answers and its handlers, which get an
 * offset from BASE.  SIZE is 1, 2 or 4.  Reads return the device's answer;
 * the bus fills unanswered bytes with ones. */
struct vmm_io_range {
	uint16_t base;
	uint16_t len; /* 0: no range (ends a device's list) */
	uint32_t (*read)(void *dev, uint16_t offset, unsigned size);
	void (*write)(void *dev, uint16_t offset, unsigned size, uint32_t value);
};

/* The most port ranges of one device: the 8259 pair has three (master,
 * slave, ELCR); the PIT two (counters, port 0x61), the i8042 two (data,
 * status/command). */
#define VMM_DEVICE_MAX_IO 3

struct vmm_device_ops {
	const char *name;
	/* A port device answers the ranges in io; an MMIO device has none
	 * and answers mmio_len bytes of guest-physical space from mmio_base
	 * instead, its handlers' offsets counting bytes from mmio_base. */
	struct vmm_io_range io[VMM_DEVICE_MAX_IO];
	uint64_t mmio_base;
	uint32_t mmio_len;
	uint32_t (*mmio_read)(void *dev, uint16_t offset, unsigned size);
	void (*mmio_write)(void *dev, uint16_t offset, unsigned size, uint32_t value);
	/* Device state as a flat blob of state_size bytes, without callbacks,
	 * so save -> restore -> continue behaves exactly like continuing.
	 * A device with state_size 0 may leave save and restore NULL. */
	size_t state_size;
	void (*save)(const void *dev, void *blob);
	int (*restore)(void *dev, const void *blob);
};

#endif
