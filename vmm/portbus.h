/* The I/O port bus: maps each of the 65536 ports to at most one device from
 * the machine's ordered device table.  O(1) dispatch through a 64 KiB map. */
#ifndef RRVM_VMM_PORTBUS_H
#define RRVM_VMM_PORTBUS_H

#include <stdbool.h>
#include <stdint.h>

struct vmm_device_ops;

#define PORTBUS_MAX_DEVICES 16
#define PORTBUS_NONE 0xff

struct portbus_slot {
	const struct vmm_device_ops *ops;
	void *dev;
};

struct portbus {
	unsigned n;
	struct portbus_slot slots[PORTBUS_MAX_DEVICES];
	uint8_t map[65536]; /* port -> slot index or PORTBUS_NONE */
	uint64_t unassigned_reads, unassigned_writes;
};

void portbus_init(struct portbus *b);
/* Adds a device; -EEXIST when its range overlaps one already added (the
 * message names both), -ENOSPC when the table is full. */
int portbus_add(struct portbus *b, const struct vmm_device_ops *ops, void *dev);

/* Performs one access of SIZE bytes (1, 2, 4).  Returns true when a device
 * claimed the port; reads of unclaimed ports give all ones and are counted. */
bool portbus_read(struct portbus *b, uint16_t port, unsigned size, uint32_t *val);
bool portbus_write(struct portbus *b, uint16_t port, unsigned size, uint32_t val);

#endif
