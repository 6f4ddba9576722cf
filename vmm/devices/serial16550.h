/* 16550A UART (one of the PC's COM ports), as a pure state machine.
 *
 * Transmit is instantaneous: a THR write hands the byte to the tx sink at
 * once and THR is empty again.  Receive bytes come from the machine through
 * serial_rx_push(), which the machine calls at sync points with input taken
 * from (or recorded into) the trace.  The IRQ callback is called only when
 * the IRQ pin level changes.  The struct is owned by the machine; nothing here
 * allocates.  Every call is O(1). */
#ifndef RRVM_DEVICES_SERIAL16550_H
#define RRVM_DEVICES_SERIAL16550_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/device.h"

/* The receiver FIFO of a 16550A holds 16 bytes. */
#define SERIAL_FIFO_SIZE 16

/* Saved as a flat blob (serial_ops.state_size bytes). */
struct serial16550_state {
	uint8_t rx_fifo[SERIAL_FIFO_SIZE];
	uint8_t rx_head;   /* index of the oldest byte */
	uint8_t rx_count;  /* bytes held; at most 1 when FIFOs are off */
	uint8_t rbr;       /* last byte read, returned again when empty */
	uint8_t ier, fcr, lcr, mcr, lsr, msr, scr, dll, dlm;
	bool thre_pending; /* THR-empty interrupt armed, not yet acknowledged */
	bool irq_level;    /* current level of the IRQ pin as the PIC sees it */
};

struct serial16550 {
	/* Callbacks, set at init, never saved. */
	vmm_irq_fn irq;
	void *irq_opaque;
	unsigned irq_line;
	void (*tx)(void *opaque, uint8_t byte);
	void *tx_opaque;

	struct serial16550_state st;
};

/* COM1 at 0x3f8, 8 ports; dev is a struct serial16550 *. */
extern const struct vmm_device_ops serial_ops;

/* Power-on state; IRQ_LINE is what the irq callback is called with. */
void serial_init(struct serial16550 *s, vmm_irq_fn irq, void *irq_opaque,
		 unsigned irq_line, void (*tx)(void *opaque, uint8_t byte),
		 void *tx_opaque);

/* A byte arrives on the serial line.  Returns 0, or -ENOSPC when the
 * receiver is full (the byte is lost and LSR.OE is set, as on hardware) or
 * in loopback, where the receiver is disconnected from the line (the byte
 * is refused, nothing else changes).  Callers that must not lose input
 * check serial_rx_space() first. */
int serial_rx_push(struct serial16550 *s, uint8_t byte);

/* Bytes the receiver can take now: up to 16 with FIFOs on, 1 with them
 * off, 0 in loopback. */
unsigned serial_rx_space(const struct serial16550 *s);

#endif
