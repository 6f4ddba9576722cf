/* The names of exit kinds, for logs and divergence reports. */
#include "vmm/exit.h"

const char *vmm_exit_kind_name(enum vmm_exit_kind k)
{
	static const char *const names[VMM_EXIT_KIND_COUNT] = {
		[VMM_EXIT_IO_IN] = "port-in",	  [VMM_EXIT_IO_OUT] = "port-out",
		[VMM_EXIT_MMIO_READ] = "mmio-read", [VMM_EXIT_MMIO_WRITE] = "mmio-write",
		[VMM_EXIT_HLT] = "hlt",		  [VMM_EXIT_IRQ_WINDOW] = "irq-window",
		[VMM_EXIT_RDMSR] = "rdmsr",
		[VMM_EXIT_DEBUG] = "debug",	  [VMM_EXIT_WATCH] = "watch",	  [VMM_EXIT_KICK] = "kick",
		[VMM_EXIT_LANDMARK] = "landmark",
		[VMM_EXIT_SHUTDOWN] = "shutdown",  [VMM_EXIT_ERROR] = "error",
		[VMM_EXIT_WRMSR] = "wrmsr",
	};

	return (unsigned)k < VMM_EXIT_KIND_COUNT ? names[k] : "?";
}
