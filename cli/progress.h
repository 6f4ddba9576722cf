/* A progress bar on stderr for the engine's long operations (replaying far
 * forward, scanning backward), wired to the engine by tl_set_progress.  Drawn only when
 * stderr is a terminal and not --quiet; never anything otherwise, so that
 * scripts and logs stay clean. */
#ifndef RRVM_CLI_PROGRESS_H
#define RRVM_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct timeline;

struct cli_progress {
	bool enabled;
	bool drawn;          /* a bar is on the screen: erase it when done */
	uint64_t last_ns;    /* when it was last drawn */
};

/* Enables P unless QUIET or stderr is not a terminal. */
void cli_progress_init(struct cli_progress *p, bool quiet);
/* The same, and hooks P to T. */
void cli_progress_attach(struct cli_progress *p, struct timeline *t, bool quiet);
/* The tl_progress_fn. */
void cli_progress_update(void *ctx, uint64_t done, uint64_t total);
/* Erases the bar, if one is drawn: call when an operation ends. */
void cli_progress_done(struct cli_progress *p);

#endif
