/* Kernel loaders: multiboot1 (ELF32, ELF64 with a 32-bit entry, or the a.out
 * kludge) entered in 32-bit protected mode, and plain ELF64 entered in long
 * mode.  Pure functions over a byte buffer and guest memory: no KVM, so they
 * are unit-tested and fuzzed on their own. */
#ifndef RRVM_VMM_LOADER_H
#define RRVM_VMM_LOADER_H

#include <stddef.h>
#include <stdint.h>

struct guest_mem;

enum boot_protocol {
	BOOT_MULTIBOOT1, /* enter in 32-bit protected mode, EAX/EBX per spec */
	BOOT_ELF64,      /* enter in long mode at e_entry */
};

#define MULTIBOOT_BOOT_MAGIC 0x2badb002u

struct boot_image {
	enum boot_protocol protocol;
	uint64_t entry;
	uint64_t load_lo, load_hi; /* guest-physical extent of what was loaded */
	uint32_t mbi;              /* guest-physical address of the multiboot info */
};

/* Loads the kernel in BUF[0..LEN) into M and writes the multiboot info
 * (memory map, CMDLINE) at BOOT_INFO.  Returns 0 or:
 *   -ENOEXEC  not a kernel rrvm can boot (WHY says what is wrong)
 *   -EFBIG    a segment does not fit in guest RAM
 * WHY is a static string, set on every error. */
int loader_load(struct guest_mem *m, const uint8_t *buf, size_t len, const char *cmdline,
		struct boot_image *img, const char **why);

#endif
