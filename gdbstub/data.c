/* Register, memory and breakpoint packets: g G p P m M X Z z. */
#include "gdbstub/handlers.h"

#include <errno.h>
#include <string.h>

#include "gdbstub/dispatch.h"

/* Largest memory transfer per 'm'/'M'/'X': its hex reply (2 bytes per
 * byte) must fit in one packet of GDB_PKT_MAX. */
#define GDB_MEM_MAX (GDB_PKT_MAX / 2)

/* ---- registers ----------------------------------------------------------- */

static bool reg_read_one(struct gdb_session *s, int regnum)
{
	uint8_t val[16];
	size_t size = gdb_reg_size(regnum);
	int rc = s->ops->read_reg(s->ops->ctx, s->g_cpu, regnum, val, size);

	if (rc == -ENOENT) {
		for (size_t i = 0; i < size; i++)
			gdb_reply_str(s, "xx");
		return true;
	}
	if (rc < 0) {
		gdb_reply_err(s, rc);
		return false;
	}
	gdb_reply_hex(s, val, size);
	return true;
}

bool gdb_cmd_read_regs(struct gdb_session *s, const char *args, size_t len)
{
	for (int r = 0; r < GDB_REG_COUNT; r++)
		if (!reg_read_one(s, r))
			break;
	return true;
}

static int reg_write_one(struct gdb_session *s, int regnum, const char *hex)
{
	uint8_t val[16];
	size_t size = gdb_reg_size(regnum);

	if (gdb_hex_decode(val, hex, size) < 0)
		return -EINVAL;
	if (!s->ops->write_reg)
		return -EROFS;
	return s->ops->write_reg(s->ops->ctx, s->g_cpu, regnum, val, size);
}

bool gdb_cmd_write_regs(struct gdb_session *s, const char *args, size_t len)
{
	int rc = 0;

	if (len != 2 * gdb_regs_total_size()) {
		gdb_reply_err(s, -EINVAL);
		return true;
	}
	for (int r = 0; r < GDB_REG_COUNT && rc == 0; r++) {
		rc = reg_write_one(s, r, args);
		args += 2 * gdb_reg_size(r);
	}
	if (rc < 0)
		gdb_reply_err(s, rc);
	else
		gdb_reply_str(s, "OK");
	return true;
}

bool gdb_cmd_read_reg(struct gdb_session *s, const char *args, size_t len)
{
	uint64_t r;

	if (gdb_hex_u64(&args, &r) < 0 || *args || r >= GDB_REG_COUNT) {
		gdb_reply_err(s, -EINVAL);
		return true;
	}
	reg_read_one(s, (int)r);
	return true;
}

bool gdb_cmd_write_reg(struct gdb_session *s, const char *args, size_t len)
{
	const char *end = args + len;
	uint64_t r;
	int rc;

	if (gdb_hex_u64(&args, &r) < 0 || *args++ != '=' || r >= GDB_REG_COUNT ||
	    (size_t)(end - args) != 2 * gdb_reg_size((int)r)) {
		gdb_reply_err(s, -EINVAL);
		return true;
	}
	rc = reg_write_one(s, (int)r, args);
	if (rc < 0)
		gdb_reply_err(s, rc);
	else
		gdb_reply_str(s, "OK");
	return true;
}

/* ---- memory -------------------------------------------------------------- */

bool gdb_cmd_read_mem(struct gdb_session *s, const char *args, size_t len)
{
	uint8_t buf[GDB_MEM_MAX];
	uint64_t addr, n;
	long got;

	if (gdb_parse_addr_len(&args, 0, &addr, &n) < 0) {
		gdb_reply_err(s, -EINVAL);
		return true;
	}
	if (n > GDB_MEM_MAX)
		n = GDB_MEM_MAX; /* a short reply is allowed; gdb asks again */
	if (n == 0) { /* a read of nothing succeeds with no data */
		gdb_reply_str(s, "OK");
		return true;
	}
	got = s->ops->read_mem(s->ops->ctx, s->g_cpu, addr, buf, n);
	if (got <= 0 || (uint64_t)got > n)
		gdb_reply_err(s, got < 0 ? (int)got : -EFAULT);
	else
		gdb_reply_hex(s, buf, (size_t)got);
	return true;
}

static void mem_write(struct gdb_session *s, uint64_t addr, const void *buf,
		      size_t n)
{
	int rc = 0;

	if (n && !s->ops->write_mem)
		rc = -EROFS;
	else if (n)
		rc = s->ops->write_mem(s->ops->ctx, s->g_cpu, addr, buf, n);
	if (rc < 0)
		gdb_reply_err(s, rc);
	else
		gdb_reply_str(s, "OK");
}

bool gdb_cmd_write_mem_hex(struct gdb_session *s, const char *args,
			      size_t len)
{
	const char *end = args + len;
	uint8_t buf[GDB_MEM_MAX];
	uint64_t addr, n;

	if (gdb_parse_addr_len(&args, ':', &addr, &n) < 0 || n > GDB_MEM_MAX ||
	    (uint64_t)(end - args) != 2 * n || gdb_hex_decode(buf, args, n) < 0) {
		gdb_reply_err(s, -EINVAL);
		return true;
	}
	mem_write(s, addr, buf, n);
	return true;
}

/* 'X': the data is binary, already unescaped by the packet layer.  gdb
 * probes support with a zero-length X, which must answer OK. */
bool gdb_cmd_write_mem_bin(struct gdb_session *s, const char *args,
			      size_t len)
{
	const char *end = args + len;
	uint64_t addr, n;

	if (gdb_parse_addr_len(&args, ':', &addr, &n) < 0 ||
	    (uint64_t)(end - args) != n) {
		gdb_reply_err(s, -EINVAL);
		return true;
	}
	mem_write(s, addr, args, n);
	return true;
}

/* ---- breakpoints --------------------------------------------------------- */

/* "Ztype,addr,kind[;cond...]": conditions and commands are ignored (we do
 * not advertise ConditionalBreakpoints, so gdb evaluates them itself). */
static bool bp_common(struct gdb_session *s, const char *args, bool insert)
{
	uint64_t addr, kind;
	int type = gdb_hex_digit((unsigned char)args[0]);
	int rc;

	args++;
	if (type < GDB_BP_SW || type > GDB_BP_ACCESS || *args++ != ',' ||
	    gdb_hex_u64(&args, &addr) < 0 || *args++ != ',' ||
	    gdb_hex_u64(&args, &kind) < 0 || (*args && *args != ';')) {
		gdb_reply_err(s, -EINVAL);
		return true;
	}
	if (insert)
		rc = s->ops->insert_bp(s->ops->ctx, (enum gdb_bp_type)type, addr, kind);
	else
		rc = s->ops->remove_bp(s->ops->ctx, (enum gdb_bp_type)type, addr, kind);
	if (rc < 0)
		gdb_reply_err(s, rc);
	else
		gdb_reply_str(s, "OK");
	return true;
}

bool gdb_cmd_insert_bp(struct gdb_session *s, const char *args, size_t len)
{
	return bp_common(s, args, true);
}

bool gdb_cmd_remove_bp(struct gdb_session *s, const char *args, size_t len)
{
	return bp_common(s, args, false);
}
