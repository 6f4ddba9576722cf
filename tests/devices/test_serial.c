/* 16550A UART: LSR bits, IIR priorities and THRE clear-on-read, IRQ on
 * transitions only, FIFO and trigger, DLAB, loopback, save/restore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/devices/serial16550.h"

static unsigned irq_calls;
static bool irq_level;
static uint8_t txbuf[64];
static unsigned txlen;

static void fake_irq(void *opaque, unsigned line, bool level)
{
	assert_int_equal(line, 4);
	assert_int_not_equal(level, irq_level);
	irq_level = level;
	irq_calls++;
}

static void fake_tx(void *opaque, uint8_t byte)
{
	txbuf[txlen++ % sizeof(txbuf)] = byte;
}

static void setup(struct serial16550 *s)
{
	irq_calls = 0;
	irq_level = false;
	txlen = 0;
	serial_init(s, fake_irq, NULL, 4, fake_tx, NULL);
}

static void outb(struct serial16550 *s, unsigned reg, uint8_t v)
{
	serial_ops.io[0].write(s, (uint16_t)reg, 1, v);
}

static uint8_t inb(struct serial16550 *s, unsigned reg)
{
	return (uint8_t)serial_ops.io[0].read(s, (uint16_t)reg, 1);
}

static void test_lsr_and_tx(void **state)
{
	struct serial16550 s;

	setup(&s);
	assert_int_equal(inb(&s, 5), 0x60); /* THRE | TEMT */
	outb(&s, 0, 'h');
	outb(&s, 0, 'i');
	assert_int_equal(txlen, 2);
	assert_memory_equal(txbuf, "hi", 2);
	assert_int_equal(inb(&s, 5), 0x60); /* transmit is instantaneous */
	assert_int_equal(serial_rx_push(&s, 'x'), 0);
	assert_int_equal(inb(&s, 5), 0x61); /* DR */
	assert_int_equal(inb(&s, 0), 'x');
	assert_int_equal(inb(&s, 5), 0x60);
	/* Non-FIFO: one byte holds; the next overruns. */
	assert_int_equal(serial_rx_space(&s), 1);
	assert_int_equal(serial_rx_push(&s, 'a'), 0);
	assert_int_equal(serial_rx_push(&s, 'b'), -ENOSPC);
	assert_int_equal(inb(&s, 5), 0x63); /* OE */
	assert_int_equal(inb(&s, 5), 0x61); /* reading LSR cleared OE */
	assert_int_equal(inb(&s, 0), 'a');
}

static void test_iir_priority_and_thre(void **state)
{
	struct serial16550 s;

	setup(&s);
	assert_int_equal(inb(&s, 2), 0x01);
	outb(&s, 4, 0x08);   /* OUT2 */
	outb(&s, 1, 0x0f);   /* all sources */
	assert_int_equal(irq_calls, 1); /* ETBEI with THR empty: THRE at once */
	serial_rx_push(&s, 'a');
	serial_rx_push(&s, 'b'); /* overrun */
	assert_int_equal(inb(&s, 2), 0x06); /* line status first */
	inb(&s, 5);
	assert_int_equal(inb(&s, 2), 0x04); /* then received data */
	inb(&s, 0);
	assert_true(irq_level); /* THRE still pending */
	assert_int_equal(inb(&s, 2), 0x02); /* then THR empty */
	assert_false(irq_level); /* the IIR read cleared THRE */
	assert_int_equal(inb(&s, 2), 0x01);
	/* Modem status is lowest: loopback changes make deltas, but the IRQ
	 * pin is gated off in loopback. */
	outb(&s, 4, 0x08 | 0x10 | 0x02);
	assert_int_equal(inb(&s, 2), 0x00);
	assert_false(irq_level);
	assert_int_equal(inb(&s, 6) & 0x0f, 0x02); /* DSR fell: DDSR */
	assert_int_equal(inb(&s, 2), 0x01);
	/* A THR write re-arms THRE. */
	outb(&s, 4, 0x08);
	inb(&s, 6);
	outb(&s, 0, 'z');
	assert_int_equal(inb(&s, 2), 0x02);
}

static void test_irq_transitions_only(void **state)
{
	struct serial16550 s;

	setup(&s);
	outb(&s, 1, 0x01); /* RX data only */
	serial_rx_push(&s, 'a');
	assert_int_equal(irq_calls, 0); /* OUT2 clear: no IRQ */
	outb(&s, 4, 0x08);
	assert_int_equal(irq_calls, 1);
	serial_rx_push(&s, 'b'); /* overruns; still pending: no call */
	inb(&s, 5);
	inb(&s, 2);
	assert_int_equal(irq_calls, 1);
	inb(&s, 0);
	assert_int_equal(irq_calls, 2);
	assert_false(irq_level);
	outb(&s, 1, 0x00);
	assert_int_equal(irq_calls, 2);
}

static void test_fifo_and_trigger(void **state)
{
	struct serial16550 s;

	setup(&s);
	outb(&s, 4, 0x08);
	outb(&s, 1, 0x01);
	outb(&s, 2, 0x81); /* FIFO on, trigger 8 */
	assert_int_equal(inb(&s, 2), 0xc1);
	assert_int_equal(serial_rx_space(&s), 16);
	for (unsigned i = 0; i < 7; i++)
		assert_int_equal(serial_rx_push(&s, (uint8_t)('0' + i)), 0);
	assert_int_equal(inb(&s, 2), 0xcc); /* below trigger: timeout */
	serial_rx_push(&s, '7');
	assert_int_equal(inb(&s, 2), 0xc4); /* at trigger */
	for (unsigned i = 8; i < 16; i++)
		serial_rx_push(&s, (uint8_t)('0' + i));
	assert_int_equal(serial_rx_space(&s), 0);
	assert_int_equal(serial_rx_push(&s, '!'), -ENOSPC);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(inb(&s, 0), (uint8_t)('0' + i));
	assert_int_equal(inb(&s, 5) & 0x03, 0x02); /* OE, no DR */
	assert_int_equal(inb(&s, 2), 0xc1);
	/* FCR bit 1 clears the RX FIFO. */
	serial_rx_push(&s, 'q');
	outb(&s, 2, 0x83);
	assert_int_equal(inb(&s, 5) & 0x01, 0);
	/* Disabling the FIFO drops the FIFO bits and the trigger. */
	outb(&s, 2, 0x00);
	assert_int_equal(inb(&s, 2), 0x01);
	assert_int_equal(serial_rx_space(&s), 1);
}

static void test_dlab(void **state)
{
	struct serial16550 s;

	setup(&s);
	outb(&s, 1, 0x05);
	outb(&s, 3, 0x83); /* DLAB, 8N1 */
	outb(&s, 0, 0x01); /* 115200 baud */
	outb(&s, 1, 0x00);
	assert_int_equal(inb(&s, 0), 0x01);
	assert_int_equal(inb(&s, 1), 0x00);
	assert_int_equal(txlen, 0); /* DLL write did not transmit */
	outb(&s, 3, 0x03);
	assert_int_equal(inb(&s, 1), 0x05); /* IER kept */
	assert_int_equal(inb(&s, 3), 0x03);
	outb(&s, 7, 0x5a);
	assert_int_equal(inb(&s, 7), 0x5a);
}

static void test_loopback(void **state)
{
	struct serial16550 s;

	setup(&s);
	assert_int_equal(inb(&s, 6), 0xb0); /* DCD DSR CTS from the line */
	outb(&s, 4, 0x10 | 0x0a); /* loop, OUT2, RTS */
	assert_int_equal(inb(&s, 6) & 0xf0, 0x90); /* DCD <- OUT2, CTS <- RTS */
	outb(&s, 0, 0xa5);
	assert_int_equal(txlen, 0); /* nothing on the wire */
	assert_int_equal(inb(&s, 5) & 0x01, 0x01);
	assert_int_equal(inb(&s, 0), 0xa5);
	assert_int_equal(serial_rx_push(&s, 'x'), -ENOSPC); /* RX disconnected */
	assert_int_equal(serial_rx_space(&s), 0);
	outb(&s, 4, 0x10 | 0x05); /* DTR, OUT1 */
	assert_int_equal(inb(&s, 6) & 0xf0, 0x60); /* DSR, RI */
	outb(&s, 4, 0x10);
	assert_int_equal(inb(&s, 6) & 0x0f, 0x06); /* DDSR, TERI on RI fall */
	outb(&s, 4, 0x00);
	assert_int_equal(inb(&s, 6) & 0xf0, 0xb0);
}

static void test_save_restore_continue(void **state)
{
	struct serial16550 a, b;
	unsigned char blob[sizeof(struct serial16550_state)];

	assert_int_equal(serial_ops.state_size, sizeof(blob));
	setup(&a);
	outb(&a, 4, 0x08);
	outb(&a, 1, 0x03);
	outb(&a, 2, 0x41); /* FIFO, trigger 4 */
	for (unsigned i = 0; i < 5; i++)
		serial_rx_push(&a, (uint8_t)('a' + i));
	inb(&a, 0);
	serial_ops.save(&a, blob);
	serial_init(&b, fake_irq, NULL, 4, fake_tx, NULL);
	assert_int_equal(serial_ops.restore(&b, blob), 0);
	unsigned calls = irq_calls;
	for (struct serial16550 *x = &a; x; x = x == &a ? &b : NULL) {
		assert_int_equal(inb(x, 2), 0xc4);
		for (unsigned i = 1; i < 5; i++)
			assert_int_equal(inb(x, 0), 'a' + i);
		assert_int_equal(inb(x, 2), 0xc2);
		assert_int_equal(inb(x, 2), 0xc1); /* lowers IRQ */
		assert_int_equal(serial_rx_push(x, 'z'), 0);
	}
	/* Each copy lowered and raised the IRQ once. */
	assert_int_equal(irq_calls, calls + 4);
	assert_memory_equal(&a.st, &b.st, sizeof(a.st));
	blob[offsetof(struct serial16550_state, rx_count)] = 40;
	assert_int_equal(serial_ops.restore(&b, blob), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lsr_and_tx),
		cmocka_unit_test(test_iir_priority_and_thre),
		cmocka_unit_test(test_irq_transitions_only),
		cmocka_unit_test(test_fifo_and_trigger),
		cmocka_unit_test(test_dlab),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_save_restore_continue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
