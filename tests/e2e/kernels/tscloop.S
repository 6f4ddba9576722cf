/* Reads the TSC in a loop (RDTSC and RDTSCP), folds every value into a
 * checksum and prints it: different in every run, identical in a replay. */
#include "lib64.h"
	.globl _start
	.type _start, @function
_start:
	xor %r8, %r8
	mov $200, %r9d
1:	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	imul $31, %r8, %r8
	add %rdx, %r8
	rdtscp
	add %rax, %r8
	rol $7, %r8
	dec %r9d
	jnz 1b
	print_checksum_and_exit msg
	.size _start, .-_start

	.section .rodata
msg:	.asciz "tsc checksum "
