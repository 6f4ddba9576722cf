/* One GDB debugging session: the packet parser, acknowledgements, and the
 * const command table that turns requests into calls on a
 * struct gdb_target_ops.  No sockets here: bytes come in through
 * gdb_session_feed() and go out through io->write, so the whole protocol
 * is testable with a fake target and a buffer.
 *
 * Resume and Ctrl-C: 'c', 's', 'vCont', 'bs', 'bc' call ops->resume in the
 * thread that called gdb_session_feed(), and it blocks until the guest
 * stops.  Around that call the session calls io->resume_begin/resume_end;
 * the server uses them to start and stop a watcher thread that keeps
 * reading the connection and calls gdb_session_interrupt() when a 0x03
 * arrives (gdbstub/server.c).  Any other bytes the watcher read are fed
 * to the session by the server after the resume, in arrival order.
 *
 * Cost: a session is about 70 KiB (packet, reply and framing buffers);
 * allocate it, do not put it on a small stack.
 * Thread contract: everything from one thread, except
 * gdb_session_interrupt(), which any thread may call. */
#ifndef RRVM_GDBSTUB_DISPATCH_H
#define RRVM_GDBSTUB_DISPATCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gdbstub/packet.h"
#include "gdbstub/regs.h"
#include "gdbstub/target.h"

struct gdb_session_io {
	void *ctx;
	/* Write all of BUF; 0 or -errno (the session then ends). */
	int (*write)(void *ctx, const void *buf, size_t len);
	/* Optional: bracket ops->resume (start/stop watching for 0x03). */
	void (*resume_begin)(void *ctx);
	void (*resume_end)(void *ctx);
};

enum gdb_session_state {
	GDB_SESSION_ACTIVE,
	GDB_SESSION_DETACHED, /* 'D': close this connection, serve the next */
	GDB_SESSION_KILLED,   /* 'k' or vKill: the server should return */
	GDB_SESSION_IO_ERROR, /* io->write failed */
};

/* Reply payload room: a full 'm' of GDB_PKT_MAX / 2 bytes in hex, or a
 * qXfer chunk, plus a little framing slack. */
#define GDB_REPLY_MAX (GDB_PKT_MAX + 64)

struct gdb_session {
	const struct gdb_target_ops *ops;
	struct gdb_session_io io;
	enum gdb_session_state state;
	struct gdb_pkt_parser parser;
	bool no_ack;          /* QStartNoAckMode acknowledged */
	bool no_ack_pending;  /* switch after the OK has been sent */
	bool running;         /* inside ops->resume */
	unsigned g_cpu;       /* Hg: vCPU for registers and memory */
	unsigned c_cpu;       /* Hc: vCPU for step/continue */
	unsigned thread_iter; /* qfThreadInfo / qsThreadInfo cursor */
	atomic_int interrupted; /* gdb_resume_req.interrupted */
	/* The reply being built; handlers append with gdb_reply_*. */
	char reply[GDB_REPLY_MAX + 1];
	size_t reply_len;
	bool reply_overflow;
	/* The last framed packet, kept for retransmission on '-'. */
	uint8_t frame[2 * GDB_REPLY_MAX + 8];
	size_t frame_len;
};

void gdb_session_init(struct gdb_session *s, const struct gdb_target_ops *ops,
		      const struct gdb_session_io *io);
/* Parse LEN bytes from the debugger and answer every complete request
 * (possibly running the guest).  Returns 0 while the session is active,
 * 1 when it ended (see s->state), or -errno from io->write. */
int gdb_session_feed(struct gdb_session *s, const void *buf, size_t len);
/* Request a stop of the running resume; any thread, not signal handlers
 * (it calls ops->interrupt).  Harmless when nothing runs: the flag is
 * cleared before each resume, and in all-stop mode the stop reply already
 * sent answers gdb's 0x03. */
void gdb_session_interrupt(struct gdb_session *s);

/* Run one request payload (no framing) and leave the reply payload in
 * s->reply / s->reply_len.  Returns true when a reply must be sent ('k'
 * sends none).  Exposed for unit tests and the fuzzer. */
bool gdb_dispatch(struct gdb_session *s, const char *payload, size_t len);

/* Reply builders for handlers. */
void gdb_reply_str(struct gdb_session *s, const char *str);
void gdb_reply_mem(struct gdb_session *s, const void *buf, size_t len);
void gdb_reply_hex(struct gdb_session *s, const void *buf, size_t len);
void gdb_reply_fmt(struct gdb_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "Enn" for a negative errno; the empty reply for -EOPNOTSUPP. */
void gdb_reply_err(struct gdb_session *s, int err);

/* The stop reply for ST ("T05thread:1;swbreak:;", "W00", ...). */
void gdb_reply_stop(struct gdb_session *s, const struct gdb_stop *st);

#endif
