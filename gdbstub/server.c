/* pipe2, accept4 and MSG_NOSIGNAL are GNU/Linux extensions. */
#define _GNU_SOURCE
#include "gdbstub/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gdbstub/dispatch.h"

#define LOG_MODULE "gdb"
#include "util/log.h"

/* Bytes the watcher may hold back while a resume runs.  In all-stop mode
 * gdb sends nothing but 0x03 until it gets the stop reply, so this only
 * has to absorb a misbehaving client; beyond it, input waits in the
 * kernel socket buffer. */
#define GDB_STASH_MAX 4096

struct gdb_server {
	struct gdb_server_config cfg;
	const struct gdb_target_ops *ops;
	int listen_fd;          /* TCP only, else -1 */
	int in_fd, out_fd;      /* the current connection */
	bool out_is_socket;
	int stop_pipe[2];       /* gdb_server_stop() writes here */
	int wake_pipe[2];       /* resume_end tells the watcher to quit */
	atomic_int stop;
	struct gdb_session *session;
	pthread_t watcher;
	bool watching;
	/* Written by the watcher, read by the session thread only after
	 * pthread_join (which orders the accesses). */
	uint8_t stash[GDB_STASH_MAX];
	size_t stash_len;
	bool conn_closed;
};

static int errno_or(int fallback)
{
	return errno ? -errno : fallback;
}

static bool addr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
	return false;
}

static int tcp_listen(struct gdb_server *srv)
{
	const char *host = srv->cfg.bind_addr ? srv->cfg.bind_addr : "127.0.0.1";
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai;
	char port[8];
	int one = 1, fd, rc;

	snprintf(port, sizeof(port), "%u", (unsigned)srv->cfg.port);
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -EINVAL;
	if (!addr_is_loopback(ai->ai_addr))
		log_warn("gdb stub listening on %s: anyone who can reach it can "
			 "read and write the guest", host);
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = errno_or(-EIO);
		goto out;
	}
	/* Restarting rrvm must not wait out TIME_WAIT on the same port. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 4) < 0) {
		rc = errno_or(-EIO);
		close(fd);
		goto out;
	}
	srv->listen_fd = fd;
	rc = 0;
out:
	freeaddrinfo(ai);
	return rc;
}

int gdb_server_open(struct gdb_server **out, const struct gdb_server_config *cfg,
		    const struct gdb_target_ops *ops)
{
	struct gdb_server *srv = calloc(1, sizeof(*srv));
	int rc = -ENOMEM;

	if (!srv)
		return rc;
	srv->cfg = *cfg;
	srv->ops = ops;
	srv->listen_fd = srv->in_fd = srv->out_fd = -1;
	srv->stop_pipe[0] = srv->stop_pipe[1] = -1;
	srv->wake_pipe[0] = srv->wake_pipe[1] = -1;
	srv->session = malloc(sizeof(*srv->session));
	if (!srv->session)
		goto fail;
	if (pipe2(srv->stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    pipe2(srv->wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		rc = errno_or(-EIO);
		goto fail;
	}
	if (cfg->transport == GDB_TRANSPORT_TCP && (rc = tcp_listen(srv)) < 0)
		goto fail;
	*out = srv;
	return 0;
fail:
	gdb_server_close(srv);
	return rc;
}

int gdb_server_port(const struct gdb_server *srv)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (srv->listen_fd < 0 ||
	    getsockname(srv->listen_fd, (struct sockaddr *)&ss, &len) < 0)
		return -EINVAL;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

void gdb_server_stop(struct gdb_server *srv)
{
	int saved = errno;

	atomic_store(&srv->stop, 1);
	/* A full pipe already holds a wake-up; nothing to do then. */
	if (write(srv->stop_pipe[1], "s", 1) < 0) {
	}
	errno = saved;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void gdb_server_close(struct gdb_server *srv)
{
	if (!srv)
		return;
	close_fd(&srv->listen_fd);
	for (int i = 0; i < 2; i++) {
		close_fd(&srv->stop_pipe[i]);
		close_fd(&srv->wake_pipe[i]);
	}
	free(srv->session);
	free(srv);
}

/* A second debugger: accept and close at once (see server.h). */
static void refuse_connection(struct gdb_server *srv)
{
	int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd >= 0) {
		log_warn("refused a second debugger connection");
		close(fd);
	}
}

static void drain(int fd)
{
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0) {
	}
}

/* ---- the Ctrl-C watcher ---------------------------------------------------- */

/* Bytes read while the guest runs: 0x03 interrupts at once, the rest is
 * kept in order for the parser. */
static void watch_input(struct gdb_server *srv, bool *in_open)
{
	uint8_t buf[512];
	ssize_t n = read(srv->in_fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* The debugger is gone: stop the guest so that the session
		 * thread can notice and clean up. */
		srv->conn_closed = true;
		*in_open = false;
		gdb_session_interrupt(srv->session);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == 0x03)
			gdb_session_interrupt(srv->session);
		else if (srv->stash_len < GDB_STASH_MAX)
			srv->stash[srv->stash_len++] = buf[i];
		else
			log_warn("input during resume overflowed; byte dropped");
	}
}

static void *watcher_main(void *arg)
{
	struct gdb_server *srv = arg;
	bool in_open = true, stop_seen = false;

	for (;;) {
		struct pollfd pfd[4] = {
			{ .fd = srv->wake_pipe[0], .events = POLLIN },
			{ .fd = in_open && srv->stash_len < GDB_STASH_MAX ?
				srv->in_fd : -1, .events = POLLIN },
			{ .fd = stop_seen ? -1 : srv->stop_pipe[0], .events = POLLIN },
			{ .fd = srv->listen_fd, .events = POLLIN },
		};

		if (poll(pfd, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("gdb watcher: poll failed (%d)", -errno);
			return NULL;
		}
		if (pfd[0].revents)
			return NULL;
		if (pfd[1].revents)
			watch_input(srv, &in_open);
		if (pfd[2].revents) {
			/* Left unread for the session loop to see. */
			stop_seen = true;
			gdb_session_interrupt(srv->session);
		}
		if (pfd[3].revents)
			refuse_connection(srv);
	}
}

static void watch_begin(void *ctx)
{
	struct gdb_server *srv = ctx;

	drain(srv->wake_pipe[0]);
	srv->watching = pthread_create(&srv->watcher, NULL, watcher_main, srv) == 0;
	if (!srv->watching)
		log_warn("no watcher thread: Ctrl-C will not interrupt this resume");
}

static void watch_end(void *ctx)
{
	struct gdb_server *srv = ctx;

	if (!srv->watching)
		return;
	if (write(srv->wake_pipe[1], "w", 1) < 0)
		log_warn("cannot wake the watcher (%d)", -errno);
	pthread_join(srv->watcher, NULL);
	srv->watching = false;
}

/* ---- one connection -------------------------------------------------------- */

static int conn_write(void *ctx, const void *buf, size_t len)
{
	struct gdb_server *srv = ctx;
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = srv->out_is_socket
			? send(srv->out_fd, p, len, MSG_NOSIGNAL)
			: write(srv->out_fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Feed what the watcher kept during the last resume (which may itself
 * resume again, refilling the stash). */
static int feed_stash(struct gdb_server *srv)
{
	uint8_t buf[GDB_STASH_MAX];
	int rc = 0;

	while (rc == 0 && srv->stash_len) {
		size_t n = srv->stash_len;

		memcpy(buf, srv->stash, n);
		srv->stash_len = 0;
		rc = gdb_session_feed(srv->session, buf, n);
	}
	return rc;
}

/* Read and answer until the session ends, the peer goes, or a stop. */
static int serve_connection(struct gdb_server *srv)
{
	uint8_t buf[4096];

	for (;;) {
		struct pollfd pfd[3] = {
			{ .fd = srv->in_fd, .events = POLLIN },
			{ .fd = srv->stop_pipe[0], .events = POLLIN },
			{ .fd = srv->listen_fd, .events = POLLIN },
		};
		ssize_t n;
		int rc;

		if (atomic_load(&srv->stop))
			return 0;
		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[1].revents)
			return 0;
		if (pfd[2].revents)
			refuse_connection(srv);
		if (!pfd[0].revents)
			continue;
		n = read(srv->in_fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return 0; /* debugger went away */
		rc = gdb_session_feed(srv->session, buf, (size_t)n);
		if (rc == 0)
			rc = feed_stash(srv);
		if (rc != 0 || srv->conn_closed)
			return 0; /* ended, or write failed: next connection */
	}
}

static int session_start(struct gdb_server *srv)
{
	const struct gdb_session_io io = {
		.ctx = srv, .write = conn_write,
		.resume_begin = watch_begin, .resume_end = watch_end,
	};
	int rc;

	srv->stash_len = 0;
	srv->conn_closed = false;
	gdb_session_init(srv->session, srv->ops, &io);
	rc = serve_connection(srv);
	log_info("debugger session ended (%s)",
		 srv->session->state == GDB_SESSION_KILLED ? "kill" :
		 srv->session->state == GDB_SESSION_DETACHED ? "detach" :
		 "disconnect");
	return rc;
}

static int tcp_accept(struct gdb_server *srv)
{
	struct pollfd pfd[2] = {
		{ .fd = srv->listen_fd, .events = POLLIN },
		{ .fd = srv->stop_pipe[0], .events = POLLIN },
	};
	int fd, one = 1;

	while (!atomic_load(&srv->stop)) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[1].revents)
			break;
		fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN)
				continue;
			return -errno;
		}
		/* Packets are small and latency-bound: no Nagle delay. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		return fd;
	}
	return -EINTR; /* told to stop */
}

int gdb_server_run(struct gdb_server *srv)
{
	int rc;

	if (srv->cfg.transport == GDB_TRANSPORT_STDIO) {
		bool dflt = srv->cfg.in_fd == 0 && srv->cfg.out_fd == 0;

		srv->in_fd = dflt ? 0 : srv->cfg.in_fd;
		srv->out_fd = dflt ? 1 : srv->cfg.out_fd;
		srv->out_is_socket = false;
		rc = session_start(srv);
		srv->in_fd = srv->out_fd = -1;
		return rc;
	}
	for (;;) {
		int fd = tcp_accept(srv);

		if (fd == -EINTR)
			return 0;
		if (fd < 0)
			return fd;
		log_info("debugger connected");
		srv->in_fd = srv->out_fd = fd;
		srv->out_is_socket = true;
		rc = session_start(srv);
		close_fd(&srv->in_fd);
		srv->out_fd = -1;
		if (rc < 0 || srv->session->state == GDB_SESSION_KILLED ||
		    atomic_load(&srv->stop))
			return rc;
	}
}
