/*
 * MC146818 CMOS RTC.  Registers are read only while Update-In-Progress is clear, and
 * twice until two reads agree, so a rollover between fields cannot tear the time.
 */
#include "runtime.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71
#define RTC_SEC    0x00
#define RTC_MIN    0x02
#define RTC_HOUR   0x04
#define RTC_DAY    0x07
#define RTC_MON    0x08
#define RTC_YEAR   0x09
#define RTC_REG_A  0x0a
#define RTC_REG_B  0x0b
#define REG_A_UIP  0x80
#define REG_B_24H  0x02
#define REG_B_BIN  0x04

static uint8_t cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, reg);
	return inb(CMOS_DATA);
}

static void rtc_read_raw(struct rtc_time *t)
{
	while (cmos_read(RTC_REG_A) & REG_A_UIP)
		cpu_relax();
	t->sec = cmos_read(RTC_SEC);
	t->min = cmos_read(RTC_MIN);
	t->hour = cmos_read(RTC_HOUR);
	t->day = cmos_read(RTC_DAY);
	t->mon = cmos_read(RTC_MON);
	t->year = cmos_read(RTC_YEAR);
}

static uint8_t bcd(uint8_t v)
{
	return (uint8_t)((v >> 4) * 10 + (v & 0xf));
}

static bool rtc_same(const struct rtc_time *a, const struct rtc_time *b)
{
	return a->sec == b->sec && a->min == b->min && a->hour == b->hour &&
	       a->day == b->day && a->mon == b->mon && a->year == b->year;
}

void rtc_read(struct rtc_time *t)
{
	struct rtc_time a;

	rtc_read_raw(t);
	do {
		a = *t;
		rtc_read_raw(t);
	} while (!rtc_same(&a, t));

	uint8_t b = cmos_read(RTC_REG_B);
	bool pm = t->hour & 0x80;

	t->hour &= 0x7f;
	if (!(b & REG_B_BIN)) {
		t->sec = bcd(t->sec);
		t->min = bcd(t->min);
		t->hour = bcd(t->hour);
		t->day = bcd(t->day);
		t->mon = bcd(t->mon);
		t->year = bcd((uint8_t)t->year);
	}
	if (!(b & REG_B_24H) && pm)
		t->hour = (uint8_t)((t->hour % 12) + 12);
	t->year += 2000;
}

bool rtc_valid(const struct rtc_time *t)
{
	return t->sec < 60 && t->min < 60 && t->hour < 24 && t->day >= 1 &&
	       t->day <= 31 && t->mon >= 1 && t->mon <= 12;
}
