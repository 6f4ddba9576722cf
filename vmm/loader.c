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
#define MBI_MODS (1u << 3)
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

struct mb_module {
	uint32_t mod_start, mod_end, string, reserved;
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
/* Copies FILESZ bytes from the file and zeroes up to MEMSZ at guest PADDR.
 * Below 64 KiB only when LOW_OK (the boot area then moves, loader_area). */
static int loader_place(struct guest_mem *m, const uint8_t *buf, size_t len, uint64_t off,
			uint64_t filesz, uint64_t paddr, uint64_t memsz, bool low_ok,
			struct boot_image *img, const char **why)
{
	uint8_t *dst;

	if (filesz > memsz || off > len || filesz > len - off)
		return loader_fail(why, "segment lies outside the file", -ENOEXEC);
	if (memsz == 0)
		return 0;
	if (!low_ok && paddr < BOOT_AREA_END)
		return loader_fail(why, "segment overlaps rrvm's boot area below 64 KiB", -EFBIG);
	dst = gmem_ptr(m, paddr, memsz);
	if (!dst)
		return loader_fail(why, "kernel does not fit in guest RAM", -EFBIG);
	if (img->nloaded == LOADER_MAX_EXTENTS)
		return loader_fail(why, "too many load segments", -ENOEXEC);
	memcpy(dst, buf + off, filesz);
	memset(dst + filesz, 0, memsz - filesz);
	img->loaded[img->nloaded++] = (struct loader_extent){ paddr, paddr + memsz };
	if (!img->load_hi || paddr < img->load_lo)
		img->load_lo = paddr;
	if (paddr + memsz > img->load_hi)
		img->load_hi = paddr + memsz;
	return 0;
}

static int loader_elf(struct guest_mem *m, const uint8_t *buf, size_t len, bool multiboot,
		      bool low_ok, struct boot_image *img, const char **why)
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
		r = loader_place(m, buf, len, s->off, s->filesz, s->paddr, s->memsz, low_ok,
				 img, why);
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
	return loader_place(m, buf, len, start, filesz, h->load_addr, memsz, true, img, why);
}

void loader_e820_map(uint64_t ram_size, struct loader_e820 map[LOADER_E820_ENTRIES])
{
	map[0] = (struct loader_e820){ 0, EBDA_START, E820_RAM };
	map[1] = (struct loader_e820){ EBDA_START, HIGH_START - EBDA_START, E820_RESERVED };
	map[2] = (struct loader_e820){ HIGH_START, ram_size - HIGH_START, E820_RAM };
}

#define PAGE_SIZE 4096u
#define PAGE_UP(x) (((x) + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1))

/* Multiboot modules, page-aligned one after the other from the first page
 * at or above 1 MiB and the kernel's end (QEMU's loader also puts them
 * right after the kernel).  Their list goes into the boot area later. */
static int loader_modules(struct guest_mem *m, const struct loader_module *mods, unsigned n,
			  struct boot_image *img, uint64_t *starts, const char **why)
{
	uint64_t at = PAGE_UP(img->load_hi > HIGH_START ? img->load_hi : HIGH_START);

	if (n > LOADER_MAX_MODULES)
		return loader_fail(why, "too many multiboot modules", -E2BIG);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *dst;

		if (mods[i].len > m->size || at > m->size - mods[i].len || at > UINT32_MAX ||
		    mods[i].len > UINT32_MAX - at)
			return loader_fail(why, "multiboot modules do not fit in guest RAM", -EFBIG);
		dst = gmem_ptr(m, at, mods[i].len ? mods[i].len : 1);
		if (!dst)
			return loader_fail(why, "multiboot modules do not fit in guest RAM", -EFBIG);
		if (mods[i].len)
			memcpy(dst, mods[i].data, mods[i].len);
		starts[i] = at;
		if (mods[i].len)
			img->loaded[img->nloaded++] = (struct loader_extent){ at, at + mods[i].len };
		at = PAGE_UP(at + mods[i].len);
	}
	img->nmods = n;
	return 0;
}

static bool loader_overlaps(const struct boot_image *img, uint64_t lo, uint64_t hi)
{
	for (unsigned i = 0; i < img->nloaded; i++)
		if (img->loaded[i].lo < hi && lo < img->loaded[i].hi)
			return true;
	return false;
}

/* The boot area: the first free 64 KiB-aligned slot of conventional
 * memory (below the EBDA), else the 64 KiB above everything loaded.  A
 * kernel at or above 1 MiB (every kernel rrvm booted before) gets 0. */
static int loader_area(const struct guest_mem *m, struct boot_image *img, const char **why)
{
	uint64_t top = HIGH_START;

	for (uint64_t b = 0; b + BOOT_AREA_SIZE <= EBDA_START; b += BOOT_AREA_SIZE)
		if (!loader_overlaps(img, b, b + BOOT_AREA_SIZE)) {
			img->area = (uint32_t)b;
			return 0;
		}
	for (unsigned i = 0; i < img->nloaded; i++)
		if (img->loaded[i].hi > top)
			top = img->loaded[i].hi;
	top = (top + BOOT_AREA_SIZE - 1) & ~(uint64_t)(BOOT_AREA_SIZE - 1);
	if (top > m->size || m->size - top < BOOT_AREA_SIZE || top > UINT32_MAX)
		return loader_fail(why, "no room for rrvm's 64 KiB boot area beside the kernel",
				   -EFBIG);
	img->area = (uint32_t)top;
	return 0;
}

/* The module list and the modules' command lines, at BOOT_MODS_OFF. */
static int loader_write_mods(struct guest_mem *m, const struct loader_module *mods, unsigned n,
			     const uint64_t *starts, struct boot_image *img, struct mb_info *mbi)
{
	uint32_t base = img->area + BOOT_MODS_OFF, size = BOOT_AREA_SIZE - BOOT_MODS_OFF;
	uint8_t *area = gmem_ptr(m, base, size);
	uint32_t off = n * (uint32_t)sizeof(struct mb_module);

	if (!n)
		return 0;
	memset(area, 0, size);
	for (unsigned i = 0; i < n; i++) {
		size_t clen = strlen(mods[i].cmdline);
		struct mb_module e = { (uint32_t)starts[i], (uint32_t)(starts[i] + mods[i].len),
				       base + off, 0 };

		if (clen >= size - off)
			return -E2BIG;
		memcpy(area + off, mods[i].cmdline, clen + 1);
		off += (uint32_t)clen + 1;
		memcpy(area + i * sizeof(e), &e, sizeof(e));
	}
	mbi->flags |= MBI_MODS;
	mbi->mods_count = n;
	mbi->mods_addr = base;
	return 0;
}

static int loader_write_mbi(struct guest_mem *m, const char *cmdline, struct boot_image *img)
{
	uint32_t info = img->area + BOOT_INFO_OFF;
	uint8_t *area = gmem_ptr(m, info, BOOT_INFO_SIZE);
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
	mbi->mmap_addr = info + sizeof(*mbi);
	mbi->mmap_length = sizeof(map);
	mbi->boot_loader_name = info + off;
	memcpy(area + off, name, sizeof(name));
	off += sizeof(name);
	mbi->cmdline = info + off;
	memcpy(area + off, cmdline, clen + 1);
	img->mbi = info;
	return 0;
}

int loader_split_modules(const char *spec, char *store, size_t storelen,
			 struct loader_modspec *items, unsigned max, unsigned *n)
{
	size_t need = 2 * strlen(spec) + 2, o = 0;

	*n = 0;
	if (need > storelen)
		return -E2BIG;
	for (const char *p = spec;;) {
		char *item = store + o, *sp;

		while (*p && !(p[0] == ',' && p[1] != ',')) {
			store[o++] = *p;
			p += p[0] == ',' ? 2 : 1; /* ",," is one comma */
		}
		store[o++] = '\0';
		/* The path: the item up to its first space, a second copy. */
		sp = strchr(item, ' ');
		if (sp == item || !*item)
			return -EINVAL;
		if (*n == max)
			return -E2BIG;
		items[*n].cmdline = item;
		items[*n].path = store + o;
		memcpy(store + o, item, sp ? (size_t)(sp - item) : strlen(item));
		o += sp ? (size_t)(sp - item) : strlen(item);
		store[o++] = '\0';
		(*n)++;
		if (!*p)
			return 0;
		p++;
	}
}

int loader_load_elf(struct guest_mem *m, const uint8_t *buf, size_t len, struct boot_image *img,
		    const char **why)
{
	return loader_elf(m, buf, len, false, false, img, why);
}

int loader_load(struct guest_mem *m, const uint8_t *buf, size_t len, const char *cmdline,
		const struct loader_module *mods, unsigned nmods, struct boot_image *img,
		const char **why)
{
	uint64_t starts[LOADER_MAX_MODULES];
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
			r = loader_elf(m, buf, len, true, true, img, why);
		else
			r = loader_fail(why, "multiboot kernel is neither ELF nor a.out-kludge",
					-ENOEXEC);
	} else if (is_elf && buf[EI_CLASS] == ELFCLASS64) {
		img->protocol = BOOT_ELF64;
		r = loader_elf(m, buf, len, false, true, img, why);
	} else if (is_elf) {
		r = loader_fail(why, "ELF32 file without a multiboot header", -ENOEXEC);
	} else {
		r = loader_fail(why, "not a kernel (no ELF or multiboot header)", -ENOEXEC);
	}
	if (r == 0 && nmods && img->protocol != BOOT_MULTIBOOT1)
		r = loader_fail(why, "modules (--initrd) need a multiboot or Linux kernel", -EINVAL);
	if (r == 0)
		r = loader_modules(m, mods, nmods, img, starts, why);
	if (r == 0)
		r = loader_area(m, img, why);
	if (r < 0)
		return r;
	/* (A 64-bit entry gets the information too, unasked, as always.) */
	if (loader_write_mbi(m, cmdline, img) < 0)
		return loader_fail(why, "kernel command line too long", -E2BIG);
	if (loader_write_mods(m, mods, nmods, starts, img, (void *)gmem_ptr(m, img->mbi,
									       BOOT_INFO_SIZE)) < 0)
		return loader_fail(why, "multiboot module command lines too long", -E2BIG);
	return 0;
}
