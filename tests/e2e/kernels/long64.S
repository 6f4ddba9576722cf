/* A plain ELF64 kernel (no multiboot header), entered in long mode.  It
 * proves it runs 64-bit code by using a REX-prefixed register (in 32-bit
 * mode the same bytes decode as different instructions), prints on COM1
 * and exits with value 0x2a (status 85). */
	.code64
	.globl _start
_start:
	movabs $0x1122334455667788, %r8
	movabs $0x1122334455667788, %r9
	cmp %r8, %r9
	jne fail
	lea msg(%rip), %rsi
	mov $0x3f8, %dx
1:	lodsb
	test %al, %al
	jz 2f
	outb %al, %dx
	jmp 1b
2:	movb $0x2a, %al
	outb %al, $0xf4
fail:	movb $0x7f, %al
	outb %al, $0xf4
msg:	.asciz "long mode ok\n"
