/* libFuzzer target: the kernel loader must never crash, hang or write
 * outside guest RAM on any file. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "vmm/loader.h"
#include "vmm/memory.h"

#define FUZZ_RAM (4u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	struct guest_mem m;
	struct boot_image img;
	const char *why;

	if (!ram)
		ram = malloc(FUZZ_RAM);
	m.base = ram;
	m.size = FUZZ_RAM;
	loader_load(&m, data, size, "fuzz", NULL, 0, &img, &why);
	return 0;
}
