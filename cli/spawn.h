/* Child processes with their output captured, and Ctrl-C passed on to
 * the one that is running (rrvm bisect).  One child at a time. */
#ifndef RRVM_CLI_SPAWN_H
#define RRVM_CLI_SPAWN_H

#include <stdbool.h>
#include <stddef.h>

/* Runs ARGV (PATH search), stdout and stderr into FD (-1: into BUF, at most
 * LEN - 1 bytes, NUL-terminated), in a process group of its own, so that a
 * Ctrl-C on the terminal reaches rrvm alone.  FORWARD: SIGINT and SIGTERM
 * caught by cli_spawn_catch are passed on to that group (a build or a
 * recording; never git, which is left to finish what it does).  Returns
 * the exit status, 128 + signal, or -1 if it could not start. */
int cli_spawn(const char *const argv[], int fd, char *buf, size_t len, bool forward);

/* Catches SIGINT and SIGTERM (ON) or restores their defaults. */
void cli_spawn_catch(bool on);
/* How many were caught. */
int cli_spawn_signals(void);

#endif
