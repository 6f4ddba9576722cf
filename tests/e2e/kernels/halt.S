/* Halts with interrupts disabled: nothing can ever wake it. */
#include "multiboot.h"
	multiboot_header
	.globl _start
_start:
	cli
	hlt
	debug_exit 0x7f	/* never reached */
