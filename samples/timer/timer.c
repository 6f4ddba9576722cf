/*
 * timer: every source of time a PC kernel reads.  The PIT interrupts at TIMER_HZ,
 * the main loop idles with STI;HLT until TIMER_TICKS ticks have passed, and samples
 * the TSC on every tick, the PIT counter between ticks and the RTC a few times.
 *
 * The checks printed as PASS/FAIL hold on every run; the "checksum" line mixes the
 * raw values (TSC deltas, PIT counter, RTC time) and differs between two runs, and
 * between two recordings, while a replay must reproduce it exactly.
 *
 * Ring-0 cost: ~100 instructions per tick plus ~60 port accesses for the RTC.
 */
#include "runtime.h"

#define TIMER_HZ     1000
#define TIMER_TICKS  200          /* 200 ms of guest time */
#define RTC_READS    3

static volatile uint32_t ticks;
static volatile uint64_t tick_tsc[TIMER_TICKS + 1];

static void timer_irq(struct regs *r)
{
	uint32_t t = ticks;

	if (t <= TIMER_TICKS)
		tick_tsc[t] = rdtsc();
	ticks = t + 1;
}

/* FNV-1a over 64-bit words: order-sensitive, cheap in ring 0. */
static uint64_t mix(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 0x100000001b3ull;
	}
	return h;
}

void kmain(uint32_t mb_magic, uint32_t mb_info);
void kmain(uint32_t mb_magic, uint32_t mb_info)
{
	uint64_t h = 0xcbf29ce484222325ull;
	struct rtc_time rt[RTC_READS];
	uint64_t tsc_start, tsc_end;
	bool pit_in_range = true;

	serial_init();
	idt_init();
	pic_init();
	idt_set_handler(IRQ_BASE + 0, timer_irq);
	printf("timer: PIT at %u Hz, idling for %u ticks\n", TIMER_HZ, TIMER_TICKS);

	rtc_read(&rt[0]);
	pit_init_periodic(TIMER_HZ, PIT_MODE_RATE);
	pic_unmask(0);
	tsc_start = rdtsc();

	irq_enable();
	unsigned idles = 0;
	while (ticks < TIMER_TICKS) {
		cpu_idle();
		idles++;
		if (idles % 64 == 0) {
			uint16_t c = pit_read_counter();
			pit_in_range &= c <= pit_reload();
			h = mix(h, c);
		}
		if (idles == TIMER_TICKS / 2)
			rtc_read(&rt[1]);
	}
	irq_disable();
	pic_mask(0);
	tsc_end = rdtsc();
	rtc_read(&rt[2]);

	bool tsc_monotonic = tsc_start < tsc_end;
	for (unsigned i = 1; i < TIMER_TICKS; i++) {
		tsc_monotonic &= tick_tsc[i - 1] < tick_tsc[i];
		h = mix(h, tick_tsc[i] - tick_tsc[i - 1]);
	}
	bool rtc_ok = true;
	for (unsigned i = 0; i < RTC_READS; i++) {
		rtc_ok &= rtc_valid(&rt[i]);
		h = mix(h, rt[i].sec | rt[i].min << 8 | rt[i].hour << 16 |
			(uint64_t)rt[i].day << 24 | (uint64_t)rt[i].mon << 32 |
			(uint64_t)rt[i].year << 40);
	}
	h = mix(h, tsc_end - tsc_start);
	/* Ticks take >= 1 ms each and the RTC counts seconds: at most a few seconds pass. */
	uint32_t s0 = rt[0].hour * 3600u + rt[0].min * 60u + rt[0].sec;
	uint32_t s2 = rt[2].hour * 3600u + rt[2].min * 60u + rt[2].sec;
	uint32_t elapsed = (s2 + 86400 - s0) % 86400;

	report(ticks >= TIMER_TICKS, "counted %u timer ticks", TIMER_TICKS);
	report(tsc_monotonic, "TSC increases from tick to tick");
	report(pit_in_range, "PIT counter within its reload value");
	report(rtc_ok, "RTC time is valid");
	report(elapsed <= 5, "RTC advanced by at most 5 s while idling");
	printf("timer: checksum 0x%016lx\n", h);
}
