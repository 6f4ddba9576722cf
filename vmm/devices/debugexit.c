/* isa-debug-exit.  QEMU's handler takes the written value whole, whatever
 * the access width and offset inside the window, and calls
 * exit((val << 1) | 1): an odd status, so a guest can never fake a clean
 * QEMU exit (status 0).  Its read handler returns 0. */
#include "vmm/devices/debugexit.h"

#include <stddef.h>

static uint32_t debugexit_io_read(void *dev, uint16_t offset, unsigned size)
{
	return 0;
}

static void debugexit_io_write(void *dev, uint16_t offset, unsigned size,
			       uint32_t value)
{
	struct debugexit *d = dev;

	/* Computed unsigned, as QEMU does, then handed over as the int a
	 * process exit status is; only its low 8 bits survive exit(). */
	if (d->exit_req)
		d->exit_req(d->opaque, (int)((value << 1) | 1u));
}

void debugexit_init(struct debugexit *d,
		    void (*exit_req)(void *opaque, int status), void *opaque)
{
	d->exit_req = exit_req;
	d->opaque = opaque;
}

const struct vmm_device_ops debugexit_ops = {
	.name = "debugexit",
	.io = { { 0xf4, 4, debugexit_io_read, debugexit_io_write } },
	.state_size = 0, /* no state: nothing to save or restore */
};
