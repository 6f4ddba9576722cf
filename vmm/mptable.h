/* The Intel MultiProcessor Specification 1.4 tables that tell an OS booted
 * without a BIOS where the local APIC and the IOAPIC are and how the ISA
 * interrupts reach them: the MP floating pointer and a configuration table
 * with one processor, one ISA bus, one IOAPIC, its interrupt assignments
 * (8259 INTR on pin 0 as ExtINT, the PIT's IRQ0 on pin 2, IRQ n on pin n)
 * and LINT0 ExtINT / LINT1 NMI.
 *
 * Why an MP table rather than an ACPI MADT: it is one self-contained
 * structure that Linux (CONFIG_X86_MPPARSE), the BSDs and most hobby
 * kernels find by a memory scan alone, needing no ACPI in the kernel (the
 * project's tiny Linux has none) and no RSDP/RSDT/FADT around it.
 *
 * Pure: builds into a buffer; the machine copies it into the reserved EBDA
 * at 639 KiB, the second place the spec says an OS scans. */
#ifndef RRVM_VMM_MPTABLE_H
#define RRVM_VMM_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

/* Where the machine puts the tables: the EBDA's first KiB (vmm/loader.c
 * reserves 0x9fc00-0xfffff in the memory map). */
#define MPTABLE_GPA 0x9fc00u
#define MPTABLE_MAX 1024u
/* The IOAPIC's ID in the table (the machine programs the chip to match):
 * not 0, which is the CPU's APIC ID. */
#define MPTABLE_IOAPIC_ID 1u

/* Writes the floating pointer at BUF (guest-physical GPA) followed by the
 * configuration table; CPU_SIGNATURE and CPU_FEATURES are CPUID leaf 1 EAX
 * and EDX.  Returns the bytes written, or 0 when LEN is too small. */
size_t mptable_build(uint8_t *buf, size_t len, uint32_t gpa, uint32_t cpu_signature,
		     uint32_t cpu_features);

#endif
