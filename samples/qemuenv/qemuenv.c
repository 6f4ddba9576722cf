/*
 * qemuenv: learns its machine the two ways hypervisor test suites built for
 * `qemu-system-x86_64 -kernel K -initrd ENV` do (kvm-unit-tests'
 * lib/x86/fwcfg.c and lib/argv.c): the CPU count and RAM size from QEMU's
 * fw_cfg ports, and the same facts from an environment text the first
 * multiboot module holds ("NR_CPUS=1 MEMSIZE=64", MEMSIZE in MiB; words
 * split at spaces or newlines).  Prints both, checks that they agree with
 * each other and with the multiboot memory information.
 *
 * Exit value 0 (status 1) when all checks pass, 1 (status 3) when one
 * fails, 2 (status 5) without a module or without fw_cfg (nothing to
 * compare; the line before says which).
 */
#include "fwcfg.h"
#include "runtime.h"

#define MB_INFO_MODS (1u << 3)
#define ENV_MAX 256 /* bytes of the module looked at */

struct mb_module {
	uint32_t start, end, string, reserved;
};

static bool env_space(char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* The decimal value of NAME=... in ENV[0..LEN), or -1 when absent. */
static long env_get(const char *env, size_t len, const char *name)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; i < len;) {
		while (i < len && env_space(env[i]))
			i++;
		if (len - i > nlen && !strncmp(env + i, name, nlen) && env[i + nlen] == '=') {
			long v = 0;
			bool any = false;

			for (i += nlen + 1; i < len && env[i] >= '0' && env[i] <= '9'; i++, any = true)
				v = v * 10 + (env[i] - '0');
			return any ? v : -1;
		}
		while (i < len && !env_space(env[i]))
			i++;
	}
	return -1;
}

void kmain(uint32_t mb_magic, uint32_t mb_info);
void kmain(uint32_t mb_magic, uint32_t mb_info)
{
	const struct multiboot_info *mbi = (const void *)(uintptr_t)mb_info;
	const struct mb_module *mod;
	const char *env;
	size_t len;
	uint64_t ram, mb_ram = 0;
	unsigned cpus;
	long env_cpus, env_mem;

	serial_init();
	idt_init();
	printf("qemuenv: CPU count and RAM size from fw_cfg and from a multiboot module\n");
	if (mb_magic != MULTIBOOT_BOOTLOADER_MAGIC || !(mbi->flags & MB_INFO_MODS) ||
	    !mbi->mods_count) {
		printf("qemuenv: no multiboot module (-initrd ENV)\n");
		exit_qemu(2);
	}
	if (fwcfg_get(FW_CFG_SIGNATURE, 4) == 0xffffffffu) {
		printf("qemuenv: no fw_cfg device (the ports read all ones)\n");
		exit_qemu(2);
	}
	mod = (const void *)(uintptr_t)mbi->mods_addr;
	env = (const char *)(uintptr_t)mod->start;
	len = mod->end - mod->start < ENV_MAX ? mod->end - mod->start : ENV_MAX;
	printf("qemuenv: %u module%s, the first \"%s\", %u bytes\n", mbi->mods_count,
	       mbi->mods_count == 1 ? "" : "s", (const char *)(uintptr_t)mod->string,
	       mod->end - mod->start);
	report((mod->start & 0xfff) == 0, "the module is page-aligned");
	cpus = (unsigned)fwcfg_get(FW_CFG_NB_CPUS, 2);
	ram = fwcfg_get(FW_CFG_RAM_SIZE, 8);
	env_cpus = env_get(env, len, "NR_CPUS");
	env_mem = env_get(env, len, "MEMSIZE");
	printf("qemuenv: fw_cfg: %u CPU%s, %llu MiB of RAM\n", cpus, cpus == 1 ? "" : "s",
	       (unsigned long long)(ram >> 20));
	printf("qemuenv: environment: NR_CPUS=%ld MEMSIZE=%ld\n", env_cpus, env_mem);
	report(cpus == 1 && env_cpus == 1, "one CPU, both ways");
	report(env_mem > 0 && (uint64_t)env_mem << 20 == ram, "the same RAM size both ways");
	if (mbi->flags & MB_INFO_MEM)
		mb_ram = ((uint64_t)mbi->mem_upper + 1024) * 1024;
	/* Multiboot's upper memory ends where the firmware's reserved top
	 * begins (QEMU keeps the last 128 KiB below the RAM size for itself). */
	report(mb_ram && mb_ram <= ram && ram - mb_ram < (1u << 20),
	       "RAM size within 1 MiB of the multiboot memory information");
}
