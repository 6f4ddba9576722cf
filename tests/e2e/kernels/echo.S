/* Reads COM1 until a newline and echoes each byte back in upper case:
 * serial input through the 16550's LSR/RBR, from a file or stdin, and in
 * a recording, from the trace.  Exits with value 0 at the newline. */
#include "lib64.h"
	.globl _start
	.type _start, @function
_start:
	mov $0x3fd, %dx
1:	inb %dx, %al            /* LSR: wait for Data Ready (bit 0) */
	test $1, %al
	jz 1b
	mov $0x3f8, %dx
	inb %dx, %al            /* RBR */
	cmp $'\n', %al
	je 3f
	cmp $'a', %al
	jb 2f
	cmp $'z', %al
	ja 2f
	sub $0x20, %al
2:	outb %al, %dx
	mov $0x3fd, %dx
	jmp 1b
3:	outb %al, %dx
	exit64 0
	.size _start, .-_start
