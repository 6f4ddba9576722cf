/* Triple fault: an empty IDT, then an exception.  #UD cannot be delivered
 * (#GP), neither can #GP (#DF), nor #DF: the CPU shuts down.  (Not int3:
 * ring-0 int3 is an emulation failure on software KVM backends, HOST.md.) */
#include "multiboot.h"
	multiboot_header
	.globl _start
_start:
	lidt idt_empty
	ud2
	debug_exit 0x7f	/* never reached */
idt_empty:
	.word 0
	.long 0
