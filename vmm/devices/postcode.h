/* Port 0x80, the POST code port: firmware writes progress codes there and
 * Linux writes to it as an I/O delay (outb_p, native_io_delay).  Keeps the
 * last code written (for a debugger: `x` of the device state); reads give
 * 0xff, the floating ISA bus, as under QEMU. */
#ifndef RRVM_DEVICES_POSTCODE_H
#define RRVM_DEVICES_POSTCODE_H

#include "vmm/device.h"

struct postcode {
	uint8_t last; /* the last code written */
};

extern const struct vmm_device_ops postcode_ops; /* 0x80, 1 port */

#endif
