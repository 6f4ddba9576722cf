#include "cli/signals.h"

#include <signal.h>
#include <stddef.h>

#include "vmm/machine.h"

static struct machine *volatile cli_sig_machine;
/* Signals that arrived before there was a machine to stop. */
static volatile sig_atomic_t cli_sig_early;
static volatile sig_atomic_t cli_sig_first;
static volatile sig_atomic_t cli_sig_count;

static void cli_sig_handler(int sig)
{
	struct machine *m = cli_sig_machine;

	if (!cli_sig_first)
		cli_sig_first = sig;
	cli_sig_count++;
	if (m)
		machine_request_stop(m);
	else
		cli_sig_early++;
}

/* No SA_RESTART: a blocking poll() in the idle loop must return early. */
static void cli_sig_install(void (*fn)(int))
{
	struct sigaction sa = { .sa_handler = fn };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void cli_signals_catch(struct machine *m)
{
	cli_sig_install(cli_sig_handler);
	cli_sig_machine = m;
	/* A Ctrl-C during setup stops the guest before its first instruction. */
	if (m && cli_sig_early)
		machine_request_stop(m);
}

int cli_signals_first(void)
{
	return cli_sig_first;
}

void cli_signals_release(void)
{
	cli_sig_machine = NULL;
}

int cli_signals_count(void)
{
	return cli_sig_count;
}
