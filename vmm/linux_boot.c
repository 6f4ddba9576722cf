#include "vmm/linux_boot.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

#include "vmm/elf.h"
#include "vmm/loader.h"
#include "vmm/memory.h"
#include "vmm/vcpu.h"

/* struct boot_params (the zero page) and its setup_header, by offset
 * (Documentation/x86/boot.rst, arch/x86/include/uapi/asm/bootparam.h). */
#define BP_SIZE 0x1000
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define HDR_START 0x1f1 /* setup_sects; the header ends at 0x202 + byte 0x201 */
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP_LEN 0x201
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
#define HDR_MIN_END 0x264 /* through init_size: every 2.10+ header has it */

#define HDR_MAGIC_VALUE 0x53726448u /* "HdrS" */
#define BOOT_FLAG_VALUE 0xaa55
#define LOADER_TYPE_UNDEFINED 0xff  /* "no assigned ID" (boot.rst) */
#define LOADED_HIGH 0x01            /* loadflags: protected-mode code at 1 MiB */
#define XLF_KERNEL_64 0x01          /* xloadflags: 64-bit entry at +0x200 */
#define ENTRY64_OFFSET 0x200
#define SECTOR 512
#define DEFAULT_SETUP_SECTS 4       /* a setup_sects of 0 means 4 */
#define INITRD_MAX_DEFAULT 0x37ffffff /* before protocol 2.03; vmlinux too */
#define PAGE 0x1000u

/* PVH (xen/include/public/arch-x86/hvm/start_info.h). */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define PVH_MAGIC 0x336ec578u
#define PVH_START_INFO 0x00 /* inside BOOT_INFO */
#define PVH_MODLIST 0x40
#define PVH_MEMMAP 0x80

struct pvh_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct pvh_module {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct pvh_memmap {
	uint64_t addr, size;
	uint32_t type, reserved;
};

static int lb_fail(const char **why, const char *msg, int err)
{
	*why = msg;
	return err;
}

static uint32_t lb_get(const uint8_t *p, unsigned off, unsigned size)
{
	uint32_t v = 0;

	memcpy(&v, p + off, size); /* little-endian host, as the header */
	return v;
}

static void lb_put(uint8_t *p, unsigned off, unsigned size, uint64_t v)
{
	memcpy(p + off, &v, size);
}

static bool lb_is_bzimage(const uint8_t *buf, size_t len)
{
	return len >= HDR_MAGIC + 4 && lb_get(buf, HDR_MAGIC, 4) == HDR_MAGIC_VALUE;
}

enum linux_kind linux_boot_kind(const uint8_t *buf, size_t len)
{
	struct elf_file f;
	const uint8_t *d;
	uint32_t dl;
	const char *why;

	if (lb_is_bzimage(buf, len))
		return LINUX_BZIMAGE;
	if (elf_open(&f, buf, len, &why) < 0 || !f.is64)
		return LINUX_NONE;
	if (elf_note(&f, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &d, &dl) == 0 ||
	    elf_note(&f, "Linux", ELF_NOTE_ANY, &d, &dl) == 0)
		return LINUX_VMLINUX;
	return LINUX_NONE;
}

/* The command line at LINUX_CMDLINE_GPA; MAX counts the NUL. */
static int lb_cmdline(struct guest_mem *m, const char *cmdline, size_t max, const char **why)
{
	size_t n = strlen(cmdline) + 1;

	if (n > max || n > LINUX_CMDLINE_MAX)
		return lb_fail(why, "kernel command line too long for Linux", -E2BIG);
	return gmem_write(m, LINUX_CMDLINE_GPA, cmdline, n);
}

/* Places the initrd as high as it may go, page-aligned, below MAX (the
 * last byte it may use) and above LOW (the end of the kernel). */
static int lb_initrd(struct guest_mem *m, const struct linux_boot_files *f, uint64_t max,
		     uint64_t low, struct boot_image *img, const char **why)
{
	uint64_t top = m->size < max + 1 ? m->size : max + 1, gpa;

	if (!f->initrd)
		return 0;
	if (!f->initrd_len)
		return lb_fail(why, "the initrd is empty", -ENOEXEC);
	if (f->initrd_len > top || ((top - f->initrd_len) & ~(uint64_t)(PAGE - 1)) < low)
		return lb_fail(why, "the initrd does not fit in guest RAM above the kernel", -EFBIG);
	gpa = (top - f->initrd_len) & ~(uint64_t)(PAGE - 1);
	memcpy(gmem_ptr(m, gpa, f->initrd_len), f->initrd, f->initrd_len);
	img->initrd_gpa = gpa;
	img->initrd_len = f->initrd_len;
	return 0;
}

/* Fills the zero page's e820 table, command line and initrd fields; the
 * setup header in ZP is already there. */
static void lb_zero_page(struct guest_mem *m, uint8_t *zp, const struct boot_image *img)
{
	struct loader_e820 map[LOADER_E820_ENTRIES];

	loader_e820_map(m->size, map);
	for (unsigned i = 0; i < LOADER_E820_ENTRIES; i++) {
		uint8_t *e = zp + BP_E820_TABLE + 20 * i;

		lb_put(e, 0, 8, map[i].addr);
		lb_put(e, 8, 8, map[i].len);
		lb_put(e, 16, 4, map[i].type);
	}
	zp[BP_E820_ENTRIES] = LOADER_E820_ENTRIES;
	zp[HDR_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
	lb_put(zp, HDR_CMD_LINE_PTR, 4, LINUX_CMDLINE_GPA);
	lb_put(zp, BP_EXT_CMD_LINE_PTR, 4, 0);
	lb_put(zp, HDR_RAMDISK_IMAGE, 4, (uint32_t)img->initrd_gpa);
	lb_put(zp, HDR_RAMDISK_SIZE, 4, (uint32_t)img->initrd_len);
	lb_put(zp, BP_EXT_RAMDISK_IMAGE, 4, img->initrd_gpa >> 32);
	lb_put(zp, BP_EXT_RAMDISK_SIZE, 4, img->initrd_len >> 32);
}

static int lb_bzimage(struct guest_mem *m, const struct linux_boot_files *f, uint8_t *zp,
		      struct boot_image *img, const char **why)
{
	const uint8_t *k = f->kernel;
	size_t hdr_end = (size_t)HDR_MAGIC + k[HDR_JUMP_LEN], setup, size;
	uint64_t need, end, pref;
	unsigned sects;
	int r;

	if (f->kernel_len < HDR_MIN_END || hdr_end < HDR_MIN_END || hdr_end > f->kernel_len)
		return lb_fail(why, "broken bzImage: setup header truncated", -ENOEXEC);
	if (lb_get(k, HDR_VERSION, 2) < LINUX_PROTOCOL_MIN)
		return lb_fail(why, "bzImage boot protocol older than 2.12 (rrvm boots the "
			       "64-bit entry of Linux 3.8 and later)", -ENOEXEC);
	if (lb_get(k, HDR_BOOT_FLAG, 2) != BOOT_FLAG_VALUE)
		return lb_fail(why, "broken bzImage: no 0xaa55 boot flag", -ENOEXEC);
	if (!(lb_get(k, HDR_XLOADFLAGS, 2) & XLF_KERNEL_64))
		return lb_fail(why, "bzImage has no 64-bit entry point (a 32-bit kernel)", -ENOEXEC);
	if (!(k[HDR_LOADFLAGS] & LOADED_HIGH))
		return lb_fail(why, "broken bzImage: not loaded high (a zImage)", -ENOEXEC);
	sects = k[HDR_START] ? k[HDR_START] : DEFAULT_SETUP_SECTS;
	setup = (size_t)(sects + 1) * SECTOR;
	if (setup + ENTRY64_OFFSET >= f->kernel_len)
		return lb_fail(why, "broken bzImage: no kernel after the setup code", -ENOEXEC);
	size = f->kernel_len - setup;
	/* The decompressor runs where it was loaded and extracts at
	 * max(load address, pref_address), needing init_size there. */
	pref = lb_get(k, HDR_PREF_ADDRESS, 4) | (uint64_t)lb_get(k, HDR_PREF_ADDRESS + 4, 4) << 32;
	need = lb_get(k, HDR_INIT_SIZE, 4);
	end = (pref > LINUX_KERNEL_GPA ? pref : LINUX_KERNEL_GPA) + need;
	if (end < LINUX_KERNEL_GPA + size)
		end = LINUX_KERNEL_GPA + size;
	if (pref > m->size || end > m->size)
		return lb_fail(why, "kernel does not fit in guest RAM", -EFBIG);
	memcpy(gmem_ptr(m, LINUX_KERNEL_GPA, size), k + setup, size);
	img->protocol = BOOT_LINUX64;
	img->entry = LINUX_KERNEL_GPA + ENTRY64_OFFSET;
	img->load_lo = LINUX_KERNEL_GPA;
	img->load_hi = end;
	memcpy(zp + HDR_START, k + HDR_START, hdr_end - HDR_START);
	r = lb_cmdline(m, f->cmdline, lb_get(k, HDR_CMDLINE_SIZE, 4) + 1u, why);
	if (r == 0)
		r = lb_initrd(m, f, lb_get(k, HDR_INITRD_ADDR_MAX, 4), end, img, why);
	return r;
}

/* A vmlinux without a PVH note: the 64-bit protocol at e_entry, with a
 * zero page rrvm writes from scratch. */
static int lb_vmlinux64(struct guest_mem *m, const struct linux_boot_files *f, uint8_t *zp,
			struct boot_image *img, const char **why)
{
	int r;

	img->protocol = BOOT_LINUX64;
	lb_put(zp, HDR_BOOT_FLAG, 2, BOOT_FLAG_VALUE);
	lb_put(zp, HDR_MAGIC, 4, HDR_MAGIC_VALUE);
	lb_put(zp, HDR_VERSION, 2, LINUX_PROTOCOL_MIN);
	lb_put(zp, HDR_KERNEL_ALIGNMENT, 4, 0x200000); /* CONFIG_PHYSICAL_ALIGN's default */
	r = lb_cmdline(m, f->cmdline, LINUX_CMDLINE_MAX, why);
	if (r == 0)
		r = lb_initrd(m, f, INITRD_MAX_DEFAULT, img->load_hi, img, why);
	return r;
}

/* A vmlinux with XEN_ELFNOTE_PHYS32_ENTRY: hvm_start_info, version 1
 * (with the memory map), one module for the initrd. */
static int lb_pvh(struct guest_mem *m, const struct linux_boot_files *f, const uint8_t *desc,
		  uint32_t dlen, uint8_t *area, struct boot_image *img, const char **why)
{
	struct pvh_start_info si = { .magic = PVH_MAGIC, .version = 1 };
	struct loader_e820 map[LOADER_E820_ENTRIES];
	uint64_t entry = 0;
	int r;

	if (dlen != 4 && dlen != 8)
		return lb_fail(why, "broken vmlinux: PVH entry note of bad size", -ENOEXEC);
	memcpy(&entry, desc, dlen);
	if (entry >= (1ull << 32) || entry < img->load_lo || entry >= img->load_hi)
		return lb_fail(why, "broken vmlinux: PVH entry outside the kernel", -ENOEXEC);
	img->protocol = BOOT_LINUX_PVH;
	img->entry = entry;
	r = lb_cmdline(m, f->cmdline, LINUX_CMDLINE_MAX, why);
	if (r == 0)
		r = lb_initrd(m, f, UINT32_MAX, img->load_hi, img, why);
	if (r < 0)
		return r;
	loader_e820_map(m->size, map);
	for (unsigned i = 0; i < LOADER_E820_ENTRIES; i++) {
		struct pvh_memmap e = { map[i].addr, map[i].len, map[i].type, 0 };

		memcpy(area + PVH_MEMMAP + i * sizeof(e), &e, sizeof(e));
	}
	if (img->initrd_len) {
		struct pvh_module mod = { img->initrd_gpa, img->initrd_len, 0, 0 };

		memcpy(area + PVH_MODLIST, &mod, sizeof(mod));
		si.nr_modules = 1;
		si.modlist_paddr = BOOT_INFO + PVH_MODLIST;
	}
	si.cmdline_paddr = LINUX_CMDLINE_GPA;
	si.memmap_paddr = BOOT_INFO + PVH_MEMMAP;
	si.memmap_entries = LOADER_E820_ENTRIES;
	memcpy(area + PVH_START_INFO, &si, sizeof(si));
	return 0;
}

int linux_boot_load(struct guest_mem *m, const struct linux_boot_files *f,
		    struct boot_image *img, const char **why)
{
	uint8_t *area = gmem_ptr(m, BOOT_INFO, BP_SIZE);
	struct elf_file ef;
	const uint8_t *desc;
	uint32_t dlen;
	int r;

	memset(img, 0, sizeof(*img));
	if (!area || m->size <= LINUX_KERNEL_GPA + PAGE)
		return lb_fail(why, "guest RAM too small", -EFBIG);
	memset(area, 0, BP_SIZE);
	img->boot_arg = BOOT_INFO;
	switch (linux_boot_kind(f->kernel, f->kernel_len)) {
	case LINUX_BZIMAGE:
		r = lb_bzimage(m, f, area, img, why);
		break;
	case LINUX_VMLINUX:
		r = elf_open(&ef, f->kernel, f->kernel_len, why);
		if (r == 0)
			r = loader_load_elf(m, f->kernel, f->kernel_len, img, why);
		if (r < 0)
			break;
		if (elf_note(&ef, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &desc, &dlen) == 0)
			r = lb_pvh(m, f, desc, dlen, area, img, why);
		else
			r = lb_vmlinux64(m, f, area, img, why);
		break;
	default:
		r = lb_fail(why, "not a Linux kernel", -ENOEXEC);
		break;
	}
	if (r == 0 && img->protocol == BOOT_LINUX64)
		lb_zero_page(m, area, img);
	return r;
}
