/*
 * fwcfg: reads its machine's description the way QEMU test suites do
 * (kvm-unit-tests' lib/x86/fwcfg.c): select an item with a 16-bit write to
 * port 0x510, read it a byte at a time from port 0x511.  Checks the CPU count,
 * and the RAM size against what the multiboot information says, and prints
 * them.  A machine without fw_cfg reads all ones at those ports: the sample
 * says so and exits with value 2.
 */
#include "fwcfg.h"
#include "runtime.h"

void kmain(uint32_t mb_magic, uint32_t mb_info);
void kmain(uint32_t mb_magic, uint32_t mb_info)
{
	const struct multiboot_info *mbi = (const void *)(uintptr_t)mb_info;
	uint64_t sig, ram, mb_ram = 0;
	unsigned cpus;

	serial_init();
	idt_init();
	printf("fwcfg: QEMU firmware configuration, legacy ports\n");
	sig = fwcfg_get(FW_CFG_SIGNATURE, 4);
	if (sig == 0xffffffffu) {
		printf("fwcfg: no fw_cfg device (the ports read all ones)\n");
		exit_qemu(2); /* status 5: nothing to check without the device */
	}
	report(sig == ('Q' | 'E' << 8 | 'M' << 16 | (uint64_t)'U' << 24), "signature \"QEMU\"");
	report(fwcfg_get(FW_CFG_ID, 4) & 1, "the legacy interface");
	cpus = (unsigned)fwcfg_get(FW_CFG_NB_CPUS, 2);
	ram = fwcfg_get(FW_CFG_RAM_SIZE, 8);
	printf("fwcfg: %u CPU%s, %llu MiB of RAM\n", cpus, cpus == 1 ? "" : "s",
	       (unsigned long long)(ram >> 20));
	report(cpus == 1, "one CPU");
	if (mb_magic == MULTIBOOT_BOOTLOADER_MAGIC && (mbi->flags & MB_INFO_MEM))
		mb_ram = ((uint64_t)mbi->mem_upper + 1024) * 1024;
	/* Multiboot's upper memory ends where the firmware's reserved top
	 * begins (QEMU keeps the last 128 KiB below the RAM size for itself). */
	report(mb_ram && mb_ram <= ram && ram - mb_ram < (1u << 20),
	       "RAM size within 1 MiB of the multiboot memory information");
}
