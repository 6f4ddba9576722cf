/* A kernel that computes for a while without I/O, the way kernels do (a
 * ring-0 loop, no port access, no interrupt, no HLT): it prints a line,
 * runs COMPUTE_ROUNDS rounds of a linear congruential generator, prints
 * the result and exits with value 0 (status 1).  In ring 0, which the
 * development host emulates at ~1.3 M instructions/s (HOST.md), the loop
 * takes ~2 s there when recorded: long enough to interrupt a recording in
 * the middle of a stretch with no exit.  Its replay finds ~400 landmarks
 * (stretch bounds, none with an interrupt), each after ~1600 breakpoint
 * hits in this tight loop, and takes ~10x longer: long enough to interrupt
 * a gdb continue there too. */
#include "multiboot.h"
#define COMPUTE_ROUNDS 600000 /* 4 instructions a round */
	multiboot_header
	.globl _start
	.type _start, @function
_start:
	mov $0x90000, %esp
	mov $start_msg, %esi
	call puts
	mov $1, %eax
	mov $COMPUTE_ROUNDS, %ecx
	.globl compute_loop
compute_loop:
	imul $1103515245, %eax, %eax
	add $12345, %eax
	dec %ecx
	jnz compute_loop
	mov %eax, %ebx
	mov $done_msg, %esi
	call puts
	mov %ebx, %edi
	call print_hex32
	debug_exit 0
	.size _start, .-_start

/* puts: the NUL-terminated string at %esi on COM1. */
	.type puts, @function
puts:
	mov $0x3f8, %dx
1:	lodsb
	test %al, %al
	jz 2f
	outb %al, %dx
	jmp 1b
2:	ret
	.size puts, .-puts

/* print_hex32: %edi as 8 hex digits and a newline on COM1. */
	.type print_hex32, @function
print_hex32:
	mov $8, %ecx
	mov $0x3f8, %dx
1:	rol $4, %edi
	mov %edi, %eax
	and $0xf, %eax
	add $'0', %al
	cmp $'9', %al
	jbe 2f
	add $('a' - '9' - 1), %al
2:	outb %al, %dx
	dec %ecx
	jnz 1b
	mov $'\n', %al
	outb %al, %dx
	ret
	.size print_hex32, .-print_hex32

	.section .rodata
start_msg:	.asciz "compute: 600000 rounds without I/O\n"
done_msg:	.asciz "compute: done, "
