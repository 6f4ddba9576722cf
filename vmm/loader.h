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

/* Where loaded bytes went: the kernel's segments, then its modules. */
#define LOADER_MAX_SEGS 32
#define LOADER_MAX_MODULES 32
#define LOADER_MAX_EXTENTS (LOADER_MAX_SEGS + LOADER_MAX_MODULES)

struct loader_extent {
	uint64_t lo, hi; /* guest-physical [lo, hi) */
};

struct boot_image {
	enum boot_protocol protocol;
	uint64_t entry;
	uint64_t load_lo, load_hi; /* guest-physical extent of the kernel's segments */
	struct loader_extent loaded[LOADER_MAX_EXTENTS]; /* every non-empty one */
	unsigned nloaded;
	uint32_t area;             /* base of rrvm's boot area (vmm/vcpu.h BOOT_*_OFF) */
	uint32_t mbi;              /* guest-physical address of the multiboot info */
	unsigned nmods;            /* multiboot modules loaded */
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

/* A multiboot module: the file's bytes and the command line the kernel
 * gets with it (QEMU's: the whole -initrd item, "path args"). */
struct loader_module {
	const uint8_t *data;
	size_t len;
	const char *cmdline;
};

/* Loads the kernel in BUF[0..LEN) into M, then the NMODS modules MODS
 * (multiboot kernels only), each page-aligned, the first at the next page
 * at or above both 1 MiB and the kernel's end, as QEMU's loader puts them
 * after the kernel.  Then picks the boot area (img->area): the first
 * 64 KiB-aligned 64 KiB of conventional memory (0, 64 KiB, ... 512 KiB)
 * that no loaded byte overlaps, else the 64 KiB above everything loaded;
 * and writes the multiboot info (memory map, CMDLINE, modules) there.
 * Returns 0 or:
 *   -ENOEXEC  not a kernel rrvm can boot (WHY says what is wrong)
 *   -EFBIG    a segment or module does not fit in guest RAM
 *   -E2BIG    the command lines do not fit in the boot area
 *   -EINVAL   modules for a kernel that is not multiboot
 * WHY is a static string, set on every error. */
int loader_load(struct guest_mem *m, const uint8_t *buf, size_t len, const char *cmdline,
		const struct loader_module *mods, unsigned nmods, struct boot_image *img,
		const char **why);

/* QEMU's -initrd list for multiboot kernels, "file arg arg,file2": items
 * split at commas (",," is a comma inside an item); an item's command line
 * is the whole item, its path the item up to its first space.  Copies SPEC
 * into STORE (STORELEN bytes) and points the N <= MAX items' PATH and
 * CMDLINE into it.  -E2BIG when STORE or MAX is too small, -EINVAL for an
 * empty path. */
struct loader_modspec {
	const char *path, *cmdline;
};
int loader_split_modules(const char *spec, char *store, size_t storelen,
			 struct loader_modspec *items, unsigned max, unsigned *n);

/* Loads the PT_LOAD segments of the ELF file in BUF at their physical
 * addresses (img->entry = e_entry, load_lo/hi set), none below the usual
 * boot area's end (64 KiB); nothing else. */
int loader_load_elf(struct guest_mem *m, const uint8_t *buf, size_t len, struct boot_image *img,
		    const char **why);

#endif
