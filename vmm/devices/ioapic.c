/* Intel 82093AA I/O APIC, after its datasheet (order no. 290566).
 *
 *   +0x00 IOREGSEL (8 bits, the register index)   +0x10 IOWIN (32 bits)
 * Registers through IOWIN:
 *   0x00 ID (bits 27:24)   0x01 version 0x00170011 (24 entries, 0x11)
 *   0x02 arbitration ID    0x10 + 2n / 0x11 + 2n  entry n, low / high dword
 * Redirection entry: vector 7:0, delivery mode 10:8, destination mode 11,
 * delivery status 12 (ro), polarity 13 (1 = active low), remote IRR 14
 * (ro), trigger 15 (1 = level), mask 16, destination 63:56.
 *
 * Edge-triggered pins deliver on the edge into the asserted state (an edge
 * while masked is lost, as on the chip); level-triggered ones deliver while
 * asserted and remote IRR is clear, set remote IRR, and deliver again after
 * the EOI if still asserted.  Delivery status reads 0: a message is
 * accepted at once.  Reserved registers read 0 and ignore writes. */
#include "vmm/devices/ioapic.h"

#include <errno.h>
#include <string.h>

#define IOAPIC_VERSION (((IOAPIC_PINS - 1) << 16) | 0x11u)
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VERSION 0x01
#define IOAPIC_REG_ARB 0x02
#define IOAPIC_REG_REDIR 0x10

#define IOAPIC_POLARITY_LOW (1ull << 13)
#define IOAPIC_REMOTE_IRR (1ull << 14)
#define IOAPIC_LEVEL (1ull << 15)
#define IOAPIC_MASKED (1ull << 16)
/* Vector, delivery mode, destination mode, polarity, trigger, mask. */
#define IOAPIC_LOW_WRITABLE 0x1afffull
#define IOAPIC_HIGH_WRITABLE 0xff000000ull

static bool ioapic_asserted(const struct ioapic *io, unsigned pin)
{
	bool level = io->st.pins >> pin & 1;

	return level != !!(io->st.redir[pin] & IOAPIC_POLARITY_LOW);
}

static void ioapic_send(struct ioapic *io, unsigned pin)
{
	uint64_t e = io->st.redir[pin];
	struct ioapic_msg msg = {
		.vector = (uint8_t)e,
		.mode = (uint8_t)((e >> 8) & 7),
		.dest = (uint8_t)(e >> 56),
		.logical = e >> 11 & 1,
		.level = e & IOAPIC_LEVEL,
	};

	if (msg.mode == 7)
		return; /* ExtINT: the 8259 answers the CPU's INTA (ioapic_extint) */
	if (msg.level)
		io->st.redir[pin] |= IOAPIC_REMOTE_IRR;
	if (io->deliver)
		io->deliver(io->deliver_opaque, &msg);
}

/* Level-triggered: deliver if asserted, unmasked and not awaiting an EOI. */
static void ioapic_service_level(struct ioapic *io, unsigned pin)
{
	uint64_t e = io->st.redir[pin];

	if ((e & IOAPIC_LEVEL) && !(e & (IOAPIC_MASKED | IOAPIC_REMOTE_IRR)) &&
	    ioapic_asserted(io, pin))
		ioapic_send(io, pin);
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level)
{
	bool was;

	if (pin >= IOAPIC_PINS)
		return;
	was = ioapic_asserted(io, pin);
	if (level)
		io->st.pins |= 1u << pin;
	else
		io->st.pins &= ~(1u << pin);
	if (io->st.redir[pin] & IOAPIC_LEVEL)
		ioapic_service_level(io, pin);
	else if (!was && ioapic_asserted(io, pin) && !(io->st.redir[pin] & IOAPIC_MASKED))
		ioapic_send(io, pin);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t *e = &io->st.redir[pin];

		if ((uint8_t)*e != vector || !(*e & IOAPIC_REMOTE_IRR))
			continue;
		*e &= ~IOAPIC_REMOTE_IRR;
		ioapic_service_level(io, pin);
	}
}

bool ioapic_extint(const struct ioapic *io, unsigned pin)
{
	uint64_t e = pin < IOAPIC_PINS ? io->st.redir[pin] : IOAPIC_MASKED;

	return !(e & IOAPIC_MASKED) && ((e >> 8) & 7) == 7;
}

unsigned ioapic_isa_pin(unsigned line)
{
	return line == 0 ? 2 : line;
}

static uint32_t ioapic_read_reg(const struct ioapic *io, unsigned reg)
{
	unsigned pin = (reg - IOAPIC_REG_REDIR) / 2;

	switch (reg) {
	case IOAPIC_REG_ID: return io->st.id;
	case IOAPIC_REG_VERSION: return IOAPIC_VERSION;
	case IOAPIC_REG_ARB: return io->st.id;
	default:
		if (reg < IOAPIC_REG_REDIR || pin >= IOAPIC_PINS)
			return 0;
		return (uint32_t)(io->st.redir[pin] >> (reg & 1 ? 32 : 0));
	}
}

static void ioapic_write_redir(struct ioapic *io, unsigned pin, bool high, uint32_t v)
{
	uint64_t *e = &io->st.redir[pin];

	if (high) {
		*e = (*e & 0xffffffffull) | ((uint64_t)v & IOAPIC_HIGH_WRITABLE) << 32;
		return;
	}
	*e = (*e & ~IOAPIC_LOW_WRITABLE) | (v & IOAPIC_LOW_WRITABLE);
	if (!(*e & IOAPIC_LEVEL))
		*e &= ~IOAPIC_REMOTE_IRR; /* remote IRR means nothing for edge */
	ioapic_service_level(io, pin);   /* an unmasked, asserted level pin */
}

static void ioapic_write_reg(struct ioapic *io, unsigned reg, uint32_t v)
{
	unsigned pin = (reg - IOAPIC_REG_REDIR) / 2;

	if (reg == IOAPIC_REG_ID)
		io->st.id = v & 0x0f000000u;
	else if (reg >= IOAPIC_REG_REDIR && pin < IOAPIC_PINS)
		ioapic_write_redir(io, pin, reg & 1, v);
}

static uint32_t ioapic_mmio_read(void *dev, uint16_t offset, unsigned size)
{
	struct ioapic *io = dev;

	(void)size;
	if (offset == 0x00)
		return io->st.sel;
	if (offset >= 0x10 && offset < 0x14)
		return ioapic_read_reg(io, io->st.sel) >> (8 * (offset - 0x10));
	return 0;
}

static void ioapic_mmio_write(void *dev, uint16_t offset, unsigned size, uint32_t value)
{
	struct ioapic *io = dev;

	if (offset == 0x00)
		io->st.sel = (uint8_t)value;
	else if (offset == 0x10 && size == 4)
		ioapic_write_reg(io, io->st.sel, value);
}

static void ioapic_reset(struct ioapic *io)
{
	memset(&io->st, 0, sizeof(io->st));
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		io->st.redir[pin] = IOAPIC_MASKED;
}

void ioapic_init(struct ioapic *io, void (*deliver)(void *opaque, const struct ioapic_msg *msg),
		 void *deliver_opaque)
{
	io->deliver = deliver;
	io->deliver_opaque = deliver_opaque;
	ioapic_reset(io);
}

static void ioapic_save(const void *dev, void *blob)
{
	const struct ioapic *io = dev;

	memcpy(blob, &io->st, sizeof(io->st));
}

static int ioapic_restore(void *dev, const void *blob)
{
	struct ioapic *io = dev;
	struct ioapic_state st;

	memcpy(&st, blob, sizeof(st));
	if (st.pins >> IOAPIC_PINS || (st.id & ~0x0f000000u))
		return -EINVAL;
	io->st = st;
	return 0;
}

const struct vmm_device_ops ioapic_ops = {
	.name = "ioapic",
	.mmio_base = IOAPIC_DEFAULT_BASE,
	.mmio_len = IOAPIC_MMIO_LEN,
	.mmio_read = ioapic_mmio_read,
	.mmio_write = ioapic_mmio_write,
	.state_size = sizeof(struct ioapic_state),
	.save = ioapic_save,
	.restore = ioapic_restore,
};
