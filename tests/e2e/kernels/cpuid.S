/* Checks the fixed CPUID table from inside the guest.  Exit value 0 (status 1)
 * when every check holds, else the number of the first failing check. */
#include "multiboot.h"
	multiboot_header

/* check n, leaf, subleaf, reg, mask, want: (reg & mask) must equal want. */
.macro check n, leaf, subleaf, reg, mask, want
	movl $\leaf, %eax
	movl $\subleaf, %ecx
	cpuid
	andl $\mask, \reg
	cmpl $\want, \reg
	movb $\n, %bl
	jne fail
.endm

	.globl _start
_start:
	check 1, 1, 0, %ecx, (1<<30), 0           /* no RDRAND */
	check 2, 1, 0, %ecx, (1<<24), 0           /* no TSC-deadline */
	check 3, 1, 0, %ecx, (1<<13), 0           /* no CMPXCHG16B */
	check 4, 1, 0, %ecx, (1<<26), 0           /* no XSAVE */
	check 5, 1, 0, %ecx, (1<<31), (1<<31)   /* hypervisor present */
	check 6, 7, 0, %ebx, (1<<18), 0           /* no RDSEED */
	check 7, 7, 0, %ecx, (1<<22), 0           /* no RDPID */
	check 8, 1, 0, %edx, (1<<9), 0            /* no local APIC */
	check 9, 1, 0, %edx, (1<<4), (1<<4)     /* TSC present */
	check 10, 0x80000001, 0, %edx, (1<<29), (1<<29) /* long mode */
	check 11, 0x80000002, 0, %eax, 0xffffffff, 0x6d767272 /* brand "rrvm" */
	check 12, 1, 0, %ecx, (1<<21), 0          /* no x2APIC (rrvm has none) */
	debug_exit 0
fail:
	movb %bl, %al
	outb %al, $0xf4
