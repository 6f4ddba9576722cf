#include "vmm/loader.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

#include "vmm/elf.h"
#include "vmm/memory.h"
#include "vmm/vcpu.h"

/* Multiboot 1 specification, section 3.1. */
#define MB_HEADER_MAGIC 0x1badb002u
#define MB_SEARCH_LEN 8192
#define MB_HEADER_MIN 12 /* magic, flags, checksum (spec 3.1.1) */
#define MB_FLAG_PAGE_ALIGN (1u << 0)
#define MB_FLAG_MEMINFO (1u << 1)
#define MB_FLAG_VIDEO (1u << 2)
#define MB_FLAG_AOUT (1u << 16)
#define MB_KNOWN_FLAGS (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMINFO | MB_FLAG_VIDEO | MB_FLAG_AOUT)

/* Multiboot info flags (section 3.3). */
#define MBI_MEM (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MMAP (1u << 6)
#define MBI_LOADER_NAME (1u << 9)

#define EBDA_START LOADER_EBDA_START
#define HIGH_START LOADER_HIGH_START

struct mb_header {
	uint32_t magic, flags, checksum;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr, syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr, config_table, boot_loader_name;
};

struct mb_mmap {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

static int loader_fail(const char **why, const char *msg, int err)
{
	*why = msg;
	return err;
}

/* The multiboot header within the first MB_SEARCH_LEN bytes.  Magic,
 * flags and checksum (12 bytes) make a header; the address fields after
 * them matter only with the a.out flag, so a header in the file's last
 * bytes is found, with the fields the file lacks read as 0 and *AVAIL
 * saying how many of its bytes the file holds. */
static bool loader_find_mb(const uint8_t *buf, size_t len, struct mb_header *h, size_t *off,
			   size_t *avail)
{
	size_t end = len < MB_SEARCH_LEN ? len : MB_SEARCH_LEN;

	for (size_t o = 0; o + MB_HEADER_MIN <= end; o += 4) {
		size_t n = len - o < sizeof(*h) ? len - o : sizeof(*h);

		memset(h, 0, sizeof(*h));
		memcpy(h, buf + o, n);
		if (h->magic == MB_HEADER_MAGIC && h->magic + h->flags + h->checksum == 0) {
			*off = o;
			*avail = n;
			return true;
		}
	}
	return false;
}

/* Copies FILESZ bytes from the file and zeroes up to MEMSZ at guest PADDR. */
static int loader_place(struct guest_mem *m, const uint8_t *buf, size_t len, uint64_t off,
			uint64_t filesz, uint64_t paddr, uint64_t memsz, struct boot_image *img,
			const char **why)
{
	uint8_t *dst;

	if (filesz > memsz || off > len || filesz > len - off)
		return loader_fail(why, "segment lies outside the file", -ENOEXEC);
	if (memsz == 0)
		return 0;
	if (paddr < BOOT_AREA_END)
		return loader_fail(why, "segment overlaps rrvm's boot area below 64 KiB", -EFBIG);
	dst = gmem_ptr(m, paddr, memsz);
	if (!dst)
		return loader_fail(why, "kernel does not fit in guest RAM", -EFBIG);
	memcpy(dst, buf + off, filesz);
	memset(dst + filesz, 0, memsz - filesz);
	if (!img->load_hi || paddr < img->load_lo)
		img->load_lo = paddr;
	if (paddr + memsz > img->load_hi)
		img->load_hi = paddr + memsz;
	return 0;
}

#define LOADER_MAX_SEGS 32

static int loader_elf(struct guest_mem *m, const uint8_t *buf, size_t len, bool multiboot,
		      struct boot_image *img, const char **why)
{
	struct elf_seg segs[LOADER_MAX_SEGS];
	struct elf_file f;
	unsigned n;
	uint64_t entry;
	int r = elf_open(&f, buf, len, why);

	if (r == 0)
		r = elf_segments(&f, segs, LOADER_MAX_SEGS, &n, why);
	if (r < 0)
		return r;
	img->entry = entry = f.entry;
	for (unsigned i = 0; i < n; i++) {
		struct elf_seg *s = &segs[i];

		if (s->paddr > UINT64_MAX - s->memsz)
			return loader_fail(why, "segment address overflows", -ENOEXEC);
		r = loader_place(m, buf, len, s->off, s->filesz, s->paddr, s->memsz, img, why);
		if (r < 0)
			return r;
		/* A multiboot entry is physical (paging is off); like GRUB, map
		 * a virtual e_entry through the segment that holds it. */
		if (multiboot && entry >= s->vaddr && entry - s->vaddr < s->memsz)
			img->entry = entry - s->vaddr + s->paddr;
	}
	if (multiboot && img->entry > UINT32_MAX)
		return loader_fail(why, "multiboot entry point above 4 GiB", -ENOEXEC);
	return 0;
}

/* The a.out kludge: the header's address fields say where the file goes. */
static int loader_aout(struct guest_mem *m, const uint8_t *buf, size_t len, size_t hoff,
		       const struct mb_header *h, struct boot_image *img, const char **why)
{
	uint64_t start, filesz, memsz;

	if (h->load_addr > h->header_addr || h->header_addr - h->load_addr > hoff)
		return loader_fail(why, "multiboot header address fields are inconsistent", -ENOEXEC);
	start = hoff - (h->header_addr - h->load_addr);
	filesz = h->load_end_addr ? (uint64_t)h->load_end_addr - h->load_addr : len - start;
	memsz = h->bss_end_addr ? (uint64_t)h->bss_end_addr - h->load_addr : filesz;
	if (h->load_end_addr && h->load_end_addr < h->load_addr)
		return loader_fail(why, "multiboot load_end_addr below load_addr", -ENOEXEC);
	if (memsz < filesz)
		return loader_fail(why, "multiboot bss_end_addr below load_end_addr", -ENOEXEC);
	img->entry = h->entry_addr;
	return loader_place(m, buf, len, start, filesz, h->load_addr, memsz, img, why);
}

void loader_e820_map(uint64_t ram_size, struct loader_e820 map[LOADER_E820_ENTRIES])
{
	map[0] = (struct loader_e820){ 0, EBDA_START, E820_RAM };
	map[1] = (struct loader_e820){ EBDA_START, HIGH_START - EBDA_START, E820_RESERVED };
	map[2] = (struct loader_e820){ HIGH_START, ram_size - HIGH_START, E820_RAM };
}

static int loader_write_mbi(struct guest_mem *m, const char *cmdline, struct boot_image *img)
{
	uint8_t *area = gmem_ptr(m, BOOT_INFO, BOOT_INFO_SIZE);
	struct mb_info *mbi = (void *)area;
	struct mb_mmap *mm = (void *)(area + sizeof(*mbi));
	struct loader_e820 e820[LOADER_E820_ENTRIES];
	struct mb_mmap map[LOADER_E820_ENTRIES];
	static const char name[] = "rrvm";
	uint32_t off = sizeof(*mbi) + sizeof(map);
	size_t clen = strlen(cmdline);

	if (clen > BOOT_INFO_SIZE - off - sizeof(name) - 1)
		return -E2BIG;
	loader_e820_map(m->size, e820);
	for (unsigned i = 0; i < LOADER_E820_ENTRIES; i++)
		map[i] = (struct mb_mmap){ 20, e820[i].addr, e820[i].len, e820[i].type };
	memset(area, 0, BOOT_INFO_SIZE);
	memcpy(mm, map, sizeof(map));
	mbi->flags = MBI_MEM | MBI_CMDLINE | MBI_MMAP | MBI_LOADER_NAME;
	mbi->mem_lower = EBDA_START / 1024;
	mbi->mem_upper = (uint32_t)((m->size - HIGH_START) / 1024);
	mbi->mmap_addr = BOOT_INFO + sizeof(*mbi);
	mbi->mmap_length = sizeof(map);
	mbi->boot_loader_name = BOOT_INFO + off;
	memcpy(area + off, name, sizeof(name));
	off += sizeof(name);
	mbi->cmdline = BOOT_INFO + off;
	memcpy(area + off, cmdline, clen + 1);
	img->mbi = BOOT_INFO;
	return 0;
}

int loader_load_elf(struct guest_mem *m, const uint8_t *buf, size_t len, struct boot_image *img,
		    const char **why)
{
	return loader_elf(m, buf, len, false, img, why);
}

int loader_load(struct guest_mem *m, const uint8_t *buf, size_t len, const char *cmdline,
		struct boot_image *img, const char **why)
{
	static const uint8_t elfmag[] = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3 };
	bool is_elf = len >= EI_NIDENT && !memcmp(buf, elfmag, sizeof(elfmag)) &&
		      (buf[EI_CLASS] == ELFCLASS32 || buf[EI_CLASS] == ELFCLASS64) &&
		      buf[EI_DATA] == ELFDATA2LSB;
	size_t hoff = 0, havail = 0;
	struct mb_header mbh;
	const struct mb_header *h = loader_find_mb(buf, len, &mbh, &hoff, &havail) ? &mbh : NULL;
	int r;

	memset(img, 0, sizeof(*img));
	if (m->size <= HIGH_START)
		return loader_fail(why, "guest RAM too small", -EFBIG);
	if (h) {
		if (h->flags & 0xffff & ~MB_KNOWN_FLAGS)
			return loader_fail(why, "multiboot header requires features rrvm lacks",
					   -ENOEXEC);
		img->protocol = BOOT_MULTIBOOT1;
		if (h->flags & MB_FLAG_AOUT && havail < sizeof(*h))
			r = loader_fail(why, "multiboot header with the a.out flag ends past the file",
					-ENOEXEC);
		else if (h->flags & MB_FLAG_AOUT)
			r = loader_aout(m, buf, len, hoff, h, img, why);
		else if (is_elf)
			r = loader_elf(m, buf, len, true, img, why);
		else
			r = loader_fail(why, "multiboot kernel is neither ELF nor a.out-kludge",
					-ENOEXEC);
	} else if (is_elf && buf[EI_CLASS] == ELFCLASS64) {
		img->protocol = BOOT_ELF64;
		r = loader_elf(m, buf, len, false, img, why);
	} else if (is_elf) {
		r = loader_fail(why, "ELF32 file without a multiboot header", -ENOEXEC);
	} else {
		r = loader_fail(why, "not a kernel (no ELF or multiboot header)", -ENOEXEC);
	}
	if (r < 0)
		return r;
	if (loader_write_mbi(m, cmdline, img) < 0)
		return loader_fail(why, "kernel command line too long", -E2BIG);
	return 0;
}
