/* MC146818 RTC and CMOS RAM, after the Motorola MC146818A datasheet.
 *
 *   0x00 seconds   0x01 sec alarm   0x02 minutes   0x03 min alarm
 *   0x04 hours     0x05 hour alarm  0x06 weekday (1 = Sunday)
 *   0x07 day       0x08 month       0x09 year (two digits)
 *   0x0a A: UIP(7, read-only) DV(6:4) RS(3:0)
 *   0x0b B: SET PIE AIE UIE SQWE DM 24/12 DSE
 *   0x0c C: IRQF PF AF UF, read-only, cleared by reading
 *   0x0d D: VRT (battery good), read-only
 *   0x0e-0x7f general RAM; the PC keeps the century at 0x32 and BIOS
 *            memory sizes at 0x15-0x18, 0x30-0x31, 0x34-0x35.
 *
 * Datasheet facts used: UIP is 1 from 244 us before an update cycle until
 * it ends, and reads as 0 with SET; SET stops updates, so software can set
 * the time, and clears UIE; hours in 12-hour mode are 1-12 with bit 7 for
 * PM; alarm bytes 0xc0-0xff match any value; C's flags are set whether or
 * not their interrupts are enabled, and IRQF = PF&PIE | AF&AIE | UF&UIE.
 * The periodic rate for RS = 3..15 is 32768 Hz >> (RS-1); RS = 1 and 2 give
 * the rates of 8 and 9 (256 Hz and 128 Hz); RS = 0 disables it.
 *
 * Model: the update cycle is instantaneous at each whole virtual second;
 * UIP is set in the 244 us before it.  Time registers are computed when
 * read.  Events coalesce: after a long gap one UF/PF is set, and the alarm is
 * compared with the latest update only.  The weekday register is derived
 * from the date (a guest's own weekday write is not kept).  The divider
 * chain is never in reset (DV bits are stored only), and the periodic phase
 * is aligned to virtual time 0.  The RESET pin is never pulsed: a guest's
 * reset ends the run (machine_init.c). */
#include "vmm/devices/cmos_rtc.h"

#include <errno.h>
#include <string.h>

#include "vmm/devices/devclock.h"

enum {
	RTC_SEC = 0x00, RTC_SEC_ALARM = 0x01, RTC_MIN = 0x02,
	RTC_MIN_ALARM = 0x03, RTC_HOUR = 0x04, RTC_HOUR_ALARM = 0x05,
	RTC_WDAY = 0x06, RTC_MDAY = 0x07, RTC_MONTH = 0x08, RTC_YEAR = 0x09,
	RTC_REG_A = 0x0a, RTC_REG_B = 0x0b, RTC_REG_C = 0x0c, RTC_REG_D = 0x0d,
	RTC_CENTURY = 0x32,

	RTC_A_UIP = 0x80,
	RTC_B_SET = 0x80, RTC_B_PIE = 0x40, RTC_B_AIE = 0x20, RTC_B_UIE = 0x10,
	RTC_B_SQWE = 0x08, RTC_B_DM = 0x04, RTC_B_24H = 0x02,
	RTC_C_IRQF = 0x80, RTC_C_PF = 0x40, RTC_C_AF = 0x20, RTC_C_UF = 0x10,
	RTC_D_VRT = 0x80,
	RTC_HOUR_PM = 0x80,
	RTC_ALARM_ANY = 0xc0,
	RTC_INDEX_NMI = 0x80,
};

/* The time base crystal. */
#define RTC_XTAL_HZ 32768u
/* UIP rises 244 us (8 periods of 32768 Hz, rounded) before an update. */
#define RTC_UIP_NS 244000u
#define RTC_SECS_PER_DAY 86400

static vclock_ns rtc_now(const struct cmos_rtc *r)
{
	return r->clock ? r->clock(r->clock_opaque) : 0;
}

static int64_t rtc_floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t rtc_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = rtc_floor_div(y, 400);
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

static void rtc_civil_from_days(int64_t z, int64_t *y, unsigned *m,
				unsigned *d)
{
	z += 719468;
	int64_t era = rtc_floor_div(z, 146097);
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool rtc_binary(const struct cmos_rtc_state *st)
{
	return st->cmos[RTC_REG_B] & RTC_B_DM;
}

static uint8_t rtc_to_reg(const struct cmos_rtc_state *st, unsigned v)
{
	return rtc_binary(st) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static unsigned rtc_from_reg(const struct cmos_rtc_state *st, uint8_t v)
{
	return rtc_binary(st) ? v : (unsigned)(v >> 4) * 10 + (v & 0xf);
}

static uint8_t rtc_hour_to_reg(const struct cmos_rtc_state *st, unsigned h)
{
	unsigned h12 = h % 12 ? h % 12 : 12;

	if (st->cmos[RTC_REG_B] & RTC_B_24H)
		return rtc_to_reg(st, h);
	return (uint8_t)(rtc_to_reg(st, h12) | (h >= 12 ? RTC_HOUR_PM : 0));
}

static unsigned rtc_hour_from_reg(const struct cmos_rtc_state *st, uint8_t v)
{
	if (st->cmos[RTC_REG_B] & RTC_B_24H)
		return rtc_from_reg(st, v);
	return rtc_from_reg(st, v & 0x7f) % 12 + (v & RTC_HOUR_PM ? 12 : 0);
}

/* Write wall-clock time SECS into the time registers in B's format. */
static void rtc_store_time(struct cmos_rtc_state *st, int64_t secs)
{
	int64_t days = rtc_floor_div(secs, RTC_SECS_PER_DAY), y;
	unsigned sod = (unsigned)(secs - days * RTC_SECS_PER_DAY), m, d;

	rtc_civil_from_days(days, &y, &m, &d);
	st->cmos[RTC_SEC] = rtc_to_reg(st, sod % 60);
	st->cmos[RTC_MIN] = rtc_to_reg(st, sod / 60 % 60);
	st->cmos[RTC_HOUR] = rtc_hour_to_reg(st, sod / 3600);
	/* 1970-01-01 was a Thursday, weekday 5 when Sunday is 1. */
	st->cmos[RTC_WDAY] = rtc_to_reg(st, (unsigned)((days % 7 + 11) % 7) + 1);
	st->cmos[RTC_MDAY] = rtc_to_reg(st, d);
	st->cmos[RTC_MONTH] = rtc_to_reg(st, m);
	st->cmos[RTC_YEAR] = rtc_to_reg(st, (unsigned)(y % 100));
	st->cmos[RTC_CENTURY] = rtc_to_reg(st, (unsigned)(y / 100));
}

/* The wall-clock time the time registers say. */
static int64_t rtc_load_time(const struct cmos_rtc_state *st)
{
	int64_t y = rtc_from_reg(st, st->cmos[RTC_CENTURY]) * 100 +
		    rtc_from_reg(st, st->cmos[RTC_YEAR]);
	unsigned m = rtc_from_reg(st, st->cmos[RTC_MONTH]);
	unsigned d = rtc_from_reg(st, st->cmos[RTC_MDAY]);

	return rtc_days_from_civil(y, m, d) * RTC_SECS_PER_DAY +
	       rtc_hour_from_reg(st, st->cmos[RTC_HOUR]) * 3600 +
	       rtc_from_reg(st, st->cmos[RTC_MIN]) * 60 +
	       rtc_from_reg(st, st->cmos[RTC_SEC]);
}

static bool rtc_halted(const struct cmos_rtc_state *st)
{
	return st->cmos[RTC_REG_B] & RTC_B_SET;
}

static int64_t rtc_time_at(const struct cmos_rtc_state *st, vclock_ns t)
{
	return st->epoch_at_zero + (int64_t)(t / DEVCLOCK_NS_PER_SEC);
}

/* Periodic interrupt period in 32768 Hz ticks, 0 when off. */
static uint64_t rtc_period_ticks(const struct cmos_rtc_state *st)
{
	unsigned rs = st->cmos[RTC_REG_A] & 0x0f;

	if (rs == 0)
		return 0;
	return rs <= 2 ? 1ull << (rs + 6) : 1ull << (rs - 1);
}

static bool rtc_alarm_matches(struct cmos_rtc_state *st, int64_t secs)
{
	static const uint8_t pairs[3][2] = { { RTC_SEC_ALARM, RTC_SEC },
					     { RTC_MIN_ALARM, RTC_MIN },
					     { RTC_HOUR_ALARM, RTC_HOUR } };

	rtc_store_time(st, secs);
	for (unsigned i = 0; i < 3; i++) {
		uint8_t a = st->cmos[pairs[i][0]];

		if ((a & RTC_ALARM_ANY) != RTC_ALARM_ANY && a != st->cmos[pairs[i][1]])
			return false;
	}
	return true;
}

static void rtc_drive_irq(struct cmos_rtc *r)
{
	struct cmos_rtc_state *st = &r->st;
	uint8_t b = st->cmos[RTC_REG_B], c = st->cmos[RTC_REG_C] & 0x70;
	bool irqf = ((c & RTC_C_PF) && (b & RTC_B_PIE)) ||
		    ((c & RTC_C_AF) && (b & RTC_B_AIE)) ||
		    ((c & RTC_C_UF) && (b & RTC_B_UIE));

	st->cmos[RTC_REG_C] = (uint8_t)(c | (irqf ? RTC_C_IRQF : 0));
	if (irqf == st->irq_level)
		return;
	st->irq_level = irqf;
	if (r->irq)
		r->irq(r->irq_opaque, 8, irqf);
}

/* Fold the events in (checked, now] into register C. */
static void rtc_catch_up(struct cmos_rtc *r, vclock_ns now)
{
	struct cmos_rtc_state *st = &r->st;
	uint64_t per = rtc_period_ticks(st);

	if (now <= st->checked) {
		rtc_drive_irq(r);
		return;
	}
	if (per && devclock_ticks_at(now, RTC_XTAL_HZ) / per >
			   devclock_ticks_at(st->checked, RTC_XTAL_HZ) / per)
		st->cmos[RTC_REG_C] |= RTC_C_PF;
	if (!rtc_halted(st) &&
	    now / DEVCLOCK_NS_PER_SEC > st->checked / DEVCLOCK_NS_PER_SEC) {
		st->cmos[RTC_REG_C] |= RTC_C_UF;
		if (rtc_alarm_matches(st, rtc_time_at(st, now)))
			st->cmos[RTC_REG_C] |= RTC_C_AF;
	}
	st->checked = now;
	rtc_drive_irq(r);
}

static void rtc_write_b(struct cmos_rtc_state *st, uint8_t v, vclock_ns now)
{
	uint8_t old = st->cmos[RTC_REG_B];

	if ((v & RTC_B_SET) && !(old & RTC_B_SET))
		rtc_store_time(st, rtc_time_at(st, now)); /* freeze */
	if (v & RTC_B_SET)
		v &= (uint8_t)~RTC_B_UIE;
	st->cmos[RTC_REG_B] = v;
	if (!(v & RTC_B_SET) && (old & RTC_B_SET))
		st->epoch_at_zero = rtc_load_time(st) -
				    (int64_t)(now / DEVCLOCK_NS_PER_SEC);
}

static bool rtc_is_time_reg(unsigned idx)
{
	return idx == RTC_SEC || idx == RTC_MIN || idx == RTC_HOUR ||
	       (idx >= RTC_WDAY && idx <= RTC_YEAR) || idx == RTC_CENTURY;
}

static void rtc_write_data(struct cmos_rtc *r, uint8_t v, vclock_ns now)
{
	struct cmos_rtc_state *st = &r->st;
	unsigned idx = st->index;

	if (idx == RTC_REG_A) {
		st->cmos[idx] = v & (uint8_t)~RTC_A_UIP;
	} else if (idx == RTC_REG_B) {
		rtc_write_b(st, v, now);
	} else if (idx == RTC_REG_C || idx == RTC_REG_D) {
		/* read-only */
	} else if (rtc_is_time_reg(idx) && !rtc_halted(st)) {
		/* The time registers are the counters themselves: a write
		 * while running sets the time from the next update on. */
		rtc_store_time(st, rtc_time_at(st, now));
		st->cmos[idx] = v;
		st->epoch_at_zero = rtc_load_time(st) -
				    (int64_t)(now / DEVCLOCK_NS_PER_SEC);
	} else {
		st->cmos[idx] = v;
	}
	rtc_drive_irq(r);
}

static uint8_t rtc_read_data(struct cmos_rtc *r, vclock_ns now)
{
	struct cmos_rtc_state *st = &r->st;
	unsigned idx = st->index;
	uint8_t v;

	switch (idx) {
	case RTC_REG_A:
		v = st->cmos[idx];
		if (!rtc_halted(st) &&
		    now % DEVCLOCK_NS_PER_SEC >= DEVCLOCK_NS_PER_SEC - RTC_UIP_NS)
			v |= RTC_A_UIP;
		return v;
	case RTC_REG_C:
		v = st->cmos[idx];
		st->cmos[idx] = 0;
		rtc_drive_irq(r);
		return v;
	case RTC_REG_D:
		return RTC_D_VRT;
	default:
		if (rtc_is_time_reg(idx) && !rtc_halted(st))
			rtc_store_time(st, rtc_time_at(st, now));
		return st->cmos[idx];
	}
}

static uint32_t rtc_io_read(void *dev, uint16_t offset, unsigned size)
{
	struct cmos_rtc *r = dev;
	vclock_ns now = rtc_now(r);
	uint32_t v = 0;

	rtc_catch_up(r, now);
	for (unsigned i = 0; i < size; i++) {
		/* The index port is write-only: it reads as a floating bus. */
		uint8_t b = offset + i == 1 ? rtc_read_data(r, now) : 0xff;

		v |= (uint32_t)b << (8 * i);
	}
	return v;
}

static void rtc_io_write(void *dev, uint16_t offset, unsigned size,
			 uint32_t value)
{
	struct cmos_rtc *r = dev;
	vclock_ns now = rtc_now(r);

	rtc_catch_up(r, now);
	for (unsigned i = 0; i < size; i++) {
		uint8_t b = (uint8_t)(value >> (8 * i));

		if (offset + i == 0) {
			r->st.index = b & 0x7f;
			r->st.nmi_disabled = b & RTC_INDEX_NMI;
		} else if (offset + i == 1) {
			rtc_write_data(r, b, now);
		}
	}
}

static void rtc_put16(struct cmos_rtc_state *st, unsigned idx, uint64_t v)
{
	if (v > 0xffff)
		v = 0xffff;
	st->cmos[idx] = (uint8_t)v;
	st->cmos[idx + 1] = (uint8_t)(v >> 8);
}

/* What a PC BIOS leaves in CMOS RAM for a machine with RAM_BYTES. */
static void rtc_fill_bios_area(struct cmos_rtc_state *st, uint64_t ram_bytes)
{
	const uint64_t mib = 1024 * 1024;
	uint64_t ext_kib = ram_bytes > mib ? (ram_bytes - mib) / 1024 : 0;
	uint64_t blocks = ram_bytes > 16 * mib ? (ram_bytes - 16 * mib) >> 16 : 0;
	unsigned sum = 0;

	rtc_put16(st, 0x15, 640);     /* base memory, KiB below 640 KiB */
	rtc_put16(st, 0x17, ext_kib); /* extended memory, KiB above 1 MiB */
	rtc_put16(st, 0x30, ext_kib); /* the same, as found by POST */
	rtc_put16(st, 0x34, blocks);  /* 64 KiB blocks above 16 MiB */
	/* The AT BIOS checksum: big-endian sum of 0x10-0x2d at 0x2e. */
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += st->cmos[i];
	st->cmos[0x2e] = (uint8_t)(sum >> 8);
	st->cmos[0x2f] = (uint8_t)sum;
}

void rtc_init(struct cmos_rtc *r, int64_t base_epoch_sec, uint64_t ram_bytes,
	      vmm_clock_fn clock, void *clock_opaque, vmm_irq_fn irq,
	      void *irq_opaque)
{
	struct cmos_rtc_state *st = &r->st;

	memset(r, 0, sizeof(*r));
	r->clock = clock;
	r->clock_opaque = clock_opaque;
	r->irq = irq;
	r->irq_opaque = irq_opaque;
	st->epoch_at_zero = base_epoch_sec;
	st->checked = rtc_now(r);
	/* What a PC BIOS programs: 32.768 kHz divider (DV = 010), 1024 Hz
	 * periodic rate (RS = 6); 24-hour BCD; VRT set. */
	st->cmos[RTC_REG_A] = 0x26;
	st->cmos[RTC_REG_B] = RTC_B_24H;
	st->cmos[RTC_REG_D] = RTC_D_VRT;
	rtc_fill_bios_area(st, ram_bytes);
	rtc_store_time(st, rtc_time_at(st, st->checked));
}

vclock_ns rtc_next_deadline(const struct cmos_rtc *r)
{
	const struct cmos_rtc_state *st = &r->st;
	uint8_t b = st->cmos[RTC_REG_B];
	uint64_t per = rtc_period_ticks(st);
	vclock_ns next = VCLOCK_NEVER;

	if (st->irq_level)
		return VCLOCK_NEVER;
	if ((b & RTC_B_PIE) && per) {
		uint64_t k = devclock_ticks_at(st->checked, RTC_XTAL_HZ) / per + 1;

		next = devclock_time_of_tick(k * per, RTC_XTAL_HZ);
	}
	if ((b & (RTC_B_UIE | RTC_B_AIE)) && !(b & RTC_B_SET)) {
		vclock_ns sec = (st->checked / DEVCLOCK_NS_PER_SEC + 1) *
				DEVCLOCK_NS_PER_SEC;

		if (sec < next)
			next = sec;
	}
	return next;
}

void rtc_update(struct cmos_rtc *r)
{
	rtc_catch_up(r, rtc_now(r));
}

int64_t rtc_epoch_now(const struct cmos_rtc *r)
{
	if (rtc_halted(&r->st))
		return rtc_load_time(&r->st);
	return rtc_time_at(&r->st, rtc_now(r));
}

static void rtc_save(const void *dev, void *blob)
{
	const struct cmos_rtc *r = dev;

	memcpy(blob, &r->st, sizeof(r->st));
}

static int rtc_restore(void *dev, const void *blob)
{
	struct cmos_rtc *r = dev;
	struct cmos_rtc_state st;

	memcpy(&st, blob, sizeof(st));
	if (st.index >= RTC_CMOS_SIZE)
		return -EINVAL;
	r->st = st;
	return 0;
}

const struct vmm_device_ops rtc_ops = {
	.name = "cmos-rtc",
	.io = { { 0x70, 2, rtc_io_read, rtc_io_write } },
	.state_size = sizeof(struct cmos_rtc_state),
	.save = rtc_save,
	.restore = rtc_restore,
};
