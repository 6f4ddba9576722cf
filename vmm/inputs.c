/* The live input source: host time and the serial input file. */
#include "vmm/inputs.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "util/hostclock.h"

/* How often the input file is polled while the guest runs: 5 ms is far
 * below human typing latency and costs one poll() per 5 ms. */
#define INPUT_POLL_NS 5000000ull
/* Longest single idle wait, so that stop requests are seen promptly. */
#define IDLE_MAX_MS 100

void host_inputs_init(struct host_inputs *h, int fd)
{
	h->origin = host_now();
	h->fd = fd;
	h->eof = fd < 0;
	h->ready = false;
	h->next_poll = 0;
}

static bool host_clock(void *ctx, sync_seq s, vclock_ns *t)
{
	struct host_inputs *h = ctx;

	*t = host_now() - h->origin;
	return true;
}

static host_ns host_time(void *ctx, vclock_ns t)
{
	const struct host_inputs *h = ctx;

	return h->origin + t;
}

static void host_clock_used(void *ctx, sync_seq s, vclock_ns t)
{
}

static unsigned host_serial(void *ctx, sync_seq s, uint8_t *buf, unsigned room)
{
	struct host_inputs *h = ctx;
	struct pollfd p = { .fd = h->fd, .events = POLLIN };
	host_ns now;
	ssize_t n;

	if (h->eof || !room)
		return 0;
	now = host_now();
	if (!h->ready && now < h->next_poll)
		return 0;
	h->ready = false;
	h->next_poll = now + INPUT_POLL_NS;
	if (poll(&p, 1, 0) <= 0)
		return 0;
	n = read(h->fd, buf, room);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		h->eof = true;
		return 0;
	}
	return n < 0 ? 0 : (unsigned)n;
}

static int host_idle(void *ctx, sync_seq s, vclock_ns due)
{
	struct host_inputs *h = ctx;
	vclock_ns now = host_now() - h->origin;
	struct pollfd p = { .fd = h->fd, .events = POLLIN };
	int wait_ms;

	if (due == VCLOCK_NEVER && h->eof)
		return -1;
	/* Round up, so that we wake at or after the deadline. */
	wait_ms = due == VCLOCK_NEVER ? IDLE_MAX_MS
		  : due <= now	      ? 0
				      : (int)((due - now + 999999) / 1000000);
	if (wait_ms > IDLE_MAX_MS)
		wait_ms = IDLE_MAX_MS;
	if (h->eof)
		poll(NULL, 0, wait_ms);
	else if (poll(&p, 1, wait_ms) > 0)
		h->ready = true;
	return 0;
}

struct vmm_inputs host_inputs_ops(struct host_inputs *h)
{
	return (struct vmm_inputs){
		.ctx = h,
		.clock = host_clock,
		.clock_used = host_clock_used,
		.serial = host_serial,
		.idle = host_idle,
		.host_time = host_time,
	};
}
