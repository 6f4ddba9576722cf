/* A kernel whose bss (80 MiB) does not fit in the default 64 MiB of RAM. */
#include "multiboot.h"
	multiboot_header
	.globl _start
_start:
	debug_exit 0
	.bss
	.skip 80 * 1024 * 1024
