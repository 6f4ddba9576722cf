/* rrvm bisect: `git bisect` driven by recordings.  Each step builds the
 * commit, records up to N tries (`rrvm record --until-*`, run as a child
 * process so that a step's guest, trace and failure stay its own), and
 * marks the commit bad at the first try that shows the failure, good after
 * N that do not, skip when the build fails.  Every step keeps its result in
 * a folder; the end names the first bad commit with its failing recording
 * and the gdb command to open it.  The repository goes back to where it was
 * (`git bisect reset`), also on Ctrl-C.
 *
 * In C rather than a script: it is one more rrvm command with rrvm's
 * options, statuses and tests, and it needs nothing but git and rrvm. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/record_until.h"
#include "cli/spawn.h"
#include "util/hostclock.h"
#include "util/rng.h"

static const char cli_bisect_help[] =
	"usage: rrvm bisect --good REV --bad REV --build CMD --kernel PATH [options]\n"
	"                   COND... [-- KERNEL COMMAND LINE...]\n"
	"\n"
	"Runs `git bisect` in the current git work tree between REVs.  Each step\n"
	"builds with CMD (sh -c, in the current directory; a failed build skips the\n"
	"commit), records the kernel PATH up to N times until COND holds (as\n"
	"`rrvm record --until-*` does): caught = bad, N passes = good.  --bad is\n"
	"checked first, so the failure is known to show.  Every step's build log,\n"
	"kernel, tries and failing trace are kept in DIR, with one line per step in\n"
	"DIR/summary.txt.  Ends naming the first bad commit, its recording and the\n"
	"gdb command that opens it; the repository is reset to where it was (also\n"
	"on Ctrl-C).\n"
	"\n"
	"options:\n"
	"      --good REV          a commit without the failure\n"
	"      --bad REV           a commit with it\n"
	"      --build CMD         the build command\n"
	"      --kernel PATH       the kernel CMD builds\n"
	"      --tries N           recordings per step at most (default 10)\n"
	"      --chaos             record with chaos (rrvm record --chaos)\n"
	"      --seed N            the first step's chaos seed (implies --chaos)\n"
	"  -o, --out DIR           where the steps go (default rrvm-bisect; must not\n"
	"                          exist yet)\n"
	"  COND: --until-output RE, --until-status N, --until-timeout S (rrvm record)\n"
	"      --kvm PATH          the KVM device\n"
	"  -h, --help              show this help\n"
	"\n"
	"exit status: 0 when a first bad commit was named; 2 bad option; 18\n"
	"interrupted; 32 when no first bad commit could be named (--bad passed N\n"
	"tries, only skipped commits left, or a git command failed).\n";

#define BISECT_TRIES_DEFAULT 10
#define BISECT_OUT_MAX 8192
/* A step folder is DIR/step-K-COMMIT, its files one level below. */
#define BISECT_DIR_MAX (PATH_MAX + 64)
#define BISECT_FILE_MAX (BISECT_DIR_MAX + 4096)

enum {
	OPT_GOOD = 0x200,
	OPT_BAD,
	OPT_BUILD,
	OPT_KERNEL,
	OPT_CHAOS,
	OPT_SEED,
	OPT_KVM,
};

struct bisect {
	const char *good, *bad, *build, *kernel, *seed, *kvm;
	const char *out_arg;
	char out[PATH_MAX];
	const char *tries;
	bool chaos;
	const char *until[8];     /* the --until-* options, passed on to record */
	unsigned nuntil;
	char **cmdline;           /* after "--" */
	int ncmdline;
	bool tty;
	host_ns t0;
	FILE *summary;
	unsigned step;
};

/* git ARGS..., output in BUF; the status. */
static int bisect_git(char *buf, size_t len, const char *a0, const char *a1, const char *a2,
		      const char *a3)
{
	const char *argv[] = { "git", a0, a1, a2, a3, NULL };

	return cli_spawn(argv, -1, buf, len, false);
}

static void bisect_chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static void bisect_progress(const struct bisect *b, const char *sha, const char *what)
{
	if (b->tty)
		fprintf(stderr, "\r\033[Krrvm: bisect step %u, %.10s: %s (%.1f s)", b->step, sha,
			what, (double)(host_now() - b->t0) / 1e9);
}

static void bisect_say(struct bisect *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A summary line: on stdout and into DIR/summary.txt. */
static void bisect_say(struct bisect *b, const char *fmt, ...)
{
	va_list ap;

	if (b->tty)
		fputs("\r\033[K", stderr);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	vfprintf(b->summary, fmt, ap);
	va_end(ap);
	fflush(stdout);
	fflush(b->summary);
}

enum step_verdict { STEP_GOOD, STEP_BAD, STEP_SKIP, STEP_ABORT };

/* What record's summary says of the caught try: "caught on try K of N"
 * and, with chaos, " (seed S)". */
static void bisect_caught_text(const char *log, char *out, size_t len)
{
	const char *p = strstr(log, "caught on try "), *end;

	if (!p) {
		snprintf(out, len, "caught");
		return;
	}
	end = strstr(p, " after ");
	snprintf(out, len, "%.*s", end ? (int)(end - p) : (int)strcspn(p, "\n"), p);
}

/* Builds, records and judges the checked-out commit SHA in DIR. */
static enum step_verdict bisect_step(struct bisect *b, const char *sha, char *dir, size_t dirlen,
				     int *status)
{
	char path[BISECT_FILE_MAX], kernel[BISECT_FILE_MAX], trace[BISECT_FILE_MAX], buf[BISECT_OUT_MAX];
	const char *argv[32 + 64];
	const char *base = strrchr(b->kernel, '/') ? strrchr(b->kernel, '/') + 1 : b->kernel;
	int fd, st, n = 0;
	char seed[32];

	snprintf(dir, dirlen, "%s/step-%u-%.12s", b->out, b->step, sha);
	if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
		fprintf(stderr, "rrvm: bisect: %s: %s\n", dir, strerror(errno));
		*status = CLI_ERR_IO;
		return STEP_ABORT;
	}
	bisect_progress(b, sha, "building");
	snprintf(path, sizeof(path), "%s/build.log", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0) {
		fprintf(stderr, "rrvm: bisect: %s: %s\n", path, strerror(errno));
		*status = CLI_ERR_IO;
		return STEP_ABORT;
	}
	{
		const char *sh[] = { "sh", "-c", b->build, NULL };
		st = cli_spawn(sh, fd, NULL, 0, true);
	}
	close(fd);
	if (cli_spawn_signals())
		return STEP_ABORT;
	if (st != 0) {
		bisect_say(b, "step %u %.12s skip: the build failed (status %d, %s)\n", b->step, sha,
			   st, path);
		return STEP_SKIP;
	}
	/* The step keeps its own kernel: the work tree moves on, and the
	 * trace names the file it recorded. */
	snprintf(kernel, sizeof(kernel), "%s/%s", dir, base);
	{
		const char *cp[] = { "cp", b->kernel, kernel, NULL };
		if (cli_spawn(cp, -1, buf, sizeof(buf), false) != 0) {
			bisect_say(b, "step %u %.12s skip: the build made no %s\n", b->step, sha,
				   b->kernel);
			return STEP_SKIP;
		}
	}
	snprintf(trace, sizeof(trace), "%s/fail.trace", dir);
	argv[n++] = "/proc/self/exe";
	argv[n++] = "record";
	argv[n++] = "-o";
	argv[n++] = trace;
	argv[n++] = "--tries";
	argv[n++] = b->tries;
	argv[n++] = "--serial-in";
	argv[n++] = "none";
	if (b->chaos) {
		/* A step's tries draw their seeds in sequence from this one:
		 * start each step at an unrelated place of that sequence. */
		uint64_t x = (b->seed ? strtoull(b->seed, NULL, 0) : b->t0) ^ (uint64_t)b->step << 40;
		snprintf(seed, sizeof(seed), "%#llx", (unsigned long long)rng_splitmix64(&x));
		argv[n++] = "--seed";
		argv[n++] = seed;
	} else {
		argv[n++] = "--no-chaos";
	}
	if (b->kvm) {
		argv[n++] = "--kvm";
		argv[n++] = b->kvm;
	}
	for (unsigned i = 0; i < b->nuntil; i++)
		argv[n++] = b->until[i];
	argv[n++] = kernel;
	if (b->ncmdline) {
		argv[n++] = "--";
		for (int i = 0; i < b->ncmdline && n < (int)(sizeof(argv) / sizeof(argv[0])) - 1; i++)
			argv[n++] = b->cmdline[i];
	}
	argv[n] = NULL;
	bisect_progress(b, sha, "recording");
	snprintf(path, sizeof(path), "%s/record.log", dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0) {
		*status = CLI_ERR_IO;
		return STEP_ABORT;
	}
	st = cli_spawn(argv, fd, NULL, 0, true);
	lseek(fd, 0, SEEK_SET);
	buf[read(fd, buf, sizeof(buf) - 1) > 0 ? strnlen(buf, sizeof(buf) - 1) : 0] = '\0';
	close(fd);
	if (cli_spawn_signals() || st == CLI_ERR_INTERRUPTED) {
		*status = CLI_ERR_INTERRUPTED;
		return STEP_ABORT;
	}
	if (st == CLI_OK) {
		char caught[160];
		bisect_caught_text(buf, caught, sizeof(caught));
		bisect_say(b, "step %u %.12s bad: %s: %s\n", b->step, sha, caught, trace);
		return STEP_BAD;
	}
	if (st == CLI_ERR_NOT_CAUGHT) {
		bisect_say(b, "step %u %.12s good after %s tries (tries in %s.tries)\n", b->step, sha,
			   b->tries, trace);
		return STEP_GOOD;
	}
	fprintf(stderr, "rrvm: bisect: recording %.12s failed with status %d (see %s)\n", sha, st,
		path);
	*status = st > 0 && st < 128 ? st : CLI_ERR_INTERNAL;
	return STEP_ABORT;
}

static int bisect_parse(struct bisect *b, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "good", required_argument, NULL, OPT_GOOD },
		{ "bad", required_argument, NULL, OPT_BAD },
		{ "build", required_argument, NULL, OPT_BUILD },
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "chaos", no_argument, NULL, OPT_CHAOS },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "kvm", required_argument, NULL, OPT_KVM },
		{ "out", required_argument, NULL, 'o' },
		CLI_UNTIL_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_until u = { .tries = BISECT_TRIES_DEFAULT };
	const char *out = "rrvm-bisect";
	int opt, r;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+o:h", longopts, NULL)) != -1) {
		if ((r = cli_until_opt(&u, opt, optarg)) < 0)
			return CLI_ERR_USAGE;
		if (r > 0) {
			if (opt == CLI_OPT_TRIES)
				b->tries = optarg;
			else if (opt == CLI_OPT_NO_CHAOS)
				b->chaos = false;
			else if (b->nuntil + 2 <= sizeof(b->until) / sizeof(b->until[0])) {
				b->until[b->nuntil++] = argv[optind - 2];
				b->until[b->nuntil++] = optarg;
			}
			continue;
		}
		switch (opt) {
		case OPT_GOOD: b->good = optarg; break;
		case OPT_BAD: b->bad = optarg; break;
		case OPT_BUILD: b->build = optarg; break;
		case OPT_KERNEL: b->kernel = optarg; break;
		case OPT_CHAOS: b->chaos = true; break;
		case OPT_SEED: {
			char *end;
			errno = 0;
			(void)strtoull(optarg, &end, 0);
			if (errno || *end || end == optarg || *optarg == '-') {
				fprintf(stderr, "rrvm: bisect: bad seed '%s' (a number below 2^64)\n",
					optarg);
				return CLI_ERR_USAGE;
			}
			b->seed = optarg;
			b->chaos = true;
			break;
		}
		case OPT_KVM: b->kvm = optarg; break;
		case 'o': out = optarg; break;
		case 'h':
			fputs(cli_bisect_help, stdout);
			return -1;
		default:
			cli_bad_option("bisect", argv);
			return CLI_ERR_USAGE;
		}
	}
	if (!b->good || !b->bad || !b->build || !b->kernel) {
		fprintf(stderr, "rrvm: bisect: --good, --bad, --build and --kernel are all needed "
			"(see rrvm bisect --help)\n");
		return CLI_ERR_USAGE;
	}
	if (!u.active) {
		fprintf(stderr, "rrvm: bisect: no condition: give --until-output, --until-status "
			"or --until-timeout\n");
		return CLI_ERR_USAGE;
	}
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	b->cmdline = argv + optind;
	b->ncmdline = argc - optind;
	b->out_arg = out;
	return 0;
}

/* Makes the (new) output folder and its absolute path. */
static int bisect_mkout(struct bisect *b)
{
	if (mkdir(b->out_arg, 0777) < 0) {
		int e = errno;
		fprintf(stderr, "rrvm: bisect: %s: %s%s\n", b->out_arg, strerror(e),
			e == EEXIST ? " (give another --out DIR)" : "");
		return e == EEXIST ? CLI_ERR_USAGE : CLI_ERR_IO;
	}
	if (!realpath(b->out_arg, b->out)) {
		fprintf(stderr, "rrvm: bisect: %s: %s\n", b->out_arg, strerror(errno));
		return CLI_ERR_IO;
	}
	return 0;
}

/* Marks the checked-out commit; 1 when git named the first bad commit
 * (its sha in FIRST), 0 to go on, -1 when it cannot go on (message in
 * BUF). */
static int bisect_mark(const char *verdict, char *buf, size_t len, char *first, size_t flen)
{
	const char *p;

	if (bisect_git(buf, len, "bisect", verdict, NULL, NULL) != 0)
		return -1;
	if ((p = strstr(buf, " is the first bad commit"))) {
		const char *s = p;
		while (s > buf && s[-1] != '\n')
			s--;
		snprintf(first, flen, "%.*s", (int)(p - s), s);
		return 1;
	}
	if (strstr(buf, "only 'skip'ped commits left"))
		return -1;
	return 0;
}

/* The step folder that holds FIRST's failing trace, from the summary. */
static bool bisect_find_step(const struct bisect *b, const char *first, char *dir, size_t len)
{
	char pat[BISECT_FILE_MAX];
	struct stat st;

	for (unsigned k = b->step + 1; k-- > 0;) { /* step 0 is --bad */
		snprintf(pat, sizeof(pat), "%s/step-%u-%.12s/fail.trace", b->out, k, first);
		if (stat(pat, &st) == 0) {
			snprintf(dir, len, "%s/step-%u-%.12s", b->out, k, first);
			return true;
		}
	}
	return false;
}

static int bisect_run(struct bisect *b, const char *orig)
{
	char buf[BISECT_OUT_MAX], sha[64], first[64] = "", dir[BISECT_DIR_MAX], path[BISECT_FILE_MAX];
	enum step_verdict v;
	int status = CLI_ERR_BISECT, r;

	/* --bad first: the failure must show at all, and its recording is
	 * kept in case --bad is the first bad commit. */
	if (bisect_git(sha, sizeof(sha), "rev-parse", "--verify", "-q", b->bad) != 0 ||
	    bisect_git(buf, sizeof(buf), "rev-parse", "--verify", "-q", b->good) != 0) {
		fprintf(stderr, "rrvm: bisect: no such commit: %s\n",
			bisect_git(buf, sizeof(buf), "rev-parse", "--verify", "-q", b->bad) ? b->bad
											  : b->good);
		return CLI_ERR_USAGE;
	}
	bisect_chomp(sha);
	b->step = 0;
	if (bisect_git(buf, sizeof(buf), "checkout", "-q", sha, NULL) != 0) {
		bisect_chomp(buf);
		fprintf(stderr, "rrvm: bisect: git checkout %s: %s\n", b->bad, buf);
		return CLI_ERR_BISECT;
	}
	v = bisect_step(b, sha, dir, sizeof(dir), &status);
	if (v == STEP_ABORT)
		return status;
	if (v != STEP_BAD) {
		bisect_say(b, "--bad %s: the failure did not show%s; nothing to bisect\n", b->bad,
			   v == STEP_SKIP ? " (it did not build)" : "");
		return CLI_ERR_BISECT;
	}
	if (bisect_git(buf, sizeof(buf), "checkout", "-q", orig, NULL) != 0)
		return CLI_ERR_BISECT;
	/* git bisect start checks out the first midpoint. */
	if (bisect_git(buf, sizeof(buf), "bisect", "start", b->bad, b->good) != 0) {
		bisect_chomp(buf);
		fprintf(stderr, "rrvm: bisect: git bisect start: %s\n", buf);
		return CLI_ERR_BISECT;
	}
	if (strstr(buf, " is the first bad commit")) {
		snprintf(first, sizeof(first), "%s", sha); /* --good is its parent */
	}
	while (!first[0]) {
		b->step++;
		bisect_git(sha, sizeof(sha), "rev-parse", "HEAD", NULL, NULL);
		bisect_chomp(sha);
		v = bisect_step(b, sha, dir, sizeof(dir), &status);
		if (v == STEP_ABORT)
			return status;
		r = bisect_mark(v == STEP_GOOD ? "good" : v == STEP_BAD ? "bad" : "skip", buf,
				sizeof(buf), first, sizeof(first));
		if (r < 0) {
			bisect_chomp(buf);
			bisect_say(b, "no first bad commit: %s\n", buf);
			return CLI_ERR_BISECT;
		}
	}
	if (!bisect_find_step(b, first, dir, sizeof(dir))) {
		bisect_say(b, "first bad commit %s, but no step recorded it\n", first);
		return CLI_ERR_BISECT;
	}
	bisect_git(buf, sizeof(buf), "log", "-1", "--format=%h %s", first);
	bisect_chomp(buf);
	bisect_say(b, "first bad commit: %s (%s)\n", first, buf);
	snprintf(path, sizeof(path), "%s/fail.trace", dir);
	bisect_say(b, "failing recording: %s\n", path);
	{
		const char *base = strrchr(b->kernel, '/') ? strrchr(b->kernel, '/') + 1 : b->kernel;
		char self[PATH_MAX] = "rrvm";
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

		self[n > 0 ? n : 4] = '\0'; /* this rrvm, wherever PATH points */
		bisect_say(b, "open it: gdb %s/%s -ex 'target remote | %s gdb --stdio %s'\n", dir,
			   base, self, path);
	}
	return CLI_OK;
}

int cli_bisect_main(int argc, char **argv)
{
	struct bisect b = { 0 };
	char buf[BISECT_OUT_MAX], orig[256], path[BISECT_FILE_MAX];
	int status;

	status = bisect_parse(&b, argc, argv);
	if (status)
		return status < 0 ? CLI_OK : status;
	if (!b.tries)
		b.tries = "10";
	if (bisect_git(buf, sizeof(buf), "rev-parse", "--is-inside-work-tree", NULL, NULL) != 0) {
		fprintf(stderr, "rrvm: bisect: not inside a git work tree\n");
		return CLI_ERR_USAGE;
	}
	if (bisect_git(buf, sizeof(buf), "bisect", "log", NULL, NULL) == 0) {
		fprintf(stderr, "rrvm: bisect: a git bisect is already in progress (git bisect reset)\n");
		return CLI_ERR_USAGE;
	}
	/* Where to come back to: the branch, or the commit if detached. */
	if (bisect_git(orig, sizeof(orig), "symbolic-ref", "-q", "--short", "HEAD") != 0 &&
	    bisect_git(orig, sizeof(orig), "rev-parse", "HEAD", NULL, NULL) != 0) {
		fprintf(stderr, "rrvm: bisect: no HEAD commit\n");
		return CLI_ERR_USAGE;
	}
	bisect_chomp(orig);
	if ((status = bisect_mkout(&b)))
		return status;
	snprintf(path, sizeof(path), "%s/summary.txt", b.out);
	if (!(b.summary = fopen(path, "we"))) {
		fprintf(stderr, "rrvm: bisect: %s: %s\n", path, strerror(errno));
		return CLI_ERR_IO;
	}
	b.tty = isatty(STDERR_FILENO);
	b.t0 = host_now();
	cli_spawn_catch(true);
	status = bisect_run(&b, orig);
	if (b.tty)
		fputs("\r\033[K", stderr);
	/* Back where the user was, whatever happened; a second Ctrl-C here
	 * must not stop it half done. */
	bisect_git(buf, sizeof(buf), "bisect", "reset", orig, NULL);
	bisect_git(buf, sizeof(buf), "checkout", "-q", orig, NULL);
	if (cli_spawn_signals()) {
		fprintf(stderr, "rrvm: bisect: interrupted; the repository is back on %s\n", orig);
		status = CLI_ERR_INTERRUPTED;
	}
	cli_spawn_catch(false);
	fprintf(b.summary, "%.1f s\n", (double)(host_now() - b.t0) / 1e9);
	fclose(b.summary);
	return status;
}
