/* 8259A programmable interrupt controller pair, after the Intel 8259A
 * datasheet (order no. 231468).
 *
 *   port 0 write, bit 4 = 1: ICW1 (starts initialisation)
 *   port 0 write, bits 4:3 = 00: OCW2 (EOI, rotation)
 *   port 0 write, bits 4:3 = 01: OCW3 (read select, poll, special mask)
 *   port 1 write: ICW2, ICW3, ICW4 during initialisation, else OCW1 (IMR)
 *   port 0 read: poll word after a poll command, else IRR or ISR (OCW3)
 *   port 1 read: IMR
 *
 * Datasheet facts that shape the code:
 *   - ICW1 clears IMR, resets the edge sense (a line already high must go
 *     low and high again), gives IR7 the lowest priority, clears special
 *     mask mode, selects IRR for reads, and zeroes ICW4 if IC4 is 0.
 *   - Priority: the IR after the last one rotated to lowest comes first.  A
 *     request is passed to INTR only if it outranks every IR in service;
 *     in special mask mode only masked and in-service levels are excluded;
 *     in special fully nested mode the master also lets the cascade IR
 *     through while that same IR is in service.
 *   - In both edge and level modes the IR input must stay high until the
 *     first INTA, or the 8259A answers with IR7 ("default IR7"), setting no
 *     ISR bit.  So a line going low withdraws its IRR bit in both modes.
 *   - The slave's INT output drives master IR2 on the PC/AT; in a cascaded
 *     INTA the master supplies IR2's acknowledge and the slave the vector.
 * We model the 8086 (uPM=1) interface only: buffered mode, ADI and the MCS-80
 * call format do not change anything a guest can see through an x86 CPU. */
#include "vmm/devices/pic8259.h"

#include <errno.h>
#include <string.h>

enum {
	PIC_MASTER = 0,
	PIC_SLAVE = 1,
	PIC_CASCADE_IR = 2, /* the slave's INT is wired to master IR2 */

	PIC_ICW1 = 0x10,
	PIC_ICW1_IC4 = 0x01,
	PIC_ICW1_SNGL = 0x02,
	PIC_ICW1_LTIM = 0x08,
	PIC_ICW4_AEOI = 0x02,
	PIC_ICW4_SFNM = 0x10,
	PIC_OCW3 = 0x08,
	PIC_OCW3_RIS = 0x01,
	PIC_OCW3_RR = 0x02,
	PIC_OCW3_POLL = 0x04,
	PIC_OCW3_SMM = 0x20,
	PIC_OCW3_ESMM = 0x40,
	PIC_POLL_INT = 0x80,
	PIC_SPURIOUS_IR = 7,
};

/* ELCR bits that are hard-wired to edge on PIIX: IRQ0-2 (timer, keyboard,
 * cascade) and IRQ8 and IRQ13 (RTC, FPU error). */
static const uint8_t pic_elcr_writable[2] = { 0xf8, 0xde };

/* Priority rank (0 = highest) of the best IR set in MASK, or 8 if none. */
static unsigned pic_rank(const struct pic_chip *c, uint8_t mask)
{
	for (unsigned r = 0; r < 8; r++)
		if (mask & (1u << ((r + c->priority_add) & 7)))
			return r;
	return 8;
}

static unsigned pic_ir_of_rank(const struct pic_chip *c, unsigned rank)
{
	return (rank + c->priority_add) & 7;
}

/* The IR this chip would present on INTR now, or -1. */
static int pic_best(const struct pic_chip *c, bool is_master)
{
	uint8_t req = c->irr & (uint8_t)~c->imr;
	unsigned r, cur;

	if (c->special_mask) {
		r = pic_rank(c, req & (uint8_t)~c->isr);
		return r < 8 ? (int)pic_ir_of_rank(c, r) : -1;
	}
	r = pic_rank(c, req);
	if (r == 8)
		return -1;
	cur = pic_rank(c, c->isr);
	if (r < cur)
		return (int)pic_ir_of_rank(c, r);
	if (r == cur && is_master && c->sfnm &&
	    pic_ir_of_rank(c, r) == PIC_CASCADE_IR)
		return PIC_CASCADE_IR;
	return -1;
}

static bool pic_level_mode(const struct pic_chip *c, unsigned ir)
{
	return c->ltim || (c->elcr & (1u << ir));
}

static void pic_chip_set_line(struct pic_chip *c, unsigned ir, bool level)
{
	uint8_t bit = (uint8_t)(1u << ir);

	if (level) {
		if (pic_level_mode(c, ir) || !(c->lines & bit))
			c->irr |= bit;
		c->lines |= bit;
	} else {
		c->irr &= (uint8_t)~bit;
		c->lines &= (uint8_t)~bit;
	}
}

/* Propagate the slave's INT output to master IR2. */
static void pic_update_cascade(struct pic_pair *p)
{
	bool slave_int = pic_best(&p->chip[PIC_SLAVE], false) >= 0;

	pic_chip_set_line(&p->chip[PIC_MASTER], PIC_CASCADE_IR, slave_int);
}

/* The chip's part of an acknowledge of IR: IRR to ISR, or AEOI. */
static void pic_chip_ack(struct pic_chip *c, unsigned ir)
{
	uint8_t bit = (uint8_t)(1u << ir);

	if (!pic_level_mode(c, ir))
		c->irr &= (uint8_t)~bit;
	if (!c->aeoi)
		c->isr |= bit;
	else if (c->rotate_aeoi)
		c->priority_add = (uint8_t)((ir + 1) & 7);
}

static void pic_write_icw1(struct pic_chip *c, uint8_t v)
{
	c->ltim = v & PIC_ICW1_LTIM;
	c->single = v & PIC_ICW1_SNGL;
	c->need_icw4 = v & PIC_ICW1_IC4;
	c->imr = 0;
	c->isr = 0;
	/* Edge sense reset: only lines that are high in level mode request. */
	c->irr = c->ltim ? c->lines : (uint8_t)(c->lines & c->elcr);
	c->priority_add = 0;
	c->special_mask = false;
	c->read_isr = false;
	c->poll = false;
	c->rotate_aeoi = false;
	c->aeoi = false; /* ICW4 bits are zero unless ICW4 sets them */
	c->sfnm = false;
	c->init_step = 2;
}

static void pic_write_ocw2(struct pic_chip *c, uint8_t v)
{
	unsigned level = v & 7, cmd = v >> 5;
	unsigned r = pic_rank(c, c->isr);
	unsigned ir = r < 8 ? pic_ir_of_rank(c, r) : 8;

	switch (cmd) {
	case 0: /* rotate in AEOI mode (clear) */
	case 4: /* rotate in AEOI mode (set) */
		c->rotate_aeoi = cmd == 4;
		break;
	case 1: /* non-specific EOI */
	case 5: /* rotate on non-specific EOI */
		if (ir == 8)
			break;
		c->isr &= (uint8_t)~(1u << ir);
		if (cmd == 5)
			c->priority_add = (uint8_t)((ir + 1) & 7);
		break;
	case 3: /* specific EOI */
	case 7: /* rotate on specific EOI */
		c->isr &= (uint8_t)~(1u << level);
		if (cmd == 7)
			c->priority_add = (uint8_t)((level + 1) & 7);
		break;
	case 6: /* set priority: LEVEL becomes the lowest */
		c->priority_add = (uint8_t)((level + 1) & 7);
		break;
	default: /* 2: no operation */
		break;
	}
}

static void pic_write_ocw3(struct pic_chip *c, uint8_t v)
{
	if (v & PIC_OCW3_ESMM)
		c->special_mask = v & PIC_OCW3_SMM;
	if (v & PIC_OCW3_RR)
		c->read_isr = v & PIC_OCW3_RIS;
	c->poll = v & PIC_OCW3_POLL;
}

static void pic_write_data(struct pic_chip *c, uint8_t v)
{
	switch (c->init_step) {
	case 2:
		c->vector_base = v & 0xf8;
		c->init_step = c->single ? (c->need_icw4 ? 4 : 0) : 3;
		break;
	case 3:
		c->icw3 = v;
		c->init_step = c->need_icw4 ? 4 : 0;
		break;
	case 4:
		c->aeoi = v & PIC_ICW4_AEOI;
		c->sfnm = v & PIC_ICW4_SFNM;
		c->init_step = 0;
		break;
	default:
		c->imr = v;
		break;
	}
}

/* A poll read acts as an INTA on this chip alone; the guest polls the slave
 * itself when the master answers IR2. */
static uint8_t pic_poll_read(struct pic_chip *c, bool is_master)
{
	int ir = pic_best(c, is_master);

	c->poll = false;
	if (ir < 0)
		return 0;
	pic_chip_ack(c, (unsigned)ir);
	return (uint8_t)(PIC_POLL_INT | ir);
}

static uint8_t pic_read_byte(struct pic_pair *p, unsigned idx, unsigned off)
{
	struct pic_chip *c = &p->chip[idx];

	if (off == 1)
		return c->imr;
	if (c->poll)
		return pic_poll_read(c, idx == PIC_MASTER);
	return c->read_isr ? c->isr : c->irr;
}

static void pic_write_byte(struct pic_pair *p, unsigned idx, unsigned off,
			   uint8_t v)
{
	struct pic_chip *c = &p->chip[idx];

	if (off == 1)
		pic_write_data(c, v);
	else if (v & PIC_ICW1)
		pic_write_icw1(c, v);
	else if (v & PIC_OCW3)
		pic_write_ocw3(c, v);
	else
		pic_write_ocw2(c, v);
}

static uint32_t pic_read(struct pic_pair *p, unsigned idx, uint16_t offset,
			 unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++) {
		unsigned off = offset + i;
		uint8_t b = off < 2 ? pic_read_byte(p, idx, off) : 0xff;

		v |= (uint32_t)b << (8 * i);
	}
	pic_update_cascade(p);
	return v;
}

static void pic_write(struct pic_pair *p, unsigned idx, uint16_t offset,
		      unsigned size, uint32_t value)
{
	for (unsigned i = 0; i < size; i++)
		if (offset + i < 2)
			pic_write_byte(p, idx, offset + i,
				       (uint8_t)(value >> (8 * i)));
	pic_update_cascade(p);
}

static uint32_t pic_master_read(void *dev, uint16_t offset, unsigned size)
{
	return pic_read(dev, PIC_MASTER, offset, size);
}

static uint32_t pic_slave_read(void *dev, uint16_t offset, unsigned size)
{
	return pic_read(dev, PIC_SLAVE, offset, size);
}

static void pic_master_write(void *dev, uint16_t offset, unsigned size,
			     uint32_t value)
{
	pic_write(dev, PIC_MASTER, offset, size, value);
}

static void pic_slave_write(void *dev, uint16_t offset, unsigned size,
			    uint32_t value)
{
	pic_write(dev, PIC_SLAVE, offset, size, value);
}

static uint32_t pic_elcr_read(void *dev, uint16_t offset, unsigned size)
{
	struct pic_pair *p = dev;
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++) {
		unsigned off = offset + i;
		uint8_t b = off < 2 ? p->chip[off].elcr : 0xff;

		v |= (uint32_t)b << (8 * i);
	}
	return v;
}

static void pic_elcr_write(void *dev, uint16_t offset, unsigned size,
			   uint32_t value)
{
	struct pic_pair *p = dev;

	for (unsigned i = 0; i < size; i++) {
		unsigned off = offset + i;

		if (off < 2)
			p->chip[off].elcr =
				(uint8_t)(value >> (8 * i)) & pic_elcr_writable[off];
	}
	pic_update_cascade(p);
}

static void pic_reset_pair(struct pic_pair *p)
{
	for (unsigned i = 0; i < 2; i++) {
		struct pic_chip *c = &p->chip[i];
		uint8_t lines = c->lines; /* the pins keep their levels */

		memset(c, 0, sizeof(*c));
		c->lines = lines;
		/* The 8259A is undefined until initialised; keep every line
		 * masked so nothing is delivered through vector base 0. */
		c->imr = 0xff;
	}
	pic_update_cascade(p);
}

void pic_init(struct pic_pair *p)
{
	memset(p, 0, sizeof(*p));
	pic_reset_pair(p);
}

void pic_set_irq(struct pic_pair *p, unsigned line, bool level)
{
	if (line >= 16 || line == PIC_CASCADE_IR)
		return;
	pic_chip_set_line(&p->chip[line >> 3], line & 7, level);
	pic_update_cascade(p);
}

void pic_irq_fn(void *opaque, unsigned line, bool level)
{
	pic_set_irq(opaque, line, level);
}

bool pic_intr_pending(const struct pic_pair *p)
{
	return pic_best(&p->chip[PIC_MASTER], true) >= 0;
}

uint8_t pic_intack(struct pic_pair *p)
{
	struct pic_chip *m = &p->chip[PIC_MASTER], *s = &p->chip[PIC_SLAVE];
	int ir = pic_best(m, true);
	uint8_t vec;

	if (ir < 0)
		return (uint8_t)(m->vector_base + PIC_SPURIOUS_IR);
	pic_chip_ack(m, (unsigned)ir);
	if (ir != PIC_CASCADE_IR) {
		vec = (uint8_t)(m->vector_base + ir);
	} else {
		int sir = pic_best(s, false);

		if (sir < 0) {
			vec = (uint8_t)(s->vector_base + PIC_SPURIOUS_IR);
		} else {
			pic_chip_ack(s, (unsigned)sir);
			vec = (uint8_t)(s->vector_base + sir);
		}
	}
	pic_update_cascade(p);
	return vec;
}

static void pic_save(const void *dev, void *blob)
{
	memcpy(blob, dev, sizeof(struct pic_pair));
}

static int pic_restore(void *dev, const void *blob)
{
	struct pic_pair tmp;

	memcpy(&tmp, blob, sizeof(tmp));
	for (unsigned i = 0; i < 2; i++)
		if (tmp.chip[i].init_step > 4 || tmp.chip[i].init_step == 1 ||
		    tmp.chip[i].priority_add > 7)
			return -EINVAL;
	memcpy(dev, &tmp, sizeof(tmp));
	return 0;
}

const struct vmm_device_ops pic_ops = {
	.name = "pic8259",
	.io = {
		[PIC_IO_MASTER] = { 0x20, 2, pic_master_read, pic_master_write },
		[PIC_IO_SLAVE] = { 0xa0, 2, pic_slave_read, pic_slave_write },
		[PIC_IO_ELCR] = { 0x4d0, 2, pic_elcr_read, pic_elcr_write },
	},
	.state_size = sizeof(struct pic_pair),
	.save = pic_save,
	.restore = pic_restore,
};
