/* QEMU's fw_cfg, the legacy port interface (selector 0x510, data 0x511),
 * as test kernels made for QEMU read it (samples fwcfg and qemuenv). */
#ifndef RRVM_SAMPLES_FWCFG_H
#define RRVM_SAMPLES_FWCFG_H

#include <stdint.h>

#define FW_CFG_CTL 0x510
#define FW_CFG_DATA 0x511
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05

/* Item KEY's first BYTES bytes (at most 8), little-endian. */
uint64_t fwcfg_get(uint16_t key, unsigned bytes);

#endif
