/* Local APIC and IOAPIC access for the samples: the MMIO page mapping, the
 * registers, IA32_APIC_BASE and the MP table scan (Intel MP spec 1.4). */
#include "runtime.h"

extern uint64_t boot_pdpt[512];

/* PD for 3..4 GiB: two uncached 2 MiB pages, 0xfec00000 (IOAPIC) and
 * 0xfee00000 (local APIC). */
static uint64_t apic_pd[512] __attribute__((aligned(4096)));

#define PTE_P   0x001
#define PTE_W   0x002
#define PTE_PWT 0x008
#define PTE_PCD 0x010
#define PTE_PS  0x080

void apic_map(void)
{
	uint64_t flags = PTE_P | PTE_W | PTE_PWT | PTE_PCD | PTE_PS;

	apic_pd[(IOAPIC_BASE - 0xc0000000u) >> 21] = IOAPIC_BASE | flags;
	apic_pd[(LAPIC_BASE - 0xc0000000u) >> 21] = LAPIC_BASE | flags;
	boot_pdpt[3] = (uint64_t)(uintptr_t)apic_pd | PTE_P | PTE_W;
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" : : : "rax", "memory");
}

bool apic_present(void)
{
	uint32_t a = 1, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return d & (1u << 9);
}

uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

uint32_t lapic_read(unsigned reg)
{
	return *(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg);
}

void lapic_write(unsigned reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg) = v;
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

bool lapic_irr(unsigned vec)
{
	return lapic_read(LAPIC_IRR + 0x10 * (vec / 32)) >> (vec % 32) & 1;
}

bool lapic_isr(unsigned vec)
{
	return lapic_read(LAPIC_ISR + 0x10 * (vec / 32)) >> (vec % 32) & 1;
}

uint32_t ioapic_read(unsigned reg)
{
	*(volatile uint32_t *)(uintptr_t)IOAPIC_BASE = reg;
	return *(volatile uint32_t *)(uintptr_t)(IOAPIC_BASE + 0x10);
}

void ioapic_write(unsigned reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)IOAPIC_BASE = reg;
	*(volatile uint32_t *)(uintptr_t)(IOAPIC_BASE + 0x10) = v;
}

static bool mp_sum_ok(const uint8_t *p, unsigned n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s == 0;
}

static const uint8_t *mp_scan(uint32_t start, uint32_t len)
{
	for (uint32_t a = start; a + 16 <= start + len; a += 16) {
		const uint8_t *p = (const uint8_t *)(uintptr_t)a;

		if (!memcmp(p, "_MP_", 4) && p[8] == 1 && mp_sum_ok(p, 16))
			return p;
	}
	return NULL;
}

/* The spec's search order: the EBDA's first KiB, the last KiB of base
 * memory, the BIOS ROM at 0xf0000. */
bool mp_find(struct mp_info *mi)
{
	uintptr_t bda_ebda = 0x40e; /* the BDA's EBDA segment */
	uint32_t ebda;
	const uint8_t *fp = NULL, *t, *e;
	uint32_t table;
	uint16_t len, count;

	/* An address below 4 KiB is "null plus offset" to gcc's bounds checks. */
	__asm__("" : "+r"(bda_ebda));
	ebda = (uint32_t)*(volatile uint16_t *)bda_ebda << 4;
	memset(mi, 0, sizeof(*mi));
	mi->irq0_pin = -1;
	if (ebda >= 0x80000 && ebda < 0xa0000)
		fp = mp_scan(ebda, 1024);
	if (!fp)
		fp = mp_scan(639 * 1024, 1024);
	if (!fp)
		fp = mp_scan(0xf0000, 0x10000);
	if (!fp)
		return false;
	memcpy(&table, fp + 4, 4);
	t = (const uint8_t *)(uintptr_t)table;
	if (!table || memcmp(t, "PCMP", 4))
		return false;
	memcpy(&len, t + 4, 2);
	memcpy(&count, t + 34, 2);
	memcpy(&mi->lapic, t + 36, 4);
	if (!mp_sum_ok(t, len))
		return false;
	e = t + 44;
	for (unsigned i = 0; i < count && e < t + len; i++) {
		switch (e[0]) {
		case 0: /* processor */
			mi->cpus++;
			e += 20;
			break;
		case 2: /* IOAPIC */
			mi->ioapic_id = e[1];
			memcpy(&mi->ioapic, e + 4, 4);
			e += 8;
			break;
		case 3: /* I/O interrupt: type INT from ISA IRQ 0 */
			if (e[1] == 0 && e[5] == 0)
				mi->irq0_pin = e[7];
			e += 8;
			break;
		default: /* bus, local interrupt */
			e += 8;
			break;
		}
	}
	return true;
}
