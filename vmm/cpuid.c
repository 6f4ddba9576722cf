#define LOG_MODULE "vmm"
#include "vmm/cpuid.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "util/log.h"
#include "vmm/kvm.h"

#define BIT(n) (1u << (n))

/* Leaf 1 EDX: FPU VME DE PSE TSC MSR PAE MCE CX8 SEP PGE CMOV PAT PSE36
 * CLFSH MMX FXSR SSE SSE2.  APIC (bit 9) only with --apic on
 * (L1_EDX_APIC): by default the interrupt controller is the userspace 8259
 * pair alone.  No MTRR/MCA: nothing backs them. */
#define L1_EDX                                                                 \
	(BIT(0) | BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(7) | \
	 BIT(8) | BIT(11) | BIT(13) | BIT(15) | BIT(16) | BIT(17) | BIT(19) |     \
	 BIT(23) | BIT(24) | BIT(25) | BIT(26))
/* Leaf 1 ECX: SSE3 PCLMULQDQ SSSE3 SSE4.1 SSE4.2 POPCNT, and bit 31
 * "running under a hypervisor".  Deliberately absent: CX16 (KVM's emulator
 * fails on LOCK CMPXCHG16B in ring 0 on software backends, HOST.md), XSAVE,
 * OSXSAVE and AVX (XRSTOR fails there too), RDRAND (nondeterministic),
 * TSC-deadline and x2APIC (rrvm's local APIC has neither: KVM handles the
 * x2APIC MSRs only with its in-kernel APIC), MONITOR, VMX, PCID. */
#define L1_EDX_APIC BIT(9)
#define L1_ECX (BIT(0) | BIT(1) | BIT(9) | BIT(19) | BIT(20) | BIT(23) | BIT(31))
/* Leaf 7.0 EBX: FSGSBASE BMI1 BMI2 ERMS.  No RDSEED (nondeterministic), no
 * SMEP/SMAP (guest-visible policy, kept simple), no RDPID in ECX. */
#define L7_EBX (BIT(0) | BIT(3) | BIT(8) | BIT(9))
/* 0x80000001 EDX: SYSCALL NX RDTSCP LM; ECX: LAHF_LM ABM(LZCNT).  RDTSCP is
 * offered because rrvm patches it like RDTSC. */
#define X1_EDX (BIT(11) | BIT(20) | BIT(27) | BIT(29))
#define X1_ECX (BIT(0) | BIT(5))

/* Family 6, model 0x2A (a plain Sandy Bridge-era signature): old enough
 * that guests apply no model-specific quirks we do not emulate. */
#define CPU_SIGNATURE 0x000206a7u

static void cpuid_put_str(uint32_t *regs[], const char *s, unsigned nregs)
{
	for (unsigned i = 0; i < nregs; i++)
		memcpy(regs[i], s + 4 * i, 4);
}

static void cpuid_add(struct cpuid_table *t, uint32_t fn, uint32_t idx, uint32_t a, uint32_t b,
		      uint32_t c, uint32_t d)
{
	struct cpuid_entry *e;

	if (t->n == CPUID_MAX_ENTRIES)
		return;
	e = &t->e[t->n++];
	e->function = fn;
	e->index = idx;
	e->eax = a;
	e->ebx = b;
	e->ecx = c;
	e->edx = d;
}

static void cpuid_fixed(struct cpuid_table *t, const char vendor[12], bool apic)
{
	static const char brand[48] = "rrvm deterministic virtual CPU";
	struct cpuid_entry *e;

	t->n = 0;
	cpuid_add(t, 0, 0, 7, 0, 0, 0);
	e = &t->e[0];
	cpuid_put_str((uint32_t *[]){ &e->ebx, &e->edx, &e->ecx }, vendor, 3);
	/* EBX: CLFLUSH line size 8 (x 8 bytes = 64), one logical processor. */
	cpuid_add(t, 1, 0, CPU_SIGNATURE, 0x00010800, L1_ECX, L1_EDX | (apic ? L1_EDX_APIC : 0));
	cpuid_add(t, 7, 0, 0, L7_EBX, 0, 0);
	cpuid_add(t, 0x80000000, 0, 0x80000008, 0, 0, 0);
	cpuid_add(t, 0x80000001, 0, 0, 0, X1_ECX, X1_EDX);
	for (uint32_t i = 0; i < 3; i++) {
		e = &t->e[t->n];
		cpuid_add(t, 0x80000002 + i, 0, 0, 0, 0, 0);
		cpuid_put_str((uint32_t *[]){ &e->eax, &e->ebx, &e->ecx, &e->edx },
			      brand + 16 * i, 4);
	}
	/* 0x80000007 EDX bit 8: invariant TSC.  The virtual TSC is invariant. */
	cpuid_add(t, 0x80000007, 0, 0, 0, 0, BIT(8));
	/* 0x80000008 EAX: 39 physical, 48 linear address bits.  EBX bit 2,
	 * XSAVEERPTR: FXSAVE always saves the x87 error pointers (true of
	 * every x86-64 host KVM runs on today); without it Linux, on an AMD
	 * vendor string, clears them by hand at every FPU restore with
	 * fnclex/emms/fild, which software KVM backends cannot emulate in
	 * ring 0 (X86_BUG_FXSAVE_LEAK). */
	cpuid_add(t, 0x80000008, 0, 0x3027, BIT(2), 0, 0);
}

int cpuid_build(struct cpuid_table *t, const struct kvm *k, bool apic)
{
	const int max = 256;
	struct kvm_cpuid2 *sup;
	char vendor[12] = "GenuineIntel";
	int r = 0;

	sup = calloc(1, sizeof(*sup) + max * sizeof(sup->entries[0]));
	if (!sup)
		return -ENOMEM;
	sup->nent = max;
	if (ioctl(k->sys_fd, KVM_GET_SUPPORTED_CPUID, sup) < 0) {
		r = -errno;
		goto out;
	}
	/* The vendor follows the host: KVM's instruction emulator decides
	 * which of SYSCALL/SYSENTER are legal in which mode by guest vendor. */
	for (unsigned i = 0; i < sup->nent; i++) {
		if (sup->entries[i].function == 0) {
			memcpy(vendor, &sup->entries[i].ebx, 4);
			memcpy(vendor + 4, &sup->entries[i].edx, 4);
			memcpy(vendor + 8, &sup->entries[i].ecx, 4);
		}
	}
	cpuid_fixed(t, vendor, apic);
	for (unsigned i = 0; i < t->n; i++) {
		struct cpuid_entry *e = &t->e[i];
		const struct kvm_cpuid_entry2 *s = NULL;
		uint32_t ecx, edx, ebx;

		if (e->function != 1 && e->function != 7 && e->function != 0x80000001)
			continue;
		for (unsigned j = 0; j < sup->nent; j++)
			if (sup->entries[j].function == e->function &&
			    sup->entries[j].index == e->index)
				s = &sup->entries[j];
		if (!s) {
			log_warn("host KVM lacks CPUID leaf %#x", e->function);
			continue;
		}
		ebx = e->function == 7 ? e->ebx & s->ebx : e->ebx;
		ecx = e->ecx & (s->ecx | (e->function == 1 ? BIT(31) : 0));
		edx = e->edx & s->edx;
		if (ebx != e->ebx || ecx != e->ecx || edx != e->edx)
			log_debug("host KVM lacks CPUID %#x features ebx=%#x ecx=%#x edx=%#x",
				 e->function, e->ebx & ~ebx, e->ecx & ~ecx, e->edx & ~edx);
		e->ebx = ebx;
		e->ecx = ecx;
		e->edx = edx;
	}
out:
	free(sup);
	return r;
}

int cpuid_apply(const struct cpuid_table *t, int vcpu_fd)
{
	struct kvm_cpuid2 *c;
	int r = 0;

	c = calloc(1, sizeof(*c) + t->n * sizeof(c->entries[0]));
	if (!c)
		return -ENOMEM;
	c->nent = t->n;
	for (unsigned i = 0; i < t->n; i++) {
		const struct cpuid_entry *e = &t->e[i];

		c->entries[i] = (struct kvm_cpuid_entry2){
			.function = e->function,
			.index = e->index,
			.flags = e->function == 7 ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0,
			.eax = e->eax,
			.ebx = e->ebx,
			.ecx = e->ecx,
			.edx = e->edx,
		};
	}
	if (ioctl(vcpu_fd, KVM_SET_CPUID2, c) < 0)
		r = -errno;
	free(c);
	return r;
}

const struct cpuid_entry *cpuid_find(const struct cpuid_table *t, uint32_t function,
				     uint32_t index)
{
	for (unsigned i = 0; i < t->n; i++)
		if (t->e[i].function == function && t->e[i].index == index)
			return &t->e[i];
	return NULL;
}

int cpuid_read(struct cpuid_table *t, int vcpu_fd)
{
	struct kvm_cpuid2 *c;
	int r = 0;

	c = calloc(1, sizeof(*c) + CPUID_MAX_ENTRIES * sizeof(c->entries[0]));
	if (!c)
		return -ENOMEM;
	c->nent = CPUID_MAX_ENTRIES;
	if (ioctl(vcpu_fd, KVM_GET_CPUID2, c) < 0) {
		r = -errno;
		goto out;
	}
	t->n = 0;
	for (unsigned i = 0; i < c->nent && i < CPUID_MAX_ENTRIES; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];

		cpuid_add(t, e->function, e->index, e->eax, e->ebx, e->ecx, e->edx);
	}
out:
	free(c);
	return r;
}

static bool cpuid_same(const struct cpuid_entry *a, const struct cpuid_entry *b)
{
	return a && b && a->eax == b->eax && a->ebx == b->ebx && a->ecx == b->ecx &&
	       a->edx == b->edx;
}

static void cpuid_note(uint32_t fn, uint32_t *seen, unsigned *nseen, char *buf, size_t len)
{
	size_t used = strlen(buf);

	for (unsigned i = 0; i < *nseen; i++)
		if (seen[i] == fn)
			return;
	if (*nseen < CPUID_MAX_ENTRIES)
		seen[(*nseen)++] = fn;
	snprintf(buf + used, len - used, "%s%#x", used ? " " : "", fn);
}

unsigned cpuid_diff(const struct cpuid_table *a, const struct cpuid_table *b, char *buf,
		    size_t len)
{
	uint32_t seen[CPUID_MAX_ENTRIES];
	unsigned nseen = 0;

	if (len)
		buf[0] = '\0';
	for (unsigned i = 0; i < a->n; i++)
		if (!cpuid_same(&a->e[i], cpuid_find(b, a->e[i].function, a->e[i].index)))
			cpuid_note(a->e[i].function, seen, &nseen, buf, len);
	for (unsigned i = 0; i < b->n; i++)
		if (!cpuid_find(a, b->e[i].function, b->e[i].index))
			cpuid_note(b->e[i].function, seen, &nseen, buf, len);
	return nseen;
}
