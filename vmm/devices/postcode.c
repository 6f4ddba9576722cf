#include "vmm/devices/postcode.h"

#include <string.h>

static uint32_t postcode_read(void *dev, uint16_t offset, unsigned size)
{
	return 0xffffffffu;
}

static void postcode_write(void *dev, uint16_t offset, unsigned size, uint32_t value)
{
	((struct postcode *)dev)->last = (uint8_t)value;
}

static void postcode_save(const void *dev, void *blob)
{
	memcpy(blob, dev, sizeof(struct postcode));
}

static int postcode_restore(void *dev, const void *blob)
{
	memcpy(dev, blob, sizeof(struct postcode));
	return 0;
}

const struct vmm_device_ops postcode_ops = {
	.name = "postcode",
	.io = { { 0x80, 1, postcode_read, postcode_write } },
	.state_size = sizeof(struct postcode),
	.save = postcode_save,
	.restore = postcode_restore,
};
