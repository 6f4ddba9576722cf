/* 8259A master/slave pair, remapped to vectors 0x20-0x2f, edge triggered. */
#include "runtime.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1
#define ICW1_INIT_ICW4 0x11     /* edge, cascade, ICW4 follows */
#define ICW4_8086      0x01
#define OCW2_EOI       0x20

static uint16_t pic_masks = 0xffff;

static void pic_write_masks(void)
{
	outb(PIC1_DATA, (uint8_t)pic_masks);
	outb(PIC2_DATA, (uint8_t)(pic_masks >> 8));
}

void pic_init(void)
{
	outb(PIC1_CMD, ICW1_INIT_ICW4);
	outb(PIC2_CMD, ICW1_INIT_ICW4);
	outb(PIC1_DATA, IRQ_BASE);      /* ICW2: vector base */
	outb(PIC2_DATA, IRQ_BASE + 8);
	outb(PIC1_DATA, 1 << 2);        /* ICW3: slave on IRQ2 */
	outb(PIC2_DATA, 2);             /* ICW3: slave identity */
	outb(PIC1_DATA, ICW4_8086);
	outb(PIC2_DATA, ICW4_8086);
	pic_masks = 0xffff & ~(1u << 2);
	pic_write_masks();
}

void pic_unmask(unsigned irq)
{
	pic_masks &= (uint16_t)~(1u << irq);
	pic_write_masks();
}

void pic_mask(unsigned irq)
{
	pic_masks |= (uint16_t)(1u << irq);
	pic_write_masks();
}

void pic_eoi(unsigned irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, OCW2_EOI);
	outb(PIC1_CMD, OCW2_EOI);
}
