/*
 * hello: the smallest sample.  Prints a greeting and the kernel's arguments from the
 * multiboot command line, checks the boot protocol, and exits with value 0.
 *
 * By multiboot convention (GRUB, QEMU -kernel) the command line starts with the
 * kernel's own path; it differs between machines, so it is skipped when the first
 * word looks like a path, and only the arguments are printed.
 */
#include "runtime.h"

static const char *skip_kernel_name(const char *s)
{
	const char *p = s;
	bool pathlike = false;

	while (*p == ' ')
		p++;
	const char *word = p;
	while (*p && *p != ' ') {
		if (*p == '/')
			pathlike = true;
		p++;
	}
	if (p - word >= 4 && !strncmp(p - 4, ".elf", 4))
		pathlike = true;
	if (!pathlike)
		return word;
	while (*p == ' ')
		p++;
	return p;
}

void kmain(uint32_t mb_magic, uint32_t mb_info);
void kmain(uint32_t mb_magic, uint32_t mb_info)
{
	const struct multiboot_info *mbi = (const void *)(uintptr_t)mb_info;
	const char *args = "";

	serial_init();
	idt_init();
	printf("hello: rrvm sample kernel, 64-bit long mode\n");
	if (mb_magic == MULTIBOOT_BOOTLOADER_MAGIC && (mbi->flags & MB_INFO_CMDLINE))
		args = skip_kernel_name((const char *)(uintptr_t)mbi->cmdline);
	printf("hello: args: \"%s\"\n", args);
	report(mb_magic == MULTIBOOT_BOOTLOADER_MAGIC, "multiboot magic");
	report(mb_magic == MULTIBOOT_BOOTLOADER_MAGIC && (mbi->flags & MB_INFO_MEM) &&
		       mbi->mem_lower >= 512 && mbi->mem_upper >= 16 * 1024,
	       "multiboot memory info (>= 512 KiB low, >= 16 MiB high)");
}
