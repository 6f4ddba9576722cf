/* libFuzzer target: a guest's accesses to the local APIC and the IOAPIC,
 * wired together as on the machine (IOAPIC messages into the APIC, its EOI
 * broadcast back), plus pin changes, interrupt acknowledges, timer updates
 * and checkpoints (save -> restore into a second pair, which must answer
 * every later access the same), on a virtual clock the input moves on.
 * Each 8-byte record: op, 2 bytes offset, 4 bytes value, 1 byte time step.
 * The guest is untrusted: no access may crash or trip a sanitizer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/devices/ioapic.h"
#include "vmm/devices/lapic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct pair {
	struct lapic l;
	struct ioapic io;
};

static vclock_ns now;

static vclock_ns fz_clock(void *opaque)
{
	(void)opaque;
	return now;
}

static void fz_msg(void *opaque, const struct ioapic_msg *msg)
{
	struct pair *p = opaque;

	if (lapic_match(&p->l, msg->dest, msg->logical)) {
		if (msg->mode == LAPIC_DM_NMI)
			lapic_nmi(&p->l);
		else
			lapic_accept(&p->l, msg->vector, msg->level);
	}
}

static void fz_eoi(void *opaque, uint8_t vector)
{
	struct pair *p = opaque;

	ioapic_eoi(&p->io, vector);
}

static void fz_init(struct pair *p)
{
	lapic_init(&p->l, fz_clock, NULL, fz_eoi, p);
	ioapic_init(&p->io, fz_msg, p);
	lapic_bios_handoff(&p->l);
}

/* One operation on P; returns what a guest or the machine would observe. */
static uint64_t fz_op(struct pair *p, uint8_t op, uint16_t off, uint32_t v)
{
	switch (op % 10) {
	case 0: return lapic_ops.mmio_read(&p->l, off & 0xfff, 1u << (v & 2));
	case 1: lapic_ops.mmio_write(&p->l, off & 0xfff, (v & 1) ? 4 : 1, v); return 0;
	case 2: return ioapic_ops.mmio_read(&p->io, off & 0x1f, 4);
	case 3: ioapic_ops.mmio_write(&p->io, off & 0x1f, (off & 0x20) ? 1 : 4, v); return 0;
	case 4: ioapic_set_irq(&p->io, off % 32, v & 1); return 0;
	case 5: return (uint64_t)lapic_pending(&p->l) << 8 | lapic_intack(&p->l);
	case 6: lapic_update(&p->l); return lapic_next_deadline(&p->l);
	case 7: return (uint64_t)lapic_set_base(&p->l, ((uint64_t)off << 32) | v) << 32 |
		       lapic_get_base(&p->l);
	case 8: lapic_set_cr8(&p->l, (uint8_t)v); return lapic_ppr(&p->l);
	default: lapic_set_lint(&p->l, off & 1, v & 1); return lapic_nmi_take(&p->l);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pair a, b;
	static uint8_t blob_l[sizeof(struct lapic_state)], blob_io[sizeof(struct ioapic_state)];
	bool cloned = false;

	now = 0;
	fz_init(&a);
	for (size_t i = 0; i + 8 <= size; i += 8) {
		const uint8_t *r = data + i;
		uint16_t off = (uint16_t)(r[1] | r[2] << 8);
		uint32_t v = (uint32_t)r[3] | (uint32_t)r[4] << 8 | (uint32_t)r[5] << 16 |
			     (uint32_t)r[6] << 24;
		uint64_t x, y;

		now += (vclock_ns)r[7] << (r[7] & 0xf);
		if (r[0] == 0xff) { /* checkpoint: B restarts as a copy of A */
			lapic_ops.save(&a.l, blob_l);
			ioapic_ops.save(&a.io, blob_io);
			fz_init(&b);
			if (lapic_ops.restore(&b.l, blob_l) || ioapic_ops.restore(&b.io, blob_io))
				abort();
			cloned = true;
			continue;
		}
		x = fz_op(&a, r[0], off, v);
		if (cloned && (y = fz_op(&b, r[0], off, v)) != x)
			abort(); /* a restored copy went another way */
	}
	return 0;
}
