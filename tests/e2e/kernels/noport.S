/* Reads port 0xe8, where no device lives.  It must read as all ones:
 * exit value 0 (status 1) if so, 1 (status 3) if not. */
#include "multiboot.h"
	multiboot_header
	.globl _start
_start:
	inb $0xe8, %al
	cmpb $0xff, %al
	jne 1f
	debug_exit 0
1:	debug_exit 1
