/* fw_cfg, legacy ports.  Items are computed on the fly from the machine's
 * configuration rather than stored, so that nothing but the selector and
 * the offset is state. */
#include "vmm/devices/fwcfg.h"

#include <string.h>

/* Byte OFF of item KEY, or -1 past its end (and for unknown items). */
static int fwcfg_item_byte(const struct fwcfg *f, uint16_t key, uint32_t off)
{
	uint8_t num[16] = { 0 }; /* the longest fixed item: the UUID */
	uint32_t len = 0;

	if (key & (FWCFG_ARCH_LOCAL | FWCFG_WRITE))
		return -1;
	switch (key) {
	case FWCFG_SIGNATURE:
		return off < 4 ? "QEMU"[off] : -1;
	case FWCFG_ID:
		num[0] = 1; /* the legacy interface, no DMA */
		len = 4;
		break;
	case FWCFG_UUID:
		len = 16;
		break;
	case FWCFG_RAM_SIZE:
		for (int i = 0; i < 8; i++)
			num[i] = (uint8_t)(f->ram_size >> (8 * i));
		len = 8;
		break;
	case FWCFG_NB_CPUS:
	case FWCFG_MAX_CPUS:
		num[0] = (uint8_t)f->ncpus;
		num[1] = (uint8_t)(f->ncpus >> 8);
		len = 2;
		break;
	case FWCFG_CMDLINE_SIZE: {
		uint32_t n = (uint32_t)strlen(f->cmdline) + 1;

		for (int i = 0; i < 4; i++)
			num[i] = (uint8_t)(n >> (8 * i));
		len = 4;
		break;
	}
	case FWCFG_CMDLINE_DATA:
		return off <= strlen(f->cmdline) ? (uint8_t)f->cmdline[off] : -1;
	case FWCFG_FILE_DIR:
		len = 4; /* a count of 0 files, big-endian */
		break;
	default:
		return -1;
	}
	return off < len ? num[off] : -1;
}

static uint32_t fwcfg_io_read(void *dev, uint16_t offset, unsigned size)
{
	struct fwcfg *f = dev;
	uint32_t v = 0;

	if (offset == 0)
		return 0; /* the selector reads back as 0, as QEMU's does */
	for (unsigned i = 0; i < size; i++) {
		int b = fwcfg_item_byte(f, f->st.selector, f->st.offset);

		if (b >= 0)
			f->st.offset++; /* past the end it stays: 0 from then on */
		v |= (uint32_t)(b < 0 ? 0 : b) << (8 * i);
	}
	return v;
}

static void fwcfg_io_write(void *dev, uint16_t offset, unsigned size, uint32_t value)
{
	struct fwcfg *f = dev;

	if (offset != 0)
		return; /* data writes: read-only device */
	f->st.selector = (uint16_t)value;
	f->st.offset = 0;
}

static void fwcfg_save(const void *dev, void *blob)
{
	const struct fwcfg *f = dev;

	memcpy(blob, &f->st, sizeof(f->st));
}

static int fwcfg_restore(void *dev, const void *blob)
{
	struct fwcfg *f = dev;

	memcpy(&f->st, blob, sizeof(f->st));
	return 0;
}

void fwcfg_init(struct fwcfg *f, uint64_t ram_size, uint16_t ncpus, const char *cmdline)
{
	*f = (struct fwcfg){ .ram_size = ram_size, .ncpus = ncpus, .cmdline = cmdline ? cmdline : "" };
}

const struct vmm_device_ops fwcfg_ops = {
	.name = "fw_cfg",
	.io = { { FWCFG_PORT, 2, fwcfg_io_read, fwcfg_io_write } },
	.state_size = sizeof(struct fwcfg_state),
	.save = fwcfg_save,
	.restore = fwcfg_restore,
};
