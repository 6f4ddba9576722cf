/* The MMIO bus: guest-physical ranges outside RAM that devices answer (the
 * local APIC, the IOAPIC), from the machine's ordered device table.  A
 * handful of devices, so a linear search; the range check rejects overlaps
 * as the port bus does. */
#ifndef RRVM_VMM_MMIOBUS_H
#define RRVM_VMM_MMIOBUS_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/portbus.h"

#define MMIOBUS_MAX_DEVICES 4

struct mmiobus {
	unsigned n;
	struct portbus_slot slots[MMIOBUS_MAX_DEVICES];
};

void mmiobus_init(struct mmiobus *b);
/* Adds a device with mmio_len > 0; -EEXIST when its range overlaps one
 * already added (the message names both), -ENOSPC when the table is full. */
int mmiobus_add(struct mmiobus *b, const struct vmm_device_ops *ops, void *dev);

/* One access of SIZE bytes (1, 2, 4 or 8; an 8-byte access is two 4-byte
 * ones, low half first) at guest-physical GPA.  True when a device's range
 * holds all of it; reads elsewhere leave *VAL alone. */
bool mmiobus_read(struct mmiobus *b, uint64_t gpa, unsigned size, uint64_t *val);
bool mmiobus_write(struct mmiobus *b, uint64_t gpa, unsigned size, uint64_t val);

#endif
