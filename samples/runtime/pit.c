/* 8254 channel 0 as the periodic tick on IRQ0 (1.193182 MHz input clock). */
#include "runtime.h"

#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_ACCESS_LOHI (3u << 4)

static uint16_t pit_divisor;

void pit_init_periodic(unsigned hz, unsigned mode)
{
	uint32_t div = (PIT_HZ + hz / 2) / hz;

	if (div > 0xffff)
		div = 0;                /* 0 means 65536 */
	pit_divisor = (uint16_t)div;
	outb(PIT_CMD, (uint8_t)(PIT_ACCESS_LOHI | (mode << 1)));   /* channel 0, binary */
	outb(PIT_CH0, div & 0xff);
	outb(PIT_CH0, (div >> 8) & 0xff);
}

uint16_t pit_read_counter(void)
{
	outb(PIT_CMD, 0x00);            /* counter latch, channel 0 */
	uint8_t lo = inb(PIT_CH0);
	uint8_t hi = inb(PIT_CH0);
	return (uint16_t)(lo | (hi << 8));
}

uint16_t pit_reload(void)
{
	return pit_divisor;
}
