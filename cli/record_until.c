/* rrvm record --until-*: record again and again, with chaos, until the
 * failure shows; keep that recording and a log of every try's seed. */
#define _GNU_SOURCE
#include "cli/record_until.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/signals.h"
#include "util/hostclock.h"
#include "util/rng.h"

#define UNTIL_OUTPUT_MAX (16u << 20) /* guest output kept per try */
#define UNTIL_LINE_MAX 4096u         /* a longer line is matched in pieces */

int cli_until_opt(struct cli_until *u, int opt, const char *arg)
{
	char *end;
	double secs;
	unsigned long n;

	switch (opt) {
	case CLI_OPT_UNTIL_OUTPUT:
		u->output_re = arg;
		break;
	case CLI_OPT_UNTIL_STATUS:
		errno = 0;
		n = strtoul(arg, &end, 10);
		if (errno || *end || end == arg || n > 255) {
			fprintf(stderr, "rrvm: record: bad --until-status '%s' (0 to 255)\n", arg);
			return -1;
		}
		u->status = (int)n;
		u->has_status = true;
		break;
	case CLI_OPT_UNTIL_TIMEOUT:
		secs = strtod(arg, &end);
		if (*end || end == arg || !(secs > 0) || secs > 1e6) {
			fprintf(stderr, "rrvm: record: bad --until-timeout '%s' (seconds, > 0)\n", arg);
			return -1;
		}
		u->timeout = (vclock_ns)(secs * 1e9);
		break;
	case CLI_OPT_TRIES:
		errno = 0;
		n = strtoul(arg, &end, 10);
		if (errno || *end || end == arg || !n || n > 1000000) {
			fprintf(stderr, "rrvm: record: bad --tries '%s' (1 to 1000000)\n", arg);
			return -1;
		}
		u->tries = (unsigned)n;
		return 1;
	case CLI_OPT_NO_CHAOS:
		u->no_chaos = true;
		return 1;
	default:
		return 0;
	}
	u->active = true;
	return 1;
}

/* ---- the guest's serial output of one try, matched line by line ---- */

struct until_sink {
	const regex_t *re;          /* NULL: nothing to match */
	struct cli_record_watch *w;
	char *out;                  /* everything the guest printed (bounded) */
	size_t len, cap;
	char line[UNTIL_LINE_MAX + 1];
	size_t line_len;
	bool matched;
};

static void sink_match_line(struct until_sink *k)
{
	k->line[k->line_len] = '\0';
	k->line_len = 0;
	if (!k->re || k->matched || regexec(k->re, k->line, 0, NULL, 0))
		return;
	k->matched = true;
	if (k->w->m)
		machine_request_stop(k->w->m); /* at the next sync point: a clean end */
}

static ssize_t sink_write(void *ctx, const char *buf, size_t n)
{
	struct until_sink *k = ctx;

	if (k->len + n <= UNTIL_OUTPUT_MAX) {
		if (k->len + n > k->cap) {
			size_t cap = k->cap ? k->cap : 4096;
			char *p;
			while (cap < k->len + n)
				cap *= 2;
			if ((p = realloc(k->out, cap))) {
				k->out = p;
				k->cap = cap;
			}
		}
		if (k->len + n <= k->cap) {
			memcpy(k->out + k->len, buf, n);
			k->len += n;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || k->line_len == UNTIL_LINE_MAX)
			sink_match_line(k);
		if (buf[i] != '\n')
			k->line[k->line_len++] = buf[i];
	}
	return (ssize_t)n;
}

/* ---- the loop ---- */

/* A status that says rrvm or the host failed, not the guest: trying again
 * would fail the same way. */
static bool until_fatal(int status)
{
	return status == CLI_ERR_USAGE || status == CLI_ERR_KERNEL || status == CLI_ERR_NOFIT ||
	       status == CLI_ERR_KVM || status == CLI_ERR_IO || status == CLI_ERR_INTERNAL;
}

static void until_progress(bool tty, unsigned k, unsigned n, host_ns t0, bool chaos,
			   uint64_t seed)
{
	if (!tty)
		return;
	if (chaos)
		fprintf(stderr, "\r\033[Krrvm: try %u of %u, %.1f s, seed %#llx", k, n,
			(double)(host_now() - t0) / 1e9, (unsigned long long)seed);
	else
		fprintf(stderr, "\r\033[Krrvm: try %u of %u, %.1f s", k, n,
			(double)(host_now() - t0) / 1e9);
}

/* Which condition held, for the log and the summary; NULL: none. */
static const char *until_caught(const struct cli_until *u, const struct until_sink *k,
				const struct cli_record_watch *w, int status)
{
	if (k->matched)
		return "output matched";
	if (u->has_status && status == u->status)
		return "exit status matched";
	if (u->timeout && w->timed_out)
		return "timed out";
	return NULL;
}

struct until_run {
	struct cli_machine_opts *o;
	struct rec_options *ro;
	const struct cli_until *u;
	const char *out;
	char *tmp;        /* the try being recorded */
	FILE *log;        /* OUT.tries */
	FILE *guest_out;  /* where the caught try's serial output goes, or NULL */
	FILE *orig_out;   /* o->cfg.serial_out as given, restored after each try */
	regex_t re;
};

/* One try: 1 caught, 0 not, or -(exit status) to give up. */
static int until_try(struct until_run *r, unsigned k, uint64_t seed)
{
	struct cli_record_watch w = { 0 };
	struct until_sink sink = { .re = r->u->output_re ? &r->re : NULL, .w = &w };
	cookie_io_functions_t io = { .write = sink_write };
	FILE *f = fopencookie(&sink, "w", io);
	int status, sigs = cli_signals_count();
	const char *why;

	if (!f)
		return -CLI_ERR_INTERNAL;
	setvbuf(f, NULL, _IOLBF, 0); /* every line reaches the matcher at once */
	r->o->cfg.serial_out = f;
	if (r->o->cfg.serial_in_fd > STDIN_FILENO)
		lseek(r->o->cfg.serial_in_fd, 0, SEEK_SET); /* a file: each try reads it anew */
	r->ro->chaos_seed = seed;
	status = cli_record_once(r->o, r->ro, r->tmp, &w);
	fclose(f);
	r->o->cfg.serial_out = r->orig_out;
	if (sink.line_len)
		sink_match_line(&sink); /* a last line without its newline */
	why = until_caught(r->u, &sink, &w, status);
	if (cli_signals_count() != sigs && !why) {
		free(sink.out);
		return -CLI_ERR_INTERRUPTED;
	}
	if (r->ro->chaos)
		fprintf(r->log, "try %u seed %#llx ", k, (unsigned long long)seed);
	else
		fprintf(r->log, "try %u ", k);
	fprintf(r->log, "status %d %s%s%s%s\n", status, why ? why : "passed",
		w.detail[0] ? " (" : "", w.detail, w.detail[0] ? ")" : "");
	fflush(r->log);
	if (why && r->guest_out && sink.len)
		fwrite(sink.out, 1, sink.len, r->guest_out);
	free(sink.out);
	if (!why && until_fatal(status)) {
		if (w.detail[0])
			fprintf(stderr, "rrvm: %s\n", w.detail);
		return -status;
	}
	return why != NULL;
}

int cli_record_until(struct cli_machine_opts *o, struct rec_options *ro, const char *out,
		     const struct cli_until *u)
{
	struct until_run r = { .o = o, .ro = ro, .u = u, .out = out };
	bool tty = isatty(STDERR_FILENO);
	host_ns t0 = host_now();
	uint64_t base = ro->chaos_seed, seed = 0;
	char *logpath = NULL;
	int st = CLI_ERR_INTERNAL, e = 0;
	unsigned k;

	if (u->output_re && (e = regcomp(&r.re, u->output_re, REG_EXTENDED | REG_NOSUB))) {
		char why[128];
		regerror(e, &r.re, why, sizeof(why));
		fprintf(stderr, "rrvm: record: bad --until-output '%s': %s\n", u->output_re, why);
		return CLI_ERR_USAGE;
	}
	/* The guest's own output would drown the summary: only the caught
	 * try's goes to --serial-out, and none to stdout. */
	ro->stop_after = u->timeout;
	r.orig_out = o->cfg.serial_out;
	r.guest_out = o->cfg.serial_out != stdout ? o->cfg.serial_out : NULL;
	if (asprintf(&r.tmp, "%s.try", out) < 0 || asprintf(&logpath, "%s.tries", out) < 0)
		goto out;
	if (!(r.log = fopen(logpath, "we"))) {
		fprintf(stderr, "rrvm: %s: %s\n", logpath, strerror(errno));
		st = CLI_ERR_IO;
		goto out;
	}
	for (k = 1; k <= u->tries; k++) {
		if (ro->chaos)
			seed = rng_splitmix64(&base);
		until_progress(tty, k, u->tries, t0, ro->chaos, seed);
		e = until_try(&r, k, seed);
		if (e != 0)
			break;
	}
	if (tty)
		fputs("\r\033[K", stderr);
	if (e > 0 && rename(r.tmp, out) < 0) {
		fprintf(stderr, "rrvm: %s: %s\n", out, strerror(errno));
		e = -CLI_ERR_IO;
	}
	unlink(r.tmp);
	if (e > 0) {
		printf("caught on try %u of %u", k, u->tries);
		if (ro->chaos)
			printf(" (seed %#llx)", (unsigned long long)seed);
		printf(" after %.1f s: %s; tries in %s\n", (double)(host_now() - t0) / 1e9, out,
		       logpath);
		st = CLI_OK;
	} else if (e < 0) {
		if (-e == CLI_ERR_INTERRUPTED)
			fprintf(stderr, "rrvm: record: interrupted at try %u of %u\n", k, u->tries);
		st = -e;
	} else {
		printf("not caught in %u tries (%.1f s); tries in %s\n", u->tries,
		       (double)(host_now() - t0) / 1e9, logpath);
		st = CLI_ERR_NOT_CAUGHT;
	}
	fflush(stdout);
out:
	if (r.log)
		fclose(r.log);
	if (u->output_re)
		regfree(&r.re);
	free(r.tmp);
	free(logpath);
	return st;
}
