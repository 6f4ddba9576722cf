/*
 * COM1 16550 console, transmit only, polled.  115200 8N1; MCR sets OUT2 as a PC BIOS
 * would (it gates the UART's interrupt line on real hardware) even though the samples
 * never take serial interrupts.
 */
#include "runtime.h"

#define COM1     0x3f8
#define UART_THR 0   /* transmit holding (DLAB=0) */
#define UART_DLL 0   /* divisor latch low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5

#define LCR_8N1  0x03
#define LCR_DLAB 0x80
#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT2 0x08
#define LSR_THRE 0x20

void serial_init(void)
{
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DLL, 1);        /* 115200 / 1 */
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, 0x07);     /* enable and clear both FIFOs */
	outb(COM1 + UART_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
}

bool serial_tx_ready(void)
{
	return inb(COM1 + UART_LSR) & LSR_THRE;
}

void serial_putc(char c)
{
	while (!serial_tx_ready())
		cpu_relax();
	outb(COM1 + UART_THR, (uint8_t)c);
}

void serial_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		serial_putc(s[i]);
}
