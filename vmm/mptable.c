/* MP configuration, after the Intel MultiProcessor Specification 1.4,
 * chapter 4 ("MP Configuration Table"). */
#include "vmm/mptable.h"

#include <string.h>

#include "vmm/devices/ioapic.h"
#include "vmm/devices/lapic.h"

/* Entry types and interrupt types (spec tables 4-3 and 4-10). */
enum { MP_PROC, MP_BUS, MP_IOAPIC, MP_IOINT, MP_LINT };
enum { MP_INT, MP_NMI, MP_SMI, MP_EXTINT };

#define MP_FLOAT_LEN 16
#define MP_HDR_LEN 44
#define MP_PROC_LEN 20
#define MP_ENTRY_LEN 8
#define MP_SPEC_REV 4        /* version 1.4 */
#define MP_CPU_ENABLED_BSP 3 /* CPU flags: EN | BP */
#define MP_ISA_IRQS 16

struct mp_writer {
	uint8_t *p;
	size_t at, len;
	unsigned entries;
};

static void mp_put(struct mp_writer *w, const void *src, size_t n)
{
	if (w->at + n <= w->len)
		memcpy(w->p + w->at, src, n);
	w->at += n;
}

static void mp_u8(struct mp_writer *w, uint8_t v) { mp_put(w, &v, 1); }

static void mp_u16(struct mp_writer *w, uint16_t v)
{
	mp_u8(w, (uint8_t)v);
	mp_u8(w, (uint8_t)(v >> 8));
}

static void mp_u32(struct mp_writer *w, uint32_t v)
{
	mp_u16(w, (uint16_t)v);
	mp_u16(w, (uint16_t)(v >> 16));
}

static uint8_t mp_checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return (uint8_t)-s;
}

/* An I/O (IOAPIC pin) or local (LINT) interrupt assignment from ISA IRQ
 * SRC; flags 0: polarity and trigger conform to the bus (ISA: edge, high). */
static void mp_int(struct mp_writer *w, uint8_t type, uint8_t itype, uint8_t src,
		   uint8_t dest_id, uint8_t pin)
{
	mp_u8(w, type);
	mp_u8(w, itype);
	mp_u16(w, 0);
	mp_u8(w, 0); /* source bus: the ISA bus, id 0 */
	mp_u8(w, src);
	mp_u8(w, dest_id);
	mp_u8(w, pin);
	w->entries++;
}

static void mp_entries(struct mp_writer *w, uint32_t sig, uint32_t features)
{
	mp_u8(w, MP_PROC);
	mp_u8(w, 0);    /* local APIC ID */
	mp_u8(w, 0x14); /* its version register */
	mp_u8(w, MP_CPU_ENABLED_BSP);
	mp_u32(w, sig);
	mp_u32(w, features);
	mp_u32(w, 0);
	mp_u32(w, 0);
	w->entries++;
	mp_u8(w, MP_BUS);
	mp_u8(w, 0);
	mp_put(w, "ISA   ", 6);
	w->entries++;
	mp_u8(w, MP_IOAPIC);
	mp_u8(w, MPTABLE_IOAPIC_ID);
	mp_u8(w, 0x11); /* 82093AA */
	mp_u8(w, 1);    /* enabled */
	mp_u32(w, IOAPIC_DEFAULT_BASE);
	w->entries++;
	mp_int(w, MP_IOINT, MP_EXTINT, 0, MPTABLE_IOAPIC_ID, 0);
	for (uint8_t irq = 0; irq < MP_ISA_IRQS; irq++)
		if (irq != 2) /* the cascade: no pin */
			mp_int(w, MP_IOINT, MP_INT, irq, MPTABLE_IOAPIC_ID,
			       (uint8_t)ioapic_isa_pin(irq));
	mp_int(w, MP_LINT, MP_EXTINT, 0, 0xff, 0);
	mp_int(w, MP_LINT, MP_NMI, 0, 0xff, 1);
}

size_t mptable_build(uint8_t *buf, size_t len, uint32_t gpa, uint32_t cpu_signature,
		     uint32_t cpu_features)
{
	struct mp_writer w = { buf, 0, len, 0 };
	size_t hdr = MP_FLOAT_LEN, total;

	/* Floating pointer: signature, table address, length in 16-byte
	 * units, revision, checksum, feature bytes (all 0: a configuration
	 * table is present; IMCR absent, so virtual wire mode). */
	mp_put(&w, "_MP_", 4);
	mp_u32(&w, gpa + MP_FLOAT_LEN);
	mp_u8(&w, 1);
	mp_u8(&w, MP_SPEC_REV);
	mp_u8(&w, 0);
	for (int i = 0; i < 5; i++)
		mp_u8(&w, 0);
	/* Configuration table header; length, count and checksum below. */
	mp_put(&w, "PCMP", 4);
	mp_u16(&w, 0);
	mp_u8(&w, MP_SPEC_REV);
	mp_u8(&w, 0);
	mp_put(&w, "RRVM    ", 8);
	mp_put(&w, "RRVM PC     ", 12);
	mp_u32(&w, 0);
	mp_u16(&w, 0);
	mp_u16(&w, 0);
	mp_u32(&w, LAPIC_DEFAULT_BASE);
	mp_u16(&w, 0);
	mp_u8(&w, 0);
	mp_u8(&w, 0);
	mp_entries(&w, cpu_signature, cpu_features);
	total = w.at;
	if (total > len)
		return 0;
	buf[hdr + 4] = (uint8_t)(total - hdr);
	buf[hdr + 5] = (uint8_t)((total - hdr) >> 8);
	buf[hdr + 34] = (uint8_t)w.entries;
	buf[hdr + 35] = (uint8_t)(w.entries >> 8);
	buf[hdr + 7] = mp_checksum(buf + hdr, total - hdr);
	buf[10] = mp_checksum(buf, MP_FLOAT_LEN);
	return total;
}
