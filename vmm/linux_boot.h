/* Booting Linux as QEMU's `-kernel -initrd -append` does, without firmware:
 *   - a bzImage through the 64-bit boot protocol (Documentation/x86/boot.rst:
 *     protocol >= 2.12 with XLF_KERNEL_64), its protected-mode part at 1 MiB,
 *     entered in long mode at +0x200 with RSI = the zero page;
 *   - a vmlinux (ELF64) through its PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY),
 *     entered in 32-bit protected mode with EBX = hvm_start_info, or, without
 *     that note, through the 64-bit protocol at e_entry with a zero page.
 * Both get the e820 map of loader_e820_map(), the command line and the initrd.
 * Pure functions over byte buffers and guest memory (no KVM): unit-tested and
 * fuzzed (tests/fuzz/linux_boot). */
#ifndef RRVM_VMM_LINUX_BOOT_H
#define RRVM_VMM_LINUX_BOOT_H

#include <stddef.h>
#include <stdint.h>

struct guest_mem;
struct boot_image;

enum linux_kind {
	LINUX_NONE,     /* not a Linux kernel: leave it to loader_load() */
	LINUX_BZIMAGE,  /* "HdrS" setup header at 0x202 */
	LINUX_VMLINUX,  /* ELF64 x86-64 with a "Linux" or PVH ("Xen") note */
};

/* What kind of kernel BUF holds, from its bytes alone. */
enum linux_kind linux_boot_kind(const uint8_t *buf, size_t len);

/* Guest-physical layout of what rrvm writes for Linux (inside the boot area
 * below 64 KiB that vmm/vcpu.h reserves): the zero page or start_info at
 * BOOT_INFO, the command line after it. */
#define LINUX_CMDLINE_GPA 0x9000
#define LINUX_CMDLINE_MAX 2048 /* COMMAND_LINE_SIZE of x86 Linux, with its NUL */
#define LINUX_KERNEL_GPA 0x100000 /* where a bzImage's protected-mode part goes */
#define LINUX_PROTOCOL_MIN 0x020c /* 2.12: xloadflags, the 64-bit entry */

struct linux_boot_files {
	const uint8_t *kernel;
	size_t kernel_len;
	const uint8_t *initrd; /* NULL for none */
	size_t initrd_len;
	const char *cmdline;   /* exactly what the kernel gets */
};

/* Loads F into M and fills IMG (protocol, entry, boot_arg, initrd).
 * Returns 0 or:
 *   -ENOEXEC  not a bootable Linux (a protocol older than 2.12, no 64-bit
 *             entry, a broken header): WHY says which
 *   -EFBIG    the kernel or the initrd does not fit in guest RAM
 *   -E2BIG    the command line is longer than Linux takes
 * WHY is a static string, set on every error. */
int linux_boot_load(struct guest_mem *m, const struct linux_boot_files *f,
		    struct boot_image *img, const char **why);

#endif
