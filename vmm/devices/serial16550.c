/* 16550A UART.  Register map (offsets from the base port, DLAB = LCR bit 7):
 *
 *   0  read: RBR (DLAB=0) / DLL (DLAB=1)    write: THR / DLL
 *   1  IER / DLM
 *   2  read: IIR                             write: FCR
 *   3  LCR     4  MCR     5  LSR (read-only)  6  MSR (read-only)  7  SCR
 *
 * Facts from the National PC16550D datasheet that shape this file:
 *   - IIR reports the highest-priority pending source: receiver line status
 *     (0x6) > received data available (0x4) or character timeout (0xc) >
 *     THR empty (0x2) > modem status (0x0); bit 0 set means none pending.
 *     Bits 7:6 read 11 when FIFOs are enabled (FCR bit 0).
 *   - The THRE interrupt is cleared by reading IIR while it is the source
 *     reported, or by writing THR.  Enabling ETBEI while THR is empty raises
 *     it at once.
 *   - Reading LSR clears OE/PE/FE/BI; reading MSR clears the delta bits.
 *   - In loopback (MCR bit 4) TX feeds RX, MSR bits 7:4 mirror MCR bits
 *     OUT2, OUT1, DTR, RTS as DCD, RI, DSR, CTS, and the output pins,
 *     including OUT2, are forced inactive.
 *   - FCR bits other than bit 0 are only written while bit 0 is set, and
 *     changing bit 0 clears both FIFOs.
 * On PCs the INTR pin reaches the ISA IRQ through a buffer enabled by the
 * OUT2 pin, so the IRQ is raised only when MCR.OUT2 is set and loopback is
 * off (the OUT2 pin is forced inactive in loopback).
 *
 * Modelling choices: the character timeout interrupt (FIFO mode, data below
 * the trigger level) is reported as soon as data is present, as if the four
 * character times had already elapsed: bytes arrive in bursts at sync points
 * and the guest would otherwise wait on host timing.  Parity, framing and
 * break never occur.  The modem inputs outside loopback are those of a
 * connected terminal: DCD, DSR and CTS asserted, RI not. */
#include "vmm/devices/serial16550.h"

#include <errno.h>
#include <string.h>

enum {
	SERIAL_IER_RDI = 0x01,  /* received data available */
	SERIAL_IER_THRI = 0x02, /* THR empty */
	SERIAL_IER_RLSI = 0x04, /* receiver line status */
	SERIAL_IER_MSI = 0x08,  /* modem status */

	SERIAL_IIR_NONE = 0x01,
	SERIAL_IIR_MSI = 0x00,
	SERIAL_IIR_THRI = 0x02,
	SERIAL_IIR_RDI = 0x04,
	SERIAL_IIR_RLSI = 0x06,
	SERIAL_IIR_TIMEOUT = 0x0c,
	SERIAL_IIR_FIFO = 0xc0,

	SERIAL_FCR_ENABLE = 0x01,
	SERIAL_FCR_CLEAR_RX = 0x02,
	SERIAL_FCR_CLEAR_TX = 0x04,
	/* Bits kept from an FCR write: enable, DMA mode, trigger level. */
	SERIAL_FCR_KEEP = 0xc9,

	SERIAL_LCR_DLAB = 0x80,

	SERIAL_MCR_DTR = 0x01,
	SERIAL_MCR_RTS = 0x02,
	SERIAL_MCR_OUT1 = 0x04,
	SERIAL_MCR_OUT2 = 0x08,
	SERIAL_MCR_LOOP = 0x10,
	SERIAL_MCR_MASK = 0x1f, /* bits 7:5 are always 0 on the 16550A */

	SERIAL_LSR_DR = 0x01,
	SERIAL_LSR_OE = 0x02,
	SERIAL_LSR_ERRORS = 0x1e, /* OE, PE, FE, BI: cleared by reading LSR */
	SERIAL_LSR_THRE = 0x20,
	SERIAL_LSR_TEMT = 0x40,

	SERIAL_MSR_DCTS = 0x01,
	SERIAL_MSR_DDSR = 0x02,
	SERIAL_MSR_TERI = 0x04,
	SERIAL_MSR_DDCD = 0x08,
	SERIAL_MSR_DELTAS = 0x0f,
	SERIAL_MSR_CTS = 0x10,
	SERIAL_MSR_DSR = 0x20,
	SERIAL_MSR_RI = 0x40,
	SERIAL_MSR_DCD = 0x80,
	/* A terminal on the other end: carrier, data set ready, clear to send. */
	SERIAL_MSR_EXTERNAL = SERIAL_MSR_DCD | SERIAL_MSR_DSR | SERIAL_MSR_CTS,
};

/* Receiver trigger levels selected by FCR bits 7:6. */
static const uint8_t serial_trigger[4] = { 1, 4, 8, 14 };

static bool serial_fifo_on(const struct serial16550_state *st)
{
	return st->fcr & SERIAL_FCR_ENABLE;
}

static unsigned serial_capacity(const struct serial16550_state *st)
{
	return serial_fifo_on(st) ? SERIAL_FIFO_SIZE : 1;
}

/* The IIR value (without the FIFO bits) for the current state. */
static uint8_t serial_iir_source(const struct serial16550_state *st)
{
	if ((st->ier & SERIAL_IER_RLSI) && (st->lsr & SERIAL_LSR_ERRORS))
		return SERIAL_IIR_RLSI;
	if ((st->ier & SERIAL_IER_RDI) && st->rx_count) {
		if (!serial_fifo_on(st) ||
		    st->rx_count >= serial_trigger[st->fcr >> 6])
			return SERIAL_IIR_RDI;
		return SERIAL_IIR_TIMEOUT;
	}
	if ((st->ier & SERIAL_IER_THRI) && st->thre_pending)
		return SERIAL_IIR_THRI;
	if ((st->ier & SERIAL_IER_MSI) && (st->msr & SERIAL_MSR_DELTAS))
		return SERIAL_IIR_MSI;
	return SERIAL_IIR_NONE;
}

static void serial_update_irq(struct serial16550 *s)
{
	struct serial16550_state *st = &s->st;
	bool gate = (st->mcr & SERIAL_MCR_OUT2) && !(st->mcr & SERIAL_MCR_LOOP);
	bool level = gate && serial_iir_source(st) != SERIAL_IIR_NONE;

	if (level == st->irq_level)
		return;
	st->irq_level = level;
	if (s->irq)
		s->irq(s->irq_opaque, s->irq_line, level);
}

/* Modem inputs as the receiver sees them: MCR in loopback, else the line. */
static uint8_t serial_modem_inputs(const struct serial16550_state *st)
{
	uint8_t m = st->mcr;

	if (!(m & SERIAL_MCR_LOOP))
		return SERIAL_MSR_EXTERNAL;
	return (uint8_t)(((m & SERIAL_MCR_RTS) ? SERIAL_MSR_CTS : 0) |
			 ((m & SERIAL_MCR_DTR) ? SERIAL_MSR_DSR : 0) |
			 ((m & SERIAL_MCR_OUT1) ? SERIAL_MSR_RI : 0) |
			 ((m & SERIAL_MCR_OUT2) ? SERIAL_MSR_DCD : 0));
}

/* Latch new modem inputs into MSR, setting the delta bits that changed.
 * TERI is set only on the trailing (1 -> 0) edge of RI. */
static void serial_set_modem_inputs(struct serial16550_state *st, uint8_t in)
{
	uint8_t old = st->msr & 0xf0, diff = old ^ in;
	uint8_t d = 0;

	if (diff & SERIAL_MSR_CTS)
		d |= SERIAL_MSR_DCTS;
	if (diff & SERIAL_MSR_DSR)
		d |= SERIAL_MSR_DDSR;
	if ((old & SERIAL_MSR_RI) && !(in & SERIAL_MSR_RI))
		d |= SERIAL_MSR_TERI;
	if (diff & SERIAL_MSR_DCD)
		d |= SERIAL_MSR_DDCD;
	st->msr = (uint8_t)(in | (st->msr & SERIAL_MSR_DELTAS) | d);
}

static void serial_rx_clear(struct serial16550_state *st)
{
	st->rx_head = 0;
	st->rx_count = 0;
	st->lsr &= (uint8_t)~SERIAL_LSR_DR;
}

/* Receive one byte; false (and OE set) when the receiver is full. */
static bool serial_receive(struct serial16550_state *st, uint8_t byte)
{
	if (st->rx_count >= serial_capacity(st)) {
		st->lsr |= SERIAL_LSR_OE;
		return false;
	}
	st->rx_fifo[(st->rx_head + st->rx_count) % SERIAL_FIFO_SIZE] = byte;
	st->rx_count++;
	st->lsr |= SERIAL_LSR_DR;
	return true;
}

static uint8_t serial_read_rbr(struct serial16550_state *st)
{
	if (st->rx_count) {
		st->rbr = st->rx_fifo[st->rx_head];
		st->rx_head = (uint8_t)((st->rx_head + 1) % SERIAL_FIFO_SIZE);
		st->rx_count--;
	}
	if (!st->rx_count)
		st->lsr &= (uint8_t)~SERIAL_LSR_DR;
	return st->rbr;
}

static void serial_write_thr(struct serial16550 *s, uint8_t byte)
{
	struct serial16550_state *st = &s->st;

	if (st->mcr & SERIAL_MCR_LOOP)
		serial_receive(st, byte);
	else if (s->tx)
		s->tx(s->tx_opaque, byte);
	/* The byte left at once: THR (and the shifter) are empty again, which
	 * re-arms the THRE interrupt that the write itself acknowledged. */
	st->thre_pending = true;
}

static void serial_write_fcr(struct serial16550_state *st, uint8_t v)
{
	if ((v ^ st->fcr) & SERIAL_FCR_ENABLE)
		serial_rx_clear(st);
	if (!(v & SERIAL_FCR_ENABLE)) {
		st->fcr = 0;
		return;
	}
	if (v & SERIAL_FCR_CLEAR_RX)
		serial_rx_clear(st);
	/* SERIAL_FCR_CLEAR_TX: the transmit FIFO is always empty. */
	st->fcr = v & SERIAL_FCR_KEEP;
}

static uint8_t serial_read_byte(struct serial16550 *s, uint16_t off)
{
	struct serial16550_state *st = &s->st;
	bool dlab = st->lcr & SERIAL_LCR_DLAB;
	uint8_t v, src;

	switch (off) {
	case 0:
		return dlab ? st->dll : serial_read_rbr(st);
	case 1:
		return dlab ? st->dlm : st->ier;
	case 2:
		src = serial_iir_source(st);
		if (src == SERIAL_IIR_THRI)
			st->thre_pending = false;
		return (uint8_t)(src | (serial_fifo_on(st) ? SERIAL_IIR_FIFO : 0));
	case 3:
		return st->lcr;
	case 4:
		return st->mcr;
	case 5:
		v = st->lsr;
		st->lsr &= (uint8_t)~SERIAL_LSR_ERRORS;
		return v;
	case 6:
		v = st->msr;
		st->msr &= (uint8_t)~SERIAL_MSR_DELTAS;
		return v;
	default:
		return st->scr;
	}
}

static void serial_write_byte(struct serial16550 *s, uint16_t off, uint8_t v)
{
	struct serial16550_state *st = &s->st;
	bool dlab = st->lcr & SERIAL_LCR_DLAB;

	switch (off) {
	case 0:
		if (dlab)
			st->dll = v;
		else
			serial_write_thr(s, v);
		break;
	case 1:
		if (dlab) {
			st->dlm = v;
			break;
		}
		/* Enabling ETBEI with THR empty raises THRE at once. */
		if ((v & SERIAL_IER_THRI) && !(st->ier & SERIAL_IER_THRI))
			st->thre_pending = true;
		st->ier = v & 0x0f; /* bits 7:4 are always 0 */
		break;
	case 2:
		serial_write_fcr(st, v);
		break;
	case 3:
		st->lcr = v;
		break;
	case 4:
		st->mcr = v & SERIAL_MCR_MASK;
		serial_set_modem_inputs(st, serial_modem_inputs(st));
		break;
	case 5:
	case 6:
		break; /* LSR and MSR are read-only (factory test writes ignored) */
	default:
		st->scr = v;
		break;
	}
}

static uint32_t serial_io_read(void *dev, uint16_t offset, unsigned size)
{
	struct serial16550 *s = dev;
	uint32_t v = 0;

	/* A wider access is a run of byte cycles on the ISA bus. */
	for (unsigned i = 0; i < size; i++) {
		unsigned off = offset + i;
		uint8_t b = off < 8 ? serial_read_byte(s, (uint16_t)off) : 0xff;

		v |= (uint32_t)b << (8 * i);
	}
	serial_update_irq(s);
	return v;
}

static void serial_io_write(void *dev, uint16_t offset, unsigned size,
			    uint32_t value)
{
	struct serial16550 *s = dev;

	for (unsigned i = 0; i < size; i++) {
		unsigned off = offset + i;

		if (off < 8)
			serial_write_byte(s, (uint16_t)off,
					  (uint8_t)(value >> (8 * i)));
	}
	serial_update_irq(s);
}

static void serial_reset(struct serial16550 *s)
{
	struct serial16550_state *st = &s->st;
	bool was = st->irq_level;

	memset(st, 0, sizeof(*st));
	st->irq_level = was; /* so the lowering below is reported */
	st->lsr = SERIAL_LSR_THRE | SERIAL_LSR_TEMT;
	st->msr = SERIAL_MSR_EXTERNAL;
	/* The divisor latch is not cleared by master reset; 12 gives 9600
	 * baud from the 1.8432 MHz PC crystal (1843200 / 16 / 9600). */
	st->dll = 12;
	serial_update_irq(s);
}

void serial_init(struct serial16550 *s, vmm_irq_fn irq, void *irq_opaque,
		 unsigned irq_line, void (*tx)(void *opaque, uint8_t byte),
		 void *tx_opaque)
{
	memset(s, 0, sizeof(*s));
	s->irq = irq;
	s->irq_opaque = irq_opaque;
	s->irq_line = irq_line;
	s->tx = tx;
	s->tx_opaque = tx_opaque;
	serial_reset(s);
}

int serial_rx_push(struct serial16550 *s, uint8_t byte)
{
	int ret = 0;

	/* In loopback the receiver is disconnected from the line: the caller
	 * keeps the byte until loopback ends (serial_rx_space() says 0). */
	if (s->st.mcr & SERIAL_MCR_LOOP)
		return -ENOSPC;
	if (!serial_receive(&s->st, byte))
		ret = -ENOSPC;
	serial_update_irq(s);
	return ret;
}

unsigned serial_rx_space(const struct serial16550 *s)
{
	if (s->st.mcr & SERIAL_MCR_LOOP)
		return 0;
	return serial_capacity(&s->st) - s->st.rx_count;
}

static void serial_save(const void *dev, void *blob)
{
	const struct serial16550 *s = dev;

	memcpy(blob, &s->st, sizeof(s->st));
}

static int serial_restore(void *dev, const void *blob)
{
	struct serial16550 *s = dev;
	struct serial16550_state st;

	memcpy(&st, blob, sizeof(st));
	if (st.rx_head >= SERIAL_FIFO_SIZE || st.rx_count > serial_capacity(&st))
		return -EINVAL;
	s->st = st;
	return 0;
}

const struct vmm_device_ops serial_ops = {
	.name = "serial16550",
	.io = { { 0x3f8, 8, serial_io_read, serial_io_write } },
	.state_size = sizeof(struct serial16550_state),
	.save = serial_save,
	.restore = serial_restore,
};
