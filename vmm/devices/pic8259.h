/* The PC/AT's two cascaded 8259A interrupt controllers (master at 0x20,
 * slave at 0xa0 on master IR2), plus the PIIX edge/level control registers
 * (ELCR, 0x4d0-0x4d1).
 *
 * The pair is one device (pic_ops) with three port ranges and one state
 * struct, saved and restored as a whole.
 *
 * The PIC has no callbacks: the machine polls pic_intr_pending() (the INTR
 * pin) at sync points and runs pic_intack() when it injects.  The struct is
 * owned by the machine; every call is O(1). */
#ifndef RRVM_DEVICES_PIC8259_H
#define RRVM_DEVICES_PIC8259_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/device.h"

struct pic_chip {
	uint8_t irr;          /* interrupt request register */
	uint8_t isr;          /* in-service register */
	uint8_t imr;          /* interrupt mask register (OCW1) */
	uint8_t lines;        /* input pin levels, for edge detection */
	uint8_t elcr;         /* level-triggered lines (ELCR) */
	uint8_t vector_base;  /* ICW2, bits 7:3 */
	uint8_t icw3;         /* master: slave bitmap; slave: its id */
	uint8_t init_step;    /* 0 = operational, else the next ICW (2-4) */
	uint8_t priority_add; /* the IR that currently has highest priority */
	bool ltim;            /* ICW1: all lines level-triggered */
	bool single;          /* ICW1: no cascade (ICW3 skipped) */
	bool need_icw4;       /* ICW1: ICW4 follows */
	bool aeoi;            /* ICW4: automatic EOI */
	bool sfnm;            /* ICW4: special fully nested mode */
	bool rotate_aeoi;     /* OCW2: rotate in automatic EOI mode */
	bool special_mask;    /* OCW3: special mask mode */
	bool read_isr;        /* OCW3: port 0 reads ISR (else IRR) */
	bool poll;            /* OCW3: next port 0 read is a poll */
};

/* chip[0] is the master, chip[1] the slave.  Saved as a flat blob. */
struct pic_pair {
	struct pic_chip chip[2];
};

/* pic_ops.io[]: its port ranges.  dev is a struct pic_pair *. */
enum {
	PIC_IO_MASTER, /* 0x20-0x21 */
	PIC_IO_SLAVE,  /* 0xa0-0xa1 */
	PIC_IO_ELCR,   /* 0x4d0-0x4d1 */
};
extern const struct vmm_device_ops pic_ops;

/* Power-on state: uninitialised, all lines masked, edge-triggered. */
void pic_init(struct pic_pair *p);

/* Drive ISA interrupt line LINE (0-15) to LEVEL.  Line 2 is the cascade
 * input, driven internally by the slave; setting it is ignored. */
void pic_set_irq(struct pic_pair *p, unsigned line, bool level);

/* pic_set_irq() as a vmm_irq_fn; OPAQUE is the struct pic_pair *. */
void pic_irq_fn(void *opaque, unsigned line, bool level);

/* Level of the master's INTR output. */
bool pic_intr_pending(const struct pic_pair *p);

/* The INTA cycle: returns the vector and moves the request from IRR to ISR
 * (or not, in AEOI mode).  A request that vanished before INTA gives the
 * spurious vector base+7 with no ISR bit set (for the slave, the master still
 * marks IR2 in service). */
uint8_t pic_intack(struct pic_pair *p);

#endif
