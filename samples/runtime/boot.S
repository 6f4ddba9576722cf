/*
 * Multiboot1 entry, 32-bit protected mode -> 64-bit long mode, and the interrupt
 * entry stubs shared by every sample kernel.
 *
 * Machine state at _start (multiboot1 spec, section 3.2; QEMU -kernel and rrvm both
 * provide it): 32-bit protected mode, flat 4 GiB CS/DS/ES/SS, paging off,
 * interrupts off, EAX = 0x2BADB002, EBX = physical address of the multiboot info.
 * The stack pointer is undefined.
 *
 * What the stub builds (all in .bss / .data of the kernel image, so below 2 MiB):
 *   boot_pml4, boot_pdpt, boot_pd   one 4 KiB page each; PML4[0] -> PDPT[0] -> PD,
 *                                   PD maps 0..1 GiB identity with 512 2 MiB pages.
 *                                   Upper levels carry U=1, the PD entries U=0;
 *                                   paging_set_user() flips U on chosen 2 MiB pages.
 *   gdt                             null, 0x08 kernel code64, 0x10 kernel data,
 *                                   0x18 user data (DPL3), 0x20 user code64 (DPL3),
 *                                   0x28 64-bit TSS (16 bytes, filled by tss_init()).
 *                                   User data precedes user code as SYSRET expects.
 *   boot_stack                      16 KiB, used by kmain().
 *
 * The ELF loader must zero p_memsz beyond p_filesz (.bss) as ELF requires; the stub
 * clears .bss again anyway, four bytes per instruction, because multiboot1 does not
 * promise it for ELF images.
 */

#define MB_MAGIC   0x1BADB002
#define MB_FLAGS   0x00000003    /* bit 0: align modules, bit 1: want mem_* and mmap */

#define CR0_PE     (1 << 0)
#define CR0_WP     (1 << 16)
#define CR0_PG     (1 << 31)
#define CR4_PAE    (1 << 5)
#define MSR_EFER   0xC0000080
#define EFER_LME   (1 << 8)

#define PTE_P      0x001
#define PTE_W      0x002
#define PTE_U      0x004
#define PTE_PS     0x080

#define SEL_KCODE  0x08
#define SEL_KDATA  0x10

	.section .multiboot, "a"
	.balign 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .boot.text, "ax"
	.code32
	.globl _start
	.type _start, @function
_start:
	cli
	cld
	mov	%eax, %ebp		/* multiboot magic, survives until kmain */
	mov	%ebx, %esi		/* multiboot info pointer */

	mov	$__bss_start, %edi
	mov	$__bss_end, %ecx
	sub	%edi, %ecx
	shr	$2, %ecx		/* __bss_end is 8-aligned */
	xor	%eax, %eax
	rep stosl

	mov	$boot_stack_top, %esp

	/* PML4[0] -> PDPT, PDPT[0] -> PD; other entries stay zero from .bss. */
	mov	$boot_pdpt, %eax
	or	$(PTE_P | PTE_W | PTE_U), %eax
	mov	%eax, boot_pml4
	mov	$boot_pd, %eax
	or	$(PTE_P | PTE_W | PTE_U), %eax
	mov	%eax, boot_pdpt

	/* PD[i] = i * 2 MiB, present, writable, large page: 0..1 GiB identity. */
	mov	$boot_pd, %edi
	mov	$(PTE_P | PTE_W | PTE_PS), %eax
	mov	$512, %ecx
1:	mov	%eax, (%edi)
	add	$0x200000, %eax
	add	$8, %edi
	dec	%ecx
	jnz	1b

	lgdt	gdt_ptr
	mov	$SEL_KDATA, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs

	mov	%cr4, %eax
	or	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	$boot_pml4, %eax
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$EFER_LME, %eax
	wrmsr
	mov	%cr0, %eax
	or	$(CR0_PE | CR0_WP | CR0_PG), %eax
	mov	%eax, %cr0		/* now in compatibility mode */
	ljmp	$SEL_KCODE, $long_entry
	.size _start, . - _start

	.code64
	.type long_entry, @function
long_entry:
	mov	$boot_stack_top, %rsp
	mov	%ebp, %edi		/* kmain(mb_magic, mb_info) */
	mov	%esi, %esi		/* zero-extend */
	xor	%ebp, %ebp		/* end of frame chain for backtraces */
	call	kmain
	call	runtime_finish		/* prints the summary and exits; never returns */
2:	cli
	hlt
	jmp	2b
	.size long_entry, . - long_entry

/*
 * Interrupt entry.  Every stub leaves the same frame (struct regs in runtime.h):
 * 15 general registers, vector, error code (0 when the CPU pushes none), then the
 * CPU's RIP, CS, RFLAGS, RSP, SS.  The CPU aligns RSP to 16 before pushing in long
 * mode; 22 quadwords keep that alignment for the C call.
 */
	.text
	.macro ISR_NOERR n
	.type isr\n, @function
isr\n:
	pushq	$0
	pushq	$\n
	jmp	isr_common
	.size isr\n, . - isr\n
	.endm

	.macro ISR_ERR n
	.type isr\n, @function
isr\n:
	pushq	$\n
	jmp	isr_common
	.size isr\n, . - isr\n
	.endm

	/* Exceptions with an error code: #DF 8, #TS 10, #NP 11, #SS 12, #GP 13,
	 * #PF 14, #AC 17, #CP 21, #VC 29, #SX 30. */
	ISR_NOERR 0
	ISR_NOERR 1
	ISR_NOERR 2
	ISR_NOERR 3
	ISR_NOERR 4
	ISR_NOERR 5
	ISR_NOERR 6
	ISR_NOERR 7
	ISR_ERR   8
	ISR_NOERR 9
	ISR_ERR   10
	ISR_ERR   11
	ISR_ERR   12
	ISR_ERR   13
	ISR_ERR   14
	ISR_NOERR 15
	ISR_NOERR 16
	ISR_ERR   17
	ISR_NOERR 18
	ISR_NOERR 19
	ISR_NOERR 20
	ISR_ERR   21
	ISR_NOERR 22
	ISR_NOERR 23
	ISR_NOERR 24
	ISR_NOERR 25
	ISR_NOERR 26
	ISR_NOERR 27
	ISR_NOERR 28
	ISR_ERR   29
	ISR_ERR   30
	ISR_NOERR 31
	.irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	ISR_NOERR \n
	.endr
	ISR_NOERR 128

	.type isr_common, @function
isr_common:
	push	%rax
	push	%rbx
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%rbp
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	cld				/* ring 3 may have left DF set */
	mov	%rsp, %rdi
	call	isr_dispatch
	.globl isr_return
isr_return:				/* also entered by enter_frame() */
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rbp
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rbx
	pop	%rax
	add	$16, %rsp		/* vector, error code */
	iretq
	.size isr_common, . - isr_common

/* void enter_frame(struct regs *frame): load a complete frame and iretq to it. */
	.globl enter_frame
	.type enter_frame, @function
enter_frame:
	mov	%rdi, %rsp
	jmp	isr_return
	.size enter_frame, . - enter_frame

	.section .data
	.balign 8
	/* Stub address per vector 0..47; vector 128 is isr_stub_syscall. */
	.globl isr_stubs
isr_stubs:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	.quad isr\n
	.endr
	.globl isr_stub_syscall
isr_stub_syscall:
	.quad isr128

	.balign 16
	.globl gdt
gdt:
	.quad 0x0000000000000000	/* 0x00 null */
	.quad 0x00af9a000000ffff	/* 0x08 kernel code: L=1, DPL0, exec/read */
	.quad 0x00cf92000000ffff	/* 0x10 kernel data: flat 4 GiB, DPL0, r/w */
	.quad 0x00cff2000000ffff	/* 0x18 user data: flat, DPL3 */
	.quad 0x00affa000000ffff	/* 0x20 user code: L=1, DPL3 */
	.quad 0, 0			/* 0x28 TSS descriptor (16 bytes) */
gdt_end:
	.balign 8
	.globl gdt_ptr
gdt_ptr:
	.word	gdt_end - gdt - 1
	.quad	gdt			/* lgdt in 32-bit mode reads the low 4 bytes */

	.section .bss
	.balign 4096
	.globl boot_pml4, boot_pdpt, boot_pd
boot_pml4:	.skip 4096
boot_pdpt:	.skip 4096
boot_pd:	.skip 4096
	.balign 16
boot_stack:	.skip 16384
	.globl boot_stack_top
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
