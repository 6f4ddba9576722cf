/* Self-modifying code: the kernel writes an RDTSC into a function whose
 * code page rrvm write-protects, then calls it.  rrvm must apply the write,
 * find the new RDTSC and trap it like the others, so the run replays
 * exactly.  Prints a checksum of the values it read. */
#include "lib64.h"
	.globl _start
	.type _start, @function
_start:
	/* Turn "nop; nop" into "rdtsc" (0f 31, little-endian 0x310f). */
	movw $0x310f, slot(%rip)
	xor %r8, %r8
	mov $50, %r9d
1:	call slot
	add %rax, %r8
	rol $9, %r8
	dec %r9d
	jnz 1b
	print_checksum_and_exit msg
	.size _start, .-_start

	.type slot, @function
slot:	nop
	nop
	ret
	.size slot, .-slot

	.section .rodata
msg:	.asciz "smc checksum "
