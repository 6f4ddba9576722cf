/* The 8042 keyboard controller, as far as a PC without a keyboard needs it:
 * the status port, the controller commands firmware and kernels issue
 * (read/write the command byte, self-tests, enable/disable), and the CPU
 * reset line on output port bit 0, pulsed by command 0xfe (what Linux's
 * `reboot -f` writes to port 0x64) or cleared through command 0xd1.  No
 * keyboard or mouse is attached: nothing ever arrives from one.
 *
 * Ports: 0x60 data, 0x64 status/command (i8042_ops.io[I8042_IO_*]);
 * 0x61 in between belongs to the PIT's gate (pit8254.h).  Pure: a reset
 * request goes through the callback; the state is a few bytes with
 * save/restore. */
#ifndef RRVM_DEVICES_I8042_H
#define RRVM_DEVICES_I8042_H

#include "vmm/device.h"

struct i8042_state {
	uint8_t cmd_byte;   /* the controller command byte (command 0x20/0x60) */
	uint8_t out;        /* the output buffer */
	uint8_t out_full;   /* status bit 0 */
	uint8_t pending;    /* a command waiting for its data byte, or 0 */
	uint8_t last_cmd;   /* status bit 3: the last write went to 0x64 */
	uint8_t out_port;   /* output port; bit 0 low holds the CPU in reset */
};

struct i8042 {
	struct i8042_state s;
	void (*reset_req)(void *opaque); /* the guest pulled the reset line */
	void *opaque;
};

enum {
	I8042_IO_DATA, /* 0x60 */
	I8042_IO_CMD,  /* 0x64: status on read, commands on write */
};
extern const struct vmm_device_ops i8042_ops;

void i8042_init(struct i8042 *k, void (*reset_req)(void *opaque), void *opaque);

#endif
