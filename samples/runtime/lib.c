/* libc bits the compiler may call, report()/exit, TSS and paging helpers. */
#include "runtime.h"

void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;

	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	if (dp < sp)
		return memcpy(d, s, n);
	while (n--)
		dp[n] = sp[n];
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i] || !a[i])
			return (unsigned char)a[i] - (unsigned char)b[i];
	}
	return 0;
}

static unsigned report_tests, report_failures;

void report(bool cond, const char *fmt, ...)
{
	va_list ap;

	report_tests++;
	if (!cond)
		report_failures++;
	printf("%s: ", cond ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

int report_summary(void)
{
	printf("SUMMARY: %u tests, %u failures\n", report_tests, report_failures);
	return (int)report_failures;
}

/* QEMU's isa-debug-exit (and rrvm's) accepts any access width at 0xf4. */
void exit_qemu(uint8_t v)
{
	outb(0xf4, v);
	for (;;)                /* no exit device: stop here */
		__asm__ volatile("cli; hlt");
}

void runtime_finish(void)
{
	exit_qemu(report_summary() ? EXIT_FAIL : EXIT_OK);
}

void panic(const char *fmt, ...)
{
	va_list ap;

	irq_disable();
	printf("PANIC: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit_qemu(EXIT_PANIC);
}

/* 64-bit TSS (SDM vol. 3, 8.7). */
struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

static struct tss64 tss;
extern uint64_t gdt[];

void tss_init(uint64_t rsp0)
{
	uint64_t base = (uint64_t)&tss;
	uint64_t limit = sizeof(tss) - 1;

	tss.rsp[0] = rsp0;
	tss.iomap_base = sizeof(tss);   /* no I/O bitmap: ring-3 port access faults */
	/* Type 0x9 = available 64-bit TSS, P=1, DPL0. */
	gdt[SEL_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
			   (0x89ull << 40) | (((limit >> 16) & 0xf) << 48) |
			   (((base >> 24) & 0xff) << 56);
	gdt[SEL_TSS / 8 + 1] = base >> 32;
	__asm__ volatile("ltr %w0" : : "r"(SEL_TSS) : "memory");
}

extern uint64_t boot_pd[512];

void paging_set_user(uint64_t start, uint64_t end)
{
	for (uint64_t a = start & ~0x1fffffull; a < end && a < (1ull << 30); a += 0x200000)
		boot_pd[a >> 21] |= 0x4;        /* U/S */
	uint64_t cr3;
	__asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
}
