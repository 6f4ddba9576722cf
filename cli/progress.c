#include "cli/progress.h"

#include <stdio.h>
#include <unistd.h>

#include "replay/timeline.h"
#include "util/hostclock.h"

/* Redraws at most ten times a second: a terminal write costs more than
 * the 256 sync points between two calls. */
#define CLI_PROGRESS_PERIOD_NS 100000000ull
#define CLI_PROGRESS_WIDTH 40

void cli_progress_init(struct cli_progress *p, bool quiet)
{
	*p = (struct cli_progress){ .enabled = !quiet && isatty(STDERR_FILENO) };
}

void cli_progress_attach(struct cli_progress *p, struct timeline *t, bool quiet)
{
	cli_progress_init(p, quiet);
	tl_set_progress(t, cli_progress_update, p);
}

void cli_progress_update(void *ctx, uint64_t done, uint64_t total)
{
	struct cli_progress *p = ctx;
	char bar[CLI_PROGRESS_WIDTH + 1];
	uint64_t now, fill;

	if (!p->enabled || !total)
		return;
	now = host_now();
	if (p->drawn && now - p->last_ns < CLI_PROGRESS_PERIOD_NS)
		return;
	p->last_ns = now;
	done = done > total ? total : done;
	fill = done * CLI_PROGRESS_WIDTH / total;
	for (unsigned i = 0; i < CLI_PROGRESS_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[CLI_PROGRESS_WIDTH] = '\0';
	fprintf(stderr, "\r[%s] %3u%% %llu/%llu sync points", bar,
		(unsigned)(done * 100 / total), (unsigned long long)done, (unsigned long long)total);
	p->drawn = true;
}

void cli_progress_done(struct cli_progress *p)
{
	if (!p->drawn)
		return;
	fputs("\r\033[K", stderr); /* carriage return, erase to end of line */
	p->drawn = false;
}
