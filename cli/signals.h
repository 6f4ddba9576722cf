/* SIGINT/SIGTERM end a running guest cleanly (machine_request_stop).
 * cli_signals_catch(NULL) catches them early, before the machine exists;
 * they are passed on once it does. */
#ifndef RRVM_CLI_SIGNALS_H
#define RRVM_CLI_SIGNALS_H

struct machine;

void cli_signals_catch(struct machine *m);
/* The machine is done with: a signal from here on is counted and otherwise
 * waits, so that what follows the run (closing the trace, the report, the
 * exit status) completes rather than dying halfway. */
void cli_signals_release(void);
/* The first SIGINT or SIGTERM caught (its number), or 0. */
int cli_signals_first(void);
/* SIGINT and SIGTERM caught since the process started. */
int cli_signals_count(void);

#endif
