/* Serving one debugger at a time over TCP or stdio.
 *
 *   struct gdb_server *srv;
 *   gdb_server_open(&srv, &cfg, &ops);   // binds the TCP port now
 *   gdb_server_run(srv);                 // until 'k', stop or stdin EOF
 *   gdb_server_close(srv);
 *
 * TCP listens on 127.0.0.1 by default: a GDB stub lets whoever connects
 * read and write the guest, so another address is logged as a warning.
 * One connection at a time: a second one while a debugger is attached is
 * accepted and closed at once without a byte sent (gdb reports "Remote
 * connection closed"); a '-' or an error packet would only confuse it.
 * After 'D' or a dropped connection the server waits for the next one.
 * 'k' (kill) makes gdb_server_run() return 0; so does gdb_server_stop().
 * With stdio (gdb's "target remote | rrvm gdb --stdio TRACE") the session
 * ends, and run returns, on 'D', 'k' or end of input.
 *
 * Ctrl-C: while ops->resume runs in the thread that called
 * gdb_server_run(), a watcher thread polls the connection; a 0x03 calls
 * gdb_session_interrupt() → ops->interrupt at once.  Other bytes it reads
 * are kept and parsed after the resume returns.  gdb_server_stop() and a
 * dropped connection also interrupt a running resume, so SIGINT to rrvm
 * or a vanished debugger never leave the guest running with nobody to
 * stop it.
 *
 * Writes use MSG_NOSIGNAL on sockets; with stdio a closed pipe raises
 * SIGPIPE, so the program should ignore SIGPIPE (library code does not
 * change signal dispositions). */
#ifndef RRVM_GDBSTUB_SERVER_H
#define RRVM_GDBSTUB_SERVER_H

#include <stdint.h>

struct gdb_server;
struct gdb_target_ops;

enum gdb_transport {
	GDB_TRANSPORT_TCP,
	GDB_TRANSPORT_STDIO, /* read in_fd, write out_fd (0 and 1 by default) */
};

struct gdb_server_config {
	enum gdb_transport transport;
	const char *bind_addr; /* numeric IPv4/IPv6; NULL = "127.0.0.1" */
	uint16_t port;         /* 0 = any free port (see gdb_server_port) */
	int in_fd, out_fd;     /* stdio only; both 0 means fds 0 and 1 */
};

/* Returns 0 or -errno (-EADDRINUSE, -EINVAL for a bad address, ...).
 * OPS must outlive the server. */
int gdb_server_open(struct gdb_server **out, const struct gdb_server_config *cfg,
		    const struct gdb_target_ops *ops);
/* The TCP port actually bound (useful with port 0), or -EINVAL. */
int gdb_server_port(const struct gdb_server *srv);
/* Serve debuggers until told to stop.  0, or -errno on a fatal error
 * (accept or poll failing).  Call from one thread at a time. */
int gdb_server_run(struct gdb_server *srv);
/* Make gdb_server_run() return soon, interrupting a running resume.
 * Async-signal-safe: call it from a SIGINT handler or any thread. */
void gdb_server_stop(struct gdb_server *srv);
void gdb_server_close(struct gdb_server *srv);

#endif
