/* Moves the local APIC: WRMSR IA32_APIC_BASE with another base address, as
 * some kernels do.  rrvm --apic on cannot, and must stop with one line
 * saying so; were the write taken, the kernel exits with value 1. */
#include "multiboot.h"
	multiboot_header
	.globl _start
_start:
	mov $0x1b, %ecx
	rdmsr
	and $0xfff, %eax
	or $0xfed00000, %eax
	wrmsr
	debug_exit 1
