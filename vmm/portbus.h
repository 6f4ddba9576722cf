/* The I/O port bus: maps each of the 65536 ports to at most one device from
 * the machine's ordered device table.  O(1) dispatch through a 64 KiB map. */
#ifndef RRVM_VMM_PORTBUS_H
#define RRVM_VMM_PORTBUS_H

#include <stdbool.h>
#include <stdint.h>

struct vmm_device_ops;

#define PORTBUS_MAX_DEVICES 16
#define PORTBUS_MAX_RANGES 32
#define PORTBUS_NONE 0xff

/* A device as the machine's table holds it (the MMIO bus too). */
struct portbus_slot {
	const struct vmm_device_ops *ops;
	void *dev;
};

/* One port range of a device on the bus. */
struct portbus_range {
	const struct vmm_io_range *io;
	void *dev;
	const char *name; /* the device's */
};

struct portbus {
	unsigned n;
	struct portbus_range ranges[PORTBUS_MAX_RANGES];
	uint8_t map[65536]; /* port -> range index or PORTBUS_NONE */
	uint64_t unassigned_reads, unassigned_writes;
};

void portbus_init(struct portbus *b);
/* Adds a device with all of its port ranges, or none of them: -EEXIST
 * when one overlaps a range already added or another of its own (the
 * message names both), -ERANGE past port 0xffff, -ENOSPC when the table
 * is full. */
int portbus_add(struct portbus *b, const struct vmm_device_ops *ops, void *dev);

/* Performs one access of SIZE bytes (1, 2, 4).  Returns true when a device
 * claimed the port; reads of unclaimed ports give all ones and are counted. */
bool portbus_read(struct portbus *b, uint16_t port, unsigned size, uint32_t *val);
bool portbus_write(struct portbus *b, uint16_t port, unsigned size, uint32_t val);

#endif
