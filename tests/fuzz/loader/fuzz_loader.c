/* libFuzzer target: the kernel loader must never crash, hang or write
 * outside guest RAM on any file, with or without multiboot modules (slices
 * of the same input, so that a seed kernel is also a seed module list), and
 * the -initrd list parser on any string. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/loader.h"
#include "vmm/memory.h"

#define FUZZ_RAM (4u << 20)
#define FUZZ_SPEC_MAX 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_split(const uint8_t *data, size_t size)
{
	char spec[FUZZ_SPEC_MAX + 1], store[2 * FUZZ_SPEC_MAX + 2];
	struct loader_modspec items[8];
	size_t n = size < FUZZ_SPEC_MAX ? size : FUZZ_SPEC_MAX;
	unsigned count;

	memcpy(spec, data, n);
	spec[n] = '\0';
	if (loader_split_modules(spec, store, sizeof(store), items, 8, &count) == 0)
		for (unsigned i = 0; i < count; i++)
			if (strlen(items[i].path) > strlen(items[i].cmdline))
				abort(); /* the path is a prefix of its item */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	struct guest_mem m;
	struct boot_image img;
	struct loader_module mods[3];
	unsigned nmods = (unsigned)(size % 4);
	const char *why;

	if (!ram)
		ram = malloc(FUZZ_RAM);
	m.base = ram;
	m.size = FUZZ_RAM;
	loader_load(&m, data, size, "fuzz", NULL, 0, &img, &why);
	if (nmods > 3)
		nmods = 3;
	for (unsigned i = 0; i < nmods; i++)
		mods[i] = (struct loader_module){ data + i * size / 4, size / 4, "fuzz module" };
	if (loader_load(&m, data, size, "fuzz", mods, nmods, &img, &why) == 0 &&
	    (img.area + 0x10000ull > m.size || img.nmods != nmods))
		abort();
	fuzz_split(data, size);
	return 0;
}
