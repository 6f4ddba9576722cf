/* QEMU's isa-debug-exit device: a guest write ends the run with a status.
 *
 * rrvm places it at 0xf4, 4 ports wide, matching the QEMU command line the
 * test kernels also run under (-device isa-debug-exit,iobase=0xf4,
 * iosize=0x04).  A write of V asks the machine to exit with status
 * (V << 1) | 1, exactly QEMU's exit status; reads return 0 as QEMU's do.
 * No state; the struct only holds the callback. */
#ifndef RRVM_DEVICES_DEBUGEXIT_H
#define RRVM_DEVICES_DEBUGEXIT_H

#include "vmm/device.h"

struct debugexit {
	void (*exit_req)(void *opaque, int status);
	void *opaque;
};

/* 0xf4-0xf7; dev is a struct debugexit *.  state_size 0. */
extern const struct vmm_device_ops debugexit_ops;

void debugexit_init(struct debugexit *d,
		    void (*exit_req)(void *opaque, int status), void *opaque);

#endif
