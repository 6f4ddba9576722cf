/* Helpers for the 64-bit test kernels (entered in long mode by rrvm's ELF64
 * loader, stack at 64 KiB).  Included once per kernel. */

/* puts: print the NUL-terminated string at %rsi on COM1. */
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

/* print_hex: print %rdi as 16 hex digits and a newline on COM1. */
	.type print_hex, @function
print_hex:
	mov $16, %ecx
	mov $0x3f8, %dx
1:	rol $4, %rdi
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
	.size print_hex, .-print_hex

.macro exit64 value
	movb $\value, %al
	outb %al, $0xf4
.endm

/* Prints the label at LABEL, then %r8 in hex, and exits with value 0. */
.macro print_checksum_and_exit label
	lea \label(%rip), %rsi
	call puts
	mov %r8, %rdi
	call print_hex
	exit64 0
.endm
