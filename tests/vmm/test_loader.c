/* Loader tests on crafted images: no KVM needed, guest RAM is plain heap. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/loader.h"
#include "vmm/memory.h"
#include "vmm/vcpu.h"

#define RAM (16u << 20)
#define MB_MAGIC 0x1badb002u

struct mbi {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr, syms[4];
	uint32_t mmap_length, mmap_addr;
};

#include "tests/vmm/fake_mem.h"

/* An ELF32 image: header, one PT_LOAD of CODE at PADDR, optional multiboot
 * header right after the program header. */
static size_t make_elf32(uint8_t *buf, uint32_t paddr, uint32_t vaddr, uint32_t memsz,
			 bool multiboot, uint32_t mb_flags)
{
	Elf32_Ehdr *e = (void *)buf;
	Elf32_Phdr *p = (void *)(buf + sizeof(*e));
	uint32_t *mb = (void *)(buf + sizeof(*e) + sizeof(*p));
	size_t code_off = 0x100;

	memset(buf, 0, 0x200);
	memcpy(e->e_ident, ELFMAG, SELFMAG);
	e->e_ident[EI_CLASS] = ELFCLASS32;
	e->e_ident[EI_DATA] = ELFDATA2LSB;
	e->e_machine = EM_386;
	e->e_entry = vaddr + 4;
	e->e_phoff = sizeof(*e);
	e->e_phentsize = sizeof(*p);
	e->e_phnum = 1;
	p->p_type = PT_LOAD;
	p->p_offset = code_off;
	p->p_vaddr = vaddr;
	p->p_paddr = paddr;
	p->p_filesz = 0x100;
	p->p_memsz = memsz;
	if (multiboot) {
		mb[0] = MB_MAGIC;
		mb[1] = mb_flags;
		mb[2] = -(MB_MAGIC + mb_flags);
	}
	memset(buf + code_off, 0xab, 0x100);
	return 0x200;
}

static void multiboot_elf32_loads_and_writes_info(void **state)
{
	struct guest_mem *m = *state;
	uint8_t buf[0x200];
	size_t len = make_elf32(buf, 0x100000, 0xc0100000, 0x1000, true, 2);
	struct boot_image img;
	const char *why = NULL;
	struct mbi mbi;

	assert_int_equal(loader_load(m, buf, len, "k.elf quiet", NULL, 0, &img, &why), 0);
	assert_int_equal(img.protocol, BOOT_MULTIBOOT1);
	/* A virtual e_entry is mapped through its segment to physical. */
	assert_int_equal(img.entry, 0x100004);
	assert_int_equal(m->base[0x100000], 0xab);
	assert_int_equal(m->base[0x1000ff], 0xab);
	assert_int_equal(m->base[0x100100], 0); /* bss zeroed */
	memcpy(&mbi, m->base + img.mbi, sizeof(mbi));
	assert_true(mbi.flags & (1u << 0));
	assert_true(mbi.flags & (1u << 2));
	assert_true(mbi.flags & (1u << 6));
	assert_int_equal(mbi.mem_lower, 639);
	assert_int_equal(mbi.mem_upper, (RAM - 0x100000) / 1024);
	assert_string_equal((char *)m->base + mbi.cmdline, "k.elf quiet");
	assert_int_equal(mbi.mmap_length, 3 * 24);
}

static void elf64_without_multiboot_enters_long_mode(void **state)
{
	struct guest_mem *m = *state;
	uint8_t buf[0x300] = { 0 };
	Elf64_Ehdr *e = (void *)buf;
	Elf64_Phdr *p = (void *)(buf + sizeof(*e));
	struct boot_image img;
	const char *why;

	memcpy(e->e_ident, ELFMAG, SELFMAG);
	e->e_ident[EI_CLASS] = ELFCLASS64;
	e->e_ident[EI_DATA] = ELFDATA2LSB;
	e->e_machine = EM_X86_64;
	e->e_entry = 0xffffffff80100000ull;
	e->e_phoff = sizeof(*e);
	e->e_phentsize = sizeof(*p);
	e->e_phnum = 1;
	p->p_type = PT_LOAD;
	p->p_offset = 0x200;
	p->p_paddr = 0x200000;
	p->p_vaddr = 0xffffffff80100000ull;
	p->p_filesz = p->p_memsz = 0x100;
	assert_int_equal(loader_load(m, buf, sizeof(buf), "", NULL, 0, &img, &why), 0);
	assert_int_equal(img.protocol, BOOT_ELF64);
	/* Long mode: the entry stays virtual, the guest's own page tables
	 * (or rrvm's identity map) resolve it. */
	assert_int_equal(img.entry, 0xffffffff80100000ull);
}

static void segment_beyond_ram_does_not_fit(void **state)
{
	struct guest_mem *m = *state;
	uint8_t buf[0x200];
	size_t len = make_elf32(buf, RAM - 0x80, RAM - 0x80, 0x1000, true, 2);
	struct boot_image img;
	const char *why = NULL;

	assert_int_equal(loader_load(m, buf, len, "", NULL, 0, &img, &why), -EFBIG);
	assert_string_equal(why, "kernel does not fit in guest RAM");
}

/* A kernel linked low (32 KiB): rrvm's boot area moves out of its way, to
 * the next free 64 KiB of conventional memory. */
static void low_kernel_moves_boot_area(void **state)
{
	struct guest_mem *m = *state;
	uint8_t buf[0x200];
	size_t len = make_elf32(buf, 0x8000, 0x8000, 0x1000, true, 2);
	struct boot_image img;
	const char *why = NULL;
	struct mbi mbi;

	assert_int_equal(loader_load(m, buf, len, "low", NULL, 0, &img, &why), 0);
	assert_int_equal(img.area, 0x10000);
	assert_int_equal(img.mbi, 0x10000 + BOOT_INFO_OFF);
	assert_int_equal(m->base[0x8000], 0xab);
	assert_int_equal(m->base[0x80ff], 0xab);
	memcpy(&mbi, m->base + img.mbi, sizeof(mbi));
	assert_string_equal((const char *)m->base + mbi.cmdline, "low");
	assert_true(mbi.mmap_addr > 0x10000 && mbi.mmap_addr < 0x20000);
}

/* A kernel over all of conventional memory: the area goes above it. */
static void kernel_over_low_memory_gets_area_above(void **state)
{
	struct guest_mem *m = *state;
	uint8_t buf[0x200];
	size_t len = make_elf32(buf, 0x1000, 0x1000, 0x9e000, true, 2);
	struct boot_image img;
	const char *why = NULL;

	assert_int_equal(loader_load(m, buf, len, "", NULL, 0, &img, &why), 0);
	assert_int_equal(img.area, 0x100000);
	/* Linux's loader keeps refusing the first 64 KiB (its area is fixed). */
	assert_int_equal(loader_load_elf(m, buf, len, &img, &why), -EFBIG);
}

struct mb_mod {
	uint32_t start, end, string, reserved;
};

static void modules_are_loaded_and_listed(void **state)
{
	struct guest_mem *m = *state;
	uint8_t buf[0x200];
	size_t len = make_elf32(buf, 0x100000, 0x100000, 0x3000, true, 3);
	static const uint8_t env[] = "NR_CPUS=1\nMEMSIZE=16\n";
	static const uint8_t two[5000] = { 7 };
	struct loader_module mods[2] = {
		{ env, sizeof(env) - 1, "env.txt a b" },
		{ two, sizeof(two), "two" },
	};
	struct boot_image img;
	const char *why = NULL;
	struct mb_mod e[2];
	struct mbi mbi;

	assert_int_equal(loader_load(m, buf, len, "k", mods, 2, &img, &why), 0);
	assert_int_equal(img.area, 0);
	assert_int_equal(img.nmods, 2);
	memcpy(&mbi, m->base + img.mbi, sizeof(mbi));
	assert_true(mbi.flags & (1u << 3));
	assert_int_equal(mbi.mods_count, 2);
	memcpy(e, m->base + mbi.mods_addr, sizeof(e));
	/* Page-aligned, from the page after the kernel's end on. */
	assert_int_equal(e[0].start, 0x103000);
	assert_int_equal(e[0].end, 0x103000 + sizeof(env) - 1);
	assert_memory_equal(m->base + e[0].start, env, sizeof(env) - 1);
	assert_string_equal((const char *)m->base + e[0].string, "env.txt a b");
	assert_int_equal(e[1].start, 0x104000);
	assert_int_equal(e[1].end, 0x104000 + sizeof(two));
	assert_int_equal(m->base[e[1].start], 7);
	assert_string_equal((const char *)m->base + e[1].string, "two");
	/* Without modules the info says none, as before modules existed. */
	assert_int_equal(loader_load(m, buf, len, "k", NULL, 0, &img, &why), 0);
	memcpy(&mbi, m->base + img.mbi, sizeof(mbi));
	assert_false(mbi.flags & (1u << 3));
	assert_int_equal(mbi.mods_count, 0);
}

static void modules_beyond_ram_do_not_fit(void **state)
{
	struct guest_mem *m = *state;
	uint8_t buf[0x200];
	size_t len = make_elf32(buf, RAM - 0x2000, RAM - 0x2000, 0x1000, true, 2);
	static const uint8_t big[0x1001];
	struct loader_module mod = { big, sizeof(big), "big" };
	struct boot_image img;
	const char *why = NULL;

	assert_int_equal(loader_load(m, buf, len, "", &mod, 1, &img, &why), -EFBIG);
	assert_string_equal(why, "multiboot modules do not fit in guest RAM");
}

static void modules_split_as_qemu_does(void **state)
{
	struct loader_modspec it[4];
	char store[128];
	unsigned n;

	(void)state;
	assert_int_equal(loader_split_modules("a.txt x=1 y,b,,c,d", store, sizeof(store), it, 4,
					      &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(it[0].path, "a.txt");
	assert_string_equal(it[0].cmdline, "a.txt x=1 y");
	assert_string_equal(it[1].path, "b,c");
	assert_string_equal(it[1].cmdline, "b,c");
	assert_string_equal(it[2].path, "d");
	assert_int_equal(loader_split_modules("a,", store, sizeof(store), it, 4, &n), -EINVAL);
	assert_int_equal(loader_split_modules(" a", store, sizeof(store), it, 4, &n), -EINVAL);
	assert_int_equal(loader_split_modules("a,b,c", store, sizeof(store), it, 2, &n), -E2BIG);
	assert_int_equal(loader_split_modules("abcdef", store, 8, it, 4, &n), -E2BIG);
}

/* A multiboot header in the file's last 12 bytes (no a.out fields after
 * it) is enough: the same file padded with zeros boots, so must this. */
static void multiboot_header_at_the_end_of_the_file_is_found(void **state)
{
	struct guest_mem *m = *state;
	uint8_t buf[0x200 + 12];
	size_t len = make_elf32(buf, 0x100000, 0x100000, 0x1000, false, 0);
	uint32_t mb[3] = { MB_MAGIC, 2, -(MB_MAGIC + 2) };
	struct boot_image img;
	const char *why = NULL;

	memcpy(buf + len, mb, sizeof(mb));
	assert_int_equal(loader_load(m, buf, len + sizeof(mb), "", NULL, 0, &img, &why), 0);
	assert_int_equal(img.protocol, BOOT_MULTIBOOT1);
	/* With the a.out flag its address fields are needed, and missing. */
	mb[1] = (1u << 16) | 2;
	mb[2] = -(MB_MAGIC + mb[1]);
	memcpy(buf + len, mb, sizeof(mb));
	assert_int_equal(loader_load(m, buf, len + sizeof(mb), "", NULL, 0, &img, &why), -ENOEXEC);
	assert_string_equal(why, "multiboot header with the a.out flag ends past the file");
}

static void elf32_without_multiboot_is_refused(void **state)
{
	struct guest_mem *m = *state;
	uint8_t buf[0x200];
	size_t len = make_elf32(buf, 0x100000, 0x100000, 0x1000, false, 0);
	struct boot_image img;
	const char *why = NULL;

	assert_int_equal(loader_load(m, buf, len, "", NULL, 0, &img, &why), -ENOEXEC);
	assert_string_equal(why, "ELF32 file without a multiboot header");
}

static void unknown_required_multiboot_flag_is_refused(void **state)
{
	struct guest_mem *m = *state;
	uint8_t buf[0x200];
	size_t len = make_elf32(buf, 0x100000, 0x100000, 0x1000, true, 1u << 3);
	struct boot_image img;
	const char *why = NULL;

	assert_int_equal(loader_load(m, buf, len, "", NULL, 0, &img, &why), -ENOEXEC);
}

static void program_headers_outside_file_are_refused(void **state)
{
	struct guest_mem *m = *state;
	uint8_t buf[0x200];
	size_t len = make_elf32(buf, 0x100000, 0x100000, 0x1000, true, 2);
	struct boot_image img;
	const char *why = NULL;

	((Elf32_Ehdr *)buf)->e_phnum = 0xffff;
	assert_int_equal(loader_load(m, buf, len, "", NULL, 0, &img, &why), -ENOEXEC);
	assert_string_equal(why, "ELF program headers lie outside the file");
	make_elf32(buf, 0x100000, 0x100000, 0x1000, true, 2);
	((Elf32_Phdr *)(buf + sizeof(Elf32_Ehdr)))->p_filesz = 0x10000;
	assert_int_equal(loader_load(m, buf, len, "", NULL, 0, &img, &why), -ENOEXEC);
	assert_string_equal(why, "segment lies outside the file");
}

static void aout_kludge_loads_at_header_addresses(void **state)
{
	struct guest_mem *m = *state;
	uint32_t img32[64] = { 0 };
	struct boot_image img;
	const char *why = NULL;
	const uint32_t flags = (1u << 16) | 2;

	/* Header at file offset 16, loaded so that it lands at 0x100010. */
	img32[4] = MB_MAGIC;
	img32[5] = flags;
	img32[6] = -(MB_MAGIC + flags);
	img32[7] = 0x100010;           /* header_addr */
	img32[8] = 0x100000;           /* load_addr */
	img32[9] = 0x100100;           /* load_end_addr */
	img32[10] = 0x102000;          /* bss_end_addr */
	img32[11] = 0x100040;          /* entry_addr */
	img32[16] = 0x12345678;
	assert_int_equal(loader_load(m, (uint8_t *)img32, sizeof(img32), "", NULL, 0, &img, &why), 0);
	assert_int_equal(img.entry, 0x100040);
	assert_memory_equal(m->base + 0x100040, &img32[16], 4);
	assert_int_equal(img.load_hi, 0x102000);
}

static void garbage_is_not_a_kernel(void **state)
{
	struct guest_mem *m = *state;
	uint8_t buf[64];
	struct boot_image img;
	const char *why = NULL;

	memset(buf, 0x41, sizeof(buf));
	assert_int_equal(loader_load(m, buf, sizeof(buf), "", NULL, 0, &img, &why), -ENOEXEC);
	assert_string_equal(why, "not a kernel (no ELF or multiboot header)");
	assert_int_equal(loader_load(m, buf, 3, "", NULL, 0, &img, &why), -ENOEXEC);
}

static void overlong_cmdline_is_refused(void **state)
{
	struct guest_mem *m = *state;
	uint8_t buf[0x200];
	size_t len = make_elf32(buf, 0x100000, 0x100000, 0x1000, true, 2);
	char cmd[BOOT_INFO_SIZE + 1];
	struct boot_image img;
	const char *why = NULL;

	memset(cmd, 'x', sizeof(cmd) - 1);
	cmd[sizeof(cmd) - 1] = '\0';
	assert_int_equal(loader_load(m, buf, len, cmd, NULL, 0, &img, &why), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(multiboot_elf32_loads_and_writes_info, setup, teardown),
		cmocka_unit_test_setup_teardown(elf64_without_multiboot_enters_long_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(segment_beyond_ram_does_not_fit, setup, teardown),
		cmocka_unit_test_setup_teardown(low_kernel_moves_boot_area, setup, teardown),
		cmocka_unit_test_setup_teardown(kernel_over_low_memory_gets_area_above, setup, teardown),
		cmocka_unit_test_setup_teardown(modules_are_loaded_and_listed, setup, teardown),
		cmocka_unit_test_setup_teardown(modules_beyond_ram_do_not_fit, setup, teardown),
		cmocka_unit_test(modules_split_as_qemu_does),
		cmocka_unit_test_setup_teardown(elf32_without_multiboot_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(multiboot_header_at_the_end_of_the_file_is_found, setup,
						teardown),
		cmocka_unit_test_setup_teardown(unknown_required_multiboot_flag_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(program_headers_outside_file_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(aout_kludge_loads_at_header_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(garbage_is_not_a_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(overlong_cmdline_is_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
