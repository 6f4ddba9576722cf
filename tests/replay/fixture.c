#include "tests/replay/fixture.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int failures;

#define T_RTC_EPOCH 1700000000

struct machine_config t_config(const struct t_env *e)
{
	return (struct machine_config){
		.kernel_path = e->kernel,
		.ram_size = MACHINE_DEFAULT_RAM,
		.serial_out = e->devnull,
		.serial_in_fd = -1,
		.rtc_epoch = T_RTC_EPOCH,
	};
}

int t_record(const struct t_env *e)
{
	return t_record_to(e, e->devnull);
}

int t_record_to(const struct t_env *e, FILE *out)
{
	struct machine_config cfg = t_config(e);
	struct rr_session *s;
	struct recorder *r;
	struct rec_options o = { .rrvm_version = "test" };
	enum machine_init_error kind;
	const struct machine_result *res;
	char msg[400];
	int werr;

	cfg.serial_out = out;
	if (rr_session_open(&s, &cfg, &kind, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "record: %s\n", msg);
		return -1;
	}
	if (rec_open(&r, s, e->trace, &o, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "record: %s\n", msg);
		rr_session_close(s);
		return -1;
	}
	res = rec_run(r, &werr, msg, sizeof(msg));
	printf("recorded %s: %llu sync points, %s\n", e->kernel, (unsigned long long)s->m.sync,
	       res->detail);
	rec_close(r);
	rr_session_close(s);
	return werr ? -1 : 0;
}

int t_record_until(const struct t_env *e, const char *needle, unsigned tries)
{
	char out[8192];
	size_t n;

	for (unsigned i = 0; i < tries; i++) {
		FILE *f = tmpfile();

		if (!f || t_record_to(e, f) < 0) {
			if (f)
				fclose(f);
			return -1;
		}
		fflush(f);
		rewind(f);
		n = fread(out, 1, sizeof(out) - 1, f);
		out[n] = '\0';
		fclose(f);
		if (strstr(out, needle)) {
			printf("recording %u of at most %u printed \"%s\"\n", i + 1, tries, needle);
			return 1;
		}
	}
	return 0;
}

int t_session_open(struct t_replay *t, const struct t_env *e)
{
	struct machine_config cfg = t_config(e);
	enum machine_init_error kind;
	struct trace_error err;
	char msg[400];

	if (trace_reader_open(&t->rd, e->trace, &err) < 0) {
		fprintf(stderr, "replay: %s\n", err.msg);
		return -1;
	}
	if (rr_session_init(&t->s, &cfg, &kind, msg, sizeof(msg)) < 0 ||
	    rpl_check_header(trace_reader_header(t->rd), &t->s, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "replay: %s\n", msg);
		return -1;
	}
	return 0;
}

int t_replay_open(struct t_replay *t, const struct t_env *e)
{
	if (t_session_open(t, e) < 0)
		return -1;
	rpl_start(&t->p, &t->s, t->rd);
	return 0;
}

void t_replay_close(struct t_replay *t)
{
	rr_session_free(&t->s);
	trace_reader_close(t->rd);
}


int t_setup(struct t_env *e, const char *kernel)
{
	const char *req = getenv("RRVM_REQUIRE_KVM");
	int fd;

	if (access("/dev/kvm", R_OK | W_OK) < 0) {
		fprintf(stderr, "/dev/kvm: %s\n", strerror(errno));
		return req && !strcmp(req, "1") ? 1 : 77;
	}
	memset(e, 0, sizeof(*e));
	e->kernel = kernel;
	snprintf(e->trace, sizeof(e->trace), "/tmp/rrvm-test-XXXXXX");
	fd = mkstemp(e->trace);
	e->devnull = fopen("/dev/null", "w");
	if (fd < 0 || !e->devnull)
		return 1;
	close(fd);
	return 0;
}

void t_teardown(struct t_env *e)
{
	/* A failing run keeps its recording: the guest is nondeterministic,
	 * so it is the only way to look at the failure again. */
	if (failures)
		fprintf(stderr, "kept the trace of this run: %s\n", e->trace);
	else
		unlink(e->trace);
	fclose(e->devnull);
}

unsigned t_seed(unsigned deflt)
{
	const char *env = getenv("RRVM_TEST_SEED");
	unsigned seed = env ? (unsigned)atoi(env) : deflt;

	printf("seed %u\n", seed);
	return seed;
}
