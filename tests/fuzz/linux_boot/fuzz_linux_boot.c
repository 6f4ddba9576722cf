/* libFuzzer target: the Linux boot protocol parser (bzImage setup header,
 * ELF notes of a vmlinux, the PVH start info) must never crash, hang or
 * write outside guest RAM.  The first input byte chooses whether an initrd
 * (the rest of the input again) is loaded too. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "vmm/linux_boot.h"
#include "vmm/loader.h"
#include "vmm/memory.h"

#define FUZZ_RAM (24u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	struct guest_mem m = { 0 };
	struct boot_image img;
	struct linux_boot_files f;
	const char *why;

	if (size < 1)
		return 0;
	if (!ram)
		ram = malloc(FUZZ_RAM);
	m.base = ram;
	m.size = FUZZ_RAM;
	f = (struct linux_boot_files){ data + 1, size - 1, data[0] & 1 ? data : NULL, size,
				       "console=ttyS0" };
	linux_boot_kind(f.kernel, f.kernel_len);
	linux_boot_load(&m, &f, &img, &why);
	return 0;
}
