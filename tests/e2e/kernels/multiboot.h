/* A multiboot1 header for the 32-bit test kernels (multiboot spec 3.1.1):
 * magic, flags (bit 1: give memory info), checksum. */
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00000002

.macro multiboot_header
	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
	.text
.endm

/* isa-debug-exit at 0xf4: the VMM exits with (value << 1) | 1. */
.macro debug_exit value
	movb $\value, %al
	outb %al, $0xf4
.endm
