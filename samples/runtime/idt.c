/*
 * The IDT: 48 stubs (exceptions and PIC IRQs) plus the syscall vector 0x80, all
 * interrupt gates (IF cleared on entry) so that no handler nests.  Unexpected
 * exceptions print the frame and exit with EXIT_EXCEPTION.
 */
#include "runtime.h"

struct idt_entry {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;           /* P | DPL | 0xE (64-bit interrupt gate) */
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t reserved;
} __attribute__((packed));

static struct idt_entry idt[256];
static isr_handler_fn handlers[256];
extern const uint64_t isr_stubs[48];
extern const uint64_t isr_stub_syscall;

const char *const exception_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "#09", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
	"#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

static void set_gate(unsigned vec, uint64_t addr, unsigned dpl)
{
	idt[vec] = (struct idt_entry){
		.off_lo = addr & 0xffff,
		.sel = SEL_KCODE,
		.type = (uint8_t)(0x8e | (dpl << 5)),
		.off_mid = (addr >> 16) & 0xffff,
		.off_hi = (uint32_t)(addr >> 32),
	};
}

void idt_set_handler(unsigned vec, isr_handler_fn fn)
{
	handlers[vec] = fn;
}

void idt_set_dpl(unsigned vec, unsigned dpl)
{
	idt[vec].type = (uint8_t)(0x8e | (dpl << 5));
}

void idt_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof(idt) - 1, (uint64_t)idt };

	for (unsigned v = 0; v < 48; v++)
		set_gate(v, isr_stubs[v], 0);
	set_gate(VEC_SYSCALL, isr_stub_syscall, 0);
	__asm__ volatile("lidt %0" : : "m"(ptr) : "memory");
}

void isr_unexpected(struct regs *r)
{
	uint64_t cr2;

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	printf("EXCEPTION: %s (vector %lu) at RIP=0x%lx CS=0x%lx error=0x%lx "
	       "RSP=0x%lx RFLAGS=0x%lx CR2=0x%lx\n",
	       exception_names[r->vector], r->vector, r->rip, r->cs, r->error, r->rsp,
	       r->rflags, cr2);
	exit_qemu(EXIT_EXCEPTION);
}

/* IRQ7/IRQ15 without a cause in the ISR are spurious and must not be acknowledged. */
static bool irq_spurious(unsigned irq)
{
	uint16_t port = irq < 8 ? 0x20 : 0xa0;

	if ((irq & 7) != 7)
		return false;
	outb(port, 0x0b);        /* OCW3: read ISR */
	return !(inb(port) & 0x80);
}

void isr_dispatch(struct regs *r);
void isr_dispatch(struct regs *r)
{
	unsigned vec = (unsigned)r->vector;

	if (vec >= IRQ_BASE && vec < IRQ_BASE + 16) {
		unsigned irq = vec - IRQ_BASE;

		if (!handlers[vec] && irq_spurious(irq))
			return;
		if (handlers[vec])
			handlers[vec](r);
		pic_eoi(irq);
		return;
	}
	if (handlers[vec]) {
		handlers[vec](r);
		return;
	}
	if (vec < 32)
		isr_unexpected(r);
	printf("EXCEPTION: unexpected vector %u at RIP=0x%lx\n", vec, r->rip);
	exit_qemu(EXIT_EXCEPTION);
}

void enter_user(void *kstack_top, void (*entry)(void), void *ustack_top, uint64_t rflags)
{
	struct regs *f = (struct regs *)kstack_top - 1;

	*f = (struct regs){
		.rip = (uint64_t)entry,
		.cs = SEL_UCODE,
		.ss = SEL_UDATA,
		.rflags = rflags,
		.rsp = (uint64_t)ustack_top - 8,
	};
	enter_frame(f);
}
