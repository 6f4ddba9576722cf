/* QEMU's fw_cfg firmware configuration device, legacy port interface only
 * (QEMU docs/specs/fw_cfg.rst): a 16-bit selector at 0x510 picks an item,
 * each read of the data port 0x511 returns its next byte, and 0 past its
 * end or for an item that does not exist.  Read-only: data writes are
 * ignored, as by QEMU since 2.4.  No DMA (the ID item says so).
 *
 * Test kernels made for QEMU read the CPU count and RAM size here
 * (kvm-unit-tests' fwcfg_get_nb_cpus); without the device they read 0xff
 * bytes and believe they have 65535 CPUs.  Everything the device answers
 * derives from the machine's configuration, which the trace header fixes,
 * so it needs no event kind of its own: its reads are device reads, logged
 * and cross-checked like any other.  The state is the selector and the
 * offset into the selected item. */
#ifndef RRVM_DEVICES_FWCFG_H
#define RRVM_DEVICES_FWCFG_H

#include <stdint.h>

#include "vmm/device.h"

#define FWCFG_PORT 0x510

/* Item keys (the subset rrvm offers; any other key reads as empty). */
enum {
	FWCFG_SIGNATURE = 0x00,    /* "QEMU" */
	FWCFG_ID = 0x01,           /* u32: bit 0 legacy interface, bit 1 DMA */
	FWCFG_UUID = 0x02,         /* 16 bytes, zero */
	FWCFG_RAM_SIZE = 0x03,     /* u64, bytes */
	FWCFG_NB_CPUS = 0x05,      /* u16 */
	FWCFG_MAX_CPUS = 0x0f,     /* u16 */
	FWCFG_CMDLINE_SIZE = 0x14, /* u32: bytes of CMDLINE_DATA, NUL included */
	FWCFG_CMDLINE_DATA = 0x15, /* the kernel command line, NUL-terminated */
	FWCFG_FILE_DIR = 0x19,     /* u32 big-endian file count (0), then none */
};

/* The selector's high bits: bit 15 picks the architecture's own item set
 * (rrvm has none), bit 14 asks for the write channel (refused). */
#define FWCFG_ARCH_LOCAL 0x8000
#define FWCFG_WRITE 0x4000

struct fwcfg_state {
	uint32_t selector; /* 16 bits used; 32 so the blob has no padding */
	uint32_t offset; /* next byte of the selected item */
};

struct fwcfg {
	struct fwcfg_state st;
	uint64_t ram_size;
	uint16_t ncpus;
	const char *cmdline; /* owned by the machine; "" for none */
};

/* 0x510 (selector, 16-bit; reads 0) and 0x511 (data); dev is a struct
 * fwcfg *.  A data read of N bytes returns the next N bytes, first byte
 * lowest, as N byte reads would. */
extern const struct vmm_device_ops fwcfg_ops;

void fwcfg_init(struct fwcfg *f, uint64_t ram_size, uint16_t ncpus, const char *cmdline);

#endif
