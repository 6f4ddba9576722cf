/* A multiboot kernel linked at 32 KiB that leaves protected mode for real
 * mode and comes back, as real-mode test kernels do: its own GDT, a 16-bit
 * protected-mode segment, CR0.PE off, a far jump to segment 0; in real
 * mode it prints through port I/O and reads one of its own bytes through
 * a segment register (0x800:0 is linear 0x8000, segment << 4); then CR0.PE
 * on and a far jump back to 32-bit code.  No interrupts, no IRET.
 * Prints three lines on COM1 and exits with value 0 (status 1), or 1
 * (status 3) when the real-mode read saw the wrong byte. */
#include "multiboot.h"

#define COM1 0x3f8
#define SEL_CODE32 0x08
#define SEL_DATA32 0x10
#define SEL_CODE16 0x18
#define SEL_DATA16 0x20

	multiboot_header
	.code32
	.globl _start
_start:
	cli
	lgdt	gdtr
	ljmp	$SEL_CODE32, $1f
1:	mov	$SEL_DATA32, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$stack_top, %esp
	mov	$msg_pm, %esi
	call	puts32

	/* Down: a 16-bit protected-mode segment first (SDM vol. 3, 9.9.2). */
	ljmp	$SEL_CODE16, $pm16
	.code16
pm16:
	mov	$SEL_DATA16, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%cr0, %eax
	and	$~1, %eax
	mov	%eax, %cr0
	ljmp	$0, $real
real:
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$msg_rm, %si
	mov	$COM1, %dx
2:	lodsb
	test	%al, %al
	jz	3f
	outb	%al, %dx
	jmp	2b
3:	/* Real-mode addressing: 0x800:(marker - 0x8000) is marker. */
	mov	$0x800, %ax
	mov	%ax, %fs
	movb	%fs:(marker - 0x8000), %bl
	xor	%ax, %ax
	mov	%ax, %fs

	/* Up again. */
	mov	%cr0, %eax
	or	$1, %eax
	mov	%eax, %cr0
	ljmp	$SEL_CODE32, $pm32
	.code32
pm32:
	mov	$SEL_DATA32, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %fs
	mov	%ax, %ss
	cmpb	$0x5a, %bl
	jne	bad
	mov	$msg_back, %esi
	call	puts32
	debug_exit 0
bad:
	debug_exit 1

/* Prints the NUL-terminated string at ESI on COM1. */
puts32:
	mov	$COM1, %dx
1:	lodsb
	test	%al, %al
	jz	2f
	outb	%al, %dx
	jmp	1b
2:	ret

marker:
	.byte	0x5a

	.data
	.align 8
/* Flat 4 GiB 32-bit code and data; 64 KiB 16-bit code and data at 0
 * (byte granularity, as real mode wants its hidden limits).  Accessed bits
 * preset, so loading a selector writes nothing. */
gdt:
	.quad	0
	.quad	0x00cf9b000000ffff	/* 0x08: code32, base 0, limit 4 GiB */
	.quad	0x00cf93000000ffff	/* 0x10: data32 */
	.quad	0x00009b000000ffff	/* 0x18: code16, base 0, limit 64 KiB */
	.quad	0x000093000000ffff	/* 0x20: data16 */
gdt_end:
gdtr:
	.word	gdt_end - gdt - 1
	.long	gdt
msg_pm:
	.asciz	"lowreal: protected mode, linked at 0x8000\n"
msg_rm:
	.asciz	"lowreal: real mode, printing through port I/O\n"
msg_back:
	.asciz	"lowreal: back in protected mode, real-mode segment read ok\n"

	.bss
	.align 16
	.skip	1024
stack_top:
