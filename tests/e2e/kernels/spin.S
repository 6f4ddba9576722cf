/* Runs forever reading the clocks (PIT counter, RTC seconds, TSC), printing
 * a dot every 1024 rounds: a guest for stopping and killing recordings. */
#include "lib64.h"
	.globl _start
	.type _start, @function
_start:
	xor %ebx, %ebx
1:	xor %eax, %eax
	outb %al, $0x43         /* latch PIT channel 0 */
	inb $0x40, %al
	inb $0x40, %al
	xor %eax, %eax
	outb %al, $0x70         /* RTC seconds */
	inb $0x71, %al
	rdtsc
	inc %ebx
	test $1023, %ebx
	jnz 1b
	.globl dot
dot:	mov $'.', %al           /* once every 1024 rounds: a sparse breakpoint */
	mov $0x3f8, %dx
	outb %al, %dx
	jmp 1b
	.size _start, .-_start
