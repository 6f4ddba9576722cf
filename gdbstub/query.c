/* Queries, thread selection and session control: qSupported,
 * QStartNoAckMode, qXfer:features:read, qC, qfThreadInfo/qsThreadInfo,
 * qAttached, qRcmd, H, T, D, k, vKill. */
#include "gdbstub/handlers.h"

#include <errno.h>
#include <string.h>

#include "gdbstub/dispatch.h"

#define LOG_MODULE "gdb"
#include "util/log.h"

/* What we tell gdb we can do.  PacketSize is hex.  We do not offer
 * multiprocess (one machine, no pids), non-stop, or conditional
 * breakpoints; swbreak+/hwbreak+ let gdb trust our stop reasons instead
 * of guessing from the PC after a reverse step over a breakpoint. */
bool gdb_cmd_supported(struct gdb_session *s, const char *args, size_t len)
{
	gdb_reply_fmt(s, "PacketSize=%x;qXfer:features:read+;"
		      "ReverseStep+;ReverseContinue+;swbreak+;hwbreak+;"
		      "vContSupported+;QStartNoAckMode+", GDB_PKT_MAX);
	return true;
}

bool gdb_cmd_no_ack(struct gdb_session *s, const char *args, size_t len)
{
	s->no_ack_pending = true;
	gdb_reply_str(s, "OK");
	return true;
}

/* "target.xml:OFFSET,LENGTH" → "m<chunk>" (more follows) or "l<chunk>"
 * (last).  Everything is in the one document, so there are no other
 * annexes to serve. */
bool gdb_cmd_xfer_features(struct gdb_session *s, const char *args,
			   size_t len)
{
	static const char annex[] = "target.xml:";
	char xml[GDB_TARGET_XML_MAX];
	uint64_t off, n;
	long total;

	if (strncmp(args, annex, sizeof(annex) - 1) != 0) {
		gdb_reply_err(s, -ENOENT);
		return true;
	}
	args += sizeof(annex) - 1;
	if (gdb_parse_addr_len(&args, 0, &off, &n) < 0) {
		gdb_reply_err(s, -EINVAL);
		return true;
	}
	total = gdb_regs_target_xml(xml, sizeof(xml));
	if (total < 0) {
		gdb_reply_err(s, (int)total);
		return true;
	}
	if (off >= (uint64_t)total) {
		gdb_reply_str(s, "l");
		return true;
	}
	/* Half the reply buffer: every byte may need escaping when framed,
	 * and gdb's own buffer is PacketSize. */
	if (n > GDB_PKT_MAX / 2)
		n = GDB_PKT_MAX / 2;
	if (n > (uint64_t)total - off)
		n = (uint64_t)total - off;
	gdb_reply_str(s, off + n < (uint64_t)total ? "m" : "l");
	gdb_reply_mem(s, xml + off, n);
	return true;
}

bool gdb_cmd_current_thread(struct gdb_session *s, const char *args,
			    size_t len)
{
	gdb_reply_fmt(s, "QC%x", s->g_cpu + 1);
	return true;
}

/* All threads in the first reply, as long as they fit; the rest, if any,
 * come from qsThreadInfo. */
static void thread_list(struct gdb_session *s)
{
	unsigned n = s->ops->thread_count(s->ops->ctx);
	bool first = true;

	if (s->thread_iter >= n) {
		gdb_reply_str(s, "l");
		return;
	}
	gdb_reply_str(s, "m");
	while (s->thread_iter < n && s->reply_len < GDB_PKT_MAX / 2) {
		gdb_reply_fmt(s, first ? "%x" : ",%x", s->thread_iter + 1);
		first = false;
		s->thread_iter++;
	}
}

bool gdb_cmd_thread_first(struct gdb_session *s, const char *args, size_t len)
{
	s->thread_iter = 0;
	thread_list(s);
	return true;
}

bool gdb_cmd_thread_next(struct gdb_session *s, const char *args, size_t len)
{
	thread_list(s);
	return true;
}

/* We attached to an existing machine: on quit gdb detaches rather than
 * kills. */
bool gdb_cmd_attached(struct gdb_session *s, const char *args, size_t len)
{
	gdb_reply_str(s, "1");
	return true;
}

/* "qRcmd,HEX": the monitor command, hex-encoded.  The reply is the output,
 * hex-encoded, or OK when there is none (GDB manual, "qRcmd"). */
bool gdb_cmd_monitor(struct gdb_session *s, const char *args, size_t len)
{
	char cmd[GDB_PKT_MAX / 2 + 1];
	char out[GDB_PKT_MAX / 2 - 16];
	int rc;

	if (!s->ops->monitor)
		return true; /* empty reply: gdb says "not supported" */
	if (len % 2 || len / 2 >= sizeof(cmd) ||
	    gdb_hex_decode(cmd, args, len / 2) < 0) {
		gdb_reply_err(s, -EINVAL);
		return true;
	}
	cmd[len / 2] = 0;
	out[0] = 0;
	rc = s->ops->monitor(s->ops->ctx, cmd, out, sizeof(out));
	if (rc < 0) {
		gdb_reply_err(s, rc);
		return true;
	}
	out[sizeof(out) - 1] = 0;
	if (out[0])
		gdb_reply_hex(s, out, strlen(out));
	else
		gdb_reply_str(s, "OK");
	return true;
}

/* "Hg<tid>" / "Hc<tid>": the vCPU later g/m/p (g) or c/s (c) act on.
 * "-1" and "0" keep the current choice: every vCPU runs on continue. */
bool gdb_cmd_set_thread(struct gdb_session *s, const char *args, size_t len)
{
	char op = args[0];
	long cpu;

	if (op != 'g' && op != 'c') {
		gdb_reply_err(s, -EINVAL);
		return true;
	}
	cpu = gdb_parse_thread(s, args + 1);
	if (cpu < -1) {
		gdb_reply_err(s, (int)cpu);
		return true;
	}
	if (cpu >= 0 && op == 'g')
		s->g_cpu = (unsigned)cpu;
	else if (cpu >= 0)
		s->c_cpu = (unsigned)cpu;
	gdb_reply_str(s, "OK");
	return true;
}

bool gdb_cmd_thread_alive(struct gdb_session *s, const char *args, size_t len)
{
	long cpu = gdb_parse_thread(s, args);

	if (cpu < 0)
		gdb_reply_err(s, cpu == -1 ? -EINVAL : (int)cpu);
	else
		gdb_reply_str(s, "OK");
	return true;
}

/* Detach leaves the machine where it is, for the next debugger. */
bool gdb_cmd_detach(struct gdb_session *s, const char *args, size_t len)
{
	s->state = GDB_SESSION_DETACHED;
	gdb_reply_str(s, "OK");
	return true;
}

/* 'k' has no reply; gdb closes the connection right after sending it. */
bool gdb_cmd_kill(struct gdb_session *s, const char *args, size_t len)
{
	s->state = GDB_SESSION_KILLED;
	return false;
}

bool gdb_cmd_vkill(struct gdb_session *s, const char *args, size_t len)
{
	s->state = GDB_SESSION_KILLED;
	gdb_reply_str(s, "OK");
	return true;
}
