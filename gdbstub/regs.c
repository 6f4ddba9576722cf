#include "gdbstub/regs.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define CORE(n, b, t) { n, b, t, NULL, GDB_FEAT_CORE }
#define FLOAT(n, b, t) { n, b, t, "float", GDB_FEAT_CORE }
#define XMM(n) { n, 128, "vec128", "vector", GDB_FEAT_SSE }
#define CTRL(n, t) { n, 64, t, "system", GDB_FEAT_CONTROL }

/* Names, sizes and types follow gdb/features/i386/64bit-{core,sse,segments}
 * .xml, so GDB's amd64 support recognises every register it expects. */
static const struct gdb_reg_info gdb_regs[GDB_REG_COUNT] = {
	CORE("rax", 64, "int64"), CORE("rbx", 64, "int64"),
	CORE("rcx", 64, "int64"), CORE("rdx", 64, "int64"),
	CORE("rsi", 64, "int64"), CORE("rdi", 64, "int64"),
	CORE("rbp", 64, "data_ptr"), CORE("rsp", 64, "data_ptr"),
	CORE("r8", 64, "int64"), CORE("r9", 64, "int64"),
	CORE("r10", 64, "int64"), CORE("r11", 64, "int64"),
	CORE("r12", 64, "int64"), CORE("r13", 64, "int64"),
	CORE("r14", 64, "int64"), CORE("r15", 64, "int64"),
	CORE("rip", 64, "code_ptr"), CORE("eflags", 32, "i386_eflags"),
	CORE("cs", 32, "int32"), CORE("ss", 32, "int32"),
	CORE("ds", 32, "int32"), CORE("es", 32, "int32"),
	CORE("fs", 32, "int32"), CORE("gs", 32, "int32"),
	/* x87 stack registers are 80-bit extended reals (10 bytes). */
	CORE("st0", 80, "i387_ext"), CORE("st1", 80, "i387_ext"),
	CORE("st2", 80, "i387_ext"), CORE("st3", 80, "i387_ext"),
	CORE("st4", 80, "i387_ext"), CORE("st5", 80, "i387_ext"),
	CORE("st6", 80, "i387_ext"), CORE("st7", 80, "i387_ext"),
	FLOAT("fctrl", 32, "int"), FLOAT("fstat", 32, "int"),
	FLOAT("ftag", 32, "int"), FLOAT("fiseg", 32, "int"),
	FLOAT("fioff", 32, "int"), FLOAT("foseg", 32, "int"),
	FLOAT("fooff", 32, "int"), FLOAT("fop", 32, "int"),
	XMM("xmm0"), XMM("xmm1"), XMM("xmm2"), XMM("xmm3"),
	XMM("xmm4"), XMM("xmm5"), XMM("xmm6"), XMM("xmm7"),
	XMM("xmm8"), XMM("xmm9"), XMM("xmm10"), XMM("xmm11"),
	XMM("xmm12"), XMM("xmm13"), XMM("xmm14"), XMM("xmm15"),
	{ "mxcsr", 32, "i386_mxcsr", "vector", GDB_FEAT_SSE },
	{ "fs_base", 64, "int", NULL, GDB_FEAT_SEGMENTS },
	{ "gs_base", 64, "int", NULL, GDB_FEAT_SEGMENTS },
	CTRL("cr0", "int64"), CTRL("cr2", "data_ptr"), CTRL("cr3", "int64"),
	CTRL("cr4", "int64"), CTRL("cr8", "int64"), CTRL("efer", "int64"),
};

static const char *const gdb_feature_names[GDB_FEAT_COUNT] = {
	"org.gnu.gdb.i386.core",
	"org.gnu.gdb.i386.sse",
	"org.gnu.gdb.i386.segments",
	"org.rrvm.x86.control",
};

/* Types each feature defines before its registers.  Bit positions are the
 * architectural EFLAGS and MXCSR bits (Intel SDM vol. 1, 3.4.3 and 10.2.3);
 * vec128 is the union GDB itself uses for XMM registers. */
static const char gdb_core_types[] =
	"<flags id=\"i386_eflags\" size=\"4\">"
	"<field name=\"CF\" start=\"0\" end=\"0\"/>"
	"<field name=\"\" start=\"1\" end=\"1\"/>"
	"<field name=\"PF\" start=\"2\" end=\"2\"/>"
	"<field name=\"AF\" start=\"4\" end=\"4\"/>"
	"<field name=\"ZF\" start=\"6\" end=\"6\"/>"
	"<field name=\"SF\" start=\"7\" end=\"7\"/>"
	"<field name=\"TF\" start=\"8\" end=\"8\"/>"
	"<field name=\"IF\" start=\"9\" end=\"9\"/>"
	"<field name=\"DF\" start=\"10\" end=\"10\"/>"
	"<field name=\"OF\" start=\"11\" end=\"11\"/>"
	"<field name=\"NT\" start=\"14\" end=\"14\"/>"
	"<field name=\"RF\" start=\"16\" end=\"16\"/>"
	"<field name=\"VM\" start=\"17\" end=\"17\"/>"
	"<field name=\"AC\" start=\"18\" end=\"18\"/>"
	"<field name=\"VIF\" start=\"19\" end=\"19\"/>"
	"<field name=\"VIP\" start=\"20\" end=\"20\"/>"
	"<field name=\"ID\" start=\"21\" end=\"21\"/>"
	"</flags>\n";

static const char gdb_sse_types[] =
	"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
	"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
	"<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
	"<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
	"<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
	"<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
	"<union id=\"vec128\">"
	"<field name=\"v4_float\" type=\"v4f\"/>"
	"<field name=\"v2_double\" type=\"v2d\"/>"
	"<field name=\"v16_int8\" type=\"v16i8\"/>"
	"<field name=\"v8_int16\" type=\"v8i16\"/>"
	"<field name=\"v4_int32\" type=\"v4i32\"/>"
	"<field name=\"v2_int64\" type=\"v2i64\"/>"
	"<field name=\"uint128\" type=\"uint128\"/>"
	"</union>\n"
	"<flags id=\"i386_mxcsr\" size=\"4\">"
	"<field name=\"IE\" start=\"0\" end=\"0\"/>"
	"<field name=\"DE\" start=\"1\" end=\"1\"/>"
	"<field name=\"ZE\" start=\"2\" end=\"2\"/>"
	"<field name=\"OE\" start=\"3\" end=\"3\"/>"
	"<field name=\"UE\" start=\"4\" end=\"4\"/>"
	"<field name=\"PE\" start=\"5\" end=\"5\"/>"
	"<field name=\"DAZ\" start=\"6\" end=\"6\"/>"
	"<field name=\"IM\" start=\"7\" end=\"7\"/>"
	"<field name=\"DM\" start=\"8\" end=\"8\"/>"
	"<field name=\"ZM\" start=\"9\" end=\"9\"/>"
	"<field name=\"OM\" start=\"10\" end=\"10\"/>"
	"<field name=\"UM\" start=\"11\" end=\"11\"/>"
	"<field name=\"PM\" start=\"12\" end=\"12\"/>"
	"<field name=\"FZ\" start=\"15\" end=\"15\"/>"
	"</flags>\n";

const struct gdb_reg_info *gdb_reg_info(int regnum)
{
	if (regnum < 0 || regnum >= GDB_REG_COUNT)
		return NULL;
	return &gdb_regs[regnum];
}

size_t gdb_reg_size(int regnum)
{
	const struct gdb_reg_info *r = gdb_reg_info(regnum);

	return r ? r->bits / 8 : 0;
}

size_t gdb_regs_total_size(void)
{
	size_t n = 0;

	for (int i = 0; i < GDB_REG_COUNT; i++)
		n += gdb_reg_size(i);
	return n;
}

int gdb_reg_by_name(const char *name)
{
	for (int i = 0; i < GDB_REG_COUNT; i++)
		if (strcmp(gdb_regs[i].name, name) == 0)
			return i;
	return -1;
}

/* Bounded appender: once out of room it keeps counting, so the caller can
 * report -ENOSPC after one pass. */
struct gdb_xml_buf {
	char *p;
	size_t size, len;
};

__attribute__((format(printf, 2, 3)))
static void xml_add(struct gdb_xml_buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room = b->len < b->size ? b->size - b->len : 0;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? b->p + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
}

static void xml_feature(struct gdb_xml_buf *b, enum gdb_reg_feature f)
{
	xml_add(b, "<feature name=\"%s\">\n", gdb_feature_names[f]);
	if (f == GDB_FEAT_CORE)
		xml_add(b, "%s", gdb_core_types);
	else if (f == GDB_FEAT_SSE)
		xml_add(b, "%s", gdb_sse_types);
	for (int i = 0; i < GDB_REG_COUNT; i++) {
		const struct gdb_reg_info *r = &gdb_regs[i];

		if (r->feature != f)
			continue;
		/* An explicit regnum keeps GDB's numbering equal to ours even
		 * if a future feature is reordered. */
		xml_add(b, "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%d\"",
			r->name, r->bits, r->type, i);
		if (r->group)
			xml_add(b, " group=\"%s\"", r->group);
		xml_add(b, "/>\n");
	}
	xml_add(b, "</feature>\n");
}

long gdb_regs_target_xml(char *buf, size_t size)
{
	struct gdb_xml_buf b = { buf, size, 0 };

	xml_add(&b, "<?xml version=\"1.0\"?>\n"
		    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
		    "<target version=\"1.0\">\n"
		    "<architecture>i386:x86-64</architecture>\n");
	for (int f = 0; f < GDB_FEAT_COUNT; f++)
		xml_feature(&b, (enum gdb_reg_feature)f);
	xml_add(&b, "</target>\n");
	if (b.len >= size)
		return -ENOSPC;
	return (long)b.len;
}
