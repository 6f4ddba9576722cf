/*
 * The sample kernels' runtime: boot (boot.S), COM1 console, IDT, 8259 PIC, 8254 PIT,
 * CMOS RTC, TSC, report() and isa-debug-exit.  Freestanding, one CPU, no locking:
 * code that shares data with an interrupt handler must disable interrupts itself.
 *
 * Cost contract: ring-0 code is emulated at ~0.5 MIPS on the development host
 * (HOST.md), so every helper here is a handful of instructions plus its port I/O;
 * every port access is one VM exit under rrvm (~15 us here).
 */
#ifndef RRVM_SAMPLES_RUNTIME_H
#define RRVM_SAMPLES_RUNTIME_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u

/* Multiboot1 information structure (spec 3.3); only the fields the samples use. */
struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower;     /* KiB below 1 MiB, valid if flags bit 0 */
	uint32_t mem_upper;     /* KiB above 1 MiB, valid if flags bit 0 */
	uint32_t boot_device;
	uint32_t cmdline;       /* physical address of a C string, valid if flags bit 2 */
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;   /* valid if flags bit 6 */
	uint32_t mmap_addr;
};
#define MB_INFO_MEM     (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MMAP    (1u << 6)

/* isa-debug-exit values (QEMU exit status is (value << 1) | 1). */
#define EXIT_OK         0x00   /* status 1 */
#define EXIT_FAIL       0x01   /* status 3: a report() failed */
#define EXIT_EXCEPTION  0x02   /* status 5: unexpected CPU exception */
#define EXIT_PANIC      0x10   /* status 33: a kernel-detected corruption (race) */

/* GDT selectors (boot.S). */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA (0x18 | 3)
#define SEL_UCODE (0x20 | 3)
#define SEL_TSS   0x28

/* Interrupt vectors: exceptions 0-31, PIC IRQs remapped to 32-47, syscall 0x80. */
#define IRQ_BASE      0x20
#define VEC_SYSCALL   0x80
#define VEC_UD        6
#define VEC_GP        13

/* The frame every interrupt stub builds (boot.S), lowest address first. */
struct regs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;   /* pushed by the CPU */
};

typedef void (*isr_handler_fn)(struct regs *r);

/* ---- port I/O and CPU helpers ---- */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}
static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port) : "memory");
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}
/* RDTSC sites are found and patched by rrvm (DESIGN.md, TSC); keep them plain. */
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}
static inline void irq_enable(void)  { __asm__ volatile("sti" : : : "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" : : : "memory"); }
static inline uint64_t irq_save(void)
{
	uint64_t f;
	__asm__ volatile("pushfq; popq %0; cli" : "=r"(f) : : "memory");
	return f;
}
static inline void irq_restore(uint64_t f)
{
	if (f & (1u << 9))
		irq_enable();
}
/* Enable interrupts and halt until one arrives; STI's shadow makes the pair atomic. */
static inline void cpu_idle(void) { __asm__ volatile("sti; hlt" : : : "memory"); }
static inline void cpu_relax(void) { __asm__ volatile("pause" : : : "memory"); }

/* ---- libc bits (lib.c) ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);

/* ---- console on COM1 (serial.c, printf.c) ---- */
void serial_init(void);
void serial_putc(char c);
void serial_write(const char *s, size_t n);
bool serial_tx_ready(void);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);

/* ---- tests and exit (lib.c) ---- */
/* Prints "PASS: <msg>" or "FAIL: <msg>" and counts failures. */
void report(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "SUMMARY: <n> tests, <f> failures" and returns f. */
int report_summary(void);
/* Writes v to isa-debug-exit (port 0xf4); never returns. */
__attribute__((noreturn)) void exit_qemu(uint8_t v);
/* Called by boot.S when kmain() returns: summary, then exit OK or FAIL. */
__attribute__((noreturn)) void runtime_finish(void);
__attribute__((noreturn)) void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- descriptors and paging (lib.c) ---- */
void tss_init(uint64_t rsp0);      /* fills the GDT's TSS descriptor and loads TR */
void paging_set_user(uint64_t start, uint64_t end);  /* U=1 on those 2 MiB pages */

/* ---- interrupts (idt.c, boot.S) ---- */
void idt_init(void);               /* all exceptions print and exit(EXIT_EXCEPTION) */
void idt_set_handler(unsigned vec, isr_handler_fn fn);
void idt_set_dpl(unsigned vec, unsigned dpl);   /* 3 lets ring 3 use INT vec */
__attribute__((noreturn)) void enter_frame(struct regs *frame);
/* Starts ENTRY in ring 3 on USTACK_TOP with RFLAGS, through a frame at the
 * top of the kernel stack KSTACK_TOP (the TSS's RSP0). */
__attribute__((noreturn)) void enter_user(void *kstack_top, void (*entry)(void),
					  void *ustack_top, uint64_t rflags);
/* The default exception action: print vector, RIP, error code; exit(EXIT_EXCEPTION). */
__attribute__((noreturn)) void isr_unexpected(struct regs *r);
extern const char *const exception_names[32];

/* ---- 8259A pair (pic.c) ---- */
void pic_init(void);               /* remap to 0x20/0x28, everything masked but IRQ2 */
void pic_unmask(unsigned irq);
void pic_mask(unsigned irq);
void pic_eoi(unsigned irq);

/* ---- 8254 channel 0 (pit.c) ---- */
#define PIT_HZ 1193182u
#define PIT_MODE_RATE   2
#define PIT_MODE_SQUARE 3
void pit_init_periodic(unsigned hz, unsigned mode);
uint16_t pit_read_counter(void);   /* latches channel 0: three port accesses */
uint16_t pit_reload(void);         /* the divisor programmed by pit_init_periodic */

/* ---- CMOS RTC (rtc.c) ---- */
struct rtc_time {
	uint8_t sec, min, hour, day, mon;
	uint16_t year;
};
void rtc_read(struct rtc_time *t); /* waits for UIP to clear; binary 24-hour values */
bool rtc_valid(const struct rtc_time *t);

/* ---- local APIC and IOAPIC (apic.c) ---- */
#define LAPIC_BASE  0xfee00000u
#define IOAPIC_BASE 0xfec00000u
#define MSR_APIC_BASE 0x1b
/* Local APIC register offsets (Intel SDM vol. 3, "Local APIC Register Address Map"). */
#define LAPIC_ID       0x020
#define LAPIC_VERSION  0x030
#define LAPIC_TPR      0x080
#define LAPIC_PPR      0x0a0
#define LAPIC_EOI      0x0b0
#define LAPIC_SVR      0x0f0
#define LAPIC_ISR      0x100
#define LAPIC_IRR      0x200
#define LAPIC_ESR      0x280
#define LAPIC_ICR_LO   0x300
#define LAPIC_ICR_HI   0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR  0x390
#define LAPIC_TIMER_DIV  0x3e0
#define LAPIC_MASKED   (1u << 16)
#define LAPIC_PERIODIC (1u << 17)
#define LAPIC_SW_ENABLE (1u << 8)

struct mp_info {
	uint32_t lapic, ioapic;   /* MMIO addresses */
	uint8_t ioapic_id;
	unsigned cpus;
	int irq0_pin;             /* the IOAPIC pin of ISA IRQ0, or -1 */
};

void apic_map(void);               /* maps both MMIO pages, uncached (3..4 GiB PD) */
bool apic_present(void);           /* CPUID.1:EDX.APIC */
uint64_t rdmsr(uint32_t msr);
uint32_t lapic_read(unsigned reg);
void lapic_write(unsigned reg, uint32_t v);
void lapic_eoi(void);
bool lapic_irr(unsigned vec);
bool lapic_isr(unsigned vec);
uint32_t ioapic_read(unsigned reg);
void ioapic_write(unsigned reg, uint32_t v);
bool mp_find(struct mp_info *mi);  /* the MP floating pointer and configuration table */

#endif
