#define LOG_MODULE "vmm"
#include "vmm/mmiobus.h"

#include <errno.h>

#include "util/log.h"
#include "vmm/device.h"

void mmiobus_init(struct mmiobus *b)
{
	b->n = 0;
}

int mmiobus_add(struct mmiobus *b, const struct vmm_device_ops *ops, void *dev)
{
	uint64_t lo = ops->mmio_base, hi = lo + ops->mmio_len;

	if (b->n == MMIOBUS_MAX_DEVICES)
		return -ENOSPC;
	if (!ops->mmio_len)
		return -EINVAL;
	for (unsigned i = 0; i < b->n; i++) {
		const struct vmm_device_ops *o = b->slots[i].ops;

		if (lo < o->mmio_base + o->mmio_len && o->mmio_base < hi) {
			log_err("device %s overlaps %s at %#llx", ops->name, o->name,
				(unsigned long long)(lo > o->mmio_base ? lo : o->mmio_base));
			return -EEXIST;
		}
	}
	b->slots[b->n++] = (struct portbus_slot){ ops, dev };
	return 0;
}

static const struct portbus_slot *mmiobus_find(const struct mmiobus *b, uint64_t gpa,
					       unsigned size)
{
	for (unsigned i = 0; i < b->n; i++) {
		const struct vmm_device_ops *o = b->slots[i].ops;

		if (gpa >= o->mmio_base && gpa + size <= o->mmio_base + o->mmio_len)
			return &b->slots[i];
	}
	return NULL;
}

bool mmiobus_read(struct mmiobus *b, uint64_t gpa, unsigned size, uint64_t *val)
{
	const struct portbus_slot *s = mmiobus_find(b, gpa, size);
	uint16_t off;

	if (!s)
		return false;
	off = (uint16_t)(gpa - s->ops->mmio_base);
	if (size == 8) {
		*val = s->ops->mmio_read(s->dev, off, 4) |
		       (uint64_t)s->ops->mmio_read(s->dev, (uint16_t)(off + 4), 4) << 32;
		return true;
	}
	*val = s->ops->mmio_read(s->dev, off, size);
	if (size < 4)
		*val &= (1u << (8 * size)) - 1;
	return true;
}

bool mmiobus_write(struct mmiobus *b, uint64_t gpa, unsigned size, uint64_t val)
{
	const struct portbus_slot *s = mmiobus_find(b, gpa, size);
	uint16_t off;

	if (!s)
		return false;
	off = (uint16_t)(gpa - s->ops->mmio_base);
	if (size == 8) {
		s->ops->mmio_write(s->dev, off, 4, (uint32_t)val);
		s->ops->mmio_write(s->dev, (uint16_t)(off + 4), 4, (uint32_t)(val >> 32));
		return true;
	}
	s->ops->mmio_write(s->dev, off, size, (uint32_t)val);
	return true;
}
