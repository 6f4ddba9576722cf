#include "fwcfg.h"

#include "runtime.h"

uint64_t fwcfg_get(uint16_t key, unsigned bytes)
{
	uint64_t v = 0;

	outw(FW_CFG_CTL, key);
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)inb(FW_CFG_DATA) << (8 * i);
	return v;
}
