/*
 * CPUID from both rings, as a C library's CPU-feature probe does it: the
 * kernel reads leaf 1 in ring 0, then a ring-3 task reads it ROUNDS times
 * (spinning between reads, as user code runs) and goes home through
 * int 0x80.  The kernel prints what each ring saw: the initial APIC ID
 * (EBX[31:24]) and the family/model/stepping word (EAX).
 *
 * Under rrvm both come from rrvm's CPUID table in ring 0.  On a host whose
 * KVM lets ring 3 run CPUID on the host CPU itself (kvm_pvm), ring 3 reads
 * the host CPU the vCPU thread is on: a replay is exact only on a CPU that
 * answers the same (vmm/hostcpu.h).  The output names how many different
 * answers ring 3 got: one, since the thread must not move.
 */
#include "runtime.h"

#define ROUNDS 2000
#define SPIN 2000

static uint8_t kstack[16384] __attribute__((aligned(16)));
static uint8_t ustack[16384] __attribute__((aligned(16)));
static volatile uint32_t seen_eax[ROUNDS], seen_ebx[ROUNDS];
static volatile uint64_t sink;

static void cpuid1(uint32_t *eax, uint32_t *ebx)
{
	uint32_t c = 0, d;

	__asm__ volatile("cpuid" : "=a"(*eax), "=b"(*ebx), "+c"(c), "=d"(d) : "a"(1));
}

static void task(void)
{
	for (unsigned i = 0; i < ROUNDS; i++) {
		uint32_t a, b;

		cpuid1(&a, &b);
		seen_eax[i] = a;
		seen_ebx[i] = b;
		for (unsigned k = 0; k < SPIN; k++)
			sink += k;
	}
	__asm__ volatile("int $0x80" ::: "memory");
	for (;;)
		;
}

/* The task's way home (this host may deliver int 0x80 from ring 3 as #UD). */
static void on_exit_call(struct regs *r)
{
	unsigned distinct = 1;
	uint32_t a0, b0;

	(void)r;
	cpuid1(&a0, &b0);
	printf("cpuidring3: ring 0: apic id %u, eax 0x%x\n", b0 >> 24, a0);
	printf("cpuidring3: ring 3: apic id %u, eax 0x%x\n", seen_ebx[0] >> 24, seen_eax[0]);
	for (unsigned i = 1; i < ROUNDS; i++)
		distinct += seen_ebx[i] != seen_ebx[i - 1] || seen_eax[i] != seen_eax[i - 1];
	report(distinct == 1, "ring 3 got one answer in %u reads (%u changes)", ROUNDS,
	       distinct - 1);
	runtime_finish();
}

void kmain(uint32_t mb_magic, uint32_t mb_info);
void kmain(uint32_t mb_magic, uint32_t mb_info)
{
	(void)mb_magic, (void)mb_info;
	serial_init();
	idt_init();
	paging_set_user(0, 0x200000);
	tss_init((uint64_t)(kstack + sizeof(kstack)));
	idt_set_dpl(VEC_SYSCALL, 3);
	idt_set_handler(VEC_SYSCALL, on_exit_call);
	idt_set_handler(VEC_UD, on_exit_call);
	/* Interrupts off: nothing here needs them. */
	enter_user(kstack + sizeof(kstack), task, ustack + sizeof(ustack), 0x2);
}
