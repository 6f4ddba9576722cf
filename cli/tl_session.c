#include "cli/tl_session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "replay/checkpoint.h"
#include "replay/replayer.h"
#include "replay/session.h"
#include "trace-format/trace.h"

int cli_tl_open(struct tl_session **out, const struct replay_opts *o, const char *serial_path)
{
	struct tl_session *ts = calloc(1, sizeof(*ts));
	const char *path = serial_path ? serial_path : "/dev/null";
	struct trace_error err;
	struct ckpt_opts ck = { .every_sync = o->checkpoint_every };
	int status;

	*out = NULL;
	if (!ts)
		return CLI_ERR_INTERNAL;
	if (trace_reader_open(&ts->rd, o->trace, &err) < 0) {
		fprintf(stderr, "rrvm: %s\n", err.msg);
		free(ts);
		return CLI_ERR_TRACE;
	}
	/* Never stdout by default: it may be gdb's --stdio channel. */
	if (!(ts->serial = fopen(path, "we"))) {
		fprintf(stderr, "rrvm: %s: %s\n", path, strerror(errno));
		cli_tl_close(ts);
		return CLI_ERR_IO;
	}
	setvbuf(ts->serial, NULL, _IOLBF, 0);
	status = cli_replay_session(&ts->s, o, trace_reader_header(ts->rd), ts->serial);
	if (status) {
		cli_tl_close(ts);
		return status;
	}
	if (!(ts->t = tl_new())) {
		cli_tl_close(ts);
		return CLI_ERR_INTERNAL;
	}
	if (tl_open_opts(ts->t, ts->s, ts->rd, o->checkpoint_every ? &ck : NULL) < 0) {
		fprintf(stderr, "rrvm: %s: %s\n", o->trace, tl_error(ts->t));
		cli_tl_close(ts);
		return CLI_ERR_KVM;
	}
	/* The session goes on with what there is, even nothing. */
	if (rpl_truncated(tl_replayer(ts->t)))
		(void)cli_replay_incomplete(o->trace, tl_replayer(ts->t));
	*out = ts;
	return 0;
}

void cli_tl_close(struct tl_session *ts)
{
	if (!ts)
		return;
	tl_close(ts->t); /* safe after a tl_open that failed, and on NULL */
	rr_session_close(ts->s);
	if (ts->serial)
		fclose(ts->serial);
	if (ts->rd)
		trace_reader_close(ts->rd);
	free(ts);
}
