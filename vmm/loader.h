/* Kernel loaders: multiboot1 (ELF32, ELF64 with a 32-bit entry, or the a.out
 * kludge) entered in 32-bit protected mode, and plain ELF64 entered in long
 * mode; Linux is vmm/linux_boot.h.  Pure functions over a byte buffer and
 * guest memory: no KVM, so they are unit-tested and fuzzed on their own. */
#ifndef RRVM_VMM_LOADER_H
#define RRVM_VMM_LOADER_H

#include <stddef.h>
#include <stdint.h>

struct guest_mem;

enum boot_protocol {
	BOOT_MULTIBOOT1, /* enter in 32-bit protected mode, EAX/EBX per spec */
	BOOT_ELF64,      /* enter in long mode at e_entry */
	BOOT_LINUX64,    /* Linux 64-bit boot protocol: long mode, RSI = zero page */
	BOOT_LINUX_PVH,  /* PVH: 32-bit protected mode, EBX = hvm_start_info */
};

#define MULTIBOOT_BOOT_MAGIC 0x2badb002u

struct boot_image {
	enum boot_protocol protocol;
	uint64_t entry;
	uint64_t load_lo, load_hi; /* guest-physical extent of what was loaded */
	uint32_t mbi;              /* guest-physical address of the multiboot info */
	uint64_t boot_arg;         /* Linux: the zero page (RSI) or start_info (EBX) */
	uint64_t initrd_gpa, initrd_len; /* where the initrd went; 0, 0 for none */
};

/* The PC memory map rrvm presents (e820 types), for every boot protocol:
 * conventional memory up to the EBDA at 639 KiB, the VGA/BIOS hole
 * reserved, then RAM from 1 MiB to the end of guest RAM. */
#define E820_RAM 1
#define E820_RESERVED 2
#define LOADER_E820_ENTRIES 3
#define LOADER_EBDA_START 0x9fc00
#define LOADER_HIGH_START 0x100000

struct loader_e820 {
	uint64_t addr, len;
	uint32_t type;
};

void loader_e820_map(uint64_t ram_size, struct loader_e820 map[LOADER_E820_ENTRIES]);

/* Loads the kernel in BUF[0..LEN) into M and writes the multiboot info
 * (memory map, CMDLINE) at BOOT_INFO.  Returns 0 or:
 *   -ENOEXEC  not a kernel rrvm can boot (WHY says what is wrong)
 *   -EFBIG    a segment does not fit in guest RAM
 * WHY is a static string, set on every error. */
int loader_load(struct guest_mem *m, const uint8_t *buf, size_t len, const char *cmdline,
		struct boot_image *img, const char **why);

/* Loads the PT_LOAD segments of the ELF file in BUF at their physical
 * addresses (img->entry = e_entry, load_lo/hi set); nothing else. */
int loader_load_elf(struct guest_mem *m, const uint8_t *buf, size_t len, struct boot_image *img,
		    const char **why);

#endif
