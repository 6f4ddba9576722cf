#include "gdbstub/dispatch.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gdbstub/handlers.h"

#define LOG_MODULE "gdb"
#include "util/log.h"

void gdb_session_init(struct gdb_session *s, const struct gdb_target_ops *ops,
		      const struct gdb_session_io *io)
{
	memset(s, 0, sizeof(*s));
	s->ops = ops;
	s->io = *io;
	s->state = GDB_SESSION_ACTIVE;
	gdb_pkt_init(&s->parser);
	atomic_init(&s->interrupted, 0);
}

/* ---- reply builders ---------------------------------------------------- */

void gdb_reply_mem(struct gdb_session *s, const void *buf, size_t len)
{
	if (len > GDB_REPLY_MAX - s->reply_len) {
		s->reply_overflow = true;
		return;
	}
	memcpy(s->reply + s->reply_len, buf, len);
	s->reply_len += len;
	s->reply[s->reply_len] = 0;
}

void gdb_reply_str(struct gdb_session *s, const char *str)
{
	gdb_reply_mem(s, str, strlen(str));
}

void gdb_reply_hex(struct gdb_session *s, const void *buf, size_t len)
{
	if (len > (GDB_REPLY_MAX - s->reply_len) / 2) {
		s->reply_overflow = true;
		return;
	}
	gdb_hex_encode(s->reply + s->reply_len, buf, len);
	s->reply_len += 2 * len;
	s->reply[s->reply_len] = 0;
}

void gdb_reply_fmt(struct gdb_session *s, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		s->reply_overflow = true;
		return;
	}
	gdb_reply_mem(s, tmp, (size_t)n);
}

/* GDB only checks for "E" and two hex digits; we put the errno there in
 * decimal, as QEMU does, so that E14 reads as EFAULT in a packet log. */
void gdb_reply_err(struct gdb_session *s, int err)
{
	int e = err < 0 ? -err : err;

	s->reply_len = 0;
	s->reply[0] = 0;
	if (e == EOPNOTSUPP)
		return; /* empty reply: "not supported", gdb stops asking */
	gdb_reply_fmt(s, "E%02d", e > 0 && e < 100 ? e : 1);
}

/* "T05thread:1;swbreak:;" and friends (GDB manual, "Stop Reply Packets").
 * The reason comes after the thread so a reader sees who stopped first;
 * gdb accepts the pairs in any order. */
void gdb_reply_stop(struct gdb_session *s, const struct gdb_stop *st)
{
	int sig = st->reason == GDB_STOP_SIGNAL ? st->signal : GDB_SIGTRAP;

	if (st->reason == GDB_STOP_EXITED) {
		gdb_reply_fmt(s, "W%02x", st->exit_status & 0xff);
		return;
	}
	gdb_reply_fmt(s, "T%02xthread:%x;", sig & 0xff, st->cpu + 1);
	switch (st->reason) {
	case GDB_STOP_SWBREAK:
		gdb_reply_str(s, "swbreak:;");
		break;
	case GDB_STOP_HWBREAK:
		gdb_reply_str(s, "hwbreak:;");
		break;
	case GDB_STOP_WATCH:
		gdb_reply_fmt(s, "watch:%llx;", (unsigned long long)st->addr);
		break;
	case GDB_STOP_RWATCH:
		gdb_reply_fmt(s, "rwatch:%llx;", (unsigned long long)st->addr);
		break;
	case GDB_STOP_AWATCH:
		gdb_reply_fmt(s, "awatch:%llx;", (unsigned long long)st->addr);
		break;
	case GDB_STOP_REPLAY_BEGIN:
		gdb_reply_str(s, "replaylog:begin;");
		break;
	case GDB_STOP_REPLAY_END:
		gdb_reply_str(s, "replaylog:end;");
		break;
	case GDB_STOP_SIGNAL:
	case GDB_STOP_EXITED:
		break;
	}
}

/* ---- argument parsing -------------------------------------------------- */

int gdb_parse_addr_len(const char **p, char end, uint64_t *addr,
			  uint64_t *len)
{
	if (gdb_hex_u64(p, addr) < 0 || **p != ',')
		return -EINVAL;
	(*p)++;
	if (gdb_hex_u64(p, len) < 0 || **p != end)
		return -EINVAL;
	if (end)
		(*p)++;
	return 0;
}

long gdb_parse_thread(struct gdb_session *s, const char *p)
{
	uint64_t t;

	if (strcmp(p, "-1") == 0)
		return -1;
	if (gdb_hex_u64(&p, &t) < 0 || *p)
		return -EINVAL;
	if (t == 0)
		return -1;
	if (t > s->ops->thread_count(s->ops->ctx))
		return -EINVAL;
	return (long)(t - 1);
}

/* ---- the command table --------------------------------------------------- */

enum gdb_match { GDB_MATCH_EXACT, GDB_MATCH_PREFIX };

struct gdb_command {
	const char *name;
	enum gdb_match match;
	gdb_handler_fn fn;
};

/* First match wins.  EXACT entries must equal the whole payload; PREFIX
 * entries hand the rest of the payload to the handler as its arguments.
 * Anything not here (vMustReplyEmpty, qTStatus, qSymbol, qOffsets, ...)
 * gets the empty reply, which tells gdb "not supported".  qOffsets is
 * deliberately absent: a whole-machine target has no relocation. */
static const struct gdb_command gdb_commands[] = {
	{ "?", GDB_MATCH_EXACT, gdb_cmd_query_stop },
	{ "g", GDB_MATCH_EXACT, gdb_cmd_read_regs },
	{ "G", GDB_MATCH_PREFIX, gdb_cmd_write_regs },
	{ "p", GDB_MATCH_PREFIX, gdb_cmd_read_reg },
	{ "P", GDB_MATCH_PREFIX, gdb_cmd_write_reg },
	{ "m", GDB_MATCH_PREFIX, gdb_cmd_read_mem },
	{ "M", GDB_MATCH_PREFIX, gdb_cmd_write_mem_hex },
	{ "X", GDB_MATCH_PREFIX, gdb_cmd_write_mem_bin },
	{ "Z", GDB_MATCH_PREFIX, gdb_cmd_insert_bp },
	{ "z", GDB_MATCH_PREFIX, gdb_cmd_remove_bp },
	{ "c", GDB_MATCH_PREFIX, gdb_cmd_continue },
	{ "s", GDB_MATCH_PREFIX, gdb_cmd_step },
	{ "bc", GDB_MATCH_EXACT, gdb_cmd_reverse_continue },
	{ "bs", GDB_MATCH_EXACT, gdb_cmd_reverse_step },
	{ "vCont?", GDB_MATCH_EXACT, gdb_cmd_vcont_query },
	{ "vCont;", GDB_MATCH_PREFIX, gdb_cmd_vcont },
	{ "vKill;", GDB_MATCH_PREFIX, gdb_cmd_vkill },
	{ "H", GDB_MATCH_PREFIX, gdb_cmd_set_thread },
	{ "T", GDB_MATCH_PREFIX, gdb_cmd_thread_alive },
	{ "D", GDB_MATCH_PREFIX, gdb_cmd_detach },
	{ "k", GDB_MATCH_EXACT, gdb_cmd_kill },
	{ "qSupported", GDB_MATCH_PREFIX, gdb_cmd_supported },
	{ "QStartNoAckMode", GDB_MATCH_EXACT, gdb_cmd_no_ack },
	{ "qXfer:features:read:", GDB_MATCH_PREFIX, gdb_cmd_xfer_features },
	{ "qC", GDB_MATCH_EXACT, gdb_cmd_current_thread },
	{ "qfThreadInfo", GDB_MATCH_EXACT, gdb_cmd_thread_first },
	{ "qsThreadInfo", GDB_MATCH_EXACT, gdb_cmd_thread_next },
	{ "qAttached", GDB_MATCH_PREFIX, gdb_cmd_attached },
	{ "qRcmd,", GDB_MATCH_PREFIX, gdb_cmd_monitor },
};

bool gdb_dispatch(struct gdb_session *s, const char *payload, size_t len)
{
	s->reply_len = 0;
	s->reply[0] = 0;
	s->reply_overflow = false;
	for (size_t i = 0; i < sizeof(gdb_commands) / sizeof(gdb_commands[0]); i++) {
		const struct gdb_command *c = &gdb_commands[i];
		size_t n = strlen(c->name);
		bool send;

		if (len < n || memcmp(payload, c->name, n) != 0)
			continue;
		if (c->match == GDB_MATCH_EXACT && len != n)
			continue;
		send = c->fn(s, payload + n, len - n);
		if (s->reply_overflow) /* a handler bug, never a short reply */
			gdb_reply_err(s, -EMSGSIZE);
		return send;
	}
	log_debug("unsupported packet '%.*s'", (int)(len < 40 ? len : 40), payload);
	return true;
}

/* ---- the session loop ------------------------------------------------------ */

static int session_write(struct gdb_session *s, const void *buf, size_t len)
{
	int rc = s->io.write(s->io.ctx, buf, len);

	if (rc < 0)
		s->state = GDB_SESSION_IO_ERROR;
	return rc;
}

static int session_send_reply(struct gdb_session *s)
{
	long n = gdb_pkt_encode(s->frame, sizeof(s->frame), s->reply,
				s->reply_len);

	if (n < 0) /* cannot happen: frame holds a fully escaped reply */
		return (int)n;
	s->frame_len = (size_t)n;
	return session_write(s, s->frame, s->frame_len);
}

static int session_request(struct gdb_session *s, const struct gdb_pkt_event *ev)
{
	int rc = 0;

	if (!s->no_ack && (rc = session_write(s, "+", 1)) < 0)
		return rc;
	if (gdb_dispatch(s, (const char *)ev->data, ev->len))
		rc = session_send_reply(s);
	if (s->no_ack_pending) {
		/* The OK went out with acks on; from here neither side acks. */
		s->no_ack_pending = false;
		s->no_ack = true;
		s->parser.no_ack = true;
	}
	return rc;
}

static int session_event(struct gdb_session *s, const struct gdb_pkt_event *ev)
{
	switch (ev->kind) {
	case GDB_PKT_EV_REQUEST:
		return session_request(s, ev);
	case GDB_PKT_EV_BAD:
		log_debug("bad packet checksum or framing");
		return s->no_ack ? 0 : session_write(s, "-", 1);
	case GDB_PKT_EV_OVERSIZE:
		/* Intact but too long: retransmitting would not help, so ack
		 * it and answer with an error instead. */
		log_warn("packet longer than PacketSize (%d) dropped", GDB_PKT_MAX);
		if (!s->no_ack && session_write(s, "+", 1) < 0)
			return -EIO;
		gdb_reply_err(s, -EMSGSIZE);
		return session_send_reply(s);
	case GDB_PKT_EV_NACK:
		if (!s->no_ack && s->frame_len)
			return session_write(s, s->frame, s->frame_len);
		return 0;
	case GDB_PKT_EV_INTERRUPT: /* stopped already: the stop reply is out */
	case GDB_PKT_EV_ACK:
	case GDB_PKT_EV_RESYNC:
		return 0;
	}
	return 0;
}

int gdb_session_feed(struct gdb_session *s, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len && s->state == GDB_SESSION_ACTIVE) {
		struct gdb_pkt_event ev;
		bool have;
		size_t n = gdb_pkt_feed(&s->parser, p, len, &ev, &have);
		int rc;

		p += n;
		len -= n;
		if (have && (rc = session_event(s, &ev)) < 0)
			return rc;
	}
	return s->state == GDB_SESSION_ACTIVE ? 0 : 1;
}

void gdb_session_interrupt(struct gdb_session *s)
{
	atomic_store(&s->interrupted, 1);
	if (s->ops->interrupt)
		s->ops->interrupt(s->ops->ctx);
}
