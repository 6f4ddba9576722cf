/* vmm/linux_boot.c on crafted images (boot.rst field by field), no KVM:
 * the zero page, the command line, the initrd placement, the PVH start
 * info, and the refusals (old protocol, broken header, no room). */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/linux_boot.h"
#include "vmm/loader.h"
#include "vmm/memory.h"
#include "vmm/vcpu.h"

#define RAM (64u << 20)
#define BZ_LEN 0x3000
#define SETUP_SECTS 3 /* kernel at (3 + 1) * 512 */

static uint8_t bz[BZ_LEN];

static void put(uint8_t *p, unsigned off, unsigned size, uint64_t v)
{
	memcpy(p + off, &v, size);
}

static uint64_t get(const uint8_t *p, unsigned off, unsigned size)
{
	uint64_t v = 0;

	memcpy(&v, p + off, size);
	return v;
}

static void make_bzimage(uint16_t version)
{
	memset(bz, 0, sizeof(bz));
	bz[0x1f1] = SETUP_SECTS;
	put(bz, 0x1fe, 2, 0xaa55);
	bz[0x200] = 0xeb;
	bz[0x201] = 0x66; /* header ends at 0x268 */
	put(bz, 0x202, 4, 0x53726448);
	put(bz, 0x206, 2, version);
	bz[0x211] = 0x01;                      /* LOADED_HIGH */
	put(bz, 0x22c, 4, 0x7fffffff);         /* initrd_addr_max */
	put(bz, 0x230, 4, 0x200000);           /* kernel_alignment */
	bz[0x234] = 1;                         /* relocatable */
	put(bz, 0x236, 2, 0x01);               /* XLF_KERNEL_64 */
	put(bz, 0x238, 4, 2047);               /* cmdline_size */
	put(bz, 0x258, 8, 0x1000000);          /* pref_address */
	put(bz, 0x260, 4, 0x800000);           /* init_size */
	memset(bz + (SETUP_SECTS + 1) * 512, 0xc3, BZ_LEN - (SETUP_SECTS + 1) * 512);
}

#include "tests/vmm/fake_mem.h"

static void bzimage_boots_with_zero_page_and_initrd(void **state)
{
	struct guest_mem *m = *state;
	static uint8_t initrd[10000];
	struct linux_boot_files f = { bz, sizeof(bz), initrd, sizeof(initrd), "console=ttyS0 quiet" };
	struct boot_image img;
	const char *why = NULL;
	const uint8_t *zp = m->base + BOOT_INFO;
	unsigned ksize = BZ_LEN - (SETUP_SECTS + 1) * 512;

	make_bzimage(0x020f);
	memset(initrd, 0x5a, sizeof(initrd));
	assert_int_equal(linux_boot_kind(bz, sizeof(bz)), LINUX_BZIMAGE);
	assert_int_equal(linux_boot_load(m, &f, &img, &why), 0);
	assert_int_equal(img.protocol, BOOT_LINUX64);
	assert_true(img.entry == 0x100200); /* startup_64 of the protected-mode part */
	assert_true(img.boot_arg == BOOT_INFO);
	assert_memory_equal(m->base + 0x100000, bz + (SETUP_SECTS + 1) * 512, ksize);
	/* The setup header is copied; the loader's fields are filled in. */
	assert_true(get(zp, 0x202, 4) == 0x53726448);
	assert_true(get(zp, 0x206, 2) == 0x020f);
	assert_int_equal(zp[0x210], 0xff);
	assert_true(get(zp, 0x228, 4) == LINUX_CMDLINE_GPA);
	assert_string_equal((const char *)m->base + LINUX_CMDLINE_GPA, "console=ttyS0 quiet");
	/* The initrd: at the top of RAM, page-aligned, intact. */
	assert_true(img.initrd_gpa == ((RAM - sizeof(initrd)) & ~0xfffull));
	assert_true(get(zp, 0x218, 4) == img.initrd_gpa);
	assert_true(get(zp, 0x21c, 4) == sizeof(initrd));
	assert_memory_equal(m->base + img.initrd_gpa, initrd, sizeof(initrd));
	/* e820: low RAM, the hole, RAM from 1 MiB to the end. */
	assert_int_equal(zp[0x1e8], 3);
	assert_true(get(zp, 0x2d0 + 0, 8) == 0 && get(zp, 0x2d0 + 16, 4) == 1);
	assert_true(get(zp, 0x2d0 + 20, 8) == 0x9fc00 && get(zp, 0x2d0 + 36, 4) == 2);
	assert_true(get(zp, 0x2d0 + 40, 8) == 0x100000);
	assert_true(get(zp, 0x2d0 + 48, 8) == RAM - 0x100000);
}

static void bzimage_refusals(void **state)
{
	struct guest_mem *m = *state;
	struct linux_boot_files f = { bz, sizeof(bz), NULL, 0, "" };
	struct boot_image img;
	const char *why = NULL;
	char longline[3000];

	make_bzimage(0x020b); /* 2.11: no 64-bit entry in the protocol */
	assert_int_equal(linux_boot_load(m, &f, &img, &why), -ENOEXEC);
	assert_non_null(strstr(why, "2.12"));
	make_bzimage(0x020f);
	put(bz, 0x236, 2, 0); /* a 32-bit kernel */
	assert_int_equal(linux_boot_load(m, &f, &img, &why), -ENOEXEC);
	assert_non_null(strstr(why, "64-bit"));
	make_bzimage(0x020f);
	bz[0x201] = 0x10; /* header ends before init_size */
	assert_int_equal(linux_boot_load(m, &f, &img, &why), -ENOEXEC);
	make_bzimage(0x020f);
	put(bz, 0x1fe, 2, 0);
	assert_int_equal(linux_boot_load(m, &f, &img, &why), -ENOEXEC);
	make_bzimage(0x020f);
	f.kernel_len = 0x300; /* truncated: the header is cut off */
	assert_int_equal(linux_boot_load(m, &f, &img, &why), -ENOEXEC);
	f.kernel_len = sizeof(bz);
	put(bz, 0x260, 4, RAM); /* init_size beyond RAM */
	assert_int_equal(linux_boot_load(m, &f, &img, &why), -EFBIG);
	make_bzimage(0x020f);
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	f.cmdline = longline;
	assert_int_equal(linux_boot_load(m, &f, &img, &why), -E2BIG);
	/* An initrd that cannot fit above the kernel. */
	f.cmdline = "";
	f.initrd = m->base; /* any bytes */
	f.initrd_len = RAM - 0x1000000;
	assert_int_equal(linux_boot_load(m, &f, &img, &why), -EFBIG);
}

/* A vmlinux: one PT_LOAD at 16 MiB and a PT_NOTE with the PVH entry. */
static size_t make_vmlinux(uint8_t *buf, bool pvh)
{
	Elf64_Ehdr *e = (void *)buf;
	Elf64_Phdr *p = (void *)(buf + sizeof(*e));
	uint8_t *note = buf + 0x200;
	uint32_t hdr[3] = { 4, 4, pvh ? 18 : 6 };
	uint32_t entry = 0x1000040;

	memset(buf, 0, 0x1000);
	memcpy(e->e_ident, ELFMAG, SELFMAG);
	e->e_ident[EI_CLASS] = ELFCLASS64;
	e->e_ident[EI_DATA] = ELFDATA2LSB;
	e->e_machine = EM_X86_64;
	e->e_entry = 0x1000000;
	e->e_phoff = sizeof(*e);
	e->e_phentsize = sizeof(*p);
	e->e_phnum = 2;
	p[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 0x800, .p_vaddr = 0xffffffff81000000,
			     .p_paddr = 0x1000000, .p_filesz = 0x800, .p_memsz = 0x1000 };
	p[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = 0x200, .p_filesz = 20 };
	memcpy(note, hdr, sizeof(hdr));
	memcpy(note + 12, pvh ? "Xen" : "Lin", 4);
	memcpy(note + 16, &entry, 4);
	memset(buf + 0x800, 0x90, 0x800);
	return 0x1000;
}

static void vmlinux_pvh_start_info(void **state)
{
	struct guest_mem *m = *state;
	static uint8_t k[0x1000], initrd[4096];
	struct linux_boot_files f = { k, 0, initrd, sizeof(initrd), "root=/dev/ram0" };
	struct boot_image img;
	const char *why = NULL;
	const uint8_t *si = m->base + BOOT_INFO;

	f.kernel_len = make_vmlinux(k, true);
	assert_int_equal(linux_boot_kind(k, f.kernel_len), LINUX_VMLINUX);
	assert_int_equal(linux_boot_load(m, &f, &img, &why), 0);
	assert_int_equal(img.protocol, BOOT_LINUX_PVH);
	assert_true(img.entry == 0x1000040);
	assert_true(get(si, 0, 4) == 0x336ec578); /* magic */
	assert_true(get(si, 4, 4) == 1);          /* version: with the memory map */
	assert_true(get(si, 12, 4) == 1);         /* one module: the initrd */
	assert_true(get(si, 24, 8) == LINUX_CMDLINE_GPA);
	assert_true(get(si, 48, 4) == 3);
	assert_true(get(m->base + get(si, 16, 8), 0, 8) == img.initrd_gpa);
	assert_true(get(m->base + get(si, 40, 8), 48, 8) == 0x100000); /* memmap[2].addr */
	assert_memory_equal(m->base + 0x1000000, k + 0x800, 0x800);
}

static void vmlinux_without_pvh_uses_zero_page(void **state)
{
	struct guest_mem *m = *state;
	static uint8_t k[0x1000];
	struct linux_boot_files f = { k, 0, NULL, 0, "" };
	struct boot_image img;
	const char *why = NULL;

	f.kernel_len = make_vmlinux(k, false);
	memcpy(k + 0x200 + 12, "Linux", 6);
	((uint32_t *)(k + 0x200))[0] = 6; /* namesz "Linux\0" */
	((Elf64_Phdr *)(k + sizeof(Elf64_Ehdr)))[1].p_filesz = 24;
	assert_int_equal(linux_boot_kind(k, f.kernel_len), LINUX_VMLINUX);
	assert_int_equal(linux_boot_load(m, &f, &img, &why), 0);
	assert_int_equal(img.protocol, BOOT_LINUX64);
	assert_true(img.entry == 0x1000000);
	assert_true(get(m->base + BOOT_INFO, 0x202, 4) == 0x53726448);
	/* An ELF64 without Linux notes is not Linux. */
	memset(k + 0x200, 0, 24);
	assert_int_equal(linux_boot_kind(k, f.kernel_len), LINUX_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(bzimage_boots_with_zero_page_and_initrd, setup, teardown),
		cmocka_unit_test_setup_teardown(bzimage_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(vmlinux_pvh_start_info, setup, teardown),
		cmocka_unit_test_setup_teardown(vmlinux_without_pvh_uses_zero_page, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
