/* x86 architectural constants the VMM needs (Intel SDM vol. 3). */
#ifndef RRVM_VMM_X86_H
#define RRVM_VMM_X86_H

#define X86_CR0_PE (1u << 0)
#define X86_CR0_MP (1u << 1)
#define X86_CR0_ET (1u << 4)
#define X86_CR0_NE (1u << 5)
#define X86_CR0_WP (1u << 16)
#define X86_CR0_PG (1u << 31)

#define X86_CR4_PAE (1u << 5)
#define X86_CR4_OSFXSR (1u << 9)
#define X86_CR4_OSXMMEXCPT (1u << 10)
#define X86_CR4_SMEP (1u << 20) /* ring 0 cannot fetch from user pages */

#define X86_EFER_SCE (1u << 0)
#define X86_EFER_LME (1u << 8)
#define X86_EFER_LMA (1u << 10)
#define X86_EFER_NXE (1u << 11)

#define X86_RFLAGS_FIXED (1u << 1) /* bit 1 always reads as one */
#define X86_RFLAGS_TF (1u << 8)
#define X86_RFLAGS_IF (1u << 9)
#define X86_RFLAGS_IOPL3 (3u << 12)
#define X86_RFLAGS_RF (1u << 16)

/* Page-table entry bits. */
#define X86_PTE_P (1ull << 0)
#define X86_PTE_W (1ull << 1)
#define X86_PTE_U (1ull << 2)
#define X86_PTE_PS (1ull << 7)

#define X86_MSR_TSC 0x10
#define X86_MSR_EFER 0xc0000080
#define X86_MSR_STAR 0xc0000081
#define X86_MSR_LSTAR 0xc0000082
#define X86_MSR_FMASK 0xc0000084

/* Exception vectors. */
#define X86_EXC_DB 1
#define X86_EXC_BP 3
#define X86_EXC_UD 6
#define X86_EXC_GP 13

#endif
