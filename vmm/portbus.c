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

int portbus_add(struct portbus *b, const struct vmm_device_ops *ops, void *dev)
{
	unsigned end = (unsigned)ops->io_base + ops->io_len;

	if (b->n == PORTBUS_MAX_DEVICES)
		return -ENOSPC;
	if (end > sizeof(b->map))
		return -ERANGE;
	for (unsigned p = ops->io_base; p < end; p++) {
		if (b->map[p] != PORTBUS_NONE) {
			log_err("device %s overlaps %s at port %#x", ops->name,
				b->slots[b->map[p]].ops->name, p);
			return -EEXIST;
		}
	}
	memset(&b->map[ops->io_base], (int)b->n, ops->io_len);
	b->slots[b->n++] = (struct portbus_slot){ ops, dev };
	return 0;
}

bool portbus_read(struct portbus *b, uint16_t port, unsigned size, uint32_t *val)
{
	uint8_t i = b->map[port];
	const struct portbus_slot *s;

	if (i == PORTBUS_NONE) {
		b->unassigned_reads++;
		*val = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
		return false;
	}
	s = &b->slots[i];
	*val = s->ops->io_read(s->dev, (uint16_t)(port - s->ops->io_base), size);
	if (size < 4)
		*val &= (1u << (8 * size)) - 1;
	return true;
}

bool portbus_write(struct portbus *b, uint16_t port, unsigned size, uint32_t val)
{
	uint8_t i = b->map[port];
	const struct portbus_slot *s;

	if (i == PORTBUS_NONE) {
		b->unassigned_writes++;
		return false;
	}
	s = &b->slots[i];
	s->ops->io_write(s->dev, (uint16_t)(port - s->ops->io_base), size, val);
	return true;
}
