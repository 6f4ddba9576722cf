/* An x87 store to an address with no memory behind it.  The access exits
 * as MMIO, which KVM must emulate, and KVM's instruction emulator has no
 * FSTP: KVM_EXIT_INTERNAL_ERROR (emulation failure) on every host. */
#include "multiboot.h"
	multiboot_header
	.globl _start
_start:
	fstps 0xfec00000
	debug_exit 0x7f	/* never reached */
