/* Local APIC, xAPIC mode, after the Intel SDM vol. 3A chapter 11 (chapter
 * 10 in older editions), "Advanced Programmable Interrupt Controller".
 *
 * Register map (offsets from the base; each register is 32 bits at a
 * 16-byte boundary; 0x1000 bytes):
 *   0x020 ID          0x030 version     0x080 TPR         0x090 APR (ro)
 *   0x0a0 PPR (ro)    0x0b0 EOI (wo)    0x0c0 RRD (ro)    0x0d0 LDR
 *   0x0e0 DFR         0x0f0 SVR         0x100 ISR (8 regs, ro)
 *   0x180 TMR (ro)    0x200 IRR (ro)    0x280 ESR         0x300/0x310 ICR
 *   0x320-0x370 LVT timer, thermal, perf, LINT0, LINT1, error
 *   0x380 initial count  0x390 current count (ro)  0x3e0 divide config
 * Other offsets are reserved: an access sets ESR "illegal register
 * address" (bit 7) and reads 0.
 *
 * Deviations, invisible to ordinary guests: accesses narrower than 32 bits
 * read the addressed bytes and are ignored when written (the SDM leaves
 * them undefined); the ICR reaches this APIC only (there is no other CPU),
 * and only fixed and NMI messages do anything; the delivery status bits
 * read 0 (a message is delivered at once). */
#include "vmm/devices/lapic.h"

#include <errno.h>
#include <string.h>

#include "vmm/devices/lapic_int.h"

enum {
	LAPIC_REG_ID = 0x02,
	LAPIC_REG_VERSION = 0x03,
	LAPIC_REG_TPR = 0x08,
	LAPIC_REG_APR = 0x09,
	LAPIC_REG_PPR = 0x0a,
	LAPIC_REG_EOI = 0x0b,
	LAPIC_REG_RRD = 0x0c,
	LAPIC_REG_LDR = 0x0d,
	LAPIC_REG_DFR = 0x0e,
	LAPIC_REG_SVR = 0x0f,
	LAPIC_REG_ISR = 0x10,
	LAPIC_REG_TMR = 0x18,
	LAPIC_REG_IRR = 0x20,
	LAPIC_REG_ESR = 0x28,
	LAPIC_REG_ICR_LO = 0x30,
	LAPIC_REG_ICR_HI = 0x31,
	LAPIC_REG_LVT = 0x32, /* to 0x37 */
	LAPIC_REG_TIMER_INIT = 0x38,
	LAPIC_REG_TIMER_CUR = 0x39,
	LAPIC_REG_DCR = 0x3e,
};

/* Version register: an integrated APIC (0x14, as on Pentium 4 and later),
 * 6 LVT entries (max LVT entry 5), no EOI-broadcast suppression (bit 24). */
#define LAPIC_VERSION 0x00050014u

#define LAPIC_LVT_LEVEL (1u << 15)
#define LAPIC_SVR_ENABLE (1u << 8)
/* SVR: vector, software enable, focus processor checking. */
#define LAPIC_SVR_WRITABLE 0x3ffu
#define LAPIC_DFR_RESERVED 0x0fffffffu
/* ESR bits (SDM table "ESR Flags"). */
#define LAPIC_ESR_SEND_ILLEGAL (1u << 5)
#define LAPIC_ESR_RECV_ILLEGAL (1u << 6)
#define LAPIC_ESR_ILLEGAL_REG (1u << 7)
/* ICR: vector 7:0, delivery mode 10:8, destination mode 11, level 14,
 * trigger 15, shorthand 19:18; destination in ICR high 31:24. */
#define LAPIC_ICR_WRITABLE 0x000ccfffu
/* IA32_APIC_BASE: the base in bits 38:12 (MAXPHYADDR is 39, vmm/cpuid.c),
 * BSP, x2APIC enable, global enable; every other bit is reserved. */
#define LAPIC_BASE_ADDR_MASK 0x7ffffff000ull
#define LAPIC_BASE_RESERVED \
	(~(LAPIC_BASE_ADDR_MASK | LAPIC_BASE_BSP | LAPIC_BASE_X2APIC | LAPIC_BASE_ENABLE))

/* Writable bits of each LVT entry: vector, delivery mode where it has one,
 * polarity and trigger on the LINT pins, mask; the timer's mode bit 17
 * (bit 18, TSC-deadline, is reserved without that feature). */
static const uint32_t lapic_lvt_writable[LAPIC_LVT_COUNT] = {
	[LAPIC_LVT_TIMER] = 0x000300ffu,
	[LAPIC_LVT_THERMAL] = 0x000107ffu,
	[LAPIC_LVT_PERF] = 0x000107ffu,
	[LAPIC_LVT_LINT0] = 0x0001a7ffu,
	[LAPIC_LVT_LINT1] = 0x0001a7ffu,
	[LAPIC_LVT_ERROR] = 0x000100ffu,
};

/* ---- 256-bit registers and priorities ---- */

static int lapic_highest(const uint32_t r[8])
{
	for (int w = 7; w >= 0; w--)
		if (r[w])
			return 32 * w + 31 - __builtin_clz(r[w]);
	return -1;
}

static void lapic_bit_set(uint32_t r[8], uint8_t v)
{
	r[v / 32] |= 1u << (v % 32);
}

static void lapic_bit_clear(uint32_t r[8], uint8_t v)
{
	r[v / 32] &= ~(1u << (v % 32));
}

static bool lapic_bit(const uint32_t r[8], uint8_t v)
{
	return r[v / 32] >> (v % 32) & 1;
}

uint8_t lapic_ppr(const struct lapic *l)
{
	int isrv = lapic_highest(l->st.isr);
	uint32_t tpr = l->st.tpr & 0xff;

	if (isrv < 0 || (tpr >> 4) >= ((unsigned)isrv >> 4))
		return (uint8_t)tpr;
	return (uint8_t)(isrv & 0xf0);
}

/* Arbitration priority, for the one APIC on its bus. */
static uint8_t lapic_apr(const struct lapic *l)
{
	int irrv = lapic_highest(l->st.irr), isrv = lapic_highest(l->st.isr);
	int v = irrv > isrv ? irrv : isrv;
	uint32_t tpr = l->st.tpr & 0xff;

	if (v < 0 || (tpr >> 4) >= ((unsigned)v >> 4))
		return (uint8_t)tpr;
	return (uint8_t)(v & 0xf0);
}

static bool lapic_sw_enabled(const struct lapic *l)
{
	return l->st.svr & LAPIC_SVR_ENABLE;
}

bool lapic_enabled(const struct lapic *l)
{
	return l->st.apic_base & LAPIC_BASE_ENABLE;
}

static void lapic_error(struct lapic *l, uint32_t bit)
{
	uint32_t lvt = l->st.lvt[LAPIC_LVT_ERROR];
	bool fresh = !(l->st.esr_pending & bit);

	l->st.esr_pending |= bit;
	/* The error interrupt itself: only for a new error, and never for an
	 * illegal error vector (that would loop). */
	if (fresh && !(lvt & LAPIC_LVT_MASKED) && (lvt & 0xff) >= 16)
		lapic_bit_set(l->st.irr, (uint8_t)lvt), lapic_bit_clear(l->st.tmr, (uint8_t)lvt);
}

void lapic_accept(struct lapic *l, uint8_t vector, bool level)
{
	if (!lapic_enabled(l) || !lapic_sw_enabled(l))
		return;
	if (vector < 16) {
		lapic_error(l, LAPIC_ESR_RECV_ILLEGAL);
		return;
	}
	lapic_bit_set(l->st.irr, vector);
	if (level)
		lapic_bit_set(l->st.tmr, vector);
	else
		lapic_bit_clear(l->st.tmr, vector);
}

void lapic_nmi(struct lapic *l)
{
	if (lapic_enabled(l))
		l->st.nmi_pending = true;
}

bool lapic_nmi_take(struct lapic *l)
{
	bool p = l->st.nmi_pending;

	l->st.nmi_pending = false;
	return p;
}

int lapic_pending(const struct lapic *l)
{
	int irrv = lapic_highest(l->st.irr);

	if (!lapic_enabled(l) || !lapic_sw_enabled(l) || irrv < 0)
		return -1;
	return ((unsigned)irrv >> 4) > ((unsigned)lapic_ppr(l) >> 4) ? irrv : -1;
}

uint8_t lapic_intack(struct lapic *l)
{
	int v = lapic_pending(l);

	if (v < 0)
		return (uint8_t)l->st.svr; /* spurious: no ISR bit, no EOI due */
	lapic_bit_clear(l->st.irr, (uint8_t)v);
	lapic_bit_set(l->st.isr, (uint8_t)v);
	return (uint8_t)v;
}

static void lapic_eoi(struct lapic *l)
{
	int v = lapic_highest(l->st.isr);

	if (v < 0)
		return;
	lapic_bit_clear(l->st.isr, (uint8_t)v);
	if (lapic_bit(l->st.tmr, (uint8_t)v) && l->eoi)
		l->eoi(l->eoi_opaque, (uint8_t)v);
}

bool lapic_match(const struct lapic *l, uint8_t dest, bool logical)
{
	uint8_t ldr = (uint8_t)(l->st.ldr >> 24);

	if (!logical)
		return dest == 0xff || dest == (uint8_t)(l->st.id >> 24);
	if (dest == 0xff)
		return true;
	if ((l->st.dfr >> 28) == 0xf) /* flat model: a bitmap of 8 APICs */
		return (dest & ldr) != 0;
	/* cluster model: cluster in bits 7:4, a bitmap of 4 in bits 3:0 */
	return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0x0f) != 0;
}

/* ---- LINT pins ---- */

void lapic_set_lint(struct lapic *l, unsigned pin, bool level)
{
	uint32_t lvt;
	bool rising;

	if (pin > 1)
		return;
	rising = level && !l->st.lint_level[pin];
	l->st.lint_level[pin] = level;
	lvt = l->st.lvt[LAPIC_LVT_LINT0 + pin];
	if (!rising || (lvt & LAPIC_LVT_MASKED) || !lapic_enabled(l))
		return;
	switch ((lvt >> 8) & 7) {
	case LAPIC_DM_FIXED:
		lapic_accept(l, (uint8_t)lvt, false);
		break;
	case LAPIC_DM_NMI:
		lapic_nmi(l);
		break;
	default: /* ExtINT is polled (lapic_lint0_extint); SMI/INIT unsupported */
		break;
	}
}

bool lapic_lint0_extint(const struct lapic *l)
{
	uint32_t lvt = l->st.lvt[LAPIC_LVT_LINT0];

	if (!lapic_enabled(l))
		return true;
	return !(lvt & LAPIC_LVT_MASKED) && ((lvt >> 8) & 7) == LAPIC_DM_EXTINT;
}

/* ---- state ---- */

static void lapic_reset_regs(struct lapic *l)
{
	uint64_t base = l->st.apic_base;

	memset(&l->st, 0, sizeof(l->st));
	l->st.apic_base = base;
	l->st.dfr = 0xffffffffu;
	l->st.svr = 0xff;
	for (unsigned i = 0; i < LAPIC_LVT_COUNT; i++)
		l->st.lvt[i] = LAPIC_LVT_MASKED;
}

static void lapic_reset(struct lapic *l)
{
	l->st.apic_base = LAPIC_DEFAULT_BASE | LAPIC_BASE_BSP | LAPIC_BASE_ENABLE;
	lapic_reset_regs(l);
}

void lapic_init(struct lapic *l, vmm_clock_fn clock, void *clock_opaque,
		void (*eoi)(void *opaque, uint8_t vector), void *eoi_opaque)
{
	l->clock = clock;
	l->clock_opaque = clock_opaque;
	l->eoi = eoi;
	l->eoi_opaque = eoi_opaque;
	lapic_reset(l);
}

void lapic_bios_handoff(struct lapic *l)
{
	l->st.svr = LAPIC_SVR_ENABLE | 0xff;
	l->st.lvt[LAPIC_LVT_LINT0] = LAPIC_DM_EXTINT << 8;
	l->st.lvt[LAPIC_LVT_LINT1] = LAPIC_DM_NMI << 8;
}

uint64_t lapic_get_base(const struct lapic *l)
{
	return l->st.apic_base;
}

int lapic_set_base(struct lapic *l, uint64_t value)
{
	if (value & (LAPIC_BASE_RESERVED | LAPIC_BASE_X2APIC))
		return -EINVAL;
	if ((value & LAPIC_BASE_ADDR_MASK) != (l->st.apic_base & LAPIC_BASE_ADDR_MASK))
		return -EOPNOTSUPP;
	/* The BSP flag is read-only; disabling loses all APIC state. */
	value = (value & ~LAPIC_BASE_BSP) | (l->st.apic_base & LAPIC_BASE_BSP);
	if (!(value & LAPIC_BASE_ENABLE) && lapic_enabled(l)) {
		l->st.apic_base = value;
		lapic_reset_regs(l);
	}
	l->st.apic_base = value;
	return 0;
}

void lapic_set_cr8(struct lapic *l, uint8_t cr8)
{
	l->st.tpr = (uint32_t)(cr8 & 0xf) << 4;
}

uint8_t lapic_get_cr8(const struct lapic *l)
{
	return (uint8_t)((l->st.tpr >> 4) & 0xf);
}

/* ---- MMIO ---- */

static void lapic_self_ipi(struct lapic *l)
{
	uint32_t lo = l->st.icr_lo;
	unsigned shorthand = (lo >> 18) & 3, mode = (lo >> 8) & 7;
	bool to_me;

	/* 01 self, 10 all including self, 11 all excluding self, 00 the
	 * destination field. */
	to_me = shorthand == 1 || shorthand == 2 ||
		(shorthand == 0 && lapic_match(l, (uint8_t)(l->st.icr_hi >> 24), lo & (1u << 11)));
	if (mode == LAPIC_DM_FIXED && (lo & 0xff) < 16) {
		lapic_error(l, LAPIC_ESR_SEND_ILLEGAL);
		return;
	}
	if (!to_me)
		return;
	if (mode == LAPIC_DM_FIXED || mode == LAPIC_DM_LOWEST)
		lapic_accept(l, (uint8_t)lo, false);
	else if (mode == LAPIC_DM_NMI)
		lapic_nmi(l);
}

static uint32_t lapic_read_reg(struct lapic *l, unsigned reg)
{
	if (reg >= LAPIC_REG_ISR && reg < LAPIC_REG_ISR + 8)
		return l->st.isr[reg - LAPIC_REG_ISR];
	if (reg >= LAPIC_REG_TMR && reg < LAPIC_REG_TMR + 8)
		return l->st.tmr[reg - LAPIC_REG_TMR];
	if (reg >= LAPIC_REG_IRR && reg < LAPIC_REG_IRR + 8)
		return l->st.irr[reg - LAPIC_REG_IRR];
	if (reg >= LAPIC_REG_LVT && reg < LAPIC_REG_LVT + LAPIC_LVT_COUNT)
		return l->st.lvt[reg - LAPIC_REG_LVT];
	switch (reg) {
	case LAPIC_REG_ID: return l->st.id;
	case LAPIC_REG_VERSION: return LAPIC_VERSION;
	case LAPIC_REG_TPR: return l->st.tpr;
	case LAPIC_REG_APR: return lapic_apr(l);
	case LAPIC_REG_PPR: return lapic_ppr(l);
	case LAPIC_REG_EOI: return 0;
	case LAPIC_REG_RRD: return 0;
	case LAPIC_REG_LDR: return l->st.ldr;
	case LAPIC_REG_DFR: return l->st.dfr;
	case LAPIC_REG_SVR: return l->st.svr;
	case LAPIC_REG_ESR: return l->st.esr;
	case LAPIC_REG_ICR_LO: return l->st.icr_lo;
	case LAPIC_REG_ICR_HI: return l->st.icr_hi;
	case LAPIC_REG_TIMER_INIT: return l->st.timer_initial;
	case LAPIC_REG_TIMER_CUR:
		return l->st.timer_running ? lapic_timer_current(l, lapic_now(l)) : 0;
	case LAPIC_REG_DCR: return l->st.dcr;
	default:
		lapic_error(l, LAPIC_ESR_ILLEGAL_REG);
		return 0;
	}
}

static void lapic_write_lvt(struct lapic *l, unsigned i, uint32_t v)
{
	v &= lapic_lvt_writable[i];
	if (!lapic_sw_enabled(l))
		v |= LAPIC_LVT_MASKED; /* software-disabled: masks stay set */
	l->st.lvt[i] = (l->st.lvt[i] & ~lapic_lvt_writable[i]) | v;
}

static void lapic_write_svr(struct lapic *l, uint32_t v)
{
	l->st.svr = v & LAPIC_SVR_WRITABLE;
	if (!lapic_sw_enabled(l))
		for (unsigned i = 0; i < LAPIC_LVT_COUNT; i++)
			l->st.lvt[i] |= LAPIC_LVT_MASKED;
}

static void lapic_write_reg(struct lapic *l, unsigned reg, uint32_t v, vclock_ns now)
{
	if (reg >= LAPIC_REG_LVT && reg < LAPIC_REG_LVT + LAPIC_LVT_COUNT) {
		lapic_write_lvt(l, reg - LAPIC_REG_LVT, v);
		return;
	}
	switch (reg) {
	case LAPIC_REG_ID: l->st.id = v & 0xff000000u; break;
	case LAPIC_REG_TPR: l->st.tpr = v & 0xff; break;
	case LAPIC_REG_EOI: lapic_eoi(l); break;
	case LAPIC_REG_LDR: l->st.ldr = v & 0xff000000u; break;
	case LAPIC_REG_DFR: l->st.dfr = v | LAPIC_DFR_RESERVED; break;
	case LAPIC_REG_SVR: lapic_write_svr(l, v); break;
	case LAPIC_REG_ESR: /* a write latches the errors seen since the last */
		l->st.esr = l->st.esr_pending;
		l->st.esr_pending = 0;
		break;
	case LAPIC_REG_ICR_LO:
		l->st.icr_lo = v & LAPIC_ICR_WRITABLE;
		lapic_self_ipi(l);
		break;
	case LAPIC_REG_ICR_HI: l->st.icr_hi = v & 0xff000000u; break;
	case LAPIC_REG_TIMER_INIT: lapic_timer_start(l, v, v ? lapic_now(l) : 0); break;
	case LAPIC_REG_DCR:
		if (l->st.timer_running)
			lapic_timer_rebase(l, now);
		l->st.dcr = v & 0xb;
		break;
	case LAPIC_REG_VERSION: case LAPIC_REG_APR: case LAPIC_REG_PPR: case LAPIC_REG_RRD:
	case LAPIC_REG_TIMER_CUR:
		break; /* read-only */
	default:
		if ((reg >= LAPIC_REG_ISR && reg < LAPIC_REG_IRR + 8))
			break; /* ISR, TMR, IRR: read-only */
		lapic_error(l, LAPIC_ESR_ILLEGAL_REG);
		break;
	}
}

static uint32_t lapic_mmio_read(void *dev, uint16_t offset, unsigned size)
{
	struct lapic *l = dev;
	unsigned reg = offset >> 4, byte = offset & 0xf;
	uint32_t v;

	(void)size;
	if (!lapic_enabled(l))
		return 0xffffffffu; /* globally disabled: the range is not decoded */
	if (byte >= 4)
		return 0;
	lapic_timer_catch_up(l);
	v = lapic_read_reg(l, reg);
	return v >> (8 * byte);
}

static void lapic_mmio_write(void *dev, uint16_t offset, unsigned size, uint32_t value)
{
	struct lapic *l = dev;
	unsigned reg = offset >> 4;
	vclock_ns now;

	if (!lapic_enabled(l) || size != 4 || (offset & 0xf))
		return;
	now = lapic_timer_catch_up(l);
	lapic_write_reg(l, reg, value, now);
}

static void lapic_save(const void *dev, void *blob)
{
	const struct lapic *l = dev;

	memcpy(blob, &l->st, sizeof(l->st));
}

static int lapic_restore(void *dev, const void *blob)
{
	struct lapic *l = dev;
	struct lapic_state st;

	memcpy(&st, blob, sizeof(st));
	if ((st.apic_base & (LAPIC_BASE_RESERVED | LAPIC_BASE_X2APIC)) ||
	    (st.timer_running && st.timer_initial == 0) || (st.dcr & ~0xbu))
		return -EINVAL;
	l->st = st;
	return 0;
}

const struct vmm_device_ops lapic_ops = {
	.name = "lapic",
	.mmio_base = LAPIC_DEFAULT_BASE,
	.mmio_len = LAPIC_MMIO_LEN,
	.mmio_read = lapic_mmio_read,
	.mmio_write = lapic_mmio_write,
	.state_size = sizeof(struct lapic_state),
	.save = lapic_save,
	.restore = lapic_restore,
};
