/* What the replay tests share: a sample kernel recorded into a temporary
 * trace, and replays of it (session, reader, replayer). */
#ifndef RRVM_TESTS_REPLAY_FIXTURE_H
#define RRVM_TESTS_REPLAY_FIXTURE_H

#include <stdio.h>

#include "replay/recorder.h"
#include "replay/replayer_int.h"
#include "replay/session_int.h"

extern int failures;

#define CHECK(cond, ...)                                                         \
	do {                                                                     \
		if (!(cond)) {                                                   \
			failures++;                                              \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                            \
			fputc('\n', stderr);                                     \
		}                                                                \
	} while (0)

struct t_env {
	const char *kernel;
	char trace[64];
	FILE *devnull;
};

/* A replay of the trace: session, reader and replayer. */
struct t_replay {
	struct rr_session s;
	struct trace_reader *rd;
	struct replayer p;
};

/* Checks /dev/kvm (exit status 77 to skip, 1 under RRVM_REQUIRE_KVM=1) and
 * makes the temporary trace name.  Returns 0, or the exit status for main. */
int t_setup(struct t_env *e, const char *kernel);
void t_teardown(struct t_env *e);
/* RRVM_TEST_SEED if set, else DEFLT; printed, so a failure can be rerun. */
unsigned t_seed(unsigned deflt);

struct machine_config t_config(const struct t_env *e);
int t_record(const struct t_env *e);
/* t_record with the guest's serial output into OUT. */
int t_record_to(const struct t_env *e, FILE *out);
/* Records again and again, at most TRIES times, until the guest's output
 * holds NEEDLE (a race that strikes in most recordings, not all): 1 when
 * the trace kept is one where it did, 0 when no try showed it (a test
 * must count that as a failure), -1 on an error. */
int t_record_until(const struct t_env *e, const char *needle, unsigned tries);
/* The session and reader, checked against the trace; t_replay_open also
 * starts the replayer (the time-travel engine starts its own). */
int t_session_open(struct t_replay *t, const struct t_env *e);
int t_replay_open(struct t_replay *t, const struct t_env *e);
void t_replay_close(struct t_replay *t);

#endif
