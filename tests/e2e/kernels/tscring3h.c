/* tscring3 with a #GP handler that halts, the panic stop many small kernels
 * install: rrvm cannot put its trap over a HLT, so it leaves the RDTSC
 * sites ring 3 can run unpatched (native, not recorded) rather than break
 * the guest, and `rrvm record` says so.  The task raises no #GP here. */
#include "tscring3.h"

void gp_halt(void);
__asm__(".text\n"
	".globl gp_halt\n"
	".type gp_halt, @function\n"
	"gp_halt:\n"
	"	hlt\n"
	"	jmp gp_halt\n"
	".size gp_halt, . - gp_halt\n");

void tscring3_setup(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr;
	uint64_t a = (uint64_t)gp_halt;
	uint8_t *gate;

	__asm__ volatile("sidt %0" : "=m"(idtr));
	gate = (uint8_t *)idtr.base + VEC_GP * 16; /* 64-bit gates (SDM 6.14.1) */
	gate[0] = a & 0xff, gate[1] = (a >> 8) & 0xff;
	gate[6] = (a >> 16) & 0xff, gate[7] = (a >> 24) & 0xff;
	memcpy(gate + 8, (uint32_t[]){ (uint32_t)(a >> 32) }, 4);
	task_gp = false;
}
