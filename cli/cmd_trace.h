/* `rrvm info` and `rrvm dump` (cmd_trace.c): what the info view offers
 * the other commands. */
#ifndef RRVM_CLI_CMD_TRACE_H
#define RRVM_CLI_CMD_TRACE_H

#include <stdio.h>

/* What `rrvm info PATH` prints, to OUT (also `monitor info trace` in
 * `rrvm gdb`).  Opens a reader of its own, so a trace being replayed is
 * never disturbed; reads and checks every chunk.  CLI_OK when the trace is
 * complete, CLI_ERR_TRACE when not (or unreadable: one line on ERR). */
int cli_info_print(FILE *out, FILE *err, const char *path);

#endif
