/* The x86-64 register file as GDB sees it, and the target description
 * (target.xml) that tells GDB so.
 *
 * GDB numbers registers in target.xml order; the 'g' packet is all of them
 * in that order, each little-endian at its full size.  GDB's amd64 code
 * requires the whole "org.gnu.gdb.i386.core" feature (general registers,
 * segment selectors and the x87 state: 40 registers) and looks for
 * fs_base/gs_base in "org.gnu.gdb.i386.segments".  Control registers have
 * no GDB feature, so they live in our own "org.rrvm.x86.control", which
 * GDB shows by name ("info registers cr3", "p $cr0") in group "system".
 *
 *   regnum  registers                      feature
 *   0-15    rax rbx rcx rdx rsi rdi rbp rsp r8-r15   i386.core
 *   16-23   rip eflags cs ss ds es fs gs             i386.core
 *   24-39   st0-st7 (10 bytes) fctrl..fop            i386.core
 *   40-56   xmm0-xmm15 (16 bytes) mxcsr              i386.sse
 *   57-58   fs_base gs_base                          i386.segments
 *   59-64   cr0 cr2 cr3 cr4 cr8 efer                 org.rrvm.x86.control
 *
 * Cost: lookups are array indexing; the XML is built on demand (~7 KiB). */
#ifndef RRVM_GDBSTUB_REGS_H
#define RRVM_GDBSTUB_REGS_H

#include <stddef.h>

enum gdb_regnum {
	GDB_REG_RAX, GDB_REG_RBX, GDB_REG_RCX, GDB_REG_RDX,
	GDB_REG_RSI, GDB_REG_RDI, GDB_REG_RBP, GDB_REG_RSP,
	GDB_REG_R8, GDB_REG_R9, GDB_REG_R10, GDB_REG_R11,
	GDB_REG_R12, GDB_REG_R13, GDB_REG_R14, GDB_REG_R15,
	GDB_REG_RIP, GDB_REG_EFLAGS,
	GDB_REG_CS, GDB_REG_SS, GDB_REG_DS, GDB_REG_ES, GDB_REG_FS, GDB_REG_GS,
	GDB_REG_ST0,
	GDB_REG_FCTRL = GDB_REG_ST0 + 8,
	GDB_REG_FSTAT, GDB_REG_FTAG, GDB_REG_FISEG, GDB_REG_FIOFF,
	GDB_REG_FOSEG, GDB_REG_FOOFF, GDB_REG_FOP,
	GDB_REG_XMM0,
	GDB_REG_MXCSR = GDB_REG_XMM0 + 16,
	GDB_REG_FS_BASE, GDB_REG_GS_BASE,
	GDB_REG_CR0, GDB_REG_CR2, GDB_REG_CR3, GDB_REG_CR4, GDB_REG_CR8,
	GDB_REG_EFER,
	GDB_REG_COUNT
};

enum gdb_reg_feature {
	GDB_FEAT_CORE,
	GDB_FEAT_SSE,
	GDB_FEAT_SEGMENTS,
	GDB_FEAT_CONTROL,
	GDB_FEAT_COUNT
};

struct gdb_reg_info {
	const char *name;
	unsigned bits;             /* 32, 64, 80 or 128 */
	const char *type;          /* a GDB predefined type or one of ours */
	const char *group;         /* NULL: GDB's default for the type */
	enum gdb_reg_feature feature;
};

/* Description of register REGNUM, or NULL when out of range. */
const struct gdb_reg_info *gdb_reg_info(int regnum);
/* Size in bytes of register REGNUM (0 when out of range). */
size_t gdb_reg_size(int regnum);
/* Bytes of a full 'g' packet payload before hex encoding. */
size_t gdb_regs_total_size(void);
/* Register number for NAME, or -1. */
int gdb_reg_by_name(const char *name);

/* Writes target.xml (NUL-terminated) into BUF; returns its length without
 * the NUL, or -ENOSPC.  8 KiB is enough (checked by the unit test). */
long gdb_regs_target_xml(char *buf, size_t size);
#define GDB_TARGET_XML_MAX 8192

#endif
