/* A plain ELF64 kernel (no multiboot header), entered in long mode.  It
 * proves it runs 64-bit code by using REX-prefixed registers (in 32-bit
 * mode the same bytes decode as different instructions), prints on COM1
 * and exits with value 0x2a (status 85). */
#include "lib64.h"
	.globl _start
	.type _start, @function
_start:
	movabs $0x1122334455667788, %r8
	movabs $0x1122334455667788, %r9
	cmp %r8, %r9
	jne 1f
	lea msg(%rip), %rsi
	call puts
	exit64 0x2a
1:	exit64 0x7f
	.size _start, .-_start

	.section .rodata
msg:	.asciz "long mode ok\n"
