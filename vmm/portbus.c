#define LOG_MODULE "vmm"
#include "vmm/portbus.h"

#include <errno.h>
#include <string.h>

#include "util/log.h"
#include "vmm/device.h"

void portbus_init(struct portbus *b)
{
	b->n = 0;
	b->unassigned_reads = b->unassigned_writes = 0;
	memset(b->map, PORTBUS_NONE, sizeof(b->map));
}

/* The device owning port P so far: what is on the map, or one of the
 * ranges of IO before RANGE (they go on the map only once all fit). */
static const char *portbus_owner(const struct portbus *b, const struct vmm_device_ops *ops,
				 unsigned range, unsigned p)
{
	if (b->map[p] != PORTBUS_NONE)
		return b->ranges[b->map[p]].name;
	for (unsigned i = 0; i < range; i++)
		if (p >= ops->io[i].base && p - ops->io[i].base < ops->io[i].len)
			return ops->name;
	return NULL;
}

int portbus_add(struct portbus *b, const struct vmm_device_ops *ops, void *dev)
{
	unsigned n = 0;
	const char *owner;

	for (; n < VMM_DEVICE_MAX_IO && ops->io[n].len; n++) {
		const struct vmm_io_range *io = &ops->io[n];

		if ((unsigned)io->base + io->len > sizeof(b->map))
			return -ERANGE;
		for (unsigned p = io->base; p < (unsigned)io->base + io->len; p++)
			if ((owner = portbus_owner(b, ops, n, p))) {
				log_err("device %s overlaps %s at port %#x", ops->name, owner, p);
				return -EEXIST;
			}
	}
	if (b->n + n > PORTBUS_MAX_RANGES)
		return -ENOSPC;
	for (unsigned i = 0; i < n; i++) {
		memset(&b->map[ops->io[i].base], (int)b->n, ops->io[i].len);
		b->ranges[b->n++] = (struct portbus_range){ &ops->io[i], dev, ops->name };
	}
	return 0;
}

bool portbus_read(struct portbus *b, uint16_t port, unsigned size, uint32_t *val)
{
	uint8_t i = b->map[port];
	const struct portbus_range *r;

	if (i == PORTBUS_NONE) {
		b->unassigned_reads++;
		*val = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
		return false;
	}
	r = &b->ranges[i];
	*val = r->io->read(r->dev, (uint16_t)(port - r->io->base), size);
	if (size < 4)
		*val &= (1u << (8 * size)) - 1;
	return true;
}

bool portbus_write(struct portbus *b, uint16_t port, unsigned size, uint32_t val)
{
	uint8_t i = b->map[port];
	const struct portbus_range *r;

	if (i == PORTBUS_NONE) {
		b->unassigned_writes++;
		return false;
	}
	r = &b->ranges[i];
	r->io->write(r->dev, (uint16_t)(port - r->io->base), size, val);
	return true;
}
